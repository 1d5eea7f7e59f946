//! The Curtois benchmark as a MILP (after Strandmark, Qu & Curtois 2020):
//! x[e,d,t] for allowed (employee, day, shift type), w[e,d] = Σt x, one
//! function per constraint family.

use std::time::{Duration, Instant};

use good_lp::solvers::highs::highs;
use good_lp::{
    Constraint, Expression, ProblemVariables, Solution, SolutionStatus, SolverModel, Variable,
    constraint, variable,
};

use super::{Problem, Roster};

#[derive(Debug, Clone)]
pub struct CurtoisOutcome {
    pub roster: Option<Roster>,
    pub optimal: bool,
    pub elapsed: Duration,
    pub variables: usize,
    pub constraints: usize,
}

struct Builder<'p> {
    p: &'p Problem,
    vars: ProblemVariables,
    /// x[e][d][t]
    x: Vec<Vec<Vec<Option<Variable>>>>,
    cons: Vec<Constraint>,
    obj: Expression,
}

impl Builder<'_> {
    fn work(&self, e: usize, d: usize) -> Expression {
        self.x[e][d]
            .iter()
            .flatten()
            .map(|v| Expression::from(*v))
            .sum()
    }

    fn one_shift_a_day(&mut self) {
        for e in 0..self.p.staff.len() {
            for d in 0..self.p.days {
                let w = self.work(e, d);
                self.cons.push(constraint!(w <= 1));
            }
        }
    }

    fn forbidden_successions(&mut self) {
        for e in 0..self.p.staff.len() {
            for d in 1..self.p.days {
                for (a, st) in self.p.shifts.iter().enumerate() {
                    for &b in &st.not_followed_by {
                        if let (Some(x1), Some(x2)) = (self.x[e][d - 1][a], self.x[e][d][b]) {
                            self.cons.push(constraint!(x1 + x2 <= 1));
                        }
                    }
                }
            }
        }
    }

    fn shift_and_minute_limits(&mut self) {
        for (e, emp) in self.p.staff.iter().enumerate() {
            let mut minutes = Expression::from(0);
            for t in 0..self.p.shifts.len() {
                let n: Expression = (0..self.p.days)
                    .filter_map(|d| self.x[e][d][t])
                    .map(Expression::from)
                    .sum();
                #[allow(clippy::cast_precision_loss)]
                let max = emp.max_shifts[t] as f64;
                self.cons.push(constraint!(n.clone() <= max));
                #[allow(clippy::cast_precision_loss)]
                minutes.add_mul(self.p.shifts[t].minutes as f64, n);
            }
            #[allow(clippy::cast_precision_loss)]
            let (lo, hi) = (emp.min_minutes as f64, emp.max_minutes as f64);
            self.cons.push(constraint!(minutes.clone() <= hi));
            self.cons.push(constraint!(minutes >= lo));
        }
    }

    fn consecutive(&mut self) {
        let h = self.p.days;
        for (e, emp) in self.p.staff.iter().enumerate() {
            let w: Vec<Expression> = (0..h).map(|d| self.work(e, d)).collect();
            // At most max_consecutive in any window one longer.
            let k = emp.max_consecutive;
            for s in 0..h.saturating_sub(k) {
                let sum: Expression = w[s..=s + k].iter().cloned().sum();
                #[allow(clippy::cast_precision_loss)]
                self.cons.push(constraint!(sum <= k as f64));
            }
            // No block of 1..min-1 shifts strictly inside the horizon:
            // off at d, on d+1..d+len, off at d+len+1.
            for len in 1..emp.min_consecutive {
                for d in 0..h.saturating_sub(len + 1) {
                    let inner: Expression = w[d + 1..=d + len].iter().cloned().sum();
                    #[allow(clippy::cast_precision_loss)]
                    self.cons.push(constraint!(
                        inner - w[d].clone() - w[d + len + 1].clone() <= len as f64 - 1.0
                    ));
                }
            }
            // No run of 1..min_days_off-1 days off strictly inside.
            for len in 1..emp.min_days_off {
                for d in 0..h.saturating_sub(len + 1) {
                    let inner: Expression = w[d + 1..=d + len].iter().cloned().sum();
                    self.cons.push(constraint!(
                        w[d].clone() + w[d + len + 1].clone() - inner <= 1
                    ));
                }
            }
        }
    }

    fn weekends(&mut self) {
        for (e, emp) in self.p.staff.iter().enumerate() {
            let mut total = Expression::from(0);
            for wk in 0..self.p.days / 7 {
                let k = self.vars.add(variable().binary());
                let (sat, sun) = (self.work(e, wk * 7 + 5), self.work(e, wk * 7 + 6));
                self.cons.push(constraint!(sat <= k));
                self.cons.push(constraint!(sun <= k));
                total += k;
            }
            #[allow(clippy::cast_precision_loss)]
            self.cons
                .push(constraint!(total <= emp.max_weekends as f64));
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn requests_and_cover(&mut self) {
        for r in &self.p.on {
            self.obj += r.weight as f64;
            if let Some(v) = self.x[r.employee][r.day][r.shift] {
                self.obj.add_mul(-(r.weight as f64), v);
            }
        }
        for r in &self.p.off {
            if let Some(v) = self.x[r.employee][r.day][r.shift] {
                self.obj.add_mul(r.weight as f64, v);
            }
        }
        for c in &self.p.cover {
            let n: Expression = (0..self.p.staff.len())
                .filter_map(|e| self.x[e][c.day][c.shift])
                .map(Expression::from)
                .sum();
            let under = self.vars.add(variable().min(0));
            let over = self.vars.add(variable().min(0));
            self.cons
                .push(constraint!(n - over + under == c.requirement as f64));
            self.obj.add_mul(c.under as f64, under);
            self.obj.add_mul(c.over as f64, over);
        }
    }
}

/// Solves an instance within `time_limit` seconds.
pub fn solve(p: &Problem, time_limit: f64, threads: u32) -> Result<CurtoisOutcome, String> {
    let started = Instant::now();
    let mut vars = ProblemVariables::new();
    let x: Vec<Vec<Vec<Option<Variable>>>> = p
        .staff
        .iter()
        .map(|e| {
            (0..p.days)
                .map(|d| {
                    (0..p.shifts.len())
                        .map(|t| {
                            (e.max_shifts[t] > 0 && !e.days_off.contains(&d))
                                .then(|| vars.add(variable().binary()))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut b = Builder {
        p,
        vars,
        x,
        cons: Vec::new(),
        obj: Expression::from(0),
    };
    b.one_shift_a_day();
    b.forbidden_successions();
    b.shift_and_minute_limits();
    b.consecutive();
    b.weekends();
    b.requests_and_cover();
    let variables = b.x.iter().flatten().flatten().flatten().count();
    let constraints = b.cons.len();
    let mut problem = b
        .vars
        .minimise(b.obj.clone())
        .using(highs)
        .set_time_limit(time_limit)
        .set_threads(threads);
    problem = problem.set_mip_rel_gap(0.0).map_err(|e| e.to_string())?;
    for c in b.cons {
        problem = problem.with(c);
    }
    match problem.solve() {
        Ok(sol) => {
            let roster =
                b.x.iter()
                    .map(|days| {
                        days.iter()
                            .map(|ts| {
                                ts.iter()
                                    .position(|v| v.is_some_and(|v| sol.value(v) > 0.5))
                            })
                            .collect()
                    })
                    .collect();
            Ok(CurtoisOutcome {
                roster: Some(roster),
                optimal: matches!(sol.status(), SolutionStatus::Optimal),
                elapsed: started.elapsed(),
                variables,
                constraints,
            })
        }
        Err(good_lp::ResolutionError::Other("NoSolutionFound")) => Ok(CurtoisOutcome {
            roster: None,
            optimal: false,
            elapsed: started.elapsed(),
            variables,
            constraints,
        }),
        Err(e) => Err(e.to_string()),
    }
}
