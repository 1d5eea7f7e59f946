//! The `Store` port on PostgreSQL: each method hands its work to the module
//! that owns the tables (the same split as the SQLite adapter).

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use touban_domain::{
    Absence, AttendingPair, CoverRequest, CoverageService, Institution, Month, Municipality,
    Network, NewRota, Region, RegionId, Request, Rota, RotaChange, StaffMember,
};
use touban_store::{
    AuditEntry, AuditRecord, Credential, ImportReport, Job, JobStatus, Message, MessageFilter,
    MessageState, NewCredential, NewMessage, NewOffer, NewSwap, OfferAnswer, RegionSummary, Result,
    RotaVersionInfo, Settle, Store, StoreError, StoredAbsence, StoredCover, StoredRequest, Swap,
    SwapMove,
};

use crate::{
    PgStore, Settings, cover, db_err, entered, from_json, import, outbox, parse_time, records,
    rota, swaps, web,
};

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
            rules: settings.rules,
            pinned: settings.pinned,
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
        cover::create_cover(&self.pool, region, request, offers, escalate_at, actor).await
    }

    async fn cover(&self, id: i64) -> Result<StoredCover> {
        cover::cover(&self.pool, id).await
    }

    async fn covers(&self, region: &RegionId, after: i64, limit: u32) -> Result<Vec<StoredCover>> {
        cover::covers(&self.pool, region, after, limit).await
    }

    async fn offer_request(&self, offer: i64) -> Result<StoredCover> {
        cover::offer_request(&self.pool, offer).await
    }

    async fn answer_offer(&self, offer: i64, accept: bool, actor: &str) -> Result<OfferAnswer> {
        cover::answer_offer(&self.pool, offer, accept, actor).await
    }

    async fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<StoredCover>> {
        cover::escalate_due(&self.pool, now).await
    }

    async fn cancel_cover(&self, id: i64, actor: &str) -> Result<StoredCover> {
        cover::cancel_cover(&self.pool, id, actor).await
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
