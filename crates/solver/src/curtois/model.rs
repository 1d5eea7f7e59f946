//! The Curtois benchmark as a MILP (after Strandmark, Qu & Curtois 2020):
//! x[e,d,t] for allowed (employee, day, shift type), one function per
//! constraint family.
//!
//! The same builder makes the whole model and the sub-models of the
//! construction (one employee's row): only the cells of the
//! `free` employees inside the day `window` get variables; every other cell
//! is a constant taken from the current roster. Constraints whose terms are
//! all constants are left out (the current roster already meets them).

use std::ops::Range;
use std::time::Duration;

use good_lp::solvers::highs::highs;
use good_lp::{
    Constraint, Expression, ProblemVariables, SolverModel, Variable, VariableDefinition,
    constraint, variable,
};

use super::{Problem, Roster};

/// Which cells a sub-model may change.
#[derive(Debug, Clone)]
pub struct Scope {
    pub free: Vec<bool>,
    pub window: Range<usize>,
}

impl Scope {
    pub fn all(p: &Problem) -> Self {
        Self {
            free: vec![true; p.staff.len()],
            window: 0..p.days,
        }
    }

    pub fn employees(p: &Problem, which: &[usize], window: Range<usize>) -> Self {
        let mut free = vec![false; p.staff.len()];
        for &e in which {
            free[e] = true;
        }
        Self { free, window }
    }

    fn cell(&self, e: usize, d: usize) -> bool {
        self.free[e] && self.window.contains(&d)
    }

    /// Whether the span of days `lo..=hi` touches the window.
    fn touches(&self, lo: usize, hi: usize) -> bool {
        hi >= self.window.start && lo < self.window.end
    }
}

/// The result of one sub-model solve.
#[derive(Debug, Clone)]
pub struct SubResult {
    /// The current roster with the free cells replaced, when HiGHS found a
    /// solution.
    pub roster: Option<Roster>,
    /// HiGHS proved this sub-model optimal.
    pub optimal: bool,
}

struct Builder<'p> {
    p: &'p Problem,
    cur: &'p Roster,
    scope: &'p Scope,
    vars: ProblemVariables,
    /// The MIP start, one value per column in creation order.
    start: Vec<f64>,
    /// x[e][d][t], `None` outside the scope or where the type is not allowed.
    x: Vec<Vec<Vec<Option<Variable>>>>,
    cons: Vec<Constraint>,
    obj: Expression,
}

/// A sum of cells: its variable part, its constant part, and whether any
/// variable is in it.
#[derive(Clone)]
struct Sum {
    expr: Expression,
    free: bool,
}

impl Sum {
    fn zero() -> Self {
        Self {
            expr: Expression::from(0),
            free: false,
        }
    }

    fn add(&mut self, other: &Self) {
        self.expr += other.expr.clone();
        self.free |= other.free;
    }
}

impl<'p> Builder<'p> {
    fn new(p: &'p Problem, cur: &'p Roster, scope: &'p Scope) -> Self {
        let mut b = Self {
            p,
            cur,
            scope,
            vars: ProblemVariables::new(),
            start: Vec::new(),
            x: Vec::new(),
            cons: Vec::new(),
            obj: Expression::from(0),
        };
        let mut x = Vec::with_capacity(p.staff.len());
        for (e, emp) in p.staff.iter().enumerate() {
            let mut days = Vec::with_capacity(p.days);
            for (d, now) in cur[e].iter().enumerate() {
                let types: Vec<Option<Variable>> = if scope.cell(e, d) {
                    let off = emp.days_off.contains(&d);
                    (0..p.shifts.len())
                        .map(|t| {
                            (emp.max_shifts[t] > 0 && !off).then(|| {
                                let on = *now == Some(t);
                                b.add(variable().binary(), f64::from(u8::from(on)))
                            })
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                days.push(types);
            }
            x.push(days);
        }
        b.x = x;
        b
    }

    fn add(&mut self, def: VariableDefinition, start: f64) -> Variable {
        self.start.push(start);
        self.vars.add(def)
    }

    fn work(&self, e: usize, d: usize) -> Sum {
        if self.scope.cell(e, d) {
            let vars: Vec<Variable> = self.x[e][d].iter().flatten().copied().collect();
            Sum {
                free: !vars.is_empty(),
                expr: vars.into_iter().map(Expression::from).sum(),
            }
        } else {
            Sum {
                expr: Expression::from(f64::from(u8::from(self.cur[e][d].is_some()))),
                free: false,
            }
        }
    }

    fn cell(&self, e: usize, d: usize, t: usize) -> Sum {
        if self.scope.cell(e, d) {
            match self.x[e][d][t] {
                Some(v) => Sum {
                    expr: v.into(),
                    free: true,
                },
                None => Sum::zero(),
            }
        } else {
            Sum {
                expr: Expression::from(f64::from(u8::from(self.cur[e][d] == Some(t)))),
                free: false,
            }
        }
    }

    fn free_employees(&self) -> Vec<usize> {
        (0..self.p.staff.len())
            .filter(|&e| self.scope.free[e])
            .collect()
    }

    fn one_shift_a_day(&mut self) {
        for e in self.free_employees() {
            for d in self.scope.window.clone() {
                let w = self.work(e, d);
                if w.free {
                    self.cons.push(constraint!(w.expr <= 1));
                }
            }
        }
    }

    /// x[d-1, a] + Σ x[d, b] over the b that may not follow a ≤ 1: one row
    /// per (day, shift type), valid because at most one shift is worked a
    /// day, and tighter than one row per forbidden pair.
    fn forbidden_successions(&mut self) {
        let w = &self.scope.window;
        for e in self.free_employees() {
            for d in w.start.max(1)..(w.end + 1).min(self.p.days) {
                for (a, st) in self.p.shifts.iter().enumerate() {
                    let mut sum = self.cell(e, d - 1, a);
                    let mut next = Sum::zero();
                    for &b in &st.not_followed_by {
                        next.add(&self.cell(e, d, b));
                    }
                    sum.add(&next);
                    if sum.free && next.free {
                        self.cons.push(constraint!(sum.expr <= 1));
                    }
                }
            }
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn shift_and_minute_limits(&mut self) {
        for e in self.free_employees() {
            let emp = &self.p.staff[e];
            let mut minutes = Expression::from(0);
            for t in 0..self.p.shifts.len() {
                let mut n = Sum::zero();
                for d in 0..self.p.days {
                    n.add(&self.cell(e, d, t));
                }
                if n.free {
                    self.cons
                        .push(constraint!(n.expr.clone() <= emp.max_shifts[t] as f64));
                }
                minutes.add_mul(self.p.shifts[t].minutes as f64, n.expr);
            }
            let (lo, hi) = (emp.min_minutes as f64, emp.max_minutes as f64);
            self.cons.push(constraint!(minutes.clone() <= hi));
            self.cons.push(constraint!(minutes >= lo));
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn consecutive(&mut self) {
        let h = self.p.days;
        for e in self.free_employees() {
            let emp = &self.p.staff[e];
            let w: Vec<Sum> = (0..h).map(|d| self.work(e, d)).collect();
            let span = |lo: usize, hi: usize| {
                let mut s = Sum::zero();
                for x in &w[lo..=hi] {
                    s.add(x);
                }
                s
            };
            // At most max_consecutive in any window one longer.
            let k = emp.max_consecutive;
            for s in 0..h.saturating_sub(k) {
                if self.scope.touches(s, s + k) {
                    let sum = span(s, s + k);
                    if sum.free {
                        self.cons.push(constraint!(sum.expr <= k as f64));
                    }
                }
            }
            // No block of 1..min-1 shifts strictly inside the horizon:
            // off at d, on d+1..d+len, off at d+len+1.
            for len in 1..emp.min_consecutive {
                for d in 0..h.saturating_sub(len + 1) {
                    if !self.scope.touches(d, d + len + 1) {
                        continue;
                    }
                    let inner = span(d + 1, d + len);
                    let (a, b) = (&w[d], &w[d + len + 1]);
                    if inner.free || a.free || b.free {
                        self.cons.push(constraint!(
                            inner.expr - a.expr.clone() - b.expr.clone() <= len as f64 - 1.0
                        ));
                    }
                }
            }
            // No run of 1..min_days_off-1 days off strictly inside.
            for len in 1..emp.min_days_off {
                for d in 0..h.saturating_sub(len + 1) {
                    if !self.scope.touches(d, d + len + 1) {
                        continue;
                    }
                    let inner = span(d + 1, d + len);
                    let (a, b) = (&w[d], &w[d + len + 1]);
                    if inner.free || a.free || b.free {
                        self.cons.push(constraint!(
                            a.expr.clone() + b.expr.clone() - inner.expr <= 1
                        ));
                    }
                }
            }
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn weekends(&mut self) {
        for e in self.free_employees() {
            let mut total = Expression::from(0);
            for wk in 0..self.p.days / 7 {
                let (sat, sun) = (self.work(e, wk * 7 + 5), self.work(e, wk * 7 + 6));
                if sat.free || sun.free {
                    let worked =
                        self.cur[e][wk * 7 + 5].is_some() || self.cur[e][wk * 7 + 6].is_some();
                    let k = self.add(variable().binary(), f64::from(u8::from(worked)));
                    self.cons.push(constraint!(sat.expr <= k));
                    self.cons.push(constraint!(sun.expr <= k));
                    total += k;
                } else {
                    total += sat.expr;
                    total += sun.expr;
                    // Both fixed: counted once if either is worked.
                    if self.cur[e][wk * 7 + 5].is_some() && self.cur[e][wk * 7 + 6].is_some() {
                        total -= 1;
                    }
                }
            }
            let max = self.p.staff[e].max_weekends as f64;
            self.cons.push(constraint!(total <= max));
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn requests_and_cover(&mut self) {
        for r in &self.p.on {
            if let Some(v) = self
                .scope
                .cell(r.employee, r.day)
                .then(|| self.x[r.employee][r.day][r.shift])
                .flatten()
            {
                self.obj.add_mul(-(r.weight as f64), v);
            }
        }
        for r in &self.p.off {
            if let Some(v) = self
                .scope
                .cell(r.employee, r.day)
                .then(|| self.x[r.employee][r.day][r.shift])
                .flatten()
            {
                self.obj.add_mul(r.weight as f64, v);
            }
        }
        for c in &self.p.cover {
            if !self.scope.window.contains(&c.day) {
                continue;
            }
            let mut n = Sum::zero();
            let (mut now, mut fixed, mut free) = (0i64, 0i64, 0i64);
            for e in 0..self.p.staff.len() {
                let x = self.cell(e, c.day, c.shift);
                if x.free {
                    free += 1;
                } else if self.cur[e][c.day] == Some(c.shift) {
                    fixed += 1;
                }
                n.add(&x);
                now += i64::from(self.cur[e][c.day] == Some(c.shift));
            }
            if !n.free {
                continue;
            }
            // Where every value the free cells can give lies on one side of
            // the requirement, the cost is linear in them: no slack needed
            // (always so when one employee is free).
            if fixed >= c.requirement {
                self.obj.add_mul(c.over as f64, n.expr);
                continue;
            }
            if fixed + free <= c.requirement {
                self.obj.add_mul(-(c.under as f64), n.expr);
                continue;
            }
            let under = self.add(variable().min(0), (c.requirement - now).max(0) as f64);
            let over = self.add(variable().min(0), (now - c.requirement).max(0) as f64);
            self.cons
                .push(constraint!(n.expr - over + under == c.requirement as f64));
            self.obj.add_mul(c.under as f64, under);
            self.obj.add_mul(c.over as f64, over);
        }
    }
}

/// HiGHS options for one solve.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    pub threads: u32,
    /// Stop at the first solution found (construction).
    pub first: bool,
}

/// Solves the sub-model of `scope` around the roster `cur`.
pub fn solve_scope(
    p: &Problem,
    cur: &Roster,
    scope: &Scope,
    limits: Limits,
) -> Result<SubResult, String> {
    use highs::{HighsModelStatus as Status, HighsSolutionStatus};
    let mut b = Builder::new(p, cur, scope);
    b.one_shift_a_day();
    b.forbidden_successions();
    b.shift_and_minute_limits();
    b.consecutive();
    b.weekends();
    b.requests_and_cover();
    if b.start.is_empty() {
        return Ok(SubResult {
            roster: Some(cur.clone()),
            optimal: true,
        });
    }
    let mut problem = b.vars.minimise(b.obj).using(highs);
    for c in b.cons {
        problem = problem.with(c);
    }
    let mut model = problem.try_into_inner().map_err(|e| e.to_string())?;
    model.make_quiet();
    model.set_option("time_limit", limits.time.as_secs_f64().max(0.05));
    model.set_option("threads", i32::try_from(limits.threads).unwrap_or(1));
    model.set_option("mip_rel_gap", 0.0);
    if limits.first {
        model.set_option("mip_max_improving_sols", 1);
    }
    model.set_solution(Some(&b.start), None, None, None);
    let solved = model.try_solve().map_err(|e| format!("{e:?}"))?;
    let optimal = matches!(solved.status(), Status::Optimal);
    if solved.primal_solution_status() != HighsSolutionStatus::Feasible {
        return Ok(SubResult {
            roster: None,
            optimal: false,
        });
    }
    let cols = solved.get_solution().columns().to_vec();
    let mut roster = cur.clone();
    let mut col = 0;
    for (e, days) in b.x.iter().enumerate() {
        for (d, types) in days.iter().enumerate() {
            if !scope.cell(e, d) {
                continue;
            }
            roster[e][d] = None;
            for (t, v) in types.iter().enumerate() {
                if v.is_some() {
                    if cols[col] > 0.5 {
                        roster[e][d] = Some(t);
                    }
                    col += 1;
                }
            }
        }
    }
    Ok(SubResult {
        roster: Some(roster),
        optimal,
    })
}
