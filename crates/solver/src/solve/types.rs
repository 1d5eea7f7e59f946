//! What a solve is asked for and what it answers: the solver's public
//! types.

use std::time::Duration;

use touban_domain::Assignment;

#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// Wall-clock limit for the whole month, seconds.
    pub time_limit: f64,
    /// Relative MIP gap at which HiGHS may stop.
    pub mip_gap: f32,
    pub threads: u32,
    /// Print a line per part on stderr, and HiGHS's own log (elapsed, best
    /// solution, bound, gap) for large parts.
    pub progress: bool,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            time_limit: 60.0,
            mip_gap: 0.005,
            threads: 1,
            progress: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// Proven optimal within the gap.
    Optimal,
    /// Stopped by the time limit with a feasible answer.
    TimeLimit,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub assignments: Vec<Assignment>,
    pub quality: Quality,
    /// Parts solved separately.
    pub parts: usize,
    pub elapsed: Duration,
    /// The model's objective (weighted), for comparison with the checker.
    pub objective: f64,
    /// The relative gap between the parts' total objective and the total
    /// of their proven bounds (1 while a part has none; a repair's
    /// lexicographic phases: the largest gap over the parts).
    pub gap: f64,
}

/// How far a solve has got, reported once when the month is split and then
/// after each part (for a job's live progress page).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Progress {
    /// Parts solved so far.
    pub parts_done: usize,
    /// Parts in all (independent groups of people and shifts).
    pub parts: usize,
    /// Shifts of the parts solved so far, and in all.
    pub shifts_done: usize,
    pub shifts: usize,
    /// The soft cost of the parts solved so far.
    pub objective: f64,
    /// The gap over the parts solved so far (as [`Outcome::gap`]).
    pub gap: f64,
    /// Places short of their minimum in the parts solved so far.
    pub unfilled: f64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error("the solver failed: {0}")]
    Solver(String),
    /// HiGHS found no incumbent within its time limit.
    #[error("no solution within the time limit")]
    NoSolution,
}
