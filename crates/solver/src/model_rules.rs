//! The coordinators' rules and pinned duties in the model: the family
//! functions of [`crate::rules`] run on linear expressions.

use std::collections::HashMap;

use touban_domain::{Limit, RestPolicy, StaffRule};

use crate::instance::History;
use crate::lin::{self, Var};
use crate::model::Model;
use crate::rules::{DutyRef, Place, Sink, fixed_duties, in_force, person};

/// A linear expression, knowing whether it has variables (and its value
/// when it has none).
#[derive(Clone)]
pub struct Lin {
    e: lin::Lin,
    var: bool,
    c: f64,
}

impl Lin {
    fn var(v: Var) -> Self {
        Self {
            e: lin::Lin::from(v),
            var: true,
            c: 0.0,
        }
    }
}

struct ModelSink<'a, 'i, 'n> {
    m: &'a mut Model<'i, 'n>,
    /// Whose rules these are.
    person: usize,
    /// Each duty's column (none for duties outside the rota's variables).
    cols: Vec<Option<Var>>,
    /// The cliques of clashing shifts (rows of [`Model`]'s rules 3 and 4)
    /// each column is in, by index; filled only for people with forbidden
    /// successions.
    cliques: HashMap<Var, Vec<u32>>,
}

impl<'r> Sink<'r> for ModelSink<'_, '_, '_> {
    type E = Lin;
    fn constant(&self, c: f64) -> Lin {
        Lin {
            e: lin::Lin::constant(c),
            var: false,
            c,
        }
    }
    fn plus(&self, a: &Lin, k: f64, b: &Lin) -> Lin {
        let mut e = a.e.clone();
        e.add_mul(k, b.e.clone());
        Lin {
            e,
            var: a.var || b.var,
            c: a.c + k * b.c,
        }
    }
    fn sum(&self, terms: Vec<(f64, Lin)>) -> Lin {
        let mut out = self.constant(0.0);
        for (k, t) in terms {
            out.var |= t.var;
            out.c += k * t.c;
            out.e.add_mul(k, t.e);
        }
        out
    }
    fn any(&mut self, terms: Vec<Lin>) -> Lin {
        if terms.iter().any(|t| !t.var && t.c >= 1.0 - 1e-9) {
            return self.constant(1.0);
        }
        let mut vars: Vec<Lin> = terms.into_iter().filter(|t| t.var).collect();
        match vars.len() {
            0 => self.constant(0.0),
            1 => vars.pop().expect("one"),
            _ => {
                let m = &mut *self.m;
                let y = m.vars.binary();
                let mut total = lin::Lin::default();
                for t in &vars {
                    m.at_least(y, t.e.clone());
                    total += t.e.clone();
                }
                // Exactly the largest: rules that count days off need a day
                // worked to be 0 when no duty starts on it.
                m.le(lin::Lin::from(y) + -total, 0.0);
                Lin::var(y)
            }
        }
    }
    const KNOWS_CLASHES: bool = true;

    /// Two shifts clash exactly when a clique holds both (the cliques
    /// cover every clashing pair). All of them in one clique (the common
    /// case: a day's shifts starting together) make one set; otherwise
    /// each duty joins the first set it clashes with entirely.
    fn exclusive(&mut self, duties: &[usize]) -> Vec<Vec<usize>> {
        let of = |d: usize| self.cols[d].and_then(|v| self.cliques.get(&v));
        let single = duties.iter().map(|&d| vec![d]).collect();
        let Some(first) = duties.first().and_then(|&d| of(d)) else {
            return single;
        };
        let common = first.iter().any(|c| {
            duties[1..]
                .iter()
                .all(|&d| of(d).is_some_and(|l| l.binary_search(c).is_ok()))
        });
        if common {
            return vec![duties.to_vec()];
        }
        let clash = |x: usize, y: usize| match (of(x), of(y)) {
            (Some(a), Some(b)) => a.iter().any(|c| b.binary_search(c).is_ok()),
            _ => false,
        };
        let mut sets: Vec<Vec<usize>> = Vec::new();
        for &d in duties {
            match sets.iter_mut().find(|s| s.iter().all(|&x| clash(x, d))) {
                Some(s) => s.push(d),
                None => sets.push(vec![d]),
            }
        }
        sets
    }

    fn breach(&mut self, rule: &'r StaffRule, e: Lin, _at: Place) {
        let m = &mut *self.m;
        if !e.var {
            if e.c > 1e-9 {
                match rule.weight {
                    Some(w) => m.objective.soft += w * e.c,
                    None => m.objective.breach += e.c,
                }
            }
            return;
        }
        // A hard upper limit is a constraint: it is met by assigning
        // nobody, so it can always be kept (but for what fixed duties
        // already break, e.c when nothing is assigned). It is never traded
        // for a filled place.
        if rule.weight.is_none() && !rule.limit.is_lower() {
            let bound = e.c.max(0.0);
            m.le(e.e, bound);
            return;
        }
        let z = m.slack();
        m.at_least(z, e.e);
        match rule.weight {
            Some(w) => m.objective.soft.add_mul(w, z),
            None => {
                m.objective.breach += z;
                m.shortfalls.push((z, self.person));
            }
        }
    }
}

impl Model<'_, '_> {
    /// Every rule set in `[[rules]]`, for each person of the part (and, in
    /// the first part, for people who can take no shift at all, whose
    /// lower limits are broken whatever the rota).
    pub(crate) fn staff_rules(&mut self, history: &History, first: bool) {
        let inst = self.inst;
        if inst.net.rules.is_empty() {
            return;
        }
        let rules = in_force(inst);
        let mut anywhere = vec![false; inst.staff.len()];
        for c in &inst.candidates {
            for &p in c {
                anywhere[p] = true;
            }
        }
        for (p, mine) in rules.iter().enumerate() {
            if mine.is_empty() || (self.by_person[p].is_empty() && (anywhere[p] || !first)) {
                continue;
            }
            let mut duties: Vec<(DutyRef, Lin)> = self.by_person[p]
                .iter()
                .map(|&(s, v)| (DutyRef::of_shift(&inst.shifts[s]), Lin::var(v)))
                .collect();
            let mut cols: Vec<Option<Var>> = self.by_person[p].iter().map(|e| Some(e.1)).collect();
            let mut cliques: HashMap<Var, Vec<u32>> = HashMap::new();
            if mine
                .iter()
                .any(|r| matches!(r.limit, Limit::ForbiddenSuccession { .. }))
            {
                let rest = inst.staff[p].labour.rest == RestPolicy::Enforced;
                let all = crate::clashes::cliques(inst, &self.by_person[p], rest);
                for (k, c) in (0u32..).zip(all) {
                    for v in c {
                        cliques.entry(v).or_default().push(k);
                    }
                }
            }
            for d in fixed_duties(history, &inst.staff[p].id) {
                cols.push(None);
                duties.push((
                    DutyRef::of_past(inst, d),
                    Lin {
                        e: lin::Lin::constant(1.0),
                        var: false,
                        c: 1.0,
                    },
                ));
            }
            let mut sink = ModelSink {
                m: self,
                person: p,
                cols,
                cliques,
            };
            person(&mut sink, inst, mine, &duties);
        }
    }

    /// Pinned duties: each one missing costs like a hard rule broken. A pin
    /// the person cannot take at all (absent, not eligible) has no variable:
    /// the checker reports it.
    pub(crate) fn pinned(&mut self) {
        let inst = self.inst;
        for pin in &inst.net.pinned {
            let (Some(&s), Some(&p)) = (
                inst.shift_index.get(&pin.shift),
                inst.staff_index.get(&pin.staff),
            ) else {
                continue;
            };
            if !self.in_part[s] {
                continue;
            }
            if let Some(&(_, v)) = self.x[s].iter().find(|e| e.0 == p) {
                let z = self.slack();
                self.at_least(z, 1.0 - lin::Lin::from(v));
                self.objective.breach.add_mul(crate::rules::PIN_WEIGHT, z);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use touban_domain::{Duties, Limit, RuleScope, StaffRule};

    use crate::instance::{History, Instance};
    use crate::model::Model;

    /// A forbidden succession over every duty: one row per first duty and
    /// set of clashing next-day duties, fewer than one per pair (that the
    /// optimum is the checker's count: `tests/staff_rules.rs`).
    #[test]
    fn forbidden_successions_take_a_row_per_first_duty_and_clique() {
        let month = touban_domain::Month::new(2027, 1).expect("a month");
        let mut net = crate::synth::network(40, 6, month.first_day(), 7, 3);
        let rows = |net: &touban_domain::Network| {
            let mut inst = Instance::new(net, month);
            inst.keep_days(7);
            let part: Vec<usize> = (0..inst.shifts.len()).collect();
            let m = Model::build(&inst, &History::default(), &part, true);
            let mut pairs = 0;
            for mine in &m.by_person {
                for &(a, _) in mine {
                    let next = inst.shifts[a].shift.date + chrono::Duration::days(1);
                    pairs += mine
                        .iter()
                        .filter(|(b, _)| inst.shifts[*b].shift.date == next)
                        .count();
                }
            }
            (m.rows.len(), pairs)
        };
        // The days worked that any rule needs, alone: a maximum of
        // consecutive days longer than the horizon adds no row of its own.
        let rule = |limit: Limit| StaffRule {
            label: None,
            scope: RuleScope::Network,
            limit,
            weight: None,
        };
        net.rules.push(rule(Limit::MaxConsecutiveDays { n: 31 }));
        let (before, pairs) = rows(&net);
        net.rules.push(rule(Limit::ForbiddenSuccession {
            first: Duties::All,
            then: Duties::All,
        }));
        let (after, _) = rows(&net);
        assert!(pairs > 0);
        let added = after - before;
        // Here 721 rows for 1,116 pairs: many of a day's shifts in this
        // network do not clash (a day and an evening), and stay pairs.
        assert!(added < pairs, "{added} rows for {pairs} forbidden pairs");
    }
}
