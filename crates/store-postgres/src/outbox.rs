//! The notification outbox on PostgreSQL. `insert` runs inside the
//! transaction of whatever change queues the message. Several workers claim
//! at once: the claim picks due rows with `FOR UPDATE SKIP LOCKED` (a row
//! another worker is claiming is passed over, never waited for or taken
//! twice) and leases them; a dead worker's rows are due again when their
//! lease ends. Settling checks the lease's owner under a row lock.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use touban_domain::{RegionId, StaffId};
use touban_store::outbox::{delivery_failed_message, merge_payload};
use touban_store::{
    Message, MessageFilter, MessageKind, MessageState, NewMessage, Result, Settle, StoreError,
};

use crate::{db_err, from_json, opt_time, parse_time, to_json, ts, u32_of};

fn row(r: &PgRow) -> Result<Message> {
    let bad = |what: &str| StoreError::Backend(format!("stored outbox {what} is invalid"));
    Ok(Message {
        id: r.get("id"),
        region: RegionId::parse(r.get::<&str, _>("region_id")).map_err(|_| bad("region"))?,
        kind: MessageKind::parse(r.get("kind")).ok_or_else(|| bad("kind"))?,
        staff: r
            .get::<Option<&str>, _>("staff_id")
            .map(StaffId::parse)
            .transpose()
            .map_err(|_| bad("staff id"))?,
        payload: from_json(r.get("payload"))?,
        state: MessageState::parse(r.get("state")).ok_or_else(|| bad("state"))?,
        attempts: u32_of(r, "attempts")?,
        created_at: parse_time(r.get("created_at"))?,
        updated_at: parse_time(r.get("updated_at"))?,
        due_at: parse_time(r.get("due_at"))?,
        merge_key: r.get("merge_key"),
        lease_owner: r.get("lease_owner"),
        lease_until: opt_time(r, "lease_until")?,
        last_error: r.get("last_error"),
        sent_at: opt_time(r, "sent_at")?,
        sent_to: r.get("sent_to"),
    })
}

/// Queues messages inside the caller's transaction; returns how many rows
/// were written (merged and deduplicated ones are not counted).
pub(crate) async fn insert(conn: &mut PgConnection, msgs: &[NewMessage]) -> Result<usize> {
    let now = ts(Utc::now());
    let mut written = 0;
    for m in msgs {
        if let Some(key) = &m.merge_key {
            let queued = sqlx::query(
                "SELECT id, payload FROM outbox WHERE merge_key = $1 AND state = 'queued' ORDER BY id LIMIT 1
                 FOR UPDATE",
            )
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
            if let Some(q) = queued {
                let old: serde_json::Value = from_json(q.get("payload"))?;
                let merged = merge_payload(m.kind, &old, &m.payload);
                sqlx::query("UPDATE outbox SET payload = $1, updated_at = $2 WHERE id = $3")
                    .bind(to_json(&merged)?)
                    .bind(now)
                    .bind(q.get::<i64, _>("id"))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                continue;
            }
        }
        let done = sqlx::query(
            "INSERT INTO outbox (region_id, kind, staff_id, payload, created_at, updated_at, due_at,
                                 dedupe_key, merge_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(m.region.as_str())
        .bind(m.kind.as_str())
        .bind(m.staff.as_ref().map(|s| s.as_str()))
        .bind(to_json(&m.payload)?)
        .bind(now)
        .bind(now)
        .bind(ts(m.due_at))
        .bind(&m.dedupe_key)
        .bind(&m.merge_key)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        written += usize::try_from(done.rows_affected()).unwrap_or(0);
    }
    Ok(written)
}

pub async fn enqueue(pool: &PgPool, msgs: &[NewMessage]) -> Result<usize> {
    // The write lock: two changes queueing messages with one merge key
    // merge into one row rather than each inserting its own.
    let mut tx = crate::begin(pool).await?;
    let n = insert(&mut tx, msgs).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(n)
}

pub async fn claim(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    hold: chrono::Duration,
    limit: u32,
) -> Result<Vec<Message>> {
    let rows = sqlx::query(
        "UPDATE outbox SET state = 'sending', lease_owner = $1, lease_until = $2,
                attempts = attempts + 1, updated_at = $3
         WHERE id IN (
             SELECT id FROM outbox
             WHERE (state IN ('queued', 'retrying')
                    AND due_at <= CASE WHEN merge_key IS NULL OR state = 'retrying' THEN $3 ELSE $4 END)
                OR (state = 'sending' AND lease_until <= $3)
             ORDER BY due_at, id LIMIT $5
             FOR UPDATE SKIP LOCKED)
         RETURNING *",
    )
    .bind(owner)
    .bind(ts(now + lease))
    .bind(ts(now))
    .bind(ts(now - hold))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let mut out = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|m| m.id);
    Ok(out)
}

pub async fn settle(pool: &PgPool, id: i64, owner: &str, outcome: &Settle) -> Result<()> {
    let now = Utc::now();
    // No write lock: the row lock below is enough (the claim skips it).
    let mut tx = pool.begin().await.map_err(db_err)?;
    let held = sqlx::query(
        "SELECT region_id, kind, lease_owner, state FROM outbox WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
    if held.get::<&str, _>("state") != "sending"
        || held.get::<Option<&str>, _>("lease_owner") != Some(owner)
    {
        return Err(StoreError::Conflict(format!(
            "message {id} is no longer leased to {owner}"
        )));
    }
    let q = match outcome {
        Settle::Sent { to } => sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, sent_to = $2, updated_at = $1,
                    lease_owner = NULL, lease_until = NULL WHERE id = $3",
        )
        .bind(ts(now))
        .bind(to),
        Settle::Retry { at, error } => sqlx::query(
            "UPDATE outbox SET state = 'retrying', due_at = $1, last_error = $2, updated_at = $3,
                    lease_owner = NULL, lease_until = NULL WHERE id = $4",
        )
        .bind(ts(*at))
        .bind(error)
        .bind(ts(now)),
        Settle::Failed { error } | Settle::Cancelled { reason: error } => sqlx::query(
            "UPDATE outbox SET state = $1, last_error = $2, updated_at = $3,
                    lease_owner = NULL, lease_until = NULL WHERE id = $4",
        )
        .bind(if matches!(outcome, Settle::Failed { .. }) {
            "failed"
        } else {
            "cancelled"
        })
        .bind(error)
        .bind(ts(now)),
    };
    q.bind(id).execute(&mut *tx).await.map_err(db_err)?;
    let kind = MessageKind::parse(held.get("kind"));
    if matches!(outcome, Settle::Failed { .. }) && kind.is_some_and(|k| !k.to_coordinators()) {
        let region = RegionId::parse(held.get::<&str, _>("region_id"))
            .map_err(|e| StoreError::Backend(e.message))?;
        insert(&mut tx, &[delivery_failed_message(&region, now)]).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

pub async fn requeue(pool: &PgPool, id: i64, now: DateTime<Utc>) -> Result<Message> {
    let r = sqlx::query(
        "UPDATE outbox SET state = 'queued', due_at = $1, updated_at = $1, attempts = 0
         WHERE id = $2 AND state IN ('failed', 'cancelled') RETURNING *",
    )
    .bind(ts(now))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    match r {
        Some(r) => row(&r),
        None => {
            let m = message(pool, id).await?;
            Err(StoreError::Conflict(format!(
                "message {id} is {}; only failed or cancelled messages can be queued again",
                m.state.as_str()
            )))
        }
    }
}

pub async fn message(pool: &PgPool, id: i64) -> Result<Message> {
    let r = sqlx::query("SELECT * FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
    row(&r)
}

pub async fn messages(pool: &PgPool, f: &MessageFilter) -> Result<Vec<Message>> {
    let rows = sqlx::query(
        "SELECT * FROM outbox
         WHERE id > $1 AND ($2 IS NULL OR region_id = $2) AND ($3 IS NULL OR state = $3)
               AND ($4 IS NULL OR staff_id = $4)
         ORDER BY id LIMIT $5",
    )
    .bind(f.after)
    .bind(f.region.as_ref().map(|r| r.as_str()))
    .bind(f.state.map(MessageState::as_str))
    .bind(f.staff.as_ref().map(|s| s.as_str()))
    .bind(i64::from(f.limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(row).collect()
}

pub async fn counts(pool: &PgPool, region: Option<&RegionId>) -> Result<Vec<(MessageState, u64)>> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM outbox WHERE ($1 IS NULL OR region_id = $1)
         GROUP BY state ORDER BY state",
    )
    .bind(region.map(|r| r.as_str()))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let mut out: Vec<(MessageState, u64)> = rows
        .iter()
        .filter_map(|r| {
            Some((
                MessageState::parse(r.get("state"))?,
                u64::try_from(r.get::<i64, _>("n")).ok()?,
            ))
        })
        .collect();
    out.sort();
    Ok(out)
}
