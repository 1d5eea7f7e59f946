//! Solving: split the month into independent parts, hand each to HiGHS, and
//! put the answers together.

use std::collections::BTreeMap;
use std::time::Instant;

use touban_domain::{Assignment, Role};

use crate::instance::{History, Instance};
use crate::lin::Lin;
use crate::model::{Model, UNDER_COST};

mod anneal;
#[cfg(test)]
mod bound_check;
#[cfg(test)]
mod goodlp_check;
mod hybrid;
mod incumbent;
mod knobs;
mod lns;
mod local;
mod parts;
mod row;
mod sub;
mod types;
use hybrid::hybrid;
use parts::parts;
pub use types::{Outcome, Progress, Quality, SolveError, SolveOptions};

/// Parts with more assignment variables than this usually take over a
/// second; HiGHS's own progress log is shown for them.
const PROGRESS_FROM_VARIABLES: usize = 5_000;

/// `self − n`, never below zero.
trait SubFloor {
    fn sub_floor(self, n: usize) -> f64;
}

impl SubFloor for f64 {
    fn sub_floor(self, n: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = n as f64;
        (self - n).max(0.0)
    }
}

struct Solved {
    values: Vec<Vec<bool>>,
    optimal: bool,
    objective: f64,
    /// HiGHS's relative MIP gap at the end (1.0 when unknown).
    gap: f64,
    /// HiGHS's proven lower bound on the objective (−∞ when unknown).
    bound: f64,
}

/// Each column's cost in `obj` (its constant left out).
fn costs(m: &Model<'_, '_>, obj: &Lin) -> Vec<f64> {
    let mut cost = vec![0.0; m.vars.len()];
    for &(v, c) in &obj.terms {
        cost[v.col()] += c;
    }
    cost
}

/// The part's model for HiGHS with objective `obj` (its constant left
/// out: HiGHS's objective value plus `obj.constant` is `obj`'s), passed in
/// one call from the model's own rows, with the options every solve shares.
fn highs_model(
    m: &Model<'_, '_>,
    obj: &Lin,
    time: f64,
    opts: &SolveOptions,
) -> Result<highs::Model, SolveError> {
    let n = m.vars.len();
    let cost = costs(m, obj);
    let integral: Vec<bool> = (0..n).map(|c| m.vars.is_binary(c)).collect();
    let upper: Vec<f64> = integral
        .iter()
        .map(|&b| if b { 1.0 } else { f64::INFINITY })
        .collect();
    let (start, index, value) = m.rows.csr();
    let mut model = touban_highs_callback::pass_mip(&touban_highs_callback::Mip {
        cost: &cost,
        col_lower: &vec![0.0; n],
        col_upper: &upper,
        integral: &integral,
        row_lower: &m.rows.lower,
        row_upper: &m.rows.upper,
        start,
        index,
        value,
    })
    .map_err(|e| SolveError::Solver(format!("HiGHS refused the model: {e:?}")))?;
    model.make_quiet();
    // Large parts take more than a second: let HiGHS report its own
    // progress (time, best solution, best bound, gap) on stderr, so that
    // stdout stays the printed rota.
    let size: usize = m.x.iter().map(Vec::len).sum();
    if (opts.progress && size > PROGRESS_FROM_VARIABLES)
        || std::env::var_os("TOUBAN_HIGHS_LOG").is_some()
    {
        model.set_option("output_flag", true);
        model.set_option("log_to_console", false);
        model.set_option("log_file", "/dev/stderr");
    }
    model.set_option("time_limit", time.max(0.5));
    model.set_option("threads", i32::try_from(opts.threads).unwrap_or(1));
    Ok(model)
}

/// Solves one part. `phases` are objectives minimised in order, each next one
/// with the earlier ones held at their optimum (lexicographic).
fn solve_part(
    m: &Model<'_, '_>,
    phases: &[Lin],
    start: &[f64],
    time: f64,
    opts: &SolveOptions,
) -> Result<Solved, SolveError> {
    use highs::{HighsModelStatus as Status, HighsSolutionStatus};

    // Earlier phases held at their optimum: (row, bound).
    let mut extra: Vec<(&Lin, f64)> = Vec::new();
    let mut last = None;
    let mut optimal = true;
    let mut gap: f64 = 0.0;
    let per_phase = time / phases.len() as f64;
    for (k, obj) in phases.iter().enumerate() {
        let mut model = highs_model(m, obj, per_phase, opts)?;
        for &(e, bound) in &extra {
            let mut row = crate::lin::Rows::default();
            row.le(e.clone(), bound);
            let (_, index, value) = row.csr();
            touban_highs_callback::add_row(
                &mut model,
                f64::NEG_INFINITY,
                row.upper[0],
                index,
                value,
            )
            .map_err(|e| SolveError::Solver(format!("HiGHS refused a row: {e:?}")))?;
        }
        model.set_option("mip_rel_gap", f64::from(opts.mip_gap));
        if k == 0 && !start.is_empty() {
            model.set_solution(Some(start), None, None, None);
        }
        let solved = model
            .try_solve()
            .map_err(|e| SolveError::Solver(format!("{e:?}")))?;
        match solved.status() {
            Status::Infeasible | Status::UnboundedOrInfeasible => {
                return Err(SolveError::Solver("HiGHS found the model infeasible, which it never should be (coverage has slack)".into()));
            }
            Status::Optimal | Status::ObjectiveBound | Status::ObjectiveTarget => {}
            Status::ReachedTimeLimit
            | Status::ReachedSolutionLimit
            | Status::ReachedInterrupt
            | Status::ReachedIterationLimit
            | Status::ReachedMemoryLimit => {
                optimal = false;
            }
            other => {
                return Err(SolveError::Solver(format!(
                    "HiGHS stopped with status {other:?}"
                )));
            }
        }
        if solved.primal_solution_status() != HighsSolutionStatus::Feasible {
            return Err(if k == 0 {
                SolveError::NoSolution
            } else {
                SolveError::Solver("HiGHS lost the solution of an earlier phase".into())
            });
        }
        let cols = solved.get_solution().columns().to_vec();
        let value = obj.eval(&cols);
        let g = solved.mip_gap();
        // A model with nothing to decide (a part of shifts nobody can take)
        // is solved exactly; HiGHS reports no gap for it.
        let exact = m.x.iter().all(Vec::is_empty) || (optimal && !g.is_finite());
        gap = gap.max(if g.is_finite() {
            g
        } else if exact {
            0.0
        } else {
            1.0
        });
        let bound = solved
            .double_info_value(c"mip_dual_bound")
            .ok()
            .filter(|b| b.is_finite())
            .unwrap_or(f64::NEG_INFINITY);
        if k + 1 < phases.len() {
            // Integral objectives (unfilled slots, changes): hold them at the optimum.
            extra.push((obj, value.round() + 0.5));
        }
        let values =
            m.x.iter()
                .map(|c| c.iter().map(|(_, v)| cols[v.col()] > 0.5).collect())
                .collect();
        last = Some(Solved {
            values,
            optimal,
            objective: value,
            gap,
            bound,
        });
    }
    last.ok_or_else(|| SolveError::Solver("no phases".into()))
}

/// For tests: the last part of a small generated network (90 staff, 8
/// services, the first 10 days of January 2027, no history) and its model.
#[cfg(test)]
pub(crate) fn with_small_part<R>(
    f: impl FnOnce(&Instance<'_>, &History, &[usize], &Model<'_, '_>) -> R,
) -> R {
    let month = touban_domain::Month::new(2027, 1).expect("a month");
    let net = crate::synth::network(90, 8, month.first_day(), 10, 7);
    let mut inst = Instance::new(&net, month);
    inst.keep_days(10);
    let history = History::default();
    let part = parts(&inst).pop().expect("a part");
    let m = Model::build(&inst, &history, &part, true);
    f(&inst, &history, &part, &m)
}

/// For tests: [`with_small_part`] with its weighted objective, the model
/// compiled for the search, and the construction's assignment columns.
#[cfg(test)]
pub(crate) fn with_small_start<R>(
    f: impl FnOnce(&Instance<'_>, &[usize], &Model<'_, '_>, &Lin, &local::Compiled, Vec<usize>) -> R,
) -> R {
    with_small_part(|inst, history, part, m| {
        let obj = objectives(m, inst, false).remove(0);
        let hard = m.objective.under.clone() + m.objective.breach.clone();
        let c = local::Compiled::new(m, &obj, &hard);
        let placed = crate::greedy::construct(inst, history, part);
        let on = local::columns_of(m, &placed);
        f(inst, part, m, &obj, &c, on)
    })
}

/// Days re-solved at once by large-neighbourhood search.
const LNS_WINDOW_DAYS: usize = 7;

fn objectives(m: &Model<'_, '_>, inst: &Instance<'_>, lexicographic: bool) -> Vec<Lin> {
    let o = &m.objective;
    if lexicographic {
        vec![
            o.under.clone() + o.breach.clone(),
            o.changes.clone(),
            o.soft.clone(),
        ]
    } else {
        let mut all = o.soft.clone() + o.changes.clone() * inst.net.weights.stability;
        all.add_mul(UNDER_COST, o.under.clone());
        all.add_mul(crate::rules::HARD_COST, o.breach.clone());
        vec![all]
    }
}

fn values_of(m: &Model<'_, '_>, placed: &BTreeMap<usize, Vec<usize>>) -> Vec<Vec<bool>> {
    m.x.iter()
        .enumerate()
        .map(|(s, c)| {
            c.iter()
                .map(|(p, _)| placed.get(&s).is_some_and(|v| v.contains(p)))
                .collect()
        })
        .collect()
}

fn placed_of(m: &Model<'_, '_>, values: &[Vec<bool>]) -> BTreeMap<usize, Vec<usize>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (s, (c, vals)) in m.x.iter().zip(values).enumerate() {
        for ((p, _), on) in c.iter().zip(vals) {
            if *on {
                out.entry(s).or_default().push(*p);
            }
        }
    }
    out
}

fn run(
    inst: &Instance<'_>,
    history: &History,
    opts: &SolveOptions,
    lexicographic: bool,
    report: &dyn Fn(&Progress),
) -> Result<Outcome, SolveError> {
    let started = Instant::now();
    // Repair: shifts already under way keep their people; they bind the
    // rest of the month as fixed duties.
    let frozen: std::collections::HashSet<usize> = match (history.frozen_before, &history.previous)
    {
        (Some(t), Some(_)) => (0..inst.shifts.len())
            .filter(|&s| inst.shifts[s].shift.start < t)
            .collect(),
        _ => std::collections::HashSet::new(),
    };
    let mut kept = Vec::new();
    let fixed_history;
    let history = if frozen.is_empty() {
        history
    } else {
        let mut h = history.clone();
        for a in history.previous.iter().flatten() {
            if let Some(&s) = inst.shift_index.get(&a.shift)
                && frozen.contains(&s)
            {
                kept.push(a.clone());
                h.before.push(crate::instance::PastDuty::of(
                    a.staff.clone(),
                    &inst.shifts[s],
                ));
            }
        }
        fixed_history = h;
        &fixed_history
    };
    let parts: Vec<Vec<usize>> = parts(inst)
        .into_iter()
        .map(|p| {
            p.into_iter()
                .filter(|s| !frozen.contains(s))
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect();
    let total: usize = parts.iter().map(Vec::len).sum::<usize>().max(1);
    // Time is shared by the size of each part's model (its assignment
    // columns, and a shift's own), not by shifts alone: a part of many
    // candidates per shift needs more.
    let size = |part: &[usize]| -> usize {
        part.iter()
            .map(|&s| inst.candidates[s].len() + 1)
            .sum::<usize>()
    };
    let mut size_left: usize = parts.iter().map(|p| size(p)).sum();
    let mut assignments = kept;
    let mut optimal = true;
    let mut objective = 0.0;
    let mut gap: f64 = 0.0;
    // Total objective and bound of the parts so far, and whether every
    // part has a bound.
    let mut proven = (0.0, 0.0, true);
    let mut done = 0;
    let mut unfilled = 0.0;
    let progress = |parts_done, shifts_done, objective, gap, unfilled| Progress {
        parts_done,
        parts: parts.len(),
        shifts_done,
        shifts: total,
        objective,
        gap,
        unfilled,
        seconds: started.elapsed().as_secs_f64(),
    };
    report(&progress(0, 0, 0.0, 0.0, 0.0));
    for (i, part) in parts.iter().enumerate() {
        let remaining = (opts.time_limit - started.elapsed().as_secs_f64()).max(1.0);
        let share = remaining * size(part) as f64 / size_left.max(1) as f64;
        size_left -= size(part);
        let part_started = Instant::now();
        let m = Model::build(inst, history, part, i == 0);
        let phases = objectives(&m, inst, lexicographic);
        // A construction heuristic gives both cores a complete starting
        // rota (for HiGHS a MIP start; on large parts its own heuristics
        // find none in time).
        let placed = crate::greedy::construct(inst, history, part);
        let left = (share - part_started.elapsed().as_secs_f64()).max(1.0);
        let solved = if lexicographic {
            // A repair: first both cores on the weighted objective (at most
            // half the part's time; a small part stops as soon as HiGHS
            // proves it), then the lexicographic phases from that rota.
            let weighted = objectives(&m, inst, false).remove(0);
            let placed = match hybrid(inst, part, &m, &weighted, &placed, left / 2.0, opts) {
                Ok(w) => placed_of(&m, &w.values),
                Err(_) => placed.clone(),
            };
            let start = m.start(&placed);
            let left = (share - part_started.elapsed().as_secs_f64()).max(1.0);
            solve_part(&m, &phases, &start, left, opts)
        } else {
            // Annealing and HiGHS side by side, on every part.
            hybrid(inst, part, &m, &phases[0], &placed, left, opts)
        };
        let solved = match solved {
            Ok(s) => s,
            // No rota within the time (the start was refused): keep the
            // construction, so that the month always gets a rota.
            Err(SolveError::NoSolution) => Solved {
                values: values_of(&m, &placed),
                optimal: false,
                objective: f64::NAN,
                gap: 1.0,
                bound: f64::NEG_INFINITY,
            },
            Err(e) => return Err(e),
        };
        optimal &= solved.optimal;
        if lexicographic {
            gap = gap.max(solved.gap);
        } else {
            // The parts' bounds add up to a bound of the month.
            if solved.objective.is_finite() && solved.bound.is_finite() {
                proven.0 += solved.objective;
                // A part proven up to rounding adds no gap of its own.
                proven.1 += if solved.gap <= 0.0 {
                    solved.objective
                } else {
                    solved.bound
                };
            } else {
                proven.2 = false;
            }
            gap = if proven.2 {
                hybrid::relative_gap(proven.0, proven.1)
            } else {
                1.0
            };
        }
        // The reported objective is the soft cost, as the checker counts it:
        // the model's penalty for slots short of their minimum is taken out
        // (the shortfall is reported as unfilled shifts instead).
        let short: f64 = part
            .iter()
            .map(|&s| {
                let n = solved.values[s].iter().filter(|on| **on).count();
                f64::from(inst.shifts[s].min).sub_floor(n)
            })
            .sum();
        // Hard rules set by coordinators that could not be kept (and pins
        // dropped) are reported by the checker, like unfilled places.
        let breach = if inst.net.rules.is_empty() && inst.net.pinned.is_empty() {
            0.0
        } else {
            m.least_value(&m.objective.breach, &placed_of(&m, &solved.values))
        };
        let part_objective = if lexicographic {
            solved.objective
        } else {
            solved.objective - UNDER_COST * short - crate::rules::HARD_COST * breach
        };
        if part_objective.is_finite() {
            objective += part_objective;
        }
        for (s, vals) in solved.values.iter().enumerate() {
            let mut chosen: Vec<usize> = m.x[s]
                .iter()
                .zip(vals)
                .filter(|(_, on)| **on)
                .map(|((p, _), _)| *p)
                .collect();
            chosen.sort_unstable();
            for (k, p) in chosen.into_iter().enumerate() {
                assignments.push(Assignment {
                    shift: inst.shifts[s].shift.key(),
                    staff: inst.staff[p].id.clone(),
                    role: if k == 0 { Role::Primary } else { Role::Backup },
                });
            }
        }
        done += part.len();
        unfilled += short;
        report(&progress(i + 1, done, objective, gap, unfilled));
        if opts.progress {
            eprintln!(
                "  part {}/{}: {} shifts, {} variables ({} columns, {} rows, {} nonzeros), {:.1} s, objective {:.1}{}, bound {:.1}, gap {:.2} %{}",
                i + 1,
                parts.len(),
                part.len(),
                m.x.iter().map(Vec::len).sum::<usize>(),
                m.vars.len(),
                m.rows.len(),
                m.rows.nonzeros(),
                started.elapsed().as_secs_f64(),
                part_objective,
                if short > 0.0 {
                    format!(" ({short} place(s) unfilled)")
                } else {
                    String::new()
                },
                solved.bound,
                100.0 * solved.gap,
                if solved.optimal {
                    " (within the gap)"
                } else if solved.objective.is_nan() {
                    " (no MIP solution in time: construction heuristic)"
                } else {
                    " (time limit)"
                }
            );
        }
    }
    assignments.sort_by(|a, b| a.shift.cmp(&b.shift).then(a.role.cmp(&b.role)));
    Ok(Outcome {
        assignments,
        quality: if optimal {
            Quality::Optimal
        } else {
            Quality::TimeLimit
        },
        parts: parts.len(),
        elapsed: started.elapsed(),
        objective,
        gap,
    })
}

/// The best rota for the month: coverage first (by a cost far above any
/// soft rule), then the soft rules.
pub fn generate(
    inst: &Instance<'_>,
    history: &History,
    opts: &SolveOptions,
) -> Result<Outcome, SolveError> {
    run(inst, history, opts, false, &|_| {})
}

/// [`generate`], telling `report` how far it has got: once when the month
/// is split into parts, then after each part.
pub fn generate_reporting(
    inst: &Instance<'_>,
    history: &History,
    opts: &SolveOptions,
    report: &dyn Fn(&Progress),
) -> Result<Outcome, SolveError> {
    run(inst, history, opts, false, report)
}

/// A new version after the network changed (an absence): lexicographically,
/// first coverage, then the fewest changes to `history.previous`, then the
/// other soft costs.
pub fn repair(
    inst: &Instance<'_>,
    history: &History,
    opts: &SolveOptions,
) -> Result<Outcome, SolveError> {
    run(inst, history, opts, true, &|_| {})
}
