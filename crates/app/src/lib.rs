//! The application layer: what Touban does, independent of how it is
//! asked. The HTTP API (`touban-api`), the web app (`touban-web`), the CLI
//! and the notifier are adapters that call these use-cases; none of them
//! depends on another for them.
//!
//! - [`ops`]: the month's context (history), generate, repair, publish (with
//!   its checks), the lineage of versions, who is on duty when;
//! - [`absences`]: an absence reported, and the repairs it causes;
//! - [`edit`]: a coordinator's manual edit, checked;
//! - [`requests`]: staff's requests for a month, open until the deadline;
//! - [`patients`]: the list of one service handed to patients;
//! - [`staff`]: retiring a person, and the network as its file holds it;
//! - [`fairness`]: each person's load against their fair share;
//! - [`cover`]: ranking people for emergency cover, and whether a person may
//!   still take it;
//! - [`jobs`]: generate jobs in the background, with their progress;
//! - [`ical`]: calendar feeds and the events of e-mailed calendar files;
//! - [`links`]: signed links (cover offers, web sign-in);
//! - [`tokens`]: credentials and random bytes.
#![forbid(unsafe_code)]

use touban_store::StoreError;

pub mod absences;
pub mod cover;
pub mod edit;
pub mod fairness;
pub mod ical;
pub mod jobs;
pub mod links;
pub mod ops;
pub mod patients;
pub mod pins;
pub mod requests;
pub mod staff;
pub mod swaps;
pub mod tokens;

/// What a use-case refuses or fails with; each adapter says it its way (an
/// HTTP problem, a CLI message, a page).
#[derive(Debug)]
pub enum AppError {
    /// Something named does not exist.
    NotFound(String),
    /// A value given is wrong: `field` names it (a JSON pointer such as
    /// `/start`), `detail` says what is wrong.
    Invalid {
        field: String,
        detail: String,
    },
    /// A failure no input can fix.
    Internal(String),
    Store(StoreError),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(w) => write!(f, "not found: {w}"),
            Self::Invalid { field, detail } => write!(f, "{field}: {detail}"),
            Self::Internal(e) => f.write_str(e),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl AppError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            detail: detail.into(),
        }
    }
}
