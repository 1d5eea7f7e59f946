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
    /// When the session passed the second factor its sign-in needed (at
    /// creation when none was needed); until then it opens only the second
    /// factor's pages.
    pub verified_at: Option<DateTime<Utc>>,
}

/// A person's second factor (TOTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub email: String,
    /// The shared secret, base32 (RFC 4648, no padding).
    pub secret: String,
    pub created_at: DateTime<Utc>,
    /// Set by the first right code; an unconfirmed factor is not asked for.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The newest time step used: a code of this step or older is refused.
    pub last_step: i64,
}

/// An admin of the web app (created with `touban admin add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}
