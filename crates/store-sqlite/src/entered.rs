//! What is entered after an import and kept through the next one:
//! reported absences and staff's requests (the file's own rows are
//! synchronised by `import`), and removing either.

use sqlx::{Row, SqlitePool};
use touban_domain::{Absence, RegionId, Request};
use touban_store::{AbsenceSource, Result, StoreError, StoredAbsence, StoredRequest};

use crate::{db_err, from_json, now, to_json};

/// `NotFound` unless the region has this person.
async fn known_staff(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    region: &RegionId,
    staff: &touban_domain::StaffId,
) -> Result<()> {
    let known = sqlx::query("SELECT 1 FROM staff WHERE region_id = ? AND id = ?")
        .bind(region.as_str())
        .bind(staff.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!(
            "staff member \"{staff}\" in region \"{region}\""
        )));
    }
    Ok(())
}

fn request_row(r: &sqlx::sqlite::SqliteRow) -> Result<StoredRequest> {
    Ok(StoredRequest {
        id: r.get("id"),
        source: if r.get::<&str, _>("source") == "file" {
            AbsenceSource::File
        } else {
            AbsenceSource::Reported
        },
        request: from_json(r.get("data"))?,
    })
}

pub async fn add_absence(
    pool: &SqlitePool,
    region: &RegionId,
    absence: &Absence,
    actor: &str,
) -> Result<i64> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    known_staff(&mut tx, region, &absence.staff).await?;
    let at = now();
    let id = sqlx::query(
        "INSERT INTO absences (region_id, staff_id, start_ts, end_ts, source, data, created_at, created_by)
         VALUES (?, ?, ?, ?, 'reported', ?, ?, ?)",
    )
    .bind(region.as_str())
    .bind(absence.staff.as_str())
    .bind(absence.start.timestamp())
    .bind(absence.end.timestamp())
    .bind(to_json(absence)?)
    .bind(&at)
    .bind(actor)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .last_insert_rowid();
    sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES (?, ?, ?, 'absence', ?)")
        .bind(region.as_str())
        .bind(&at)
        .bind(actor)
        .bind(format!("{} absent {} – {} ({})", absence.staff, absence.start, absence.end, absence.kind.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(id)
}

pub async fn absences(pool: &SqlitePool, region: &RegionId) -> Result<Vec<StoredAbsence>> {
    let rows = sqlx::query("SELECT id, source, data FROM absences WHERE region_id = ? ORDER BY id")
        .bind(region.as_str())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(StoredAbsence {
                id: r.get("id"),
                source: if r.get::<&str, _>("source") == "file" {
                    AbsenceSource::File
                } else {
                    AbsenceSource::Reported
                },
                absence: from_json(r.get("data"))?,
            })
        })
        .collect()
}

pub async fn add_request(
    pool: &SqlitePool,
    region: &RegionId,
    request: &Request,
    actor: &str,
) -> Result<i64> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    known_staff(&mut tx, region, &request.staff).await?;
    let id = sqlx::query(
        "INSERT INTO requests (region_id, staff_id, date, data, source, created_by)
         VALUES (?, ?, ?, ?, 'reported', ?)",
    )
    .bind(region.as_str())
    .bind(request.staff.as_str())
    .bind(request.date.to_string())
    .bind(to_json(request)?)
    .bind(actor)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .last_insert_rowid();
    sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES (?, ?, ?, 'request', ?)")
        .bind(region.as_str())
        .bind(now())
        .bind(actor)
        .bind(format!("{} {:?} {}", request.staff, request.kind, request.date))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(id)
}

pub async fn requests(pool: &SqlitePool, region: &RegionId) -> Result<Vec<StoredRequest>> {
    let rows = sqlx::query("SELECT id, source, data FROM requests WHERE region_id = ? ORDER BY id")
        .bind(region.as_str())
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter().map(request_row).collect()
}

pub async fn withdraw_request(
    pool: &SqlitePool,
    region: &RegionId,
    id: i64,
    actor: &str,
) -> Result<StoredRequest> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let row = sqlx::query("SELECT id, source, data FROM requests WHERE region_id = ? AND id = ?")
        .bind(region.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("request {id} in region \"{region}\"")))?;
    let gone = request_row(&row)?;
    sqlx::query("DELETE FROM requests WHERE region_id = ? AND id = ?")
        .bind(region.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES (?, ?, ?, 'request withdrawn', ?)")
        .bind(region.as_str())
        .bind(now())
        .bind(actor)
        .bind(format!("{} {:?} {}", gone.request.staff, gone.request.kind, gone.request.date))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(gone)
}

pub async fn remove_absence(
    pool: &SqlitePool,
    region: &RegionId,
    id: i64,
    actor: &str,
) -> Result<StoredAbsence> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let row = sqlx::query("SELECT source, data FROM absences WHERE region_id = ? AND id = ?")
        .bind(region.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("absence {id} in region \"{region}\"")))?;
    let removed = StoredAbsence {
        id,
        source: if row.get::<&str, _>("source") == "file" {
            AbsenceSource::File
        } else {
            AbsenceSource::Reported
        },
        absence: from_json(row.get("data"))?,
    };
    sqlx::query("DELETE FROM absences WHERE region_id = ? AND id = ?")
        .bind(region.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let a = &removed.absence;
    sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES (?, ?, ?, 'absence removed', ?)")
        .bind(region.as_str())
        .bind(now())
        .bind(actor)
        .bind(format!("{} no longer absent {} – {} ({})", a.staff, a.start, a.end, a.kind.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(removed)
}
