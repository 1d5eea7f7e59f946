//! The rota solver: builds a month's rota as a MILP on HiGHS (its rows
//! kept in plain vectors, [`lin`]), repairs it after an absence with as few changes as possible,
//! checks any rota against every rule without the solver, and explains
//! shifts that cannot be filled.
#![forbid(unsafe_code)]

pub mod bound;
pub mod check;
mod clashes;
pub mod explain;
pub mod greedy;
pub mod history;
pub mod instance;
pub mod lin;
pub mod model;
mod model_rules;
mod model_soft;
pub mod rules;
pub mod soft;
pub mod solve;
pub mod synth;

pub use check::{CheckReport, Violation, check};
pub use explain::{Unfilled, explain};
pub use instance::{History, Instance, PastDuty, Rule, ShiftInfo};
pub use soft::SoftCost;
pub use solve::{
    Outcome, Progress, Quality, SolveError, SolveOptions, generate, generate_reporting, repair,
};
