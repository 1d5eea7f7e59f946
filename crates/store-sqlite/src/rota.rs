//! Rota versions, their assignments and their change history.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sqlx::{Row, SqlitePool};
use touban_domain::{
    Assignment, Month, NewRota, RegionId, Role, Rota, RotaChange, RotaStatus, ServiceId, ShiftKey,
    StaffId, TemplateId,
};
use touban_store::{Result, RotaVersionInfo, StoreError};

use crate::{db_err, now, parse_time};

fn bad(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored rota is invalid: {e}"))
}

async fn record(
    conn: &mut sqlx::SqliteConnection,
    region: &str,
    month: &str,
    version: u32,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO rota_changes (region_id, month, version, at, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(region)
        .bind(month)
        .bind(version)
        .bind(now())
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The ids of a region's objects in one network table.
async fn ids(
    conn: &mut sqlx::SqliteConnection,
    table: &str,
    region: &str,
) -> Result<BTreeSet<String>> {
    let rows = sqlx::query(&format!("SELECT id FROM {table} WHERE region_id = ?"))
        .bind(region)
        .fetch_all(conn)
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(|r| r.get("id")).collect())
}

pub async fn save(pool: &SqlitePool, rota: &NewRota, expect: Option<u32>) -> Result<Rota> {
    let region = rota.region.as_str();
    let month = rota.month.to_string();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    // Every assignment must name a staff member and service of the region,
    // and a shift in the month.
    let staff = ids(&mut tx, "staff", region).await?;
    if staff.is_empty() {
        return Err(StoreError::NotFound(format!(
            "region \"{region}\" (or it has no staff)"
        )));
    }
    let services = ids(&mut tx, "services", region).await?;
    touban_store::check_assignments(rota, &staff, &services)?;
    let latest: Option<i64> = sqlx::query(
        "SELECT MAX(version) AS v FROM rota_versions WHERE region_id = ? AND month = ?",
    )
    .bind(region)
    .bind(&month)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?
    .get("v");
    let version = u32::try_from(latest.unwrap_or(0) + 1).map_err(bad)?;
    if let Some(e) = expect
        && latest != Some(i64::from(e))
    {
        let by = latest_creator(&mut tx, region, &month).await?;
        return Err(StoreError::Stale(format!(
            "the {month} rota is at version {}{by}, not {e}: someone saved a newer version; reload it and make your change there",
            latest.unwrap_or(0)
        )));
    }
    if let Some(b) = rota.based_on
        && latest.is_none_or(|l| i64::from(b) > l)
    {
        return Err(StoreError::NotFound(format!(
            "version {b} of the {month} rota to base a new version on"
        )));
    }
    let at = now();
    sqlx::query(
        "INSERT INTO rota_versions (region_id, month, version, status, based_on, created_at, created_by, note)
         VALUES (?, ?, ?, 'draft', ?, ?, ?, ?)",
    )
    .bind(region)
    .bind(&month)
    .bind(version)
    .bind(rota.based_on)
    .bind(&at)
    .bind(&rota.created_by)
    .bind(&rota.note)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    for a in &rota.assignments {
        sqlx::query(
            "INSERT INTO assignments (region_id, month, version, service_id, template_id, shift_date, staff_id, role)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(region)
        .bind(&month)
        .bind(version)
        .bind(a.shift.service.as_str())
        .bind(a.shift.template.as_str())
        .bind(a.shift.date.to_string())
        .bind(a.staff.as_str())
        .bind(a.role.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    let detail = match rota.based_on {
        Some(b) => format!(
            "{} assignments, based on version {b}",
            rota.assignments.len()
        ),
        None => format!("{} assignments", rota.assignments.len()),
    };
    record(
        &mut tx,
        region,
        &month,
        version,
        &rota.created_by,
        "created",
        &detail,
    )
    .await?;
    for v in &rota.overridden {
        record(
            &mut tx,
            region,
            &month,
            version,
            &rota.created_by,
            OVERRIDE,
            v,
        )
        .await?;
    }
    tx.commit().await.map_err(db_err)?;
    load(pool, &rota.region, rota.month, Some(version)).await
}

/// The rota-history action under which an accepted violation is recorded.
pub const OVERRIDE: &str = "override";

/// " (saved by X at T)" for the month's latest version, or "".
async fn latest_creator(
    conn: &mut sqlx::SqliteConnection,
    region: &str,
    month: &str,
) -> Result<String> {
    let row = sqlx::query(
        "SELECT created_by, created_at FROM rota_versions WHERE region_id = ? AND month = ?
         ORDER BY version DESC LIMIT 1",
    )
    .bind(region)
    .bind(month)
    .fetch_optional(conn)
    .await
    .map_err(db_err)?;
    Ok(row.map_or_else(String::new, |r| {
        format!(
            " (saved by {} at {})",
            r.get::<String, _>("created_by"),
            r.get::<String, _>("created_at")
        )
    }))
}

/// The versions a version was derived from, itself first.
async fn lineage(
    conn: &mut sqlx::SqliteConnection,
    region: &str,
    month: &str,
    version: u32,
) -> Result<Vec<u32>> {
    let rows = sqlx::query(
        "SELECT version, based_on FROM rota_versions WHERE region_id = ? AND month = ?",
    )
    .bind(region)
    .bind(month)
    .fetch_all(conn)
    .await
    .map_err(db_err)?;
    let parent: std::collections::HashMap<u32, Option<u32>> = rows
        .iter()
        .map(|r| (r.get("version"), r.get("based_on")))
        .collect();
    let mut out = vec![version];
    let mut at = version;
    // based_on always names an earlier version, so this ends.
    while let Some(Some(p)) = parent.get(&at) {
        if *p >= at || out.contains(p) {
            break;
        }
        out.push(*p);
        at = *p;
    }
    Ok(out)
}

pub async fn load(
    pool: &SqlitePool,
    region: &RegionId,
    month: Month,
    version: Option<u32>,
) -> Result<Rota> {
    let m = month.to_string();
    let row = match version {
        Some(v) => sqlx::query("SELECT * FROM rota_versions WHERE region_id = ? AND month = ? AND version = ?")
            .bind(region.as_str())
            .bind(&m)
            .bind(v)
            .fetch_optional(pool)
            .await,
        None => sqlx::query("SELECT * FROM rota_versions WHERE region_id = ? AND month = ? ORDER BY version DESC LIMIT 1")
            .bind(region.as_str())
            .bind(&m)
            .fetch_optional(pool)
            .await,
    }
    .map_err(db_err)?
    .ok_or_else(|| {
        StoreError::NotFound(match version {
            Some(v) => format!("version {v} of the {m} rota of region \"{region}\""),
            None => format!("a rota for {m} in region \"{region}\""),
        })
    })?;
    let version: u32 = row.get("version");
    let rows = sqlx::query(
        "SELECT service_id, template_id, shift_date, staff_id, role FROM assignments
         WHERE region_id = ? AND month = ? AND version = ?
         ORDER BY shift_date, service_id, template_id, role, staff_id",
    )
    .bind(region.as_str())
    .bind(&m)
    .bind(version)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let assignments = rows
        .iter()
        .map(|r| {
            Ok(Assignment {
                shift: ShiftKey {
                    service: ServiceId::parse(r.get("service_id")).map_err(bad)?,
                    template: TemplateId::parse(r.get("template_id")).map_err(bad)?,
                    date: r
                        .get::<&str, _>("shift_date")
                        .parse::<NaiveDate>()
                        .map_err(bad)?,
                },
                staff: StaffId::parse(r.get("staff_id")).map_err(bad)?,
                role: Role::parse(r.get("role")).map_err(bad)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Rota {
        region: region.clone(),
        month,
        version,
        status: RotaStatus::parse(row.get("status")).map_err(bad)?,
        created_at: parse_time(row.get("created_at"))?,
        created_by: row.get("created_by"),
        note: row.get("note"),
        assignments,
    })
}

pub async fn published(pool: &SqlitePool, region: &RegionId, month: Month) -> Result<Option<Rota>> {
    let v: Option<u32> = sqlx::query("SELECT version FROM rota_versions WHERE region_id = ? AND month = ? AND status = 'published'")
        .bind(region.as_str())
        .bind(month.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .map(|r| r.get("version"));
    match v {
        Some(v) => load(pool, region, month, Some(v)).await.map(Some),
        None => Ok(None),
    }
}

pub async fn versions(
    pool: &SqlitePool,
    region: &RegionId,
    month: Month,
) -> Result<Vec<RotaVersionInfo>> {
    let rows = sqlx::query(
        "SELECT v.*, (SELECT COUNT(*) FROM assignments a WHERE a.region_id = v.region_id AND a.month = v.month
                      AND a.version = v.version) AS n
         FROM rota_versions v WHERE region_id = ? AND month = ? ORDER BY version",
    )
    .bind(region.as_str())
    .bind(month.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(RotaVersionInfo {
                version: r.get("version"),
                status: RotaStatus::parse(r.get("status")).map_err(bad)?,
                based_on: r.get("based_on"),
                created_at: parse_time(r.get("created_at"))?,
                created_by: r.get("created_by"),
                note: r.get("note"),
                assignments: usize::try_from(r.get::<i64, _>("n")).map_err(bad)?,
            })
        })
        .collect()
}

pub async fn publish(
    pool: &SqlitePool,
    region: &RegionId,
    month: Month,
    version: u32,
    actor: &str,
    opts: &touban_store::PublishOptions,
) -> Result<Rota> {
    let m = month.to_string();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let status: Option<String> = sqlx::query(
        "SELECT status FROM rota_versions WHERE region_id = ? AND month = ? AND version = ?",
    )
    .bind(region.as_str())
    .bind(&m)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .map(|r| r.get("status"));
    match status.as_deref() {
        None => {
            return Err(StoreError::NotFound(format!(
                "version {version} of the {m} rota of region \"{region}\""
            )));
        }
        Some("published") => {
            tx.rollback().await.map_err(db_err)?;
            return load(pool, region, month, Some(version)).await;
        }
        _ => {}
    }
    let previous: Option<u32> =
        sqlx::query("SELECT version FROM rota_versions WHERE region_id = ? AND month = ? AND status = 'published'")
            .bind(region.as_str())
            .bind(&m)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .map(|r| r.get("version"));
    let replace = opts
        .replace_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let based_on_published = match previous {
        None => true,
        Some(p) => lineage(&mut tx, region.as_str(), &m, version)
            .await?
            .contains(&p),
    };
    if !based_on_published && replace.is_none() {
        let p = previous.unwrap_or_default();
        let by = sqlx::query(
            "SELECT actor, at FROM rota_changes WHERE region_id = ? AND month = ? AND version = ?
             AND action = 'published' ORDER BY id DESC LIMIT 1",
        )
        .bind(region.as_str())
        .bind(&m)
        .bind(p)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .map_or_else(String::new, |r| {
            format!(
                " by {} at {}",
                r.get::<String, _>("actor"),
                r.get::<String, _>("at")
            )
        });
        let how = if status.as_deref() == Some("superseded") {
            "was superseded"
        } else {
            "is not based on it"
        };
        return Err(StoreError::Stale(format!(
            "version {p} of the {m} rota is published now (published{by}); version {version} {how}, so publishing it would undo the changes of version {p}. Open version {p}, make your change there (or repair it) and publish that; to replace version {p} anyway, publish again with a reason"
        )));
    }
    if let Some(p) = previous {
        sqlx::query("UPDATE rota_versions SET status = 'superseded' WHERE region_id = ? AND month = ? AND version = ?")
            .bind(region.as_str())
            .bind(&m)
            .bind(p)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    sqlx::query("UPDATE rota_versions SET status = 'published' WHERE region_id = ? AND month = ? AND version = ?")
        .bind(region.as_str())
        .bind(&m)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // Tell the people concerned, in this same transaction: everyone with a
    // duty on a first publish; on a later one, everyone whose duties differ.
    // Each person with their earliest new or changed duty (all duties on a
    // first publish).
    let people_sql = match previous {
        None => {
            "SELECT staff_id, MIN(shift_date) AS first FROM assignments
             WHERE region_id = ?1 AND month = ?2 AND version = ?3
             GROUP BY staff_id ORDER BY staff_id"
        }
        // Everyone whose own duties differ, and everyone on a shift whose
        // people changed (the colleague beside a new person is told too).
        Some(_) => {
            "WITH diff AS (
                 SELECT staff_id, service_id, template_id, shift_date FROM (
                     SELECT staff_id, service_id, template_id, shift_date, role FROM assignments
                     WHERE region_id = ?1 AND month = ?2 AND version = ?3
                     EXCEPT
                     SELECT staff_id, service_id, template_id, shift_date, role FROM assignments
                     WHERE region_id = ?1 AND month = ?2 AND version = ?4)
                 UNION ALL
                 SELECT staff_id, service_id, template_id, shift_date FROM (
                     SELECT staff_id, service_id, template_id, shift_date, role FROM assignments
                     WHERE region_id = ?1 AND month = ?2 AND version = ?4
                     EXCEPT
                     SELECT staff_id, service_id, template_id, shift_date, role FROM assignments
                     WHERE region_id = ?1 AND month = ?2 AND version = ?3)),
             beside AS (
                 SELECT a.staff_id, a.shift_date FROM assignments a
                 JOIN (SELECT DISTINCT service_id, template_id, shift_date FROM diff) d
                   ON a.service_id = d.service_id AND a.template_id = d.template_id
                  AND a.shift_date = d.shift_date
                 WHERE a.region_id = ?1 AND a.month = ?2 AND a.version = ?3)
             SELECT staff_id, MIN(shift_date) AS first FROM (
                 SELECT staff_id, shift_date FROM diff
                 UNION ALL
                 SELECT staff_id, shift_date FROM beside)
             GROUP BY staff_id ORDER BY staff_id"
        }
    };
    let people = sqlx::query(people_sql)
        .bind(region.as_str())
        .bind(&m)
        .bind(version)
        .bind(previous.unwrap_or(0))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let staff = StaffId::parse(r.get::<&str, _>("staff_id"))
                .map_err(|e| StoreError::Backend(e.message))?;
            let first = r
                .get::<&str, _>("first")
                .parse::<NaiveDate>()
                .map_err(bad)?;
            Ok((staff, first))
        })
        .collect::<Result<Vec<_>>>()?;
    // Duties today or tomorrow (in any zone of Japan's side of UTC) are told
    // at once and marked urgent.
    let urgent_until = (chrono::Utc::now() + chrono::Duration::hours(36)).date_naive();
    let msgs = touban_store::outbox::publish_messages(
        region,
        month,
        version,
        previous,
        &people,
        urgent_until,
        chrono::Utc::now(),
    );
    crate::outbox::insert(&mut tx, &msgs).await?;
    let detail = match (previous, replace) {
        (Some(p), Some(r)) if !based_on_published => {
            format!("published, replacing version {p} although not based on it; reason: {r}")
        }
        (Some(p), _) => format!("published, replacing version {p}"),
        (None, _) => "published".to_string(),
    };
    record(
        &mut tx,
        region.as_str(),
        &m,
        version,
        actor,
        "published",
        &detail,
    )
    .await?;
    for v in &opts.accepted_violations {
        record(&mut tx, region.as_str(), &m, version, actor, OVERRIDE, v).await?;
    }
    tx.commit().await.map_err(db_err)?;
    load(pool, region, month, Some(version)).await
}

pub async fn history(
    pool: &SqlitePool,
    region: &RegionId,
    month: Month,
) -> Result<Vec<RotaChange>> {
    let rows =
        sqlx::query("SELECT * FROM rota_changes WHERE region_id = ? AND month = ? ORDER BY id")
            .bind(region.as_str())
            .bind(month.to_string())
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(RotaChange {
                region: region.clone(),
                month,
                version: r.get("version"),
                at: parse_time(r.get("at"))?,
                actor: r.get("actor"),
                action: r.get("action"),
                detail: r.get("detail"),
            })
        })
        .collect()
}
