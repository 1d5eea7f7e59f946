//! The PostgreSQL adapter (issue 17), **in progress**: the schema
//! (`migrations/postgres/`, embedded, run at start-up, never edited once
//! released), connecting, the translation of driver errors at the edge, and
//! the migration status. The [`touban_store::Store`] port itself is not
//! implemented yet, so nothing runs on PostgreSQL: the binary still takes
//! SQLite only.
//!
//! Types are PostgreSQL's own (identity keys, `timestamptz`, `date`,
//! `jsonb`, `bytea`), not SQLite's text; the audit log is append-only by a
//! trigger that refuses UPDATE, DELETE and TRUNCATE.
#![forbid(unsafe_code)]

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};
use touban_store::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// SQLSTATE of a serialization failure and of a detected deadlock: the
/// transaction did nothing and may be run again.
const RETRYABLE: [&str; 2] = ["40001", "40P01"];

/// Translates sqlx errors at the adapter's edge: a unique or foreign-key
/// violation is a `Conflict`, a check or not-null violation `Invalid`, a
/// serialization failure or deadlock `Busy` (nothing changed; try again), a
/// refused change of the audit log `Invalid` with the database's words, a
/// connection that cannot be made or was lost a `Backend` error that says
/// so.
pub fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound("no such row".into()),
        sqlx::Error::PoolTimedOut => StoreError::Busy(
            "every database connection stayed in use; nothing was changed, try again shortly"
                .into(),
        ),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => StoreError::Backend(
            format!("the PostgreSQL server cannot be reached ({e}); nothing was changed"),
        ),
        sqlx::Error::Database(d) if d.code().is_some_and(|c| RETRYABLE.contains(&c.as_ref())) => {
            StoreError::Busy(format!(
                "another transaction changed the same rows ({}); nothing was changed, try again",
                d.message()
            ))
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("P0001") => {
            StoreError::Invalid(d.message().to_string())
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

pub use touban_store::MigrationState;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Invalid(format!("database URL \"{}\": {e}", redacted(url))))?
        .application_name("touban")
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1)))
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An error while first connecting: a pool that times out here means the
/// server could not be reached at all.
fn connect_err(url: &str, e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut => StoreError::Backend(format!(
            "the PostgreSQL server at {} cannot be reached (no connection within 10 s)",
            redacted(url)
        )),
        e => db_err(e),
    }
}

impl PgStore {
    /// Connects (a pool of at most `max_connections`) and brings the schema
    /// up to date. Several instances may start at once: sqlx takes an
    /// advisory lock while it migrates.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options(url)?)
            .await
            .map_err(|e| connect_err(url, e))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating {}: {e}", redacted(url))))?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Every migration Touban has, and whether the database at `url` has
    /// it, without changing anything.
    pub async fn status(url: &str) -> Result<Vec<MigrationState>> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options(url)?)
            .await
            .map_err(|e| connect_err(url, e))?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&pool)
            .await
            .map_err(db_err)?;
        let applied: Vec<(i64, DateTime<Utc>)> = if exists {
            sqlx::query("SELECT version, installed_on FROM _sqlx_migrations WHERE success")
                .fetch_all(&pool)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| (r.get("version"), r.get("installed_on")))
                .collect()
        } else {
            Vec::new()
        };
        pool.close().await;
        Ok(MIGRATOR
            .iter()
            .map(|m| MigrationState {
                version: m.version,
                description: m.description.to_string(),
                applied_at: applied
                    .iter()
                    .find(|(v, _)| *v == m.version)
                    .map(|(_, t)| *t),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            super::redacted("postgres://touban:secret@db.example.jp/touban"),
            "postgres://touban:***@db.example.jp/touban"
        );
        assert_eq!(
            super::redacted("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
