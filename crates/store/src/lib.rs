//! The storage port. Every backend (SQLite embedded, PostgreSQL scale-out)
//! implements [`Store`]; the rest of Touban sees only this trait and
//! [`StoreError`], and the conformance suite (`touban-store-conformance`)
//! holds every adapter to the same behaviour.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;
use touban_domain::{
    Absence, CoverRequest, Month, Network, NewRota, RegionId, Request, Rota, RotaChange, RotaStatus,
};

pub mod outbox;
mod records;
pub mod swaps;
pub mod web;
pub use outbox::{Message, MessageFilter, MessageKind, MessageState, NewMessage, Settle};
pub use records::*;
pub use swaps::{NewSwap, Swap, SwapMove, SwapStatus};

/// The one error type of the port. Adapters translate driver errors at their
/// edge: "no row" becomes `NotFound`, a unique or foreign-key violation
/// becomes `Conflict`, everything else `Backend`.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("storage backend: {0}")]
    Backend(String),
    /// The change was made against a state that is no longer current (a
    /// version that is not based on the month's published version, an edit
    /// of a version that is no longer the latest). The message says what is
    /// current now, who made it so, and what to do.
    #[error("stale: {0}")]
    Stale(String),
    /// Another writer holds the database longer than the busy timeout;
    /// nothing was changed and the same request may be sent again.
    #[error("database busy: {0}")]
    Busy(String),
}

/// One migration of a database's schema: whether this database has it
/// (`touban db status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub description: String,
    /// When it was applied; `None`: still to apply.
    pub applied_at: Option<DateTime<Utc>>,
}

/// How a version is published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Publish even though the version is not based on the month's current
    /// published version (its changes are then undone); the reason is kept
    /// in the rota history.
    pub replace_reason: Option<String>,
    /// Hard-rule violations the publisher accepts on record (kept in the
    /// rota history as overrides of this version).
    pub accepted_violations: Vec<String>,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What an import changed, per kind of object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub region_created: bool,
    pub kinds: Vec<KindReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: &'static str,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl ImportReport {
    /// Whether the import changed anything at all.
    pub fn changed(&self) -> bool {
        self.region_created
            || self
                .kinds
                .iter()
                .any(|k| k.added + k.updated + k.removed > 0)
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.changed() {
            return write!(f, "nothing changed");
        }
        if self.region_created {
            writeln!(f, "new region")?;
        }
        for k in &self.kinds {
            writeln!(
                f,
                "  {:<16} {:>3} added, {:>3} updated, {:>3} removed, {:>3} unchanged",
                k.kind, k.added, k.updated, k.removed, k.unchanged
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionSummary {
    pub id: RegionId,
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

/// One version of a month's rota, without its assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotaVersionInfo {
    pub version: u32,
    pub status: RotaStatus,
    pub based_on: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub note: Option<String>,
    pub assignments: usize,
}

/// A stored absence with its id and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAbsence {
    pub id: i64,
    pub source: AbsenceSource,
    pub absence: Absence,
}

/// A stored request: from the network file (`File`) or entered by the
/// person (`Reported`), which an import keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRequest {
    pub id: i64,
    pub source: AbsenceSource,
    pub request: Request,
}

/// Absences from the network file are replaced by a re-import; those reported
/// later (CLI, API) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceSource {
    File,
    Reported,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A number that moves whenever another process on the same database is
    /// known to have changed what is served (a publish, a saved version, an
    /// absence, an import): caches above the store reload when it differs
    /// from the one they were filled at. Adapters that cannot know (SQLite:
    /// one server per file) stay at 0 and the caches rely on their refresh
    /// interval.
    fn generation(&self) -> u64 {
        0
    }

    /// Loads a validated network into the store in one transaction: new
    /// objects are added, changed ones updated, ones no longer in the file
    /// removed (absences and requests only if they came from the file).
    /// Importing the same network twice changes nothing the second time.
    async fn import_network(&self, net: &Network, actor: &str) -> Result<ImportReport>;

    async fn regions(&self) -> Result<Vec<RegionSummary>>;

    /// The network as stored, with every absence (from the file or reported).
    async fn load_network(&self, region: &RegionId) -> Result<Network>;

    /// Records an absence reported after import. Returns its id.
    async fn add_absence(&self, region: &RegionId, absence: &Absence, actor: &str) -> Result<i64>;

    async fn absences(&self, region: &RegionId) -> Result<Vec<StoredAbsence>>;

    /// Records a request a person entered (not from the file: an import
    /// keeps it). Returns its id; `NotFound` for an unknown person.
    async fn add_request(&self, region: &RegionId, request: &Request, actor: &str) -> Result<i64>;

    /// Every request of the region, from the file and entered, by id.
    async fn requests(&self, region: &RegionId) -> Result<Vec<StoredRequest>>;

    /// Withdraws one request; what was withdrawn, or `NotFound`.
    async fn withdraw_request(
        &self,
        region: &RegionId,
        id: i64,
        actor: &str,
    ) -> Result<StoredRequest>;

    /// Removes one absence (reported, or from the file: a later import of
    /// a file that still has it brings it back), recorded in the network's
    /// history with `actor`. Returns what was removed; `NotFound` when the
    /// region has no absence `id`.
    async fn remove_absence(
        &self,
        region: &RegionId,
        id: i64,
        actor: &str,
    ) -> Result<StoredAbsence>;

    /// Stores a rota as the next version of its month, as a draft.
    async fn save_rota(&self, rota: &NewRota) -> Result<Rota>;

    /// Like [`Store::save_rota`], but only if the month's latest version is
    /// still `latest` (optimistic concurrency for edits); `Conflict` if
    /// someone saved another version in between.
    async fn save_rota_after(&self, rota: &NewRota, latest: u32) -> Result<Rota>;

    /// A version of a month's rota; the latest when `version` is `None`.
    async fn rota(&self, region: &RegionId, month: Month, version: Option<u32>) -> Result<Rota>;

    /// The published version of a month, if any.
    async fn published_rota(&self, region: &RegionId, month: Month) -> Result<Option<Rota>>;

    async fn rota_versions(&self, region: &RegionId, month: Month) -> Result<Vec<RotaVersionInfo>>;

    /// The months of a region that have at least one rota version, oldest
    /// first.
    async fn rota_months(&self, region: &RegionId) -> Result<Vec<Month>>;

    /// Publishes a version; a previously published version becomes
    /// superseded. `Stale` (nothing changed) when the month has a published
    /// version that the given one is not based on (directly or through
    /// earlier versions), unless `opts.replace_reason` says why.
    async fn publish_rota_with(
        &self,
        region: &RegionId,
        month: Month,
        version: u32,
        actor: &str,
        opts: &PublishOptions,
    ) -> Result<Rota>;

    /// [`Store::publish_rota_with`] without overrides.
    async fn publish_rota(
        &self,
        region: &RegionId,
        month: Month,
        version: u32,
        actor: &str,
    ) -> Result<Rota> {
        self.publish_rota_with(region, month, version, actor, &PublishOptions::default())
            .await
    }

    /// Every recorded change to a month's rota, oldest first.
    async fn rota_history(&self, region: &RegionId, month: Month) -> Result<Vec<RotaChange>>;

    // --- credentials -----------------------------------------------------

    async fn create_credential(&self, c: &NewCredential) -> Result<Credential>;

    /// A credential by its public id, revoked or not.
    async fn credential(&self, id: &str) -> Result<Credential>;

    /// Every credential (admins) or those of one region.
    async fn credentials(&self, region: Option<&RegionId>) -> Result<Vec<Credential>>;

    /// Revokes a credential; revoking twice is not an error.
    async fn revoke_credential(&self, id: &str, actor: &str) -> Result<Credential>;

    // --- audit log (append-only) ------------------------------------------

    async fn append_audit(&self, e: &AuditEntry) -> Result<i64>;

    /// Entries with id above `after`, oldest first, at most `limit`; only one
    /// region's when `region` is given.
    async fn audit_log(
        &self,
        region: Option<&RegionId>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;

    // --- background jobs --------------------------------------------------

    async fn create_job(
        &self,
        region: &RegionId,
        kind: &str,
        month: Month,
        actor: &str,
        deadline: DateTime<Utc>,
    ) -> Result<Job>;

    async fn update_job(
        &self,
        id: i64,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()>;

    async fn job(&self, id: i64) -> Result<Job>;

    /// Marks queued and running jobs failed with `reason`: those listed in
    /// `ids`, or every one when `ids` is `None` (at start-up, when no job of
    /// an earlier run can still be going). Returns how many were marked.
    async fn interrupt_jobs(&self, ids: Option<&[i64]>, reason: &str) -> Result<usize>;

    /// How many of a region's jobs are queued or running (and not past
    /// their deadline).
    async fn active_jobs(&self, region: &RegionId) -> Result<usize>;

    // --- cover requests -----------------------------------------------------

    /// Stores a request with its ranked candidates. Broadcast requests offer
    /// to every candidate at once; one-by-one requests to the first only.
    async fn create_cover(
        &self,
        region: &RegionId,
        request: &CoverRequest,
        offers: &[NewOffer],
        escalate_at: DateTime<Utc>,
        actor: &str,
    ) -> Result<StoredCover>;

    async fn cover(&self, id: i64) -> Result<StoredCover>;

    /// A region's requests with id above `after`, oldest first.
    async fn covers(&self, region: &RegionId, after: i64, limit: u32) -> Result<Vec<StoredCover>>;

    /// The request an offer belongs to.
    async fn offer_request(&self, offer: i64) -> Result<StoredCover>;

    /// Answers an offer in one transaction: the first acceptance fills the
    /// request and marks the other offers taken; a later acceptance gets
    /// `AlreadyTaken`. An offer answered before is a `Conflict`. An
    /// acceptance of a request already escalated still fills it, and tells
    /// the coordinators at once (they were asked to arrange cover by hand).
    async fn answer_offer(&self, offer: i64, accept: bool, actor: &str) -> Result<OfferAnswer>;

    /// Marks open requests whose escalation time has passed as escalated and
    /// returns them.
    async fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<StoredCover>>;

    /// Cancels a request that is open, escalated or filled: its offers are
    /// withdrawn and everyone who was asked (or had accepted) is told, in
    /// the same transaction. `Conflict` if it was cancelled before.
    async fn cancel_cover(&self, id: i64, actor: &str) -> Result<StoredCover>;

    // --- swaps -----------------------------------------------------------------

    /// Stores a proposal and queues the colleague's e-mail (`swap_proposed`)
    /// in the same transaction. `Conflict` when the duty is already offered
    /// in an open proposal.
    async fn create_swap(&self, swap: &NewSwap, actor: &str) -> Result<Swap>;

    async fn swap(&self, id: i64) -> Result<Swap>;

    /// A region's proposals, oldest first.
    async fn swaps(&self, region: &RegionId) -> Result<Vec<Swap>>;

    /// Moves a proposal from `m.from` to `m.to`; `Conflict` when it is not in
    /// `m.from` any more (someone else moved it first). Queues the news
    /// (`swap_update`) to the proposer (unless they withdrew it themselves)
    /// and, when refused or withdrawn, to the colleague.
    async fn settle_swap(&self, id: i64, m: &SwapMove, actor: &str) -> Result<Swap>;

    // --- secrets ---------------------------------------------------------------

    /// The server secret called `name`, created from `candidate` on first
    /// use, so every instance sharing the database signs links alike.
    async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>>;

    // --- notification outbox ---------------------------------------------------
    // Publishing, creating a cover request, answering an offer and escalating
    // queue their messages themselves, in their own transaction.

    /// Queues messages (reminders, digests) in one transaction. A message
    /// whose dedupe key was queued before is skipped; one whose merge key
    /// matches a message still queued is merged into it. Returns how many
    /// new rows were written.
    async fn enqueue(&self, messages: &[NewMessage]) -> Result<usize>;

    /// Claims up to `limit` due messages for `owner` until `now + lease`:
    /// queued and retrying ones whose time has come, and sending ones whose
    /// lease ran out (their worker died). Messages with a merge key wait
    /// `hold` longer, so that changes in quick succession merge. Each claim
    /// counts as an attempt.
    async fn claim_messages(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        hold: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Records how a send ended; `Conflict` if `owner` no longer holds the
    /// lease. A failure of a message to a person also queues a notice to the
    /// region's coordinators, in the same transaction.
    async fn settle_message(&self, id: i64, owner: &str, outcome: &Settle) -> Result<()>;

    /// Puts a failed message back in the queue (a coordinator fixed the
    /// address, say).
    async fn requeue_message(&self, id: i64, now: DateTime<Utc>) -> Result<Message>;

    async fn message(&self, id: i64) -> Result<Message>;

    /// Messages by filter, oldest first.
    async fn messages(&self, filter: &MessageFilter) -> Result<Vec<Message>>;

    /// How many messages are in each state (one region's, or all).
    async fn message_counts(&self, region: Option<&RegionId>) -> Result<Vec<(MessageState, u64)>>;

    // --- web sign-in -------------------------------------------------------------

    /// Stores a sign-in link and queues its e-mail, in one transaction.
    async fn create_login(&self, login: &web::Login, message: &NewMessage) -> Result<()>;

    /// How many links were asked for since `since` for this address, and
    /// from this client address.
    async fn recent_logins(
        &self,
        email: &str,
        address: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u64, u64)>;

    async fn login(&self, id: &str) -> Result<web::Login>;

    /// Marks a link used; `Conflict` if it was used already or has expired.
    async fn use_login(&self, id: &str, now: DateTime<Utc>) -> Result<web::Login>;

    async fn create_session(&self, session: &web::Session) -> Result<()>;

    /// A session by the hash of its cookie (ended ones too).
    async fn session(&self, id_hash: &str) -> Result<web::Session>;

    /// Records that the session was used at `now`.
    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()>;

    /// Ends one session (`only`), or every session of `email`. Returns how
    /// many ended.
    async fn end_sessions(
        &self,
        email: &str,
        only: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<usize>;

    /// Records that a session passed its second factor.
    async fn verify_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()>;

    /// The second factor of an address, confirmed or not.
    async fn second_factor(&self, email: &str) -> Result<Option<web::SecondFactor>>;

    /// Sets up a new, unconfirmed second factor; refused (`Conflict`) when
    /// a confirmed one exists (it must be removed first).
    async fn begin_second_factor(
        &self,
        email: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Uses time step `step` of the address's factor: true (and recorded,
    /// confirming the factor if it was not) only when the step is newer than
    /// every step used before, so that a code works once.
    async fn use_second_factor_step(
        &self,
        email: &str,
        step: i64,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Removes the address's second factor.
    async fn remove_second_factor(&self, email: &str) -> Result<()>;

    /// Makes an address an admin of the web app; `Conflict` if it is one.
    async fn add_admin(&self, email: &str, actor: &str, now: DateTime<Utc>) -> Result<web::Admin>;

    /// Removes an admin; `NotFound` if the address is none.
    async fn remove_admin(&self, email: &str) -> Result<()>;

    /// The admins, by address.
    async fn admins(&self) -> Result<Vec<web::Admin>>;
}

/// Checks a new rota before it is saved: every assignment names a staff
/// member and a service of the region (their ids given), a shift in the
/// month, and no one twice on one shift. Shared by the adapters, so that
/// both refuse the same rotas with the same words.
pub fn check_assignments(
    rota: &NewRota,
    staff: &std::collections::BTreeSet<String>,
    services: &std::collections::BTreeSet<String>,
) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for a in &rota.assignments {
        if !staff.contains(a.staff.as_str()) {
            return Err(StoreError::Invalid(format!(
                "assignment {}: unknown staff member \"{}\"",
                a.shift, a.staff
            )));
        }
        if !services.contains(a.shift.service.as_str()) {
            return Err(StoreError::Invalid(format!(
                "assignment {}: unknown service \"{}\"",
                a.shift, a.shift.service
            )));
        }
        if !rota.month.contains(a.shift.date) {
            return Err(StoreError::Invalid(format!(
                "assignment {}: date is outside {}",
                a.shift, rota.month
            )));
        }
        if !seen.insert((&a.shift, &a.staff)) {
            return Err(StoreError::Invalid(format!(
                "assignment {}: \"{}\" is assigned twice",
                a.shift, a.staff
            )));
        }
    }
    Ok(())
}
