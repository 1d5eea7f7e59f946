//! The scale-out storage adapter: PostgreSQL through sqlx, for several
//! `touban serve` instances and e-mail workers on one database.
//!
//! Types are PostgreSQL's own (identity keys, `timestamptz`, `date`,
//! `jsonb`, `bytea`), not SQLite's text; the audit log is append-only by a
//! trigger that refuses UPDATE, DELETE and TRUNCATE. Migrations live in
//! `migrations/postgres/`, are embedded, run at start-up (sqlx holds an
//! advisory lock while it migrates, so instances may start together) and
//! are never edited once released.
//!
//! **Concurrency.** Every transaction that writes network, rota, cover,
//! swap or login rows first takes one transaction-scoped advisory lock
//! ([`WRITE_LOCK`]): writers queue as they do on SQLite (one writer at a
//! time), so every read-then-write rule the SQLite adapter keeps — the next
//! version number, "saved after version N", one published version, one
//! acceptance — holds across instances without retry loops, and readers
//! never wait. The outbox is the exception, being the hot path of several
//! workers: claims take rows with `FOR UPDATE SKIP LOCKED` and a lease, and
//! settling is a conditional update on the lease's owner.
//!
//! **Seeing other instances' changes.** A transaction that changes what the
//! on-call lookup serves (publish, save, absences, import) sends
//! `NOTIFY touban_changes`; each store listens and counts the
//! notifications ([`Store::generation`]), so caches above it reload within
//! a round trip of the other instance's commit.
#![forbid(unsafe_code)]

pub mod copy;
mod cover;
mod entered;
mod import;
mod outbox;
mod port;
mod records;
mod rota;
mod swaps;
pub mod testdb;
mod web;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres, Row, Transaction};
use touban_domain::{Policy, RegionId, SoftWeights, TravelModel};
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

/// The key of the advisory lock every writing transaction takes first
/// (see the crate's documentation); an arbitrary constant ("touban" in
/// ASCII).
pub const WRITE_LOCK: i64 = 0x746f_7562_616e;

/// The channel on which committed changes are announced.
const CHANNEL: &str = "touban_changes";

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    generation: Arc<AtomicU64>,
    listener: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // The last handle stops the listener.
        if Arc::strong_count(&self.listener) == 1 {
            self.listener.abort();
        }
    }
}

/// Begins a writing transaction: waits for the write lock (released at
/// commit or rollback).
pub(crate) async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(tx)
}

/// Announces, at commit, that what `region` serves has changed.
pub(crate) async fn announce(conn: &mut sqlx::PgConnection, region: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(region)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("stored data could not be decoded: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(json_err)
}

/// A JSON value written with its object keys sorted, so that two equal
/// values give the same text whatever order their keys came in (JSONB keeps
/// its own order). Identifies rows by content (import) and goes into the
/// copy's checksums.
pub(crate) fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Now, to the microsecond (what `timestamptz` keeps), so that a value
/// written and read back compares equal.
pub(crate) fn now() -> DateTime<Utc> {
    ts(Utc::now())
}

/// A time as `timestamptz` keeps it (microseconds).
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// Identity for stored times (kept so the port reads like the SQLite one).
pub(crate) fn parse_time(t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    Ok(t)
}

pub(crate) fn opt_time(r: &sqlx::postgres::PgRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(r.get::<Option<DateTime<Utc>>, _>(col))
}

/// A non-negative stored integer as u32 (versions, ranks, attempts).
pub(crate) fn u32_of(r: &sqlx::postgres::PgRow, col: &str) -> Result<u32> {
    let v: i64 = r.get(col);
    u32::try_from(v).map_err(|_| StoreError::Backend(format!("stored {col} {v} is out of range")))
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Settings {
    pub weights: SoftWeights,
    pub policy: Policy,
    pub travel: TravelModel,
    #[serde(default)]
    pub rules: Vec<touban_domain::StaffRule>,
    #[serde(default)]
    pub pinned: Vec<touban_domain::Pin>,
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
        let generation = Arc::new(AtomicU64::new(0));
        let listener = Arc::new(tokio::spawn(listen(pool.clone(), generation.clone())));
        Ok(Self {
            pool,
            generation,
            listener,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn ordered<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        region: &RegionId,
    ) -> Result<Vec<T>> {
        let sql = format!("SELECT data FROM {table} WHERE region_id = $1 ORDER BY ord");
        let rows = sqlx::query(&sql)
            .bind(region.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| from_json(r.get(0))).collect()
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

/// Counts the changes other instances (and this one) announce. A lost
/// connection is re-made; while it is down every read counts as a change
/// (the generation moves on each retry), so caches fall back to reading the
/// database rather than serving stale data.
async fn listen(pool: PgPool, generation: Arc<AtomicU64>) {
    loop {
        // The store was closed: nothing to listen for.
        if pool.is_closed() {
            return;
        }
        match PgListener::connect_with(&pool).await {
            Ok(mut l) => {
                if let Err(e) = l.listen(CHANNEL).await {
                    tracing::warn!("cannot listen for changes of other instances: {e}");
                } else {
                    // Changes made while not listening are not known:
                    // count one now.
                    generation.fetch_add(1, Ordering::SeqCst);
                    loop {
                        // `None`: the connection was lost (and is re-made on
                        // the next call); what was announced meanwhile is not
                        // known, so that counts as a change too.
                        match l.try_recv().await {
                            Ok(_) => {
                                generation.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(_) if pool.is_closed() => return,
                            Err(e) => {
                                tracing::warn!("change listener lost its connection: {e}");
                                break;
                            }
                        }
                    }
                }
            }
            Err(_) if pool.is_closed() => return,
            Err(e) => tracing::warn!("cannot listen for changes of other instances: {e}"),
        }
        generation.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(500)).await;
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
