//! The web app's sign-in records: one-time e-mail links and server-side
//! sessions.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Grant;

/// A sign-in link sent by e-mail. The link's secret is derived from `id`
/// under a server key, so nothing stored opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Login {
    pub id: String,
    pub email: String,
    /// The client address that asked for it (for rate limits).
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A signed-in browser. `id_hash` is the SHA-256 (hex) of the cookie value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id_hash: String,
    pub email: String,
    pub grant: Grant,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end; the idle end is `last_seen_at` plus the idle time.
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}
