//! Solving a Curtois instance within a time limit: the whole MILP where it is
//! small, otherwise a construction (one employee at a time, each a small MILP
//! against the cover the others already give) followed by large-neighbourhood
//! search (LNS) that re-solves groups of employees over windows of days, or
//! every employee over a few days, with HiGHS while the rest stays fixed.
//!
//! Every hard rule of the benchmark belongs to one employee, so an employee's
//! row can always be re-solved on its own: the construction therefore gives a
//! roster without hard violations on every instance, and LNS only ever
//! replaces it by a better one.

use std::time::{Duration, Instant};

use super::model::{Limits, Scope, solve_scope};
use super::row::{best_row, cover_counts};
use super::{Problem, Roster, evaluate};

/// Models with at most this many assignment variables are given to HiGHS
/// whole, for the whole time: it proves the small instances optimal within
/// seconds, and on the others of this size it did better in 60 s than
/// LNS (measured on Instances 4 and 5).
const WHOLE_FIRST: usize = 1_300;
/// Models up to this size are given to HiGHS whole for half the time after
/// the construction (as its MIP start), then LNS: on Instances 8–11 and 13,
/// HiGHS's own search on the whole model did better than LNS alone.
const WHOLE_MID: usize = 50_000;
/// After LNS, models up to this size get the rest of the time as a whole
/// solve from the LNS roster, so that HiGHS can close the gap.
const WHOLE_LAST: usize = 20_000;
/// Bounds on the sub-model size LNS adapts between (assignment variables).
const SUB_MIN: f64 = 300.0;
const SUB_MAX: f64 = 12_000.0;
/// Shift types the row DP tries per employee (the most useful first).
const ROW_TYPES: usize = 4;
/// The longest a single LNS sub-model may run.
const SUB_TIME: f64 = 2.0;

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
    /// The objective after the construction, when there was one.
    pub constructed: Option<i64>,
    /// LNS sub-models solved, and how many of them improved the roster.
    pub lns_moves: usize,
    pub lns_improved: usize,
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

    /// Employees that share a shift type with `e`, most shared first.
    fn related(&self, e: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
        let p = self.p;
        let mut others: Vec<(usize, u64)> = (0..p.staff.len())
            .filter(|&o| o != e)
            .map(|o| {
                let shared = (0..p.shifts.len())
                    .filter(|&t| p.staff[e].max_shifts[t] > 0 && p.staff[o].max_shifts[t] > 0)
                    .count() as u64;
                (o, shared * 1000 + rng.u64(0..1000))
            })
            .collect();
        others.sort_by_key(|(_, k)| std::cmp::Reverse(*k));
        others.into_iter().map(|(o, _)| o).collect()
    }

    /// A neighbourhood of about `target` variables.
    fn neighbourhood(&self, target: f64, rng: &mut fastrand::Rng) -> Scope {
        let p = self.p;
        let staff = p.staff.len();
        let types = p
            .staff
            .iter()
            .map(|e| e.max_shifts.iter().filter(|m| **m > 0).count())
            .sum::<usize>() as f64
            / staff as f64;
        let cells = (target / types.max(1.0)).max(2.0);
        if rng.u8(0..4) == 0 {
            // Everyone over a few days.
            let len = ((cells / staff as f64) as usize).clamp(1, p.days);
            let start = rng.usize(0..=p.days - len);
            return Scope::all_days(p, start..start + len);
        }
        // A group of related employees over a window.
        let len = if p.days <= 28 {
            p.days
        } else {
            ((cells / 3.0) as usize).clamp(7, p.days)
        };
        let k = ((cells / len as f64) as usize).clamp(2, staff);
        let start = if len >= p.days {
            0
        } else {
            rng.usize(0..=p.days - len)
        };
        let seed = rng.usize(0..staff);
        let mut group = vec![seed];
        let related = self.related(seed, rng);
        // Mostly related employees, some at random.
        for o in related {
            if group.len() >= k {
                break;
            }
            if rng.u8(0..4) > 0 {
                group.push(o);
            }
        }
        while group.len() < k {
            let o = rng.usize(0..staff);
            if !group.contains(&o) {
                group.push(o);
            }
        }
        Scope::employees(p, &group, start..start + len)
    }
}

impl Scope {
    fn all_days(p: &Problem, window: std::ops::Range<usize>) -> Self {
        Self {
            free: vec![true; p.staff.len()],
            window,
        }
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
    let empty: Roster = vec![vec![None; p.days]; p.staff.len()];
    let mut out = CurtoisOutcome {
        roster: None,
        optimal: false,
        elapsed: Duration::ZERO,
        variables,
        constructed: None,
        lns_moves: 0,
        lns_improved: 0,
    };
    if variables <= WHOLE_FIRST {
        let r = solve_scope(p, &empty, &Scope::all(p), s.limits(opts.time_limit))?;
        s.log(format_args!(
            "whole model ({variables} variables): {}",
            match &r.roster {
                Some(x) if r.optimal => format!("optimal, {}", evaluate(p, x).objective),
                Some(x) => format!("best {}", evaluate(p, x).objective),
                None => "no solution yet".into(),
            }
        ));
        if r.roster.is_some() {
            out.roster = r.roster;
            out.optimal = r.optimal;
            out.elapsed = started.elapsed();
            return Ok(out);
        }
    }
    let mut roster = s.construct()?;
    let constructed = evaluate(p, &roster).objective;
    out.constructed = Some(constructed);
    s.log(format_args!("construction: {constructed}"));
    let mut best = constructed;
    // Cheap first: the row DP for each employee in turn (a fifth of the time
    // at most), then LNS with HiGHS.
    let until = Instant::now() + Duration::from_secs_f64(opts.time_limit * 0.2);
    let n = s.descend(&mut roster, &mut best, until);
    s.log(format_args!(
        "row descent: {n} rows changed, objective {best}"
    ));
    if variables <= WHOLE_MID {
        let r = solve_scope(p, &roster, &Scope::all(p), s.limits(opts.time_limit * 0.5))?;
        if let Some(next) = r.roster {
            let ev = evaluate(p, &next);
            if ev.violations.is_empty() && ev.objective <= best {
                best = ev.objective;
                roster = next;
                if r.optimal {
                    s.log(format_args!(
                        "whole model from the construction: optimal, {best}"
                    ));
                    out.roster = Some(roster);
                    out.optimal = true;
                    out.elapsed = started.elapsed();
                    return Ok(out);
                }
            }
        }
        s.log(format_args!("whole model from the construction: {best}"));
    }
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let mut target: f64 = 800.0;
    let whole_last = variables <= WHOLE_LAST;
    let lns_until = if whole_last { 0.7 } else { 1.0 };
    let mut last_log = Instant::now();
    while s.started.elapsed().as_secs_f64() < opts.time_limit * lns_until - 0.2 && s.left() > 0.2 {
        let scope = s.neighbourhood(target, &mut rng);
        let r = solve_scope(p, &roster, &scope, s.limits(SUB_TIME))?;
        out.lns_moves += 1;
        if r.optimal {
            target = (target * 1.15).min(SUB_MAX);
        } else {
            target = (target * 0.8).max(SUB_MIN);
        }
        if let Some(next) = r.roster {
            let ev = evaluate(p, &next);
            if ev.violations.is_empty() && ev.objective <= best {
                if ev.objective < best {
                    out.lns_improved += 1;
                }
                best = ev.objective;
                roster = next;
            }
        }
        if last_log.elapsed() > Duration::from_secs(5) {
            last_log = Instant::now();
            s.log(format_args!(
                "LNS: {} sub-models, {} improved, objective {best}, sub-model size {target:.0}",
                out.lns_moves, out.lns_improved
            ));
        }
    }
    if whole_last && s.left() > 1.0 {
        let r = solve_scope(p, &roster, &Scope::all(p), s.limits(s.left()))?;
        if let Some(next) = r.roster {
            let ev = evaluate(p, &next);
            if ev.violations.is_empty() && ev.objective <= best {
                best = ev.objective;
                roster = next;
                out.optimal = r.optimal;
            }
        }
        s.log(format_args!(
            "whole model from the LNS roster: {best}{}",
            if out.optimal { " (optimal)" } else { "" }
        ));
    }
    out.roster = Some(roster);
    out.elapsed = started.elapsed();
    Ok(out)
}
