//! The web app's sign-in links and sessions.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use touban_store::web::{Admin, Login, SecondFactor, Session};
use touban_store::{NewMessage, Result, StoreError};

use crate::{db_err, from_json, opt_time, parse_time, to_json, ts};

fn login_row(r: &PgRow) -> Result<Login> {
    Ok(Login {
        id: r.get("id"),
        email: r.get("email"),
        address: r.get("address"),
        created_at: parse_time(r.get("created_at"))?,
        expires_at: parse_time(r.get("expires_at"))?,
        used_at: opt_time(r, "used_at")?,
    })
}

fn session_row(r: &PgRow) -> Result<Session> {
    Ok(Session {
        id_hash: r.get("id_hash"),
        email: r.get("email"),
        grant: from_json(r.get("grant_json"))?,
        created_at: parse_time(r.get("created_at"))?,
        last_seen_at: parse_time(r.get("last_seen_at"))?,
        expires_at: parse_time(r.get("expires_at"))?,
        ended_at: opt_time(r, "ended_at")?,
        verified_at: opt_time(r, "verified_at")?,
    })
}

pub async fn create_login(pool: &PgPool, l: &Login, m: &NewMessage) -> Result<()> {
    let mut tx = crate::begin(pool).await?;
    sqlx::query(
        "INSERT INTO web_logins (id, email, address, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&l.id)
    .bind(&l.email)
    .bind(&l.address)
    .bind(ts(l.created_at))
    .bind(ts(l.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    crate::outbox::insert(&mut tx, std::slice::from_ref(m)).await?;
    tx.commit().await.map_err(db_err)
}

pub async fn recent_logins(
    pool: &PgPool,
    email: &str,
    address: Option<&str>,
    since: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let count = |col: &'static str, v: Option<String>| async move {
        let Some(v) = v else { return Ok(0) };
        sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM web_logins WHERE {col} = $1 AND created_at >= $2"
        ))
        .bind(v)
        .bind(ts(since))
        .fetch_one(pool)
        .await
        .map(|r| r.get::<i64, _>("n").max(0) as u64)
        .map_err(db_err)
    };
    Ok((
        count("email", Some(email.to_string())).await?,
        count("address", address.map(ToString::to_string)).await?,
    ))
}

pub async fn login(pool: &PgPool, id: &str) -> Result<Login> {
    sqlx::query("SELECT * FROM web_logins WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .map(|r| login_row(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("sign-in link {id}")))
}

pub async fn use_login(pool: &PgPool, id: &str, now: DateTime<Utc>) -> Result<Login> {
    let used = sqlx::query(
        "UPDATE web_logins SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $3 RETURNING *",
    )
    .bind(ts(now))
    .bind(id)
    .bind(ts(now))
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    match used {
        Some(r) => login_row(&r),
        None => {
            let l = login(pool, id).await?;
            Err(StoreError::Conflict(if l.used_at.is_some() {
                "this sign-in link was used already".into()
            } else {
                "this sign-in link has expired".into()
            }))
        }
    }
}

pub async fn create_session(pool: &PgPool, s: &Session) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_sessions (id_hash, email, grant_json, created_at, last_seen_at, expires_at, verified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id_hash)
    .bind(&s.email)
    .bind(to_json(&s.grant)?)
    .bind(ts(s.created_at))
    .bind(ts(s.last_seen_at))
    .bind(ts(s.expires_at))
    .bind(s.verified_at.map(ts))
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub async fn session(pool: &PgPool, id_hash: &str) -> Result<Session> {
    sqlx::query("SELECT * FROM web_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .map(|r| session_row(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound("session".into()))
}

pub async fn touch_session(pool: &PgPool, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(ts(now))
        .bind(id_hash)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn end_sessions(
    pool: &PgPool,
    email: &str,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let r = sqlx::query(
        "UPDATE web_sessions SET ended_at = $1 WHERE email = $2 AND ended_at IS NULL AND ($3::text IS NULL OR id_hash = $3)",
    )
    .bind(ts(now))
    .bind(email)
    .bind(only)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(usize::try_from(r.rows_affected()).unwrap_or(usize::MAX))
}

pub async fn verify_session(pool: &PgPool, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE web_sessions SET verified_at = $1 WHERE id_hash = $2 AND ended_at IS NULL")
        .bind(ts(now))
        .bind(id_hash)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn second_factor(pool: &PgPool, email: &str) -> Result<Option<SecondFactor>> {
    let row = sqlx::query("SELECT * FROM web_second_factors WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.map(|r| {
        Ok(SecondFactor {
            email: r.get("email"),
            secret: r.get("secret"),
            created_at: parse_time(r.get("created_at"))?,
            confirmed_at: opt_time(&r, "confirmed_at")?,
            last_step: r.get("last_step"),
        })
    })
    .transpose()
}

pub async fn begin_second_factor(
    pool: &PgPool,
    email: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO web_second_factors (email, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET secret = $2, created_at = $3, last_step = 0
         WHERE web_second_factors.confirmed_at IS NULL",
    )
    .bind(email)
    .bind(secret)
    .bind(ts(now))
    .execute(pool)
    .await
    .map_err(db_err)?;
    if r.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "{email} has a confirmed second factor; remove it first"
        )));
    }
    Ok(())
}

pub async fn use_second_factor_step(
    pool: &PgPool,
    email: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE web_second_factors SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2)
         WHERE email = $3 AND last_step < $1",
    )
    .bind(step)
    .bind(ts(now))
    .bind(email)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

pub async fn remove_second_factor(pool: &PgPool, email: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_second_factors WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn add_admin(
    pool: &PgPool,
    email: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Admin> {
    sqlx::query("INSERT INTO web_admins (email, created_at, created_by) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(ts(now))
        .bind(actor)
        .execute(pool)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("{email} is an admin already")),
            other => other,
        })?;
    Ok(Admin {
        email: email.to_string(),
        created_at: ts(now),
        created_by: actor.to_string(),
    })
}

pub async fn remove_admin(pool: &PgPool, email: &str) -> Result<()> {
    let r = sqlx::query("DELETE FROM web_admins WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .map_err(db_err)?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("admin {email}")));
    }
    Ok(())
}

pub async fn admins(pool: &PgPool) -> Result<Vec<Admin>> {
    let rows = sqlx::query("SELECT email, created_at, created_by FROM web_admins ORDER BY email")
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(Admin {
                email: r.get("email"),
                created_at: parse_time(r.get("created_at"))?,
                created_by: r.get("created_by"),
            })
        })
        .collect()
}
