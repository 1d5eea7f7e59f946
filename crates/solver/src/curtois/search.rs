//! Solving a Curtois instance within a time limit, on two threads (the
//! machine's two cores):
//!
//! - the first builds a roster one employee at a time (the row DP of
//!   `row.rs`, each row against the cover the others already give), improves
//!   it by row descent, then anneals it (`anneal.rs`) for the rest of the
//!   time;
//! - the second gives HiGHS the whole MILP when it is small (at most
//!   [`WHOLE_MID`] variables and [`WHOLE_DAYS`] days: it proves the small
//!   instances optimal within seconds), and otherwise anneals a second
//!   roster from another seed.
//!
//! The better roster as the independent evaluator scores it is returned; a
//! proof of optimality by HiGHS stops the annealer. Every hard rule of the
//! benchmark belongs to one employee, so the construction gives a roster
//! without hard violations on every instance, and the annealer only ever
//! moves between such rosters.

use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use super::anneal::anneal;
use super::model::{Limits, Scope, solve_scope};
use super::row::{best_row, cover_counts};
use super::{Problem, Roster, evaluate};

/// Models of at most this many assignment variables and at most
/// [`WHOLE_DAYS`] days (Instances 1–11) are also given to HiGHS whole, on the
/// second thread. On the others HiGHS alone found no roster, or a far worse
/// one than the annealer, within a minute (Instances 12–24), so that thread
/// anneals a second roster from another seed instead.
pub const WHOLE_MID: usize = 6_000;
/// See [`WHOLE_MID`].
pub const WHOLE_DAYS: usize = 28;
/// Shift types the row DP tries per employee (the most useful first).
const ROW_TYPES: usize = 4;
/// The share of the time row descent may take before annealing.
const DESCENT_SHARE: f64 = 0.1;

#[derive(Debug, Clone)]
pub struct CurtoisOptions {
    pub time_limit: f64,
    pub threads: u32,
    pub seed: u64,
    /// Progress lines (phase, elapsed, objective) on stderr.
    pub progress: bool,
}

impl Default for CurtoisOptions {
    fn default() -> Self {
        Self {
            time_limit: 60.0,
            threads: 1,
            seed: 1,
            progress: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CurtoisOutcome {
    pub roster: Option<Roster>,
    /// The whole model was solved to proven optimality.
    pub optimal: bool,
    pub elapsed: Duration,
    /// Assignment variables of the whole model.
    pub variables: usize,
    /// The objective after the construction.
    pub constructed: Option<i64>,
    /// Which method gave the returned roster ("HiGHS" or "annealing").
    pub method: &'static str,
    /// Moves the annealers tried, and how many they made.
    pub moves_tried: u64,
    pub moves_made: u64,
}

/// Assignment variables of the whole model.
pub fn size(p: &Problem) -> usize {
    p.staff
        .iter()
        .map(|e| {
            let types = e.max_shifts.iter().filter(|m| **m > 0).count();
            let mut off = e.days_off.clone();
            off.sort_unstable();
            off.dedup();
            types * (p.days - off.iter().filter(|d| **d < p.days).count())
        })
        .sum()
}

/// Solves an instance within `time_limit` seconds (one solver thread each).
pub fn solve(p: &Problem, time_limit: f64, threads: u32) -> Result<CurtoisOutcome, String> {
    solve_with(
        p,
        &CurtoisOptions {
            time_limit,
            threads,
            ..CurtoisOptions::default()
        },
    )
}

struct Search<'p> {
    p: &'p Problem,
    opts: &'p CurtoisOptions,
    started: Instant,
    deadline: Instant,
}

impl Search<'_> {
    fn left(&self) -> f64 {
        self.deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    }

    fn log(&self, what: std::fmt::Arguments<'_>) {
        if self.opts.progress {
            eprintln!("  {:>6.1} s  {what}", self.started.elapsed().as_secs_f64());
        }
    }

    fn limits(&self, seconds: f64) -> Limits {
        Limits {
            time: Duration::from_secs_f64(seconds.clamp(0.05, self.left().max(0.05))),
            threads: self.opts.threads,
            first: false,
        }
    }

    /// One employee at a time, each given the cover the earlier ones leave.
    fn construct(&self) -> Result<Roster, String> {
        let p = self.p;
        let mut roster: Roster = vec![vec![None; p.days]; p.staff.len()];
        // The most constrained first: fewest allowed shift types, then the
        // highest minimum of minutes.
        let mut order: Vec<usize> = (0..p.staff.len()).collect();
        order.sort_by_key(|&e| {
            let emp = &p.staff[e];
            (
                emp.max_shifts.iter().filter(|m| **m > 0).count(),
                std::cmp::Reverse(emp.min_minutes),
            )
        });
        let mut counts = cover_counts(p, &roster);
        for &e in &order {
            if let Some((row, _)) = best_row(p, &roster, &counts, e, ROW_TYPES) {
                for (d, x) in row.iter().enumerate() {
                    if let Some(t) = x {
                        counts[d][*t] += 1;
                    }
                }
                roster[e] = row;
                continue;
            }
            // No single shift type meets this employee's rules: a MILP of
            // the row, stopping at its first solution.
            let scope = Scope::employees(p, &[e], 0..p.days);
            let mut l = self.limits((self.left() / 4.0).max(1.0));
            l.first = true;
            let r = solve_scope(p, &roster, &scope, l)?;
            roster = r.roster.ok_or_else(|| {
                format!(
                    "no row for employee {} meets its hard rules within {:.1} s",
                    p.staff[e].id,
                    self.started.elapsed().as_secs_f64()
                )
            })?;
            counts = cover_counts(p, &roster);
        }
        Ok(roster)
    }

    /// Re-solves each employee's row by the row DP against the others,
    /// keeping every change that lowers the objective, until a pass changes
    /// nothing or `until`. Returns the rows changed.
    fn descend(&self, roster: &mut Roster, best: &mut i64, until: Instant) -> usize {
        let p = self.p;
        let mut changed = 0;
        loop {
            let mut pass = 0;
            for e in 0..p.staff.len() {
                if Instant::now() >= until {
                    return changed + pass;
                }
                let counts = cover_counts(p, roster);
                let Some((row, _)) = best_row(p, roster, &counts, e, ROW_TYPES) else {
                    continue;
                };
                if row == roster[e] {
                    continue;
                }
                let old = std::mem::replace(&mut roster[e], row);
                let ev = evaluate(p, roster);
                if ev.violations.is_empty() && ev.objective < *best {
                    *best = ev.objective;
                    pass += 1;
                } else {
                    roster[e] = old;
                }
            }
            changed += pass;
            if pass == 0 {
                return changed;
            }
        }
    }
}

/// What one thread of the search returns.
struct Found {
    roster: Option<Roster>,
    optimal: bool,
    method: &'static str,
    tried: u64,
    made: u64,
}

impl Search<'_> {
    /// Construction then row descent: the roster and the construction's
    /// objective.
    fn build(&self) -> Result<(Roster, i64), String> {
        let mut roster = self.construct()?;
        let constructed = evaluate(self.p, &roster).objective;
        self.log(format_args!("construction: {constructed}"));
        let mut best = constructed;
        let until = Instant::now() + Duration::from_secs_f64(self.opts.time_limit * DESCENT_SHARE);
        let n = self.descend(&mut roster, &mut best, until.min(self.deadline));
        self.log(format_args!(
            "row descent: {n} rows changed, objective {best}"
        ));
        Ok((roster, constructed))
    }

    /// Anneals `roster` until the deadline or `stop`; keeps it unless the
    /// evaluator finds the annealed one better.
    fn anneal_from(&self, roster: Roster, seed: u64, stop: &AtomicBool) -> Found {
        let p = self.p;
        let before = evaluate(p, &roster).objective;
        let (next, obj, stats) = anneal(p, roster.clone(), self.deadline, stop, seed);
        let ev = evaluate(p, &next);
        let (roster, best) = if ev.violations.is_empty() && ev.objective <= before {
            debug_assert_eq!(ev.objective, obj);
            (next, ev.objective)
        } else {
            (roster, before)
        };
        self.log(format_args!(
            "annealing (seed {seed}): {} moves tried, {} made, {} improved, objective {best}",
            stats.tried, stats.accepted, stats.improved
        ));
        Found {
            roster: Some(roster),
            optimal: false,
            method: "annealing",
            tried: stats.tried,
            made: stats.accepted,
        }
    }

    /// HiGHS on the whole model for the whole time; a proof of optimality
    /// sets `stop`.
    fn whole(&self, stop: &AtomicBool) -> Result<Found, String> {
        let p = self.p;
        let empty: Roster = vec![vec![None; p.days]; p.staff.len()];
        let r = solve_scope(p, &empty, &Scope::all(p), self.limits(self.opts.time_limit));
        if matches!(&r, Ok(r) if r.optimal) {
            stop.store(true, Ordering::Relaxed);
        }
        let r = r?;
        self.log(format_args!(
            "HiGHS, whole model: {}",
            match &r.roster {
                Some(x) if r.optimal => format!("optimal, {}", evaluate(p, x).objective),
                Some(x) => format!("best {}", evaluate(p, x).objective),
                None => "no solution".into(),
            }
        ));
        Ok(Found {
            roster: r.roster,
            optimal: r.optimal,
            method: "HiGHS",
            tried: 0,
            made: 0,
        })
    }
}

/// Solves an instance as the module documentation describes.
pub fn solve_with(p: &Problem, opts: &CurtoisOptions) -> Result<CurtoisOutcome, String> {
    let started = Instant::now();
    let s = Search {
        p,
        opts,
        started,
        deadline: started + Duration::from_secs_f64(opts.time_limit),
    };
    let variables = size(p);
    let stop = AtomicBool::new(false);
    let (first, second) = if variables <= WHOLE_MID && p.days <= WHOLE_DAYS {
        // HiGHS starts at once, beside the construction.
        std::thread::scope(|scope| {
            let other = scope.spawn(|| s.whole(&stop));
            let first = s
                .build()
                .map(|(r, c)| (s.anneal_from(r, opts.seed, &stop), c));
            let second = other
                .join()
                .unwrap_or_else(|_| Err("the HiGHS thread panicked".into()));
            (first, second)
        })
    } else {
        // One construction, two annealers from it.
        match s.build() {
            Err(e) => (Err(e.clone()), Err(e)),
            Ok((roster, constructed)) => std::thread::scope(|scope| {
                let copy = roster.clone();
                let other = scope.spawn(|| s.anneal_from(copy, opts.seed.wrapping_add(1), &stop));
                let first = s.anneal_from(roster, opts.seed, &stop);
                let second = other
                    .join()
                    .map_err(|_| "the second annealer panicked".to_string());
                (Ok((first, constructed)), second)
            }),
        }
    };
    // A thread that failed counts as one without a roster; only when both
    // failed is the first error returned.
    let none = |method| Found {
        roster: None,
        optimal: false,
        method,
        tried: 0,
        made: 0,
    };
    let (first, constructed, err) = match first {
        Ok((f, c)) => (f, Some(c), None),
        Err(e) => (none("annealing"), None, Some(e)),
    };
    let (second, err) = match second {
        Ok(f) => (f, err),
        Err(e) => (none("HiGHS"), err.or(Some(e))),
    };
    if let Some(e) = err
        && first.roster.is_none()
        && second.roster.is_none()
    {
        return Err(e);
    }
    let score = |f: &Found| {
        f.roster.as_ref().and_then(|r| {
            let ev = evaluate(p, r);
            ev.violations.is_empty().then_some(ev.objective)
        })
    };
    let (a, b) = (score(&first), score(&second));
    // The proven optimum when there is one, else the lower objective.
    let take_second = match (a, b) {
        (_, Some(_)) if second.optimal => true,
        (Some(a), Some(b)) => b < a,
        (None, Some(_)) => true,
        _ => false,
    };
    let (tried, made) = (first.tried + second.tried, first.made + second.made);
    let win = if take_second { second } else { first };
    Ok(CurtoisOutcome {
        roster: win.roster,
        optimal: win.optimal,
        elapsed: started.elapsed(),
        variables,
        constructed,
        method: win.method,
        moves_tried: tried,
        moves_made: made,
    })
}

/// The construction alone (for the annealer's tests).
#[cfg(test)]
pub(super) fn construct_for_tests(p: &Problem) -> Roster {
    let opts = CurtoisOptions::default();
    let started = Instant::now();
    let s = Search {
        p,
        opts: &opts,
        started,
        deadline: started + Duration::from_secs(30),
    };
    s.construct().expect("construction")
}
