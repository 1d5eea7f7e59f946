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
mod entered;
mod import;
mod outbox;
mod records;
mod rota;
mod swaps;
pub mod testdb;
mod web;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres, Row, Transaction};
use touban_domain::{
    Absence, AttendingPair, CoverRequest, CoverageService, Institution, Month, Municipality,
    Network, NewRota, Policy, Region, RegionId, Request, Rota, RotaChange, SoftWeights,
    StaffMember, TravelModel,
};
use touban_store::{
    AuditEntry, AuditRecord, Credential, ImportReport, Job, JobStatus, Message, MessageFilter,
    MessageState, NewCredential, NewMessage, NewOffer, NewSwap, OfferAnswer, RegionSummary, Result,
    RotaVersionInfo, Settle, Store, StoreError, StoredAbsence, StoredCover, StoredRequest, Swap,
    SwapMove,
};

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

/// Now, to the microsecond (what `timestamptz` keeps), so that a value
/// written and read back compares equal.
pub(crate) fn now() -> DateTime<Utc> {
    ts(Utc::now())
}

/// A time as `timestamptz` keeps it (microseconds).
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{SubsecRound, Timelike};
    let micros = t.nanosecond() / 1000 * 1000;
    t.with_nanosecond(micros)
        .unwrap_or_else(|| t.trunc_subsecs(6))
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

#[async_trait]
impl Store for PgStore {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    async fn import_network(&self, net: &Network, actor: &str) -> Result<ImportReport> {
        import::import(&self.pool, net, actor).await
    }

    async fn regions(&self) -> Result<Vec<RegionSummary>> {
        let rows =
            sqlx::query("SELECT id, name, updated_at FROM regions ORDER BY id COLLATE \"C\"")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RegionSummary {
                    id: RegionId::parse(r.get("id")).map_err(|e| StoreError::Backend(e.message))?,
                    name: r.get("name"),
                    updated_at: parse_time(r.get("updated_at"))?,
                })
            })
            .collect()
    }

    async fn load_network(&self, region: &RegionId) -> Result<Network> {
        let row = sqlx::query("SELECT data, settings FROM regions WHERE id = $1")
            .bind(region.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("region \"{region}\"")))?;
        let region_v: Region = from_json(row.get("data"))?;
        let settings: Settings = from_json(row.get("settings"))?;
        let municipalities: Vec<Municipality> = self.ordered("municipalities", region).await?;
        let institutions: Vec<Institution> = self.ordered("institutions", region).await?;
        let staff: Vec<StaffMember> = self.ordered("staff", region).await?;
        let services: Vec<CoverageService> = self.ordered("services", region).await?;
        let attending_pairs: Vec<AttendingPair> = self.ordered("attending_pairs", region).await?;
        let absences = self
            .absences(region)
            .await?
            .into_iter()
            .map(|a| a.absence)
            .collect();
        let rows = sqlx::query("SELECT data FROM requests WHERE region_id = $1 ORDER BY id")
            .bind(region.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let requests: Vec<Request> = rows
            .iter()
            .map(|r| from_json(r.get(0)))
            .collect::<Result<_>>()?;
        Ok(Network {
            region: region_v,
            municipalities,
            institutions,
            staff,
            services,
            attending_pairs,
            absences,
            requests,
            weights: settings.weights,
            policy: settings.policy,
            travel: settings.travel,
        })
    }

    async fn add_absence(&self, region: &RegionId, absence: &Absence, actor: &str) -> Result<i64> {
        entered::add_absence(&self.pool, region, absence, actor).await
    }

    async fn absences(&self, region: &RegionId) -> Result<Vec<StoredAbsence>> {
        entered::absences(&self.pool, region).await
    }

    async fn add_request(&self, region: &RegionId, request: &Request, actor: &str) -> Result<i64> {
        entered::add_request(&self.pool, region, request, actor).await
    }

    async fn requests(&self, region: &RegionId) -> Result<Vec<StoredRequest>> {
        entered::requests(&self.pool, region).await
    }

    async fn withdraw_request(
        &self,
        region: &RegionId,
        id: i64,
        actor: &str,
    ) -> Result<StoredRequest> {
        entered::withdraw_request(&self.pool, region, id, actor).await
    }

    async fn remove_absence(
        &self,
        region: &RegionId,
        id: i64,
        actor: &str,
    ) -> Result<StoredAbsence> {
        entered::remove_absence(&self.pool, region, id, actor).await
    }
    async fn save_rota(&self, rota: &NewRota) -> Result<Rota> {
        rota::save(&self.pool, rota, None).await
    }

    async fn save_rota_after(&self, rota: &NewRota, latest: u32) -> Result<Rota> {
        rota::save(&self.pool, rota, Some(latest)).await
    }

    async fn rota(&self, region: &RegionId, month: Month, version: Option<u32>) -> Result<Rota> {
        rota::load(&self.pool, region, month, version).await
    }

    async fn published_rota(&self, region: &RegionId, month: Month) -> Result<Option<Rota>> {
        rota::published(&self.pool, region, month).await
    }

    async fn rota_versions(&self, region: &RegionId, month: Month) -> Result<Vec<RotaVersionInfo>> {
        rota::versions(&self.pool, region, month).await
    }

    async fn rota_months(&self, region: &RegionId) -> Result<Vec<Month>> {
        let rows = sqlx::query(
            "SELECT DISTINCT month FROM rota_versions WHERE region_id = $1 ORDER BY month",
        )
        .bind(region.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Month::parse(r.get::<&str, _>("month")).map_err(|e| StoreError::Backend(e.message))
            })
            .collect()
    }

    async fn publish_rota_with(
        &self,
        region: &RegionId,
        month: Month,
        version: u32,
        actor: &str,
        opts: &touban_store::PublishOptions,
    ) -> Result<Rota> {
        rota::publish(&self.pool, region, month, version, actor, opts).await
    }

    async fn rota_history(&self, region: &RegionId, month: Month) -> Result<Vec<RotaChange>> {
        rota::history(&self.pool, region, month).await
    }

    async fn create_credential(&self, c: &NewCredential) -> Result<Credential> {
        records::create_credential(&self.pool, c).await
    }

    async fn credential(&self, id: &str) -> Result<Credential> {
        records::credential(&self.pool, id).await
    }

    async fn credentials(&self, region: Option<&RegionId>) -> Result<Vec<Credential>> {
        records::credentials(&self.pool, region).await
    }

    async fn revoke_credential(&self, id: &str, actor: &str) -> Result<Credential> {
        records::revoke_credential(&self.pool, id, actor).await
    }

    async fn append_audit(&self, e: &AuditEntry) -> Result<i64> {
        records::append_audit(&self.pool, e).await
    }

    async fn audit_log(
        &self,
        region: Option<&RegionId>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        records::audit_log(&self.pool, region, after, limit).await
    }

    async fn create_job(
        &self,
        region: &RegionId,
        kind: &str,
        month: Month,
        actor: &str,
        deadline: DateTime<Utc>,
    ) -> Result<Job> {
        records::create_job(&self.pool, region, kind, month, actor, deadline).await
    }

    async fn update_job(
        &self,
        id: i64,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        records::update_job(&self.pool, id, status, result, error).await
    }

    async fn job(&self, id: i64) -> Result<Job> {
        records::job(&self.pool, id).await
    }

    async fn interrupt_jobs(&self, ids: Option<&[i64]>, reason: &str) -> Result<usize> {
        records::interrupt_jobs(&self.pool, ids, reason).await
    }

    async fn active_jobs(&self, region: &RegionId) -> Result<usize> {
        records::active_jobs(&self.pool, region).await
    }

    async fn create_cover(
        &self,
        region: &RegionId,
        request: &CoverRequest,
        offers: &[NewOffer],
        escalate_at: DateTime<Utc>,
        actor: &str,
    ) -> Result<StoredCover> {
        records::create_cover(&self.pool, region, request, offers, escalate_at, actor).await
    }

    async fn cover(&self, id: i64) -> Result<StoredCover> {
        records::cover(&self.pool, id).await
    }

    async fn covers(&self, region: &RegionId, after: i64, limit: u32) -> Result<Vec<StoredCover>> {
        records::covers(&self.pool, region, after, limit).await
    }

    async fn offer_request(&self, offer: i64) -> Result<StoredCover> {
        records::offer_request(&self.pool, offer).await
    }

    async fn answer_offer(&self, offer: i64, accept: bool, actor: &str) -> Result<OfferAnswer> {
        records::answer_offer(&self.pool, offer, accept, actor).await
    }

    async fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<StoredCover>> {
        records::escalate_due(&self.pool, now).await
    }

    async fn cancel_cover(&self, id: i64, actor: &str) -> Result<StoredCover> {
        records::cancel_cover(&self.pool, id, actor).await
    }

    async fn create_swap(&self, swap: &NewSwap, actor: &str) -> Result<Swap> {
        swaps::create(&self.pool, swap, actor).await
    }

    async fn swap(&self, id: i64) -> Result<Swap> {
        swaps::get(&self.pool, id).await
    }

    async fn swaps(&self, region: &RegionId) -> Result<Vec<Swap>> {
        swaps::list(&self.pool, region).await
    }

    async fn settle_swap(&self, id: i64, m: &SwapMove, actor: &str) -> Result<Swap> {
        swaps::settle(&self.pool, id, m, actor).await
    }

    async fn create_login(
        &self,
        login: &touban_store::web::Login,
        message: &NewMessage,
    ) -> Result<()> {
        web::create_login(&self.pool, login, message).await
    }

    async fn recent_logins(
        &self,
        email: &str,
        address: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        web::recent_logins(&self.pool, email, address, since).await
    }

    async fn login(&self, id: &str) -> Result<touban_store::web::Login> {
        web::login(&self.pool, id).await
    }

    async fn use_login(&self, id: &str, now: DateTime<Utc>) -> Result<touban_store::web::Login> {
        web::use_login(&self.pool, id, now).await
    }

    async fn create_session(&self, session: &touban_store::web::Session) -> Result<()> {
        web::create_session(&self.pool, session).await
    }

    async fn session(&self, id_hash: &str) -> Result<touban_store::web::Session> {
        web::session(&self.pool, id_hash).await
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
        web::touch_session(&self.pool, id_hash, now).await
    }

    async fn end_sessions(
        &self,
        email: &str,
        only: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        web::end_sessions(&self.pool, email, only, now).await
    }

    async fn verify_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
        web::verify_session(&self.pool, id_hash, now).await
    }

    async fn second_factor(&self, email: &str) -> Result<Option<touban_store::web::SecondFactor>> {
        web::second_factor(&self.pool, email).await
    }

    async fn begin_second_factor(
        &self,
        email: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        web::begin_second_factor(&self.pool, email, secret, now).await
    }

    async fn use_second_factor_step(
        &self,
        email: &str,
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        web::use_second_factor_step(&self.pool, email, step, now).await
    }

    async fn remove_second_factor(&self, email: &str) -> Result<()> {
        web::remove_second_factor(&self.pool, email).await
    }

    async fn add_admin(
        &self,
        email: &str,
        actor: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<touban_store::web::Admin> {
        web::add_admin(&self.pool, email, actor, now).await
    }

    async fn remove_admin(&self, email: &str) -> Result<()> {
        web::remove_admin(&self.pool, email).await
    }

    async fn admins(&self) -> Result<Vec<touban_store::web::Admin>> {
        web::admins(&self.pool).await
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
        records::server_secret(&self.pool, name, candidate).await
    }

    async fn enqueue(&self, messages: &[NewMessage]) -> Result<usize> {
        outbox::enqueue(&self.pool, messages).await
    }

    async fn claim_messages(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        hold: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Message>> {
        outbox::claim(&self.pool, owner, now, lease, hold, limit).await
    }

    async fn settle_message(&self, id: i64, owner: &str, outcome: &Settle) -> Result<()> {
        outbox::settle(&self.pool, id, owner, outcome).await
    }

    async fn requeue_message(&self, id: i64, now: DateTime<Utc>) -> Result<Message> {
        outbox::requeue(&self.pool, id, now).await
    }

    async fn message(&self, id: i64) -> Result<Message> {
        outbox::message(&self.pool, id).await
    }

    async fn messages(&self, filter: &MessageFilter) -> Result<Vec<Message>> {
        outbox::messages(&self.pool, filter).await
    }

    async fn message_counts(&self, region: Option<&RegionId>) -> Result<Vec<(MessageState, u64)>> {
        outbox::counts(&self.pool, region).await
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
