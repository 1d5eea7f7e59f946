//! Credentials, audit log, jobs and server secrets (cover requests: `cover.rs`).

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use touban_domain::{Month, RegionId, StaffId};
use touban_store::{
    AuditEntry, AuditRecord, Credential, Grant, Job, JobStatus, NewCredential, Result, StoreError,
};

use crate::{db_err, from_json, now, parse_time, to_json};

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn opt_time(r: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.get::<Option<&str>, _>(col).map(parse_time).transpose()
}

pub(crate) fn region_of(s: &str) -> Result<RegionId> {
    RegionId::parse(s).map_err(|e| StoreError::Backend(e.message))
}

pub(crate) fn staff_of(s: &str) -> Result<StaffId> {
    StaffId::parse(s).map_err(|e| StoreError::Backend(e.message))
}

fn credential_row(r: &SqliteRow) -> Result<Credential> {
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

pub async fn create_credential(pool: &SqlitePool, c: &NewCredential) -> Result<Credential> {
    sqlx::query(
        "INSERT INTO credentials (id, secret_hash, role, region_id, grant_data, label, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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

pub async fn credential(pool: &SqlitePool, id: &str) -> Result<Credential> {
    let r = sqlx::query("SELECT * FROM credentials WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("credential \"{id}\"")))?;
    credential_row(&r)
}

pub async fn credentials(pool: &SqlitePool, region: Option<&RegionId>) -> Result<Vec<Credential>> {
    let rows = match region {
        Some(r) => {
            sqlx::query("SELECT * FROM credentials WHERE region_id = ? ORDER BY created_at, id")
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

pub async fn revoke_credential(pool: &SqlitePool, id: &str, _actor: &str) -> Result<Credential> {
    sqlx::query("UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    credential(pool, id).await
}

pub async fn append_audit(pool: &SqlitePool, e: &AuditEntry) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO audit_log (at, actor, address, region_id, method, path, status, action, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .execute(pool)
    .await
    .map_err(db_err)?
    .last_insert_rowid();
    Ok(id)
}

pub async fn audit_log(
    pool: &SqlitePool,
    region: Option<&RegionId>,
    after: i64,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM audit_log WHERE id > ? AND (? IS NULL OR region_id = ?) ORDER BY id LIMIT ?",
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
    pool: &SqlitePool,
    region: &RegionId,
    kind: &str,
    month: Month,
    actor: &str,
    deadline: DateTime<Utc>,
) -> Result<Job> {
    let id = sqlx::query(
        "INSERT INTO jobs (region_id, kind, month, status, created_at, created_by, deadline)
         VALUES (?, ?, ?, 'queued', ?, ?, ?)",
    )
    .bind(region.as_str())
    .bind(kind)
    .bind(month.to_string())
    .bind(now())
    .bind(actor)
    .bind(ts(deadline))
    .execute(pool)
    .await
    .map_err(db_err)?
    .last_insert_rowid();
    job(pool, id).await
}

pub async fn update_job(
    pool: &SqlitePool,
    id: i64,
    status: JobStatus,
    result: Option<&serde_json::Value>,
    error: Option<&str>,
) -> Result<()> {
    let finished = matches!(status, JobStatus::Succeeded | JobStatus::Failed).then(now);
    let done = sqlx::query(
        "UPDATE jobs SET status = ?, result = COALESCE(?, result), error = COALESCE(?, error),
                finished_at = COALESCE(?, finished_at) WHERE id = ? AND status IN ('queued', 'running')",
    )
    .bind(status.as_str())
    .bind(result.map(serde_json::Value::to_string))
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

pub async fn interrupt_jobs(pool: &SqlitePool, ids: Option<&[i64]>, reason: &str) -> Result<usize> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let mut n = 0;
    let sql = "UPDATE jobs SET status = 'failed', error = ?, finished_at = ?
               WHERE status IN ('queued', 'running')";
    match ids {
        None => {
            n += sqlx::query(sql)
                .bind(reason)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        Some(ids) => {
            for id in ids {
                n += sqlx::query(&format!("{sql} AND id = ?"))
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

pub async fn active_jobs(pool: &SqlitePool, region: &RegionId) -> Result<usize> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM jobs WHERE region_id = ? AND status IN ('queued', 'running') AND deadline > ?",
    )
    .bind(region.as_str())
    .bind(ts(Utc::now()))
    .fetch_one(pool)
    .await
    .map_err(db_err)?
    .get("n");
    Ok(usize::try_from(n).unwrap_or(0))
}

pub async fn job(pool: &SqlitePool, id: i64) -> Result<Job> {
    let r = sqlx::query("SELECT * FROM jobs WHERE id = ?")
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
            .get::<Option<&str>, _>("result")
            .map(from_json)
            .transpose()?,
        error,
    })
}

pub async fn server_secret(pool: &SqlitePool, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
    sqlx::query("INSERT OR IGNORE INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)")
        .bind(name)
        .bind(candidate)
        .bind(now())
        .execute(pool)
        .await
        .map_err(db_err)?;
    let r = sqlx::query("SELECT value FROM server_secrets WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    Ok(r.get("value"))
}
