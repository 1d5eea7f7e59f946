//! Credentials, audit log, jobs, cover requests and server secrets (PostgreSQL).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use touban_domain::{CoverRequest, Month, OfferMode, RegionId, StaffId};
use touban_store::outbox::cover_message;
use touban_store::{
    AuditEntry, AuditRecord, CoverStatus, Credential, Grant, Job, JobStatus, MessageKind,
    NewCredential, NewOffer, Offer, OfferAnswer, OfferStatus, Result, StoreError, StoredCover,
};

use crate::{db_err, from_json, now, opt_time, parse_time, to_json, ts};

fn region_of(s: &str) -> Result<RegionId> {
    RegionId::parse(s).map_err(|e| StoreError::Backend(e.message))
}

fn staff_of(s: &str) -> Result<StaffId> {
    StaffId::parse(s).map_err(|e| StoreError::Backend(e.message))
}

fn credential_row(r: &PgRow) -> Result<Credential> {
    Ok(Credential {
        id: r.get("id"),
        secret_hash: r.get("secret_hash"),
        grant: from_json::<Grant>(r.get("grant_data"))?,
        label: r.get("label"),
        created_at: parse_time(r.get("created_at"))?,
        created_by: r.get("created_by"),
        revoked_at: opt_time(r, "revoked_at")?,
    })
}

pub async fn create_credential(pool: &PgPool, c: &NewCredential) -> Result<Credential> {
    sqlx::query(
        "INSERT INTO credentials (id, secret_hash, role, region_id, grant_data, label, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.secret_hash)
    .bind(c.grant.role())
    .bind(c.grant.region().map(RegionId::as_str))
    .bind(to_json(&c.grant)?)
    .bind(&c.label)
    .bind(now())
    .bind(&c.created_by)
    .execute(pool)
    .await
    .map_err(db_err)?;
    credential(pool, &c.id).await
}

pub async fn credential(pool: &PgPool, id: &str) -> Result<Credential> {
    let r = sqlx::query("SELECT * FROM credentials WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("credential \"{id}\"")))?;
    credential_row(&r)
}

pub async fn credentials(pool: &PgPool, region: Option<&RegionId>) -> Result<Vec<Credential>> {
    let rows = match region {
        Some(r) => {
            sqlx::query("SELECT * FROM credentials WHERE region_id = $1 ORDER BY created_at, id")
                .bind(r.as_str())
                .fetch_all(pool)
                .await
        }
        None => {
            sqlx::query("SELECT * FROM credentials ORDER BY created_at, id")
                .fetch_all(pool)
                .await
        }
    }
    .map_err(db_err)?;
    rows.iter().map(credential_row).collect()
}

pub async fn revoke_credential(pool: &PgPool, id: &str, _actor: &str) -> Result<Credential> {
    sqlx::query("UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    credential(pool, id).await
}

pub async fn append_audit(pool: &PgPool, e: &AuditEntry) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO audit_log (at, actor, address, region_id, method, path, status, action, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(now())
    .bind(&e.actor)
    .bind(&e.address)
    .bind(e.region.as_ref().map(RegionId::as_str))
    .bind(&e.method)
    .bind(&e.path)
    .bind(i64::from(e.status))
    .bind(&e.action)
    .bind(&e.detail)
    .fetch_one(pool)
    .await
    .map_err(db_err)?
    .get("id");
    Ok(id)
}

pub async fn audit_log(
    pool: &PgPool,
    region: Option<&RegionId>,
    after: i64,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM audit_log WHERE id > $1 AND ($2 IS NULL OR region_id = $3) ORDER BY id LIMIT $4",
    )
    .bind(after)
    .bind(region.map(RegionId::as_str))
    .bind(region.map(RegionId::as_str))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.get("id"),
                at: parse_time(r.get("at"))?,
                entry: AuditEntry {
                    actor: r.get("actor"),
                    address: r.get("address"),
                    region: r
                        .get::<Option<&str>, _>("region_id")
                        .map(region_of)
                        .transpose()?,
                    method: r.get("method"),
                    path: r.get("path"),
                    status: u16::try_from(r.get::<i64, _>("status")).unwrap_or(0),
                    action: r.get("action"),
                    detail: r.get("detail"),
                },
            })
        })
        .collect()
}

pub async fn create_job(
    pool: &PgPool,
    region: &RegionId,
    kind: &str,
    month: Month,
    actor: &str,
    deadline: DateTime<Utc>,
) -> Result<Job> {
    let id = sqlx::query(
        "INSERT INTO jobs (region_id, kind, month, status, created_at, created_by, deadline)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6) RETURNING id",
    )
    .bind(region.as_str())
    .bind(kind)
    .bind(month.to_string())
    .bind(now())
    .bind(actor)
    .bind(ts(deadline))
    .fetch_one(pool)
    .await
    .map_err(db_err)?
    .get("id");
    job(pool, id).await
}

pub async fn update_job(
    pool: &PgPool,
    id: i64,
    status: JobStatus,
    result: Option<&serde_json::Value>,
    error: Option<&str>,
) -> Result<()> {
    let finished = matches!(status, JobStatus::Succeeded | JobStatus::Failed).then(now);
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, result = COALESCE($2, result), error = COALESCE($3, error),
                finished_at = COALESCE($4, finished_at) WHERE id = $5 AND status IN ('queued', 'running')",
    )
    .bind(status.as_str())
    .bind(result)
    .bind(error)
    .bind(finished)
    .bind(id)
    .execute(pool)
    .await
    .map_err(db_err)?;
    // A job that has ended (marked interrupted, say) keeps its outcome.
    if done.rows_affected() == 0 {
        job(pool, id).await?;
    }
    Ok(())
}

pub async fn interrupt_jobs(pool: &PgPool, ids: Option<&[i64]>, reason: &str) -> Result<usize> {
    let mut tx = crate::begin(pool).await?;
    let mut n = 0;
    let sql = "UPDATE jobs SET status = 'failed', error = $1, finished_at = $2
               WHERE status IN ('queued', 'running')";
    match ids {
        // At start-up: other instances may be running jobs on this
        // database, so only the jobs past their deadline are known to be
        // orphaned (their instance stopped); the rest belong to someone.
        None => {
            n += sqlx::query(&format!("{sql} AND deadline <= $2"))
                .bind(reason)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        Some(ids) => {
            for id in ids {
                n += sqlx::query(&format!("{sql} AND id = $3"))
                    .bind(reason)
                    .bind(now())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
            }
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub async fn active_jobs(pool: &PgPool, region: &RegionId) -> Result<usize> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM jobs WHERE region_id = $1 AND status IN ('queued', 'running') AND deadline > $2",
    )
    .bind(region.as_str())
    .bind(ts(Utc::now()))
    .fetch_one(pool)
    .await
    .map_err(db_err)?
    .get("n");
    Ok(usize::try_from(n).unwrap_or(0))
}

pub async fn job(pool: &PgPool, id: i64) -> Result<Job> {
    let r = sqlx::query("SELECT * FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
    let deadline = parse_time(r.get("deadline"))?;
    let mut status = JobStatus::parse(r.get("status"))
        .ok_or_else(|| StoreError::Backend("stored job status is invalid".into()))?;
    let mut error: Option<String> = r.get("error");
    if matches!(status, JobStatus::Queued | JobStatus::Running) && Utc::now() > deadline {
        status = JobStatus::Failed;
        error = Some(
            "interrupted: the server running this job stopped before it finished; start it again"
                .into(),
        );
    }
    Ok(Job {
        id,
        region: region_of(r.get("region_id"))?,
        kind: r.get("kind"),
        month: Month::parse(r.get("month")).map_err(|e| StoreError::Backend(e.message))?,
        status,
        created_at: parse_time(r.get("created_at"))?,
        created_by: r.get("created_by"),
        deadline,
        finished_at: opt_time(&r, "finished_at")?,
        result: r
            .get::<Option<serde_json::Value>, _>("result")
            .map(from_json)
            .transpose()?,
        error,
    })
}

async fn offers(conn: &mut sqlx::PgConnection, request: i64) -> Result<Vec<Offer>> {
    let rows = sqlx::query("SELECT * FROM cover_offers WHERE request_id = $1 ORDER BY rank, id")
        .bind(request)
        .fetch_all(conn)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(Offer {
                id: r.get("id"),
                request,
                staff: staff_of(r.get("staff_id"))?,
                rank: u32::try_from(r.get::<i64, _>("rank")).unwrap_or(0),
                reason: r.get("reason"),
                status: OfferStatus::parse(r.get("status"))
                    .ok_or_else(|| StoreError::Backend("stored offer status is invalid".into()))?,
                offered_at: opt_time(r, "offered_at")?,
                answered_at: opt_time(r, "answered_at")?,
            })
        })
        .collect()
}

async fn cover_in(conn: &mut sqlx::PgConnection, id: i64) -> Result<StoredCover> {
    let r = sqlx::query("SELECT * FROM cover_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("cover request {id}")))?;
    Ok(StoredCover {
        id,
        region: region_of(r.get("region_id"))?,
        request: from_json(r.get("data"))?,
        status: CoverStatus::parse(r.get("status"))
            .ok_or_else(|| StoreError::Backend("stored cover status is invalid".into()))?,
        filled_by: r
            .get::<Option<&str>, _>("filled_by")
            .map(staff_of)
            .transpose()?,
        created_at: parse_time(r.get("created_at"))?,
        created_by: r.get("created_by"),
        escalate_at: parse_time(r.get("escalate_at"))?,
        offers: offers(conn, id).await?,
    })
}

pub async fn create_cover(
    pool: &PgPool,
    region: &RegionId,
    request: &CoverRequest,
    offers_in: &[NewOffer],
    escalate_at: DateTime<Utc>,
    actor: &str,
) -> Result<StoredCover> {
    let mut tx = crate::begin(pool).await?;
    let known = sqlx::query("SELECT 1 FROM institutions WHERE region_id = $1 AND id = $2")
        .bind(region.as_str())
        .bind(request.institution.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!(
            "institution \"{}\" in region \"{region}\"",
            request.institution
        )));
    }
    let at = now();
    let id = sqlx::query(
        "INSERT INTO cover_requests (region_id, institution_id, data, status, created_at, created_by, escalate_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(region.as_str())
    .bind(request.institution.as_str())
    .bind(to_json(request)?)
    // Nobody to ask: escalated at once (and only once).
    .bind(if offers_in.is_empty() { "escalated" } else { "open" })
    .bind(at)
    .bind(actor)
    .bind(ts(escalate_at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?
    .get("id");
    let mut msgs = Vec::new();
    for (i, o) in offers_in.iter().enumerate() {
        let offered = request.mode == OfferMode::Broadcast || i == 0;
        let offer_id = sqlx::query(
            "INSERT INTO cover_offers (request_id, staff_id, rank, reason, status, offered_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(o.staff.as_str())
        .bind(i64::from(o.rank))
        .bind(&o.reason)
        .bind(if offered { "offered" } else { "waiting" })
        .bind(offered.then_some(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?
        .get::<i64, _>("id");
        if offered {
            msgs.push(cover_message(
                region,
                MessageKind::Offer,
                Some(o.staff.clone()),
                id,
                Some(offer_id),
                Utc::now(),
            ));
        }
    }
    if offers_in.is_empty() {
        // Nobody can be asked: the coordinators must find someone, and the
        // institution hears that they do.
        for kind in [MessageKind::Escalation, MessageKind::CoverUnfilled] {
            msgs.push(cover_message(region, kind, None, id, None, Utc::now()));
        }
    }
    crate::outbox::insert(&mut tx, &msgs).await?;
    let c = cover_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(c)
}

pub async fn cover(pool: &PgPool, id: i64) -> Result<StoredCover> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    cover_in(&mut conn, id).await
}

pub async fn covers(
    pool: &PgPool,
    region: &RegionId,
    after: i64,
    limit: u32,
) -> Result<Vec<StoredCover>> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM cover_requests WHERE region_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(region.as_str())
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| r.get("id"))
    .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(cover_in(&mut conn, id).await?);
    }
    Ok(out)
}

pub async fn offer_request(pool: &PgPool, offer: i64) -> Result<StoredCover> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let r = sqlx::query("SELECT request_id FROM cover_offers WHERE id = $1")
        .bind(offer)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("offer {offer}")))?;
    cover_in(&mut conn, r.get("request_id")).await
}

pub async fn answer_offer(
    pool: &PgPool,
    offer: i64,
    accept: bool,
    _actor: &str,
) -> Result<OfferAnswer> {
    let mut tx = crate::begin(pool).await?;
    // Take the write lock first, so two answers are serialised rather than
    // one failing on a stale snapshot.
    let touched = sqlx::query(
        "UPDATE cover_requests SET status = status WHERE id = (SELECT request_id FROM cover_offers WHERE id = $1)",
    )
    .bind(offer)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if touched.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("offer {offer}")));
    }
    let row = sqlx::query(
        "SELECT o.status AS offer_status, o.request_id, r.status AS request_status, r.data, r.region_id
         FROM cover_offers o JOIN cover_requests r ON r.id = o.request_id WHERE o.id = $1",
    )
    .bind(offer)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let request_id: i64 = row.get("request_id");
    let offer_status = OfferStatus::parse(row.get("offer_status"))
        .ok_or_else(|| StoreError::Backend("stored offer status is invalid".into()))?;
    let request_status = CoverStatus::parse(row.get("request_status"))
        .ok_or_else(|| StoreError::Backend("stored cover status is invalid".into()))?;
    let request: CoverRequest = from_json(row.get("data"))?;
    let region_id: String = row.get("region_id");
    let at = now();
    match offer_status {
        OfferStatus::Offered => {}
        OfferStatus::Taken => return Ok(OfferAnswer::AlreadyTaken),
        other => {
            return Err(StoreError::Conflict(format!(
                "offer {offer} is {}, it cannot be answered",
                other.as_str()
            )));
        }
    }
    let set = |status: &'static str| {
        sqlx::query("UPDATE cover_offers SET status = $1, answered_at = $2 WHERE id = $3")
            .bind(status)
            .bind(at)
            .bind(offer)
    };
    if accept {
        if request_status == CoverStatus::Filled || request_status == CoverStatus::Cancelled {
            set("taken").execute(&mut *tx).await.map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(OfferAnswer::AlreadyTaken);
        }
        set("accepted").execute(&mut *tx).await.map_err(db_err)?;
        let staff: String = sqlx::query("SELECT staff_id FROM cover_offers WHERE id = $1")
            .bind(offer)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?
            .get("staff_id");
        sqlx::query("UPDATE cover_requests SET status = 'filled', filled_by = $1 WHERE id = $2")
            .bind(&staff)
            .bind(request_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let taken = sqlx::query(
            "UPDATE cover_offers SET status = CASE status WHEN 'offered' THEN 'taken' ELSE 'withdrawn' END
             WHERE request_id = $1 AND status IN ('offered', 'waiting') RETURNING id, staff_id, status",
        )
        .bind(request_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let region = region_of(&region_id)?;
        let taken = taken
            .iter()
            .filter(|r| r.get::<&str, _>("status") == "taken")
            .map(|r| Ok((r.get("id"), staff_of(r.get("staff_id"))?)))
            .collect::<Result<Vec<_>>>()?;
        let msgs = touban_store::outbox::acceptance_messages(
            &region,
            request_id,
            offer,
            staff_of(&staff)?,
            request_status == CoverStatus::Escalated,
            &taken,
        );
        crate::outbox::insert(&mut tx, &msgs).await?;
        tx.commit().await.map_err(db_err)?;
        return Ok(OfferAnswer::Accepted);
    }
    set("declined").execute(&mut *tx).await.map_err(db_err)?;
    let mut next = None;
    let waiting = if request.mode == OfferMode::OneByOne && request_status != CoverStatus::Filled {
        sqlx::query(
            "SELECT id, staff_id FROM cover_offers WHERE request_id = $1 AND status = 'waiting' ORDER BY rank, id LIMIT 1",
        )
        .bind(request_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
    } else {
        None
    };
    if let Some(r) = waiting {
        sqlx::query("UPDATE cover_offers SET status = 'offered', offered_at = $1 WHERE id = $2")
            .bind(at)
            .bind(r.get::<i64, _>("id"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let staff = staff_of(r.get("staff_id"))?;
        let msg = cover_message(
            &region_of(&region_id)?,
            MessageKind::Offer,
            Some(staff.clone()),
            request_id,
            Some(r.get("id")),
            Utc::now(),
        );
        crate::outbox::insert(&mut tx, &[msg]).await?;
        next = Some(staff);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(OfferAnswer::Declined { next })
}

pub async fn escalate_due(pool: &PgPool, at: DateTime<Utc>) -> Result<Vec<StoredCover>> {
    let mut tx = crate::begin(pool).await?;
    let ids: Vec<i64> = sqlx::query(
        "UPDATE cover_requests SET status = 'escalated' WHERE status = 'open' AND escalate_at <= $1 RETURNING id",
    )
    .bind(ts(at))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?
    .iter()
    .map(|r| r.get("id"))
    .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let c = cover_in(&mut tx, id).await?;
        let msgs = [MessageKind::Escalation, MessageKind::CoverUnfilled]
            .map(|kind| cover_message(&c.region, kind, None, id, None, at));
        crate::outbox::insert(&mut tx, &msgs).await?;
        out.push(c);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

pub async fn cancel_cover(pool: &PgPool, id: i64, _actor: &str) -> Result<StoredCover> {
    let mut tx = crate::begin(pool).await?;
    let c = cover_in(&mut tx, id).await?;
    if c.status == CoverStatus::Cancelled {
        return Err(StoreError::Conflict(format!(
            "cover request {id} was cancelled already"
        )));
    }
    sqlx::query("UPDATE cover_requests SET status = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // Everyone who was asked or had accepted is told; those still waiting
    // their turn were never asked.
    let told = sqlx::query(
        "UPDATE cover_offers SET status = 'withdrawn', answered_at = COALESCE(answered_at, $1)
         WHERE request_id = $2 AND status IN ('offered', 'waiting', 'accepted')
         RETURNING id, staff_id, offered_at",
    )
    .bind(now())
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let mut msgs = Vec::new();
    for r in told
        .iter()
        .filter(|r| r.get::<Option<DateTime<Utc>>, _>("offered_at").is_some())
    {
        msgs.push(cover_message(
            &c.region,
            MessageKind::CoverCancelled,
            Some(staff_of(r.get("staff_id"))?),
            id,
            Some(r.get("id")),
            Utc::now(),
        ));
    }
    crate::outbox::insert(&mut tx, &msgs).await?;
    let c = cover_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(c)
}

pub async fn server_secret(pool: &PgPool, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
    sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(candidate)
        .bind(now())
        .execute(pool)
        .await
        .map_err(db_err)?;
    let r = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    Ok(r.get("value"))
}
