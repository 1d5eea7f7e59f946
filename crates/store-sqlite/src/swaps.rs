//! Swaps and give-aways (`touban_store::Swap`): each change of state is a
//! conditional update, so two people acting at once cannot both win; the
//! e-mail it calls for is queued in the same transaction.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use touban_domain::{Month, RegionId, ShiftKey, StaffId};
use touban_store::{MessageKind, NewSwap, Result, StoreError, Swap, SwapMove, SwapStatus};

use crate::records::opt_time;
use crate::{db_err, from_json, now, parse_time, to_json};

fn id_err(e: touban_domain::ParseError) -> StoreError {
    StoreError::Backend(e.message)
}

fn row(r: &SqliteRow) -> Result<Swap> {
    let take: Option<&str> = r.get("take");
    Ok(Swap {
        id: r.get("id"),
        region: RegionId::parse(r.get("region_id")).map_err(id_err)?,
        month: Month::parse(r.get("month")).map_err(id_err)?,
        from_staff: StaffId::parse(r.get("from_staff")).map_err(id_err)?,
        give: from_json::<ShiftKey>(r.get("give"))?,
        to_staff: StaffId::parse(r.get("to_staff")).map_err(id_err)?,
        take: take.map(from_json::<ShiftKey>).transpose()?,
        base_version: r.get::<i64, _>("base_version") as u32,
        note: r.get("note"),
        status: SwapStatus::parse(r.get("status"))
            .ok_or_else(|| StoreError::Backend("unknown swap status".into()))?,
        reason: r.get("reason"),
        result_version: r.get::<Option<i64>, _>("result_version").map(|v| v as u32),
        created_at: parse_time(r.get("created_at"))?,
        created_by: r.get("created_by"),
        answered_at: opt_time(r, "answered_at")?,
        decided_at: opt_time(r, "decided_at")?,
        decided_by: r.get("decided_by"),
    })
}

pub async fn create(pool: &SqlitePool, s: &NewSwap, actor: &str) -> Result<Swap> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let id = sqlx::query(
        "INSERT INTO swaps (region_id, month, from_staff, give, to_staff, take, base_version,
                            note, status, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?)",
    )
    .bind(s.region.as_str())
    .bind(s.month.to_string())
    .bind(s.from_staff.as_str())
    .bind(to_json(&s.give)?)
    .bind(s.to_staff.as_str())
    .bind(s.take.as_ref().map(to_json).transpose()?)
    .bind(i64::from(s.base_version))
    .bind(s.note.as_deref())
    .bind(now())
    .bind(actor)
    .execute(&mut *tx)
    .await
    .map_err(|e| match db_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "{} already offers the duty {} in another open proposal",
            s.from_staff, s.give
        )),
        e => e,
    })?
    .last_insert_rowid();
    crate::outbox::insert(
        &mut tx,
        &[touban_store::swaps::swap_message(
            &s.region,
            MessageKind::SwapProposed,
            &s.to_staff,
            id,
        )],
    )
    .await?;
    let r = sqlx::query("SELECT * FROM swaps WHERE id = ?")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    row(&r)
}

pub async fn get(pool: &SqlitePool, id: i64) -> Result<Swap> {
    let r = sqlx::query("SELECT * FROM swaps WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("swap {id}")))?;
    row(&r)
}

pub async fn list(pool: &SqlitePool, region: &RegionId) -> Result<Vec<Swap>> {
    sqlx::query("SELECT * FROM swaps WHERE region_id = ? ORDER BY id")
        .bind(region.as_str())
        .fetch_all(pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(row)
        .collect()
}

/// Moves a proposal from one state to the next, or `Conflict` when it is
/// no longer in the state expected. Tells the proposer by e-mail when the
/// colleague answers and when a proposal is refused or withdrawn by someone
/// else.
pub async fn settle(pool: &SqlitePool, id: i64, m: &SwapMove, actor: &str) -> Result<Swap> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let at = now();
    let (answered, decided) = match m.to {
        SwapStatus::Accepted | SwapStatus::Declined => (Some(at.clone()), None),
        SwapStatus::Approved | SwapStatus::Refused | SwapStatus::Withdrawn => {
            (None, Some(at.clone()))
        }
        SwapStatus::Proposed => (None, None),
    };
    let done = sqlx::query(
        "UPDATE swaps SET status = ?, reason = COALESCE(?, reason),
                result_version = COALESCE(?, result_version),
                answered_at = COALESCE(?, answered_at),
                decided_at = COALESCE(?, decided_at),
                decided_by = CASE WHEN ? IS NULL THEN decided_by ELSE ? END
         WHERE id = ? AND status = ?",
    )
    .bind(m.to.as_str())
    .bind(m.reason.as_deref())
    .bind(m.result_version.map(i64::from))
    .bind(answered.as_deref())
    .bind(decided.as_deref())
    .bind(decided.as_deref())
    .bind(actor)
    .bind(id)
    .bind(m.from.as_str())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    let r = sqlx::query("SELECT * FROM swaps WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("swap {id}")))?;
    let s = row(&r)?;
    if done == 0 {
        return Err(StoreError::Conflict(format!(
            "swap {id} is {} now, not {}",
            s.status.as_str(),
            m.from.as_str()
        )));
    }
    let msgs = touban_store::swaps::settle_messages(&s, m);
    crate::outbox::insert(&mut tx, &msgs).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(s)
}
