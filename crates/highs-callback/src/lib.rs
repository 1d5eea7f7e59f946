//! HiGHS's callbacks behind a safe closure.
//!
//! The `highs` crate runs a model to the end; Touban's solver needs to talk
//! to HiGHS while it runs: stop it when the local search on the other core
//! is already within the gap of HiGHS's bound (or the bound has stopped
//! moving), read each improving solution it finds, and hand it the local
//! search's better rotas. HiGHS's C API offers exactly that
//! (`Highs_setCallback`); this crate wraps it so that the solver itself
//! stays free of `unsafe`. The handler may also set the run's time limit
//! while it runs ([`Reply::TimeLimit`]: HiGHS solves a MIP's first LP
//! without calling back, so a limit is the only way to bound it). The
//! crate also sets the bounds of many columns of a built model in one call
//! ([`set_column_bounds`]; the solver's tests hold a part's columns with
//! it to check its neighbourhoods' sub-models), and passes a whole model
//! from the caller's row-wise arrays in one call ([`pass_mip`]), without
//! building it again through the `highs` crate.
//!
//! ```no_run
//! # fn run(model: highs::Model) {
//! let solved = touban_highs_callback::solve(model, |event| match event {
//!     touban_highs_callback::Event::Progress { dual_bound, .. } if dual_bound > 100.0 => {
//!         touban_highs_callback::Reply::Interrupt
//!     }
//!     _ => touban_highs_callback::Reply::Continue,
//! });
//! # }
//! ```

use std::ffi::{c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use highs_sys::{HighsCallbackDataIn, HighsCallbackDataOut, HighsInt};

/// What HiGHS tells the handler.
#[derive(Debug)]
pub enum Event<'a> {
    /// HiGHS checks its limits (MIP, simplex or interior point): the handler
    /// may stop it. The bounds are those of the MIP (infinite outside it).
    Progress {
        running_time: f64,
        primal_bound: f64,
        dual_bound: f64,
    },
    /// The MIP found a better integer solution (every column's value, in
    /// the model's column order; the objective without any offset).
    Improving { objective: f64, solution: &'a [f64] },
    /// The MIP asks whether the caller has a solution to offer.
    WantSolution,
}

/// What the handler answers.
#[derive(Debug)]
pub enum Reply {
    Continue,
    /// Stop HiGHS; it returns with status "interrupted" and its best so far.
    Interrupt,
    /// A complete solution (every column), only meaningful for
    /// [`Event::WantSolution`]; HiGHS checks it and keeps it if feasible
    /// and better.
    Solution(Vec<f64>),
    /// Go on, with the run's time limit (seconds of HiGHS's own clock)
    /// set to this; only meaningful for [`Event::Progress`]. HiGHS's MIP
    /// reads its options by reference between its LP solves, so a limit
    /// set during the run holds from its next LP on (an LP already
    /// running keeps the limit it started with).
    TimeLimit(f64),
}

type Handler<'h> = dyn FnMut(Event<'_>) -> Reply + 'h;

struct Context<'h> {
    handler: &'h mut Handler<'h>,
    /// The Highs instance being run.
    highs: *mut c_void,
    /// A panic in the handler stops HiGHS (it may not unwind through C).
    panicked: bool,
}

// HiGHS's callback types (`HighsCallbackType`); the constants of the C
// header, as values, so that they do not depend on how bindgen names them.
const SIMPLEX_INTERRUPT: c_int = 1;
const IPM_INTERRUPT: c_int = 2;
const MIP_IMPROVING_SOLUTION: c_int = 4;
const MIP_INTERRUPT: c_int = 6;
const MIP_USER_SOLUTION: c_int = 9;

/// The callbacks turned on for every solve.
const STARTED: [c_int; 5] = [
    SIMPLEX_INTERRUPT,
    IPM_INTERRUPT,
    MIP_IMPROVING_SOLUTION,
    MIP_INTERRUPT,
    MIP_USER_SOLUTION,
];

extern "C" fn trampoline(
    kind: c_int,
    _message: *const c_char,
    out: *const HighsCallbackDataOut,
    input: *mut HighsCallbackDataIn,
    user: *mut c_void,
) {
    if user.is_null() || out.is_null() {
        return;
    }
    // SAFETY: `user` is the `Context` that `solve` registered and that
    // outlives the run (it is unregistered before `solve` returns); HiGHS
    // calls back on the thread that runs it, one call at a time.
    let ctx = unsafe { &mut *user.cast::<Context<'_>>() };
    // SAFETY: HiGHS passes a valid data-out struct for the call's duration.
    let out = unsafe { &*out };
    let event = match kind {
        SIMPLEX_INTERRUPT | IPM_INTERRUPT | MIP_INTERRUPT => Event::Progress {
            running_time: out.running_time,
            primal_bound: if kind == MIP_INTERRUPT {
                out.mip_primal_bound
            } else {
                f64::INFINITY
            },
            dual_bound: if kind == MIP_INTERRUPT {
                out.mip_dual_bound
            } else {
                f64::NEG_INFINITY
            },
        },
        MIP_IMPROVING_SOLUTION => {
            let n = usize::try_from(out.mip_solution_size).unwrap_or(0);
            if out.mip_solution.is_null() || n == 0 {
                return;
            }
            // SAFETY: HiGHS's improving-solution callback passes its
            // solution as `mip_solution_size` doubles, valid for the call.
            let solution = unsafe { std::slice::from_raw_parts(out.mip_solution, n) };
            Event::Improving {
                objective: out.objective_function_value,
                solution,
            }
        }
        MIP_USER_SOLUTION => Event::WantSolution,
        _ => return,
    };
    let reply = if ctx.panicked {
        Reply::Interrupt
    } else {
        match catch_unwind(AssertUnwindSafe(|| (ctx.handler)(event))) {
            Ok(r) => r,
            Err(_) => {
                ctx.panicked = true;
                Reply::Interrupt
            }
        }
    };
    if input.is_null() {
        return;
    }
    match reply {
        Reply::Continue => {}
        Reply::Interrupt => {
            if matches!(kind, SIMPLEX_INTERRUPT | IPM_INTERRUPT | MIP_INTERRUPT) {
                // SAFETY: HiGHS passes a valid data-in struct for the call.
                unsafe { (*input).user_interrupt = 1 };
            }
        }
        Reply::TimeLimit(seconds) => {
            if matches!(kind, SIMPLEX_INTERRUPT | IPM_INTERRUPT | MIP_INTERRUPT) {
                // SAFETY: `ctx.highs` is the Highs instance running this
                // solve, on this thread; setting an option writes only its
                // options record, which the solvers read between steps.
                unsafe {
                    highs_sys::Highs_setDoubleOptionValue(
                        ctx.highs,
                        c"time_limit".as_ptr(),
                        seconds,
                    );
                }
            }
        }
        Reply::Solution(values) => {
            if kind == MIP_USER_SOLUTION
                && let Ok(n) = HighsInt::try_from(values.len())
            {
                // SAFETY: `input` is valid for the call and `values` holds
                // `n` doubles; HiGHS copies them before returning.
                unsafe {
                    highs_sys::Highs_setCallbackSolution(input, n, values.as_ptr());
                }
            }
        }
    }
}

/// Solves `model`, calling `handler` whenever HiGHS reports progress, finds
/// a better solution or asks for one. A panic in the handler stops HiGHS
/// and is reported as an error.
pub fn solve<'h>(
    mut model: highs::Model,
    mut handler: impl FnMut(Event<'_>) -> Reply + 'h,
) -> Result<highs::SolvedModel, highs::HighsStatus> {
    let ptr = model.as_mut_ptr();
    let mut ctx = Context {
        handler: &mut handler,
        highs: ptr,
        panicked: false,
    };
    // SAFETY: `ptr` is the live Highs instance owned by `model`; the context
    // lives on this stack frame until after the solve, and the callback is
    // unregistered below before it goes.
    unsafe {
        highs_sys::Highs_setCallback(
            ptr,
            Some(trampoline),
            std::ptr::from_mut(&mut ctx).cast::<c_void>(),
        );
        for kind in STARTED {
            highs_sys::Highs_startCallback(ptr, HighsInt::from(kind));
        }
    }
    let solved = model.try_solve();
    let panicked = ctx.panicked;
    match solved {
        Ok(mut s) => {
            // SAFETY: the same Highs instance, now inside `s`; with no
            // callback registered HiGHS no longer reads the context.
            unsafe {
                highs_sys::Highs_setCallback(s.as_mut_ptr(), None, std::ptr::null_mut());
            }
            if panicked {
                Err(highs::HighsStatus::Error)
            } else {
                Ok(s)
            }
        }
        Err(e) => Err(e),
    }
}

/// A HiGHS C API call's status as a result (warnings pass).
fn checked(status: HighsInt) -> Result<(), highs::HighsStatus> {
    if status == highs_sys::STATUS_ERROR {
        Err(highs::HighsStatus::Error)
    } else {
        Ok(())
    }
}

/// Sets the bounds of columns `0..lower.len()` of `model` in one call
/// (the `highs` crate changes one column at a time, by a handle only a
/// model built through it has). Used to re-solve neighbourhoods of one
/// built model: held columns fixed, the neighbourhood's free.
///
/// # Errors
/// When the two slices differ in length, name more columns than the model
/// has, or HiGHS rejects the bounds (a lower above its upper).
pub fn set_column_bounds(
    model: &mut highs::Model,
    lower: &[f64],
    upper: &[f64],
) -> Result<(), highs::HighsStatus> {
    if lower.len() != upper.len() || lower.len() > model.num_cols() {
        return Err(highs::HighsStatus::Error);
    }
    if lower.is_empty() {
        return Ok(());
    }
    let to = HighsInt::try_from(lower.len() - 1).map_err(|_| highs::HighsStatus::Error)?;
    // SAFETY: the model's live Highs instance; both arrays hold exactly
    // `to + 1` values (checked above), and HiGHS only reads them during
    // the call.
    let status = unsafe {
        highs_sys::Highs_changeColsBoundsByRange(
            model.as_mut_ptr(),
            0,
            to,
            lower.as_ptr(),
            upper.as_ptr(),
        )
    };
    checked(status)
}

/// A mixed-integer model in the arrays HiGHS takes, its matrix row-wise:
/// row `i`'s terms are `index[start[i]..start[i + 1]]` and the same range
/// of `value` (`start` has one more entry than there are rows).
#[derive(Debug, Clone, Copy)]
pub struct Mip<'a> {
    pub cost: &'a [f64],
    pub col_lower: &'a [f64],
    pub col_upper: &'a [f64],
    /// Per column, whether it must be integral.
    pub integral: &'a [bool],
    pub row_lower: &'a [f64],
    pub row_upper: &'a [f64],
    pub start: &'a [u32],
    pub index: &'a [u32],
    pub value: &'a [f64],
}

fn ints(v: &[u32]) -> Result<Vec<HighsInt>, highs::HighsStatus> {
    v.iter()
        .map(|&i| HighsInt::try_from(i).map_err(|_| highs::HighsStatus::Error))
        .collect()
}

/// A HiGHS model (minimising) of `mip`, passed in one call from the
/// caller's arrays: no problem is built through the `highs` crate (which
/// keeps a vector per column and converts the whole matrix once more).
///
/// # Errors
/// When the arrays disagree in length or HiGHS rejects the model.
pub fn pass_mip(mip: &Mip<'_>) -> Result<highs::Model, highs::HighsStatus> {
    let (cols, rows) = (mip.cost.len(), mip.row_lower.len());
    let nz = mip.index.len();
    if mip.col_lower.len() != cols
        || mip.col_upper.len() != cols
        || mip.integral.len() != cols
        || mip.row_upper.len() != rows
        || mip.start.len() != rows + 1
        || mip.value.len() != nz
        || mip.start.last().is_some_and(|&e| e as usize != nz)
        || mip.index.iter().any(|&i| i as usize >= cols)
    {
        return Err(highs::HighsStatus::Error);
    }
    let count = |n: usize| HighsInt::try_from(n).map_err(|_| highs::HighsStatus::Error);
    let start = ints(mip.start)?;
    let index = ints(mip.index)?;
    let integrality: Vec<HighsInt> = mip
        .integral
        .iter()
        .map(|&i| {
            if i {
                highs_sys::VAR_TYPE_INTEGER
            } else {
                highs_sys::VAR_TYPE_CONTINUOUS
            }
        })
        .collect();
    let mut model = highs::Model::try_new(highs::ColProblem::new())?;
    // SAFETY: the model's live Highs instance; every array holds the
    // number of entries passed with it (checked above: columns, rows,
    // nonzeros, and start's rows + 1), every index names a column, and
    // HiGHS copies the arrays before returning.
    let status = unsafe {
        highs_sys::Highs_passMip(
            model.as_mut_ptr(),
            count(cols)?,
            count(rows)?,
            count(nz)?,
            highs_sys::MATRIX_FORMAT_ROW_WISE,
            highs_sys::OBJECTIVE_SENSE_MINIMIZE,
            0.0,
            mip.cost.as_ptr(),
            mip.col_lower.as_ptr(),
            mip.col_upper.as_ptr(),
            mip.row_lower.as_ptr(),
            mip.row_upper.as_ptr(),
            start.as_ptr(),
            index.as_ptr(),
            mip.value.as_ptr(),
            integrality.as_ptr(),
        )
    };
    checked(status).map(|()| model)
}

/// Adds the row `lower ≤ Σ value·column ≤ upper` to a built model.
///
/// # Errors
/// When the slices differ in length, a column is out of range, or HiGHS
/// rejects the row.
pub fn add_row(
    model: &mut highs::Model,
    lower: f64,
    upper: f64,
    index: &[u32],
    value: &[f64],
) -> Result<(), highs::HighsStatus> {
    if index.len() != value.len() || index.iter().any(|&i| i as usize >= model.num_cols()) {
        return Err(highs::HighsStatus::Error);
    }
    let idx = ints(index)?;
    let n = HighsInt::try_from(idx.len()).map_err(|_| highs::HighsStatus::Error)?;
    // SAFETY: the model's live Highs instance; `idx` and `value` hold `n`
    // entries each, every index names a column, and HiGHS copies them.
    let status = unsafe {
        highs_sys::Highs_addRow(
            model.as_mut_ptr(),
            lower,
            upper,
            n,
            idx.as_ptr(),
            value.as_ptr(),
        )
    };
    checked(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use highs::{ColProblem, Sense};

    /// A small knapsack: the handler sees progress and improving
    /// solutions, a solution it offers is taken, and an interrupt stops
    /// the run.
    fn knapsack() -> highs::Model {
        let mut pb = ColProblem::new();
        let cap = pb.add_row(..=50.0);
        for i in 0..30 {
            let w = f64::from(7 + (i * 13) % 17);
            let v = f64::from(5 + (i * 7) % 23);
            pb.add_integer_column(-v, 0.0..=1.0, [(cap, w)]);
        }
        let mut m = pb.optimise(Sense::Minimise);
        m.make_quiet();
        m.set_option("threads", 1);
        m
    }

    #[test]
    fn the_handler_hears_progress_and_solutions() {
        let (mut progress, mut improving) = (0, 0);
        let solved = solve(knapsack(), |e| {
            match e {
                Event::Progress { .. } => progress += 1,
                Event::Improving { solution, .. } => {
                    assert_eq!(solution.len(), 30);
                    improving += 1;
                }
                Event::WantSolution => {}
            }
            Reply::Continue
        })
        .unwrap();
        assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
        assert!(progress > 0 && improving > 0);
    }

    #[test]
    fn an_interrupt_stops_the_run() {
        let solved = solve(knapsack(), |e| match e {
            Event::Progress { .. } => Reply::Interrupt,
            _ => Reply::Continue,
        })
        .unwrap();
        assert_eq!(solved.status(), highs::HighsModelStatus::ReachedInterrupt);
    }

    #[test]
    fn an_offered_solution_is_used() {
        // The empty knapsack is feasible: offered at the first chance, it
        // is at least one incumbent HiGHS reports as improving.
        let mut offered = false;
        let mut first_seen = None;
        solve(knapsack(), |e| match e {
            Event::WantSolution if !offered => {
                offered = true;
                Reply::Solution(vec![0.0; 30])
            }
            Event::Improving { objective, .. } => {
                first_seen.get_or_insert(objective);
                Reply::Continue
            }
            _ => Reply::Continue,
        })
        .unwrap();
        assert!(offered, "HiGHS asked for a solution");
        assert!(first_seen.is_some());
    }

    /// A time limit set by the handler during the run is the run's limit
    /// from then on.
    #[test]
    fn the_handler_sets_the_time_limit() {
        let mut m = knapsack();
        m.set_option("time_limit", 1000.0);
        let solved = solve(m, |e| match e {
            Event::Progress { .. } => Reply::TimeLimit(500.0),
            _ => Reply::Continue,
        })
        .unwrap();
        assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
        let mut m: highs::Model = solved.into();
        let mut limit = 0.0;
        // SAFETY: a live Highs instance and a valid out-pointer.
        let status = unsafe {
            highs_sys::Highs_getDoubleOptionValue(
                m.as_mut_ptr(),
                c"time_limit".as_ptr(),
                &raw mut limit,
            )
        };
        assert_ne!(status, highs_sys::STATUS_ERROR);
        assert!((limit - 500.0).abs() < 1e-9, "{limit}");
    }

    /// Bounds set on the built model change its optimum, and can be set
    /// again on the same model after a solve.
    #[test]
    fn column_bounds_are_set_on_a_built_model() {
        let mut m = knapsack();
        // Every item held out: the optimum is the empty knapsack.
        set_column_bounds(&mut m, &[0.0; 30], &[0.0; 30]).unwrap();
        let solved = solve(m, |_| Reply::Continue).unwrap();
        assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
        assert!(solved.objective_value().abs() < 1e-9);
        // Item 0 forced in, the rest free again: it is in the optimum.
        let mut m: highs::Model = solved.into();
        let mut lower = [0.0; 30];
        lower[0] = 1.0;
        set_column_bounds(&mut m, &lower, &[1.0; 30]).unwrap();
        let solved = solve(m, |_| Reply::Continue).unwrap();
        assert!(solved.get_solution().columns()[0] > 0.5);
        assert!(solved.objective_value() < -5.0);
        let mut m: highs::Model = solved.into();
        assert!(set_column_bounds(&mut m, &[0.0; 31], &[1.0; 31]).is_err());
        assert!(set_column_bounds(&mut m, &[1.0], &[0.0; 2]).is_err());
    }

    /// A model passed row-wise in one call solves as built: max x + 2y
    /// with x + y ≤ 1.5 (y integral), then y ≤ 0 added as a row.
    #[test]
    fn a_model_is_passed_in_one_call_and_takes_a_row() {
        let mip = Mip {
            cost: &[-1.0, -2.0],
            col_lower: &[0.0, 0.0],
            col_upper: &[1.0, 1.0],
            integral: &[false, true],
            row_lower: &[f64::NEG_INFINITY],
            row_upper: &[1.5],
            start: &[0, 2],
            index: &[0, 1],
            value: &[1.0, 1.0],
        };
        let mut m = pass_mip(&mip).unwrap();
        m.make_quiet();
        assert_eq!((m.num_cols(), m.num_rows()), (2, 1));
        let solved = solve(m, |_| Reply::Continue).unwrap();
        assert!((solved.objective_value() + 2.5).abs() < 1e-9);
        let mut m: highs::Model = solved.into();
        add_row(&mut m, f64::NEG_INFINITY, 0.0, &[1], &[1.0]).unwrap();
        let solved = solve(m, |_| Reply::Continue).unwrap();
        assert!((solved.objective_value() + 1.0).abs() < 1e-9);
        let mut m: highs::Model = solved.into();
        assert!(add_row(&mut m, 0.0, 1.0, &[2], &[1.0]).is_err());
        let bad = Mip {
            index: &[0, 2],
            ..mip
        };
        assert!(pass_mip(&bad).is_err());
    }

    #[test]
    fn a_panic_in_the_handler_is_an_error() {
        let r = solve(knapsack(), |_| panic!("handler"));
        assert!(r.is_err());
    }
}
