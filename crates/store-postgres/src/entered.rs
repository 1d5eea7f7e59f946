//! What is entered after an import and kept through the next one:
//! reported absences and staff's requests (the file's own rows are
//! synchronised by `import`), and removing either.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};
use touban_domain::{Absence, RegionId, Request};
use touban_store::{AbsenceSource, Result, StoreError, StoredAbsence, StoredRequest};

use crate::{announce, begin, db_err, from_json, now, to_json};

/// `NotFound` unless the region has this person.
async fn known_staff(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    region: &RegionId,
    staff: &touban_domain::StaffId,
) -> Result<()> {
    let known = sqlx::query("SELECT 1 FROM staff WHERE region_id = $1 AND id = $2")
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

fn source(r: &PgRow) -> AbsenceSource {
    if r.get::<&str, _>("source") == "file" {
        AbsenceSource::File
    } else {
        AbsenceSource::Reported
    }
}

fn request_row(r: &PgRow) -> Result<StoredRequest> {
    Ok(StoredRequest {
        id: r.get("id"),
        source: source(r),
        request: from_json(r.get("data"))?,
    })
}

async fn change(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    region: &RegionId,
    actor: &str,
    action: &str,
    detail: String,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(region.as_str())
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(detail)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub async fn add_absence(
    pool: &PgPool,
    region: &RegionId,
    absence: &Absence,
    actor: &str,
) -> Result<i64> {
    let mut tx = begin(pool).await?;
    known_staff(&mut tx, region, &absence.staff).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO absences (region_id, staff_id, start_at, end_at, source, data, created_at, created_by)
         VALUES ($1, $2, $3, $4, 'reported', $5, $6, $7) RETURNING id",
    )
    .bind(region.as_str())
    .bind(absence.staff.as_str())
    .bind(absence.start.with_timezone(&chrono::Utc))
    .bind(absence.end.with_timezone(&chrono::Utc))
    .bind(to_json(absence)?)
    .bind(now())
    .bind(actor)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?
    .get("id");
    change(
        &mut tx,
        region,
        actor,
        "absence",
        format!(
            "{} absent {} – {} ({})",
            absence.staff,
            absence.start,
            absence.end,
            absence.kind.as_str()
        ),
    )
    .await?;
    announce(&mut tx, region.as_str()).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(id)
}

pub async fn absences(pool: &PgPool, region: &RegionId) -> Result<Vec<StoredAbsence>> {
    let rows =
        sqlx::query("SELECT id, source, data FROM absences WHERE region_id = $1 ORDER BY id")
            .bind(region.as_str())
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(StoredAbsence {
                id: r.get("id"),
                source: source(r),
                absence: from_json(r.get("data"))?,
            })
        })
        .collect()
}

pub async fn add_request(
    pool: &PgPool,
    region: &RegionId,
    request: &Request,
    actor: &str,
) -> Result<i64> {
    let mut tx = begin(pool).await?;
    known_staff(&mut tx, region, &request.staff).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO requests (region_id, staff_id, date, data, source, created_by)
         VALUES ($1, $2, $3, $4, 'reported', $5) RETURNING id",
    )
    .bind(region.as_str())
    .bind(request.staff.as_str())
    .bind(request.date)
    .bind(to_json(request)?)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?
    .get("id");
    change(
        &mut tx,
        region,
        actor,
        "request",
        format!("{} {:?} {}", request.staff, request.kind, request.date),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(id)
}

pub async fn requests(pool: &PgPool, region: &RegionId) -> Result<Vec<StoredRequest>> {
    let rows =
        sqlx::query("SELECT id, source, data FROM requests WHERE region_id = $1 ORDER BY id")
            .bind(region.as_str())
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
    rows.iter().map(request_row).collect()
}

pub async fn withdraw_request(
    pool: &PgPool,
    region: &RegionId,
    id: i64,
    actor: &str,
) -> Result<StoredRequest> {
    let mut tx = begin(pool).await?;
    let row = sqlx::query(
        "DELETE FROM requests WHERE region_id = $1 AND id = $2 RETURNING id, source, data",
    )
    .bind(region.as_str())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| StoreError::NotFound(format!("request {id} in region \"{region}\"")))?;
    let gone = request_row(&row)?;
    change(
        &mut tx,
        region,
        actor,
        "request withdrawn",
        format!(
            "{} {:?} {}",
            gone.request.staff, gone.request.kind, gone.request.date
        ),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(gone)
}

pub async fn remove_absence(
    pool: &PgPool,
    region: &RegionId,
    id: i64,
    actor: &str,
) -> Result<StoredAbsence> {
    let mut tx = begin(pool).await?;
    let row = sqlx::query(
        "DELETE FROM absences WHERE region_id = $1 AND id = $2 RETURNING id, source, data",
    )
    .bind(region.as_str())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| StoreError::NotFound(format!("absence {id} in region \"{region}\"")))?;
    let removed = StoredAbsence {
        id,
        source: source(&row),
        absence: from_json(row.get("data"))?,
    };
    let a = &removed.absence;
    change(
        &mut tx,
        region,
        actor,
        "absence removed",
        format!(
            "{} no longer absent {} – {} ({})",
            a.staff,
            a.start,
            a.end,
            a.kind.as_str()
        ),
    )
    .await?;
    announce(&mut tx, region.as_str()).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(removed)
}
