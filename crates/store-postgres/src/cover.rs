//! Cover requests (PostgreSQL): a request with its ranked offers, answered, escalated
//! when nobody answers in time, cancelled; each change queues its messages
//! in the outbox in the same transaction.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use touban_domain::{CoverRequest, OfferMode, RegionId};
use touban_store::outbox::cover_message;
use touban_store::{
    CoverStatus, MessageKind, NewOffer, Offer, OfferAnswer, OfferStatus, Result, StoreError,
    StoredCover,
};

use crate::records::{region_of, staff_of};
use crate::{db_err, from_json, now, opt_time, parse_time, to_json, ts};

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
