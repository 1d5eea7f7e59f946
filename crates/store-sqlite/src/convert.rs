//! The adapter's edge: sqlx errors as the store's errors, JSON columns,
//! and times stored as RFC 3339 text.

use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use touban_store::{Result, StoreError};

/// Translates sqlx errors at the adapter's edge.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound("no such row".into()),
        sqlx::Error::PoolTimedOut => StoreError::Busy(
            "every database connection stayed in use; nothing was changed, try again shortly"
                .into(),
        ),
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes:
        // another writer held the database past the busy timeout.
        sqlx::Error::Database(d)
            if d.code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|c| c & 0xff == 5 || c & 0xff == 6) =>
        {
            StoreError::Busy(format!(
                "another program is writing to the database ({}); nothing was changed, try again shortly",
                d.message()
            ))
        }
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation => {
                StoreError::Conflict(d.message().to_string())
            }
            ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                StoreError::Invalid(d.message().to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("stored data could not be decoded: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(json_err)
}

pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Backend(format!("stored time \"{s}\" is invalid: {e}")))
}
