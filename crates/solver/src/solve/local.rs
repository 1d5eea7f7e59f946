//! The part's own model, compiled for local search: every column of the
//! MILP, its objective coefficient, the rows that define each auxiliary
//! column (its least feasible value is the largest of them and 0, see
//! [`Model::defs`]) and every constraint row. A [`State`] keeps the value of
//! each column, each row's activity, the objective and the total excess over
//! the constraints up to date as assignment columns change, and undoes a
//! move exactly.
//!
//! Nothing here knows a rule: whatever family the model has (coverage,
//! labour rules, fairness, requests, the coordinators' own rules, pins) is
//! scored by the search exactly as HiGHS scores it, by construction.

use crate::lin::Lin;

use crate::model::Model;

/// Rows stored one after another: row `i` is `items[start[i]..start[i + 1]]`.
#[derive(Debug, Default)]
struct Csr<T> {
    start: Vec<usize>,
    items: Vec<T>,
}

impl<T: Copy> Csr<T> {
    fn from_rows(rows: Vec<Vec<T>>) -> Self {
        let mut start = Vec::with_capacity(rows.len() + 1);
        start.push(0);
        let mut items = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        for r in rows {
            items.extend(r);
            start.push(items.len());
        }
        Self { start, items }
    }
    fn row(&self, i: usize) -> &[T] {
        &self.items[self.start[i]..self.start[i + 1]]
    }
}

/// A change of a constraint's or definition's activity smaller than this
/// is rounding.
const EPS: f64 = 1e-7;

#[derive(Debug)]
pub(crate) struct Compiled {
    pub columns: usize,
    /// Objective coefficient per column, and the constant.
    obj: Vec<f64>,
    obj_const: f64,
    /// Per column, its coefficient in the places left unfilled and the
    /// units of hard rules broken (what the objective prices at
    /// `UNDER_COST` a unit): the search may price them lower for a while.
    hard: Vec<f64>,
    /// Definition rows, in the model's order: the column each defines, its
    /// constant and its terms.
    def_aux: Vec<usize>,
    def_const: Vec<f64>,
    def_terms: Csr<(usize, f64)>,
    /// Per column, the definition rows defining it.
    aux_rows: Csr<usize>,
    /// Per column, the definition rows it appears in.
    col_defs: Csr<(usize, f64)>,
    /// Constraint rows `terms ≤ rhs` (or `= rhs`).
    cons_rhs: Vec<f64>,
    cons_eq: Vec<bool>,
    cons_terms: Csr<(usize, f64)>,
    col_cons: Csr<(usize, f64)>,
}

/// A row's terms: (column, coefficient).
type Terms = Vec<(usize, f64)>;

fn terms(e: &Lin) -> Terms {
    e.terms
        .iter()
        .filter(|(_, c)| *c != 0.0)
        .map(|&(v, c)| (v.col(), c))
        .collect()
}

impl Compiled {
    /// The model `m` with objective `objective`, of which `hard` (in
    /// units, each priced at `UNDER_COST`) are the unfilled places and
    /// broken hard rules.
    pub fn new(m: &Model<'_, '_>, objective: &Lin, hard: &Lin) -> Self {
        let columns = m.vars.len();
        let mut obj = vec![0.0; columns];
        for (i, c) in terms(objective) {
            obj[i] += c;
        }
        let mut hard_coef = vec![0.0; columns];
        for (i, c) in terms(hard) {
            hard_coef[i] += c;
        }
        let mut cons_rhs = Vec::with_capacity(m.rows.len());
        let mut cons_eq = Vec::with_capacity(m.rows.len());
        let mut cons_rows = Vec::with_capacity(m.rows.len());
        let mut col_cons = vec![Vec::new(); columns];
        // Columns that matter: priced, constrained, or used by the
        // definition of one that matters. A definition of anything else (a
        // family whose weight is 0) is left out: the search need not keep it.
        let mut matters: Vec<bool> = obj
            .iter()
            .zip(&hard_coef)
            .map(|(o, h)| *o != 0.0 || *h != 0.0)
            .collect();
        // Definitions (`v ≥ e`) are met by the least values the state
        // keeps: they are not checked as constraints.
        let mut definition = vec![false; m.rows.len()];
        for &(_, r) in &m.defs {
            definition[r] = true;
        }
        // Every other row as `terms ≤ rhs` (a row bounded on both sides
        // twice, an equality once).
        let mut add = |t: Terms, rhs: f64, eq: bool| {
            let r = cons_rhs.len();
            cons_rhs.push(rhs);
            cons_eq.push(eq);
            for &(i, k) in &t {
                col_cons[i].push((r, k));
                matters[i] = true;
            }
            cons_rows.push(t);
        };
        for r in (0..m.rows.len()).filter(|&r| !definition[r]) {
            let (lo, hi) = (m.rows.lower[r], m.rows.upper[r]);
            let t: Terms = m.rows.row(r).filter(|(_, k)| *k != 0.0).collect();
            if lo == hi {
                add(t, hi, true);
                continue;
            }
            if lo.is_finite() {
                add(t.iter().map(|&(i, k)| (i, -k)).collect(), -lo, false);
            }
            if hi.is_finite() {
                add(t, hi, false);
            }
        }
        let defs: Vec<(usize, f64, Terms)> = (0..m.defs.len())
            .map(|k| {
                let (v, c, t) = m.definition(k);
                (v.col(), c, t.collect())
            })
            .collect();
        // A definition only uses columns defined before it: backwards, a
        // column's standing is final before its own definitions are reached.
        for (a, _, t) in defs.iter().rev() {
            if matters[*a] {
                for &(i, _) in t {
                    matters[i] = true;
                }
            }
        }
        let mut def_aux = Vec::with_capacity(defs.len());
        let mut def_const = Vec::with_capacity(defs.len());
        let mut def_rows = Vec::with_capacity(defs.len());
        let mut aux_rows = vec![Vec::new(); columns];
        let mut col_defs = vec![Vec::new(); columns];
        for (a, k, t) in defs.into_iter().filter(|d| matters[d.0]) {
            let r = def_aux.len();
            def_aux.push(a);
            def_const.push(k);
            for &(i, c) in &t {
                col_defs[i].push((r, c));
            }
            def_rows.push(t);
            aux_rows[a].push(r);
        }
        Self {
            columns,
            obj,
            obj_const: objective.constant,
            hard: hard_coef,
            def_aux,
            def_const,
            def_terms: Csr::from_rows(def_rows),
            aux_rows: Csr::from_rows(aux_rows),
            col_defs: Csr::from_rows(col_defs),
            cons_rhs,
            cons_eq,
            cons_terms: Csr::from_rows(cons_rows),
            col_cons: Csr::from_rows(col_cons),
        }
    }

    /// The objective's constant (HiGHS is given the linear part only).
    pub fn constant(&self) -> f64 {
        self.obj_const
    }

    fn excess(&self, r: usize, act: f64) -> f64 {
        let d = act - self.cons_rhs[r];
        let e = if self.cons_eq[r] { d.abs() } else { d.max(0.0) };
        if e > EPS { e } else { 0.0 }
    }
}

#[derive(Debug, Clone, Copy)]
enum Undo {
    Val(usize, f64),
    Def(usize, f64),
    Cons(usize, f64),
}

/// Values of every column at an assignment, kept up to date move by move.
#[derive(Debug)]
pub(crate) struct State<'c> {
    c: &'c Compiled,
    val: Vec<f64>,
    def_act: Vec<f64>,
    cons_act: Vec<f64>,
    /// The objective at these values.
    pub objective: f64,
    /// Total amount by which constraints are exceeded (0 when feasible).
    pub excess: f64,
    /// Unfilled places and units of hard rules broken (see
    /// [`Compiled::hard`]).
    pub hard: f64,
    journal: Vec<Undo>,
    mark: (f64, f64, f64),
    stack: Vec<usize>,
}

impl<'c> State<'c> {
    /// The state at `x` (assignment columns at 1; every other column 0
    /// before the auxiliary ones take their least values).
    pub fn new(c: &'c Compiled, x_on: impl IntoIterator<Item = usize>) -> Self {
        let mut s = Self {
            c,
            val: vec![0.0; c.columns],
            def_act: vec![0.0; c.def_aux.len()],
            cons_act: vec![0.0; c.cons_rhs.len()],
            objective: 0.0,
            excess: 0.0,
            hard: 0.0,
            journal: Vec::new(),
            mark: (0.0, 0.0, 0.0),
            stack: Vec::new(),
        };
        s.load(x_on);
        s
    }

    /// Every column from scratch: assignment columns as given, auxiliary
    /// ones at their least values (definitions in the model's order, as in
    /// [`Model::start`]).
    pub fn load(&mut self, x_on: impl IntoIterator<Item = usize>) {
        let c = self.c;
        self.val.iter_mut().for_each(|v| *v = 0.0);
        for i in x_on {
            self.val[i] = 1.0;
        }
        let act = |val: &[f64], r: usize| {
            c.def_const[r]
                + c.def_terms
                    .row(r)
                    .iter()
                    .map(|&(i, k)| k * val[i])
                    .sum::<f64>()
        };
        for r in 0..c.def_aux.len() {
            let a = act(&self.val, r);
            let v = &mut self.val[c.def_aux[r]];
            *v = v.max(a);
        }
        for r in 0..c.def_aux.len() {
            self.def_act[r] = act(&self.val, r);
        }
        self.excess = 0.0;
        for r in 0..c.cons_rhs.len() {
            let a: f64 = c
                .cons_terms
                .row(r)
                .iter()
                .map(|&(i, k)| k * self.val[i])
                .sum();
            self.cons_act[r] = a;
            self.excess += c.excess(r, a);
        }
        self.objective = c.obj_const + c.obj.iter().zip(&self.val).map(|(o, v)| o * v).sum::<f64>();
        self.hard = c
            .hard
            .iter()
            .zip(&self.val)
            .map(|(h, v)| h * v)
            .sum::<f64>();
        self.journal.clear();
    }

    /// The value of column `col`.
    pub fn value(&self, col: usize) -> f64 {
        self.val[col]
    }

    /// Column `col`'s own coefficient in the objective.
    pub fn cost(&self, col: usize) -> f64 {
        self.c.obj[col]
    }

    pub fn on(&self, col: usize) -> bool {
        self.val[col] > 0.5
    }

    /// Starts a move: what [`State::undo`] returns to.
    pub fn begin(&mut self) {
        self.journal.clear();
        self.mark = (self.objective, self.excess, self.hard);
    }

    /// Undoes everything since [`State::begin`].
    pub fn undo(&mut self) {
        while let Some(u) = self.journal.pop() {
            match u {
                Undo::Val(i, v) => self.val[i] = v,
                Undo::Def(r, a) => self.def_act[r] = a,
                Undo::Cons(r, a) => self.cons_act[r] = a,
            }
        }
        (self.objective, self.excess, self.hard) = self.mark;
    }

    /// Sets an assignment column, and every auxiliary column that depends
    /// on it to its new least value.
    pub fn set(&mut self, col: usize, on: bool) {
        self.put(col, if on { 1.0 } else { 0.0 });
        while let Some(a) = self.stack.pop() {
            let least = self
                .c
                .aux_rows
                .row(a)
                .iter()
                .map(|&r| self.def_act[r])
                .fold(0.0_f64, f64::max);
            if (least - self.val[a]).abs() > EPS {
                self.put(a, least);
            }
        }
    }

    fn put(&mut self, col: usize, v: f64) {
        let c = self.c;
        let old = self.val[col];
        if old == v {
            return;
        }
        let d = v - old;
        self.journal.push(Undo::Val(col, old));
        self.val[col] = v;
        self.objective += c.obj[col] * d;
        self.hard += c.hard[col] * d;
        for &(r, k) in c.col_cons.row(col) {
            let a = self.cons_act[r];
            self.journal.push(Undo::Cons(r, a));
            let b = a + k * d;
            self.excess += c.excess(r, b) - c.excess(r, a);
            self.cons_act[r] = b;
        }
        for &(r, k) in c.col_defs.row(col) {
            let a = self.def_act[r];
            self.journal.push(Undo::Def(r, a));
            self.def_act[r] = a + k * d;
            self.stack.push(c.def_aux[r]);
        }
    }
}

/// The assignment columns at 1 of a rota given as shift → people.
pub(crate) fn columns_of(
    m: &Model<'_, '_>,
    placed: &std::collections::BTreeMap<usize, Vec<usize>>,
) -> Vec<usize> {
    placed
        .iter()
        .flat_map(|(s, ps)| {
            m.x[*s]
                .iter()
                .filter(|(p, _)| ps.contains(p))
                .map(|(_, v)| v.col())
        })
        .collect()
}

/// The rota (shift → people) whose assignment columns at 1 are `on`.
pub(crate) fn placed_of_columns(
    m: &Model<'_, '_>,
    on: &[usize],
) -> std::collections::BTreeMap<usize, Vec<usize>> {
    let on: std::collections::HashSet<usize> = on.iter().copied().collect();
    let mut placed: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (s, cands) in m.x.iter().enumerate() {
        for (p, v) in cands {
            if on.contains(&v.col()) {
                placed.entry(s).or_default().push(*p);
            }
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::{History, Instance};
    use crate::solve::objectives;
    use touban_domain::Month;

    /// After many random changes (kept or undone), the incrementally kept
    /// objective and excess equal a from-scratch evaluation, and the
    /// objective equals the model's own at the same assignment.
    #[test]
    fn incremental_values_equal_a_fresh_evaluation() {
        let month = Month::new(2027, 1).unwrap();
        let net = crate::synth::network(60, 6, month.first_day(), 10, 3);
        let mut inst = Instance::new(&net, month);
        inst.keep_days(10);
        let history = History::default();
        let part: Vec<usize> = (0..inst.shifts.len()).collect();
        let m = Model::build(&inst, &history, &part, true);
        let obj = objectives(&m, &inst, false).remove(0);
        let hard = m.objective.under.clone() + m.objective.breach.clone();
        let c = Compiled::new(&m, &obj, &hard);
        let xs: Vec<usize> = m.x.iter().flatten().map(|(_, v)| v.col()).collect();
        let mut s = State::new(&c, std::iter::empty());
        let mut rng = fastrand::Rng::with_seed(7);
        for step in 0..3_000 {
            s.begin();
            for _ in 0..rng.usize(1..4) {
                let col = xs[rng.usize(..xs.len())];
                s.set(col, !s.on(col));
            }
            if step % 3 == 0 {
                s.undo();
            }
        }
        let on: Vec<usize> = xs.iter().copied().filter(|&i| s.on(i)).collect();
        let fresh = State::new(&c, on.iter().copied());
        assert!((s.objective - fresh.objective).abs() < 1e-6);
        assert!((s.excess - fresh.excess).abs() < 1e-6);
        assert!((s.hard - fresh.hard).abs() < 1e-6);
        assert!(s.excess > 0.0, "random changes break some hard rule");
        let model_value = m.least_value(&obj, &placed_of_columns(&m, &on));
        assert!(
            (model_value - s.objective).abs() < 1e-6,
            "model {model_value} vs search {}",
            s.objective
        );
    }
}
