//! A part on the machine's two cores, whatever its size: simulated
//! annealing over the part's own model ([`super::anneal`]) on one, HiGHS on
//! the other, exchanging rotas as they go.
//!
//! The HiGHS core first solves the LP relaxation for a bound, then the
//! whole part as a MIP, started from the best
//! rota so far, taking the annealer's better rotas whenever it asks for one
//! and handing each of its own to the annealer. How the time is split is
//! decided by what the run observes, not by the part's size:
//! - a MIP whose first LP would take most of the time left (judged by what
//!   the relaxation took) is not started: the core goes to neighbourhoods;
//! - when HiGHS proves its rota within the gap, or the best rota from
//!   either side is within the gap of HiGHS's bound, both stop and the
//!   time left goes to the next parts;
//! - when, for a third of its running time (and at least
//!   [`STALL_SECONDS`]), the MIP has found no rota better than the best
//!   known and its bound has closed less than [`STALL_CLOSE`] of the gap, the MIP is
//!   stopped and that core re-solves neighbourhoods of the best rota with
//!   HiGHS, windows of days and groups of people in turn
//!   (large-neighbourhood search, [`super::lns`]); when they found a better
//!   rota and a whole sweep finds nothing more, the MIP starts again from
//!   the best rota (its bound and a proof may still come); when a sweep
//!   finds nothing at all, that core anneals too, from the best rota, for
//!   the rest of the time;
//! - the annealer runs until the deadline or one of the stops above.

use std::time::{Duration, Instant};

use crate::lin::Lin;
use touban_highs_callback::{Event, Reply};

pub(crate) use super::incumbent::{Incumbent, relative_gap};

use super::anneal::{Board, Search, Stats};
use super::local::{Compiled, State, columns_of, placed_of_columns};
use super::{SolveError, SolveOptions, Solved, costs, highs_model};
use crate::instance::Instance;
use crate::model::Model;

/// PDLP's relative tolerance (primal and dual residuals, and the gap
/// between the two objectives): far finer than any gap asked of a rota
/// (0.5 % by default), far coarser than its default 10⁻⁷, which it would
/// not reach on a large part before the time is up.
const PDLP_TOLERANCE: f64 = 1e-4;

/// Time per nonzero of the part's matrix that the relaxation takes beyond
/// its time limit (the first-order method's own copy and scaling of the
/// matrix, which its limit does not count: about 4 s on 11.8 million
/// nonzeros) and the prices then take to become a bound (0.5 s there).
const OVERHEAD_SECONDS_PER_NONZERO: f64 = 4e-7;

/// The MIP is judged stalled only after this long without progress.
const STALL_SECONDS: f64 = 5.0;
/// The share of the gap a bound must close to count as progress.
const STALL_CLOSE: f64 = 0.01;

/// The assignment columns at 1 in HiGHS's solution.
pub(super) fn on_of(values: &[f64], nx: usize) -> Vec<usize> {
    (0..nx.min(values.len()))
        .filter(|&i| values[i] > 0.5)
        .collect()
}

/// Every column's value at the rota whose assignment columns at 1 are
/// `on`, each auxiliary column at its least value (a complete MIP start:
/// the search's state leaves out definitions nothing is priced on).
pub(super) fn dense(m: &Model<'_, '_>, on: &[usize]) -> Vec<f64> {
    m.start(&placed_of_columns(m, on))
}

/// What the HiGHS core did, for the progress log.
#[derive(Debug, Default)]
struct Core {
    relaxation: Option<f64>,
    mip_stalled: bool,
    mip_seconds: f64,
    /// Times the MIP was started (again after neighbourhoods found better).
    mip_runs: usize,
    /// The MIP was not started: its first LP would take most of the time.
    mip_skipped: bool,
    /// Neighbourhoods re-solved, and how many gave a better rota.
    hoods: usize,
    hoods_better: usize,
    /// The second annealer, when HiGHS stopped making progress.
    second: Option<Stats>,
}

/// The HiGHS core: relaxation, MIP, then neighbourhoods if the MIP stalls.
#[allow(clippy::too_many_arguments)]
fn highs_core(
    inst: &Instance<'_>,
    part: &[usize],
    m: &Model<'_, '_>,
    obj: &Lin,
    c: &Compiled,
    inc: &Incumbent,
    deadline: Instant,
    opts: &SolveOptions,
) -> Result<Core, SolveError> {
    let mut core = Core::default();
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    };
    let k = c.constant();

    // The LP relaxation, every assignment in [0, 1], by HiGHS's first-order
    // method (PDLP): it stops at the time limit with prices all the same,
    // and those prove a bound ([`priced_bound`]); an interior point method
    // proves nothing until it is done, which on a prefecture's largest part
    // is never within the time. `TOUBAN_RELAXATION=ipm` takes the interior
    // point method instead (for comparisons).
    let lp_started = Instant::now();
    let reserve = 0.1 + m.rows.nonzeros() as f64 * OVERHEAD_SECONDS_PER_NONZERO;
    let mut lp = highs_model(m, obj, (left() - reserve).max(0.5), opts)?;
    lp.set_option("solve_relaxation", true);
    let pdlp = std::env::var("TOUBAN_RELAXATION").map_or(true, |v| v != "ipm");
    if pdlp {
        lp.set_option("solver", "pdlp");
        // The prices must be those of the model's own rows.
        lp.set_option("presolve", "off");
        lp.set_option("pdlp_optimality_tolerance", PDLP_TOLERANCE);
    } else {
        lp.set_option("solver", "ipm");
    }
    // HiGHS counts its time from the solve: what passing the model took
    // is already gone. When the best rota is asked for (gap 0), no bound
    // short of a proof ends the run, and a proof comes from the MIP, not
    // from the relaxation: PDLP (whose prices prove a bound wherever it
    // stops) then has half the time left at most, the other half going to
    // better rotas (the MIP, neighbourhoods), which a relaxation running
    // to the deadline would leave none of. Asked for a gap, the bound is
    // what ends the run early: the relaxation has the whole time.
    let lp_time = (left() - reserve).max(0.5);
    let lp_time = if pdlp && opts.mip_gap <= 0.0 {
        (lp_time / 2.0).max(0.5)
    } else {
        lp_time
    };
    lp.set_option("time_limit", lp_time);
    let solved = touban_highs_callback::solve(lp, |_| {
        if inc.stopped() {
            Reply::Interrupt
        } else {
            Reply::Continue
        }
    })
    .map_err(|e| SolveError::Solver(format!("{e:?}")))?;
    if pdlp {
        if let Some(b) = priced_bound(m, obj, &solved) {
            inc.proved(b);
            core.relaxation = Some(b);
        }
    } else if solved.status() == highs::HighsModelStatus::Optimal {
        let b = solved.objective_value() + k;
        if b.is_finite() {
            inc.proved(b);
            core.relaxation = Some(b);
        }
    }
    // What the relaxation took: the MIP's own first LP takes about as long.
    let root = lp_started.elapsed().as_secs_f64();
    if inc.stopped() || left() < 0.5 {
        return Ok(core);
    }

    // The whole part as a MIP; when it stalls, neighbourhoods of the best
    // rota; when they find something, the MIP again from there. A MIP that
    // would spend most of the time left on its first LP is not started.
    loop {
        let stalled = if left() > 3.0 * root {
            mip(m, obj, c, inc, left(), root, opts, &mut core)?
        } else {
            core.mip_skipped = true;
            true
        };
        if !stalled || inc.stopped() || left() < 1.0 {
            break;
        }
        let done = super::lns::search(inst, part, m, obj, c, inc, deadline);
        core.hoods += done.solved;
        core.hoods_better += done.better;
        if done.better == 0 || inc.stopped() || left() < 1.0 {
            break;
        }
    }
    Ok(core)
}

/// The bound the relaxation's row prices prove, whatever state the solve
/// stopped in ([`crate::bound::lagrangian`]), with `obj`'s constant; None
/// without prices or when an auxiliary column is priced below zero (its
/// bound from [`Model::column_upper`] would not hold).
pub(super) fn priced_bound(
    m: &Model<'_, '_>,
    obj: &Lin,
    solved: &highs::SolvedModel,
) -> Option<f64> {
    let cost = costs(m, obj);
    if (0..cost.len()).any(|c| !m.vars.is_binary(c) && cost[c] < 0.0) {
        return None;
    }
    let started = Instant::now();
    let solution = solved.get_solution();
    let y = solution.dual_rows();
    if y.len() != m.rows.len() || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let upper = m.column_upper();
    // HiGHS's sign convention for prices is taken either way round: both
    // give valid bounds.
    let flipped: Vec<f64> = y.iter().map(|v| -v).collect();
    let defs: Vec<(usize, usize)> = m.defs.iter().map(|&(v, r)| (v.col(), r)).collect();
    let b = crate::bound::lagrangian_repaired(&m.rows, &cost, &upper, y, &defs).max(
        crate::bound::lagrangian_repaired(&m.rows, &cost, &upper, &flipped, &defs),
    );
    // A hair below, for rounding in the sums.
    if std::env::var_os("TOUBAN_HIGHS_LOG").is_some() {
        eprintln!(
            "bound proven by the relaxation's prices: {b:.3} (HiGHS's own objective {:.3}), {:.1} s",
            solved.objective_value(),
            started.elapsed().as_secs_f64()
        );
    }
    let b = b - 1e-9 * b.abs().max(1.0) + obj.constant;
    b.is_finite().then_some(b)
}

/// One run of the whole part as a MIP, from the best rota so far,
/// exchanging rotas with the annealer; true when it stopped because it
/// stalled: for a third of its running time (at least [`STALL_SECONDS`])
/// it found no rota better than the best known and its bound closed less
/// than [`STALL_CLOSE`] of the gap. Before its first bound it is given
/// twice `root` (what the relaxation took) on top, as its time limit
/// (HiGHS's first LP of a MIP cannot be interrupted): out of time before a
/// bound also counts as stalled.
#[allow(clippy::too_many_arguments)]
fn mip(
    m: &Model<'_, '_>,
    obj: &Lin,
    c: &Compiled,
    inc: &Incumbent,
    time: f64,
    root: f64,
    opts: &SolveOptions,
    core: &mut Core,
) -> Result<bool, SolveError> {
    let nx: usize = m.x.iter().map(Vec::len).sum();
    let k = c.constant();
    // Before its first bound the MIP has `STALL_SECONDS` and twice what
    // the relaxation took, or three times that, whichever is more (the
    // stall rule below with no progress at all). Its first LP cannot be
    // interrupted (HiGHS runs it without callbacks), so that allowance is
    // its time limit; the whole `time` once that LP is solved (its bound
    // before is only the trivial one).
    let first = time.min((STALL_SECONDS + 2.0 * root).max(3.0 * root));
    let mut mip = highs_model(m, obj, first.max(0.5), opts)?;
    mip.set_option("mip_rel_gap", f64::from(opts.mip_gap));
    let mut fed = 0;
    if let Some((_, on, v)) = inc.newer(0) {
        fed = v;
        mip.set_solution(Some(&dense(m, &on)), None, None, None);
    }
    let (mut last_dual, mut last_primal, mut last_change) =
        (f64::NEG_INFINITY, f64::INFINITY, 0.0_f64);
    let mut stalled = false;
    // The MIP's first LP is solved when its bound is above the first one
    // it reported (the least the objective's columns can be; a
    // heuristic's LP iterations leave it there). A MIP whose first report already follows its first LP is
    // given the whole time only once its bound rises again: counting it
    // as solved at once let a 1,000-staff part's first LP run 72 s past
    // a 49 s limit.
    let mut bounded = false;
    let mut trivial: Option<f64> = None;
    let started = Instant::now();
    // A rota is handed to HiGHS only when it beats HiGHS's own best, and
    // at most once a second (completing it takes a pass over the model).
    let mut fed_at: Option<Instant> = None;
    let mut highs_best = f64::INFINITY;
    let solved = touban_highs_callback::solve(mip, |e| match e {
        Event::Progress {
            running_time,
            primal_bound,
            dual_bound,
        } => {
            if dual_bound.is_finite() {
                inc.proved(dual_bound + k);
            }
            // Progress: a better rota of HiGHS's own, or a bound that
            // closes a real share of the gap to the best rota known (a
            // bound creeping up by a hair is no reason to keep waiting).
            let best = (inc.best() - k).min(primal_bound);
            let closing = if best.is_finite() && last_dual.is_finite() {
                STALL_CLOSE * (best - last_dual).max(0.0)
            } else {
                0.0
            };
            // A better rota of HiGHS's own counts when it is the best
            // known (improving on a rota the annealer has beaten is not
            // progress of the part).
            let leads = primal_bound + k <= inc.best() + 1e-9 * inc.best().abs().max(1.0);
            let moved = dual_bound > last_dual + closing.max(1e-6 * dual_bound.abs().max(1.0))
                || (leads && primal_bound < last_primal - 1e-6 * primal_bound.abs().max(1.0));
            if moved {
                (last_dual, last_primal, last_change) = (dual_bound, primal_bound, running_time);
            }
            if primal_bound.is_finite() {
                highs_best = primal_bound + k;
            }
            let quiet = running_time - last_change;
            if dual_bound.is_finite() {
                trivial.get_or_insert(dual_bound);
            }
            if inc.stopped() {
                Reply::Interrupt
            } else if !bounded && trivial.is_some_and(|t| dual_bound > t + 1e-9 * t.abs().max(1.0))
            {
                bounded = true;
                Reply::TimeLimit(time.max(0.5))
            } else if (dual_bound.is_finite() || inc.bound().is_finite())
                && quiet
                    > STALL_SECONDS.max(running_time / 3.0)
                        + if dual_bound.is_finite() {
                            0.0
                        } else {
                            2.0 * root
                        }
            {
                stalled = true;
                Reply::Interrupt
            } else {
                Reply::Continue
            }
        }
        Event::Improving { solution, .. } => {
            let on = on_of(solution, nx);
            let st = State::new(c, on.iter().copied());
            if st.excess <= 1e-6 {
                highs_best = highs_best.min(st.objective);
                // HiGHS's own rota need not be handed back to it.
                let before = inc.best();
                let v = inc.offer(st.objective, &on);
                if st.objective < before - 1e-9 {
                    fed = v;
                }
            }
            Reply::Continue
        }
        Event::WantSolution => {
            let due = fed_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            match inc.newer(fed) {
                Some((obj, on, v)) if due && obj < highs_best - 1e-9 => {
                    fed = v;
                    fed_at = Some(Instant::now());
                    Reply::Solution(dense(m, &on))
                }
                _ => Reply::Continue,
            }
        }
    })
    .map_err(|e| SolveError::Solver(format!("{e:?}")))?;
    // Out of time before its first LP was solved: stalled there.
    if !bounded && first < time && solved.status() == highs::HighsModelStatus::ReachedTimeLimit {
        stalled = true;
    }
    core.mip_seconds += started.elapsed().as_secs_f64();
    core.mip_runs += 1;
    core.mip_stalled |= stalled;
    if solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible {
        let on = on_of(solved.get_solution().columns(), nx);
        let st = State::new(c, on.iter().copied());
        if st.excess <= 1e-6 {
            inc.offer(st.objective, &on);
        }
    }
    let dual = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite());
    if let Some(b) = dual {
        inc.proved(b + k);
    }
    Ok(stalled)
}

/// Solves one part with both cores, from the construction `placed` (shift
/// → people); `share` seconds at most.
pub(super) fn hybrid(
    inst: &Instance<'_>,
    part: &[usize],
    m: &Model<'_, '_>,
    obj: &Lin,
    placed: &std::collections::BTreeMap<usize, Vec<usize>>,
    share: f64,
    opts: &SolveOptions,
) -> Result<Solved, SolveError> {
    let started = Instant::now();
    let start_on = &columns_of(m, placed)[..];
    let hard = m.objective.under.clone() + m.objective.breach.clone();
    let c = Compiled::new(m, obj, &hard);
    let board = Board::new(inst, m, part);
    let state = State::new(&c, start_on.iter().copied());
    let inc = Incumbent::new(f64::from(opts.mip_gap));
    if state.excess <= 1e-6 {
        inc.offer(state.objective, start_on);
    }
    let values = |on: &[usize]| {
        let mut x = vec![false; board.columns()];
        for &i in on {
            x[i] = true;
        }
        m.x.iter()
            .map(|cands| cands.iter().map(|(_, v)| x[v.col()]).collect())
            .collect::<Vec<Vec<bool>>>()
    };
    // Any rota will do (a first rota): the construction is one.
    if opts.mip_gap >= 1.0 {
        return Ok(Solved {
            values: values(start_on),
            optimal: true,
            objective: state.objective,
            gap: 1.0,
            bound: f64::NEG_INFINITY,
        });
    }
    let one = SolveOptions {
        threads: 1,
        progress: false,
        ..opts.clone()
    };
    let deadline = started + Duration::from_secs_f64((share - 0.3).max(0.5));
    let (stats, core) = std::thread::scope(|sc| {
        let core = sc.spawn(|| {
            let mut core = highs_core(inst, part, m, obj, &c, &inc, deadline, &one)?;
            // HiGHS has stopped making progress (the MIP stalled, then a
            // sweep of neighbourhoods found nothing better): this core anneals
            // too, from the best rota, for the time left.
            if !inc.stopped()
                && deadline
                    .saturating_duration_since(Instant::now())
                    .as_secs_f64()
                    > 1.0
                && let Some((_, on, _)) = inc.newer(0)
            {
                let mut second = Search::new(&board, State::new(&c, on), 2);
                core.second = Some(second.run(deadline, &inc));
            }
            Ok::<Core, SolveError>(core)
        });
        let mut search = Search::new(&board, state, 1);
        let stats = search.run(deadline, &inc);
        inc.halt();
        (stats, core.join())
    });
    let core = core.map_err(|_| SolveError::Solver("the HiGHS thread panicked".into()))??;
    let (objective, on) = inc
        .newer(0)
        .map_or((f64::INFINITY, Vec::new()), |(o, on, _)| (o, on));
    let bound = inc.bound();
    let gap = relative_gap(objective, bound);
    if opts.progress {
        log(&stats, &core, objective, bound, gap, started);
    }
    if !objective.is_finite() {
        return Err(SolveError::NoSolution);
    }
    Ok(Solved {
        values: values(&on),
        optimal: gap <= f64::from(opts.mip_gap) + 1e-9,
        objective,
        gap,
        bound,
    })
}

fn log(s: &Stats, core: &Core, objective: f64, bound: f64, gap: f64, started: Instant) {
    eprintln!(
        "    annealing: {} moves tried, {} made, {} improvements, {} rotas taken from HiGHS, \
         {} row moves ({} made), {} cycles; HiGHS: LP bound {}, MIP {:.1} s{}{}; best {objective:.1}, bound {bound:.1}, gap {:.2} %, {:.1} s",
        s.tried,
        s.accepted,
        s.improved,
        s.adopted,
        s.rows,
        s.rows_made,
        s.cycles + 1,
        core.relaxation
            .map_or("–".to_string(), |b| format!("{b:.1}")),
        core.mip_seconds,
        if core.mip_skipped {
            " (not started: its first LP would take most of the time)"
        } else if core.mip_stalled {
            " (stalled)"
        } else {
            ""
        },
        match (core.hoods, core.second) {
            (0, None) => String::new(),
            (w, None) => format!(
                ", {w} neighbourhoods ({} better), {} MIP runs",
                core.hoods_better, core.mip_runs
            ),
            (w, Some(s)) => format!(
                ", {w} neighbourhoods ({} better), {} MIP runs, then a second annealer ({} moves made, {} improvements)",
                core.hoods_better, core.mip_runs, s.accepted, s.improved
            ),
        },
        100.0 * gap,
        started.elapsed().as_secs_f64(),
    );
}
