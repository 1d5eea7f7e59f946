//! Moving a network up: copies every table of a SQLite database into an
//! empty PostgreSQL database in one transaction on the target, then checks,
//! before committing, that each table has the same number of rows and the
//! same content on both sides (a SHA-256 over every value, read back from
//! the target and put in one canonical form).
//!
//! The tables are listed from PostgreSQL's own catalogue, so a table or
//! column added by a later migration is copied without a change here; the
//! one renamed column (absences' unix-second `start_ts`/`end_ts` in SQLite,
//! `start_at`/`end_at` in PostgreSQL) is mapped below.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{Postgres, Row, Transaction};
use touban_store::{Result, StoreError};

use crate::{PgStore, db_err};

/// Every table, parents before children.
pub const TABLES: [&str; 24] = [
    "regions",
    "municipalities",
    "institutions",
    "staff",
    "services",
    "attending_pairs",
    "absences",
    "requests",
    "rota_versions",
    "assignments",
    "rota_changes",
    "network_changes",
    "credentials",
    "audit_log",
    "jobs",
    "cover_requests",
    "cover_offers",
    "server_secrets",
    "outbox",
    "web_logins",
    "web_sessions",
    "web_second_factors",
    "web_admins",
    "swaps",
];

/// One table's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_sha256: String,
    pub target_sha256: String,
}

impl TableCopy {
    pub fn matches(&self) -> bool {
        self.source_rows == self.target_rows && self.source_sha256 == self.target_sha256
    }
}

#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    pub tables: Vec<TableCopy>,
    /// Whether the target held data that was replaced (`replace`).
    pub replaced: bool,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.target_rows).sum()
    }
}

/// A column's type in PostgreSQL, which decides how its SQLite value is
/// read and converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
    Int4,
    Time,
    Date,
    Json,
    Bytes,
}

impl Ty {
    fn of(pg: &str) -> Result<Self> {
        Ok(match pg {
            "text" | "character varying" => Ty::Text,
            "bigint" => Ty::Int,
            "integer" | "smallint" => Ty::Int4,
            "timestamp with time zone" => Ty::Time,
            "date" => Ty::Date,
            "jsonb" | "json" => Ty::Json,
            "bytea" => Ty::Bytes,
            other => {
                return Err(StoreError::Backend(format!(
                    "db copy does not know the column type \"{other}\""
                )));
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Json(serde_json::Value),
    Bytes(Vec<u8>),
}

impl Val {
    /// One canonical text per value, the same whichever side it was read
    /// from.
    fn canonical(&self) -> String {
        match self {
            Val::Null => "∅".into(),
            Val::Text(s) => format!("t:{s}"),
            Val::Int(i) => format!("i:{i}"),
            Val::Time(t) => format!(
                "ts:{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ),
            Val::Date(d) => format!("d:{d}"),
            Val::Json(v) => format!("j:{}", crate::canonical_json(v)),
            Val::Bytes(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("b:{hex}")
            }
        }
    }
}

/// The target's columns of one table with their types, in order.
async fn columns(tx: &mut Transaction<'_, Postgres>, table: &str) -> Result<Vec<(String, Ty)>> {
    let rows = sqlx::query(
        "SELECT column_name::text AS c, data_type::text AS t FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| Ok((r.get::<String, _>("c"), Ty::of(r.get::<&str, _>("t"))?)))
        .collect()
}

/// The SQLite column holding a PostgreSQL column (the same name but for
/// absences' times).
fn sqlite_column(table: &str, col: &str) -> String {
    match (table, col) {
        ("absences", "start_at") => "start_ts".into(),
        ("absences", "end_at") => "end_ts".into(),
        _ => col.into(),
    }
}

fn bad(table: &str, col: &str, row: usize, what: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!(
        "source table {table}, row {}, column {col}: {what}",
        row + 1
    ))
}

fn read_sqlite(r: &SqliteRow, table: &str, col: &str, ty: Ty, i: usize) -> Result<Val> {
    let src = sqlite_column(table, col);
    let get_text = || -> Result<Option<String>> {
        r.try_get::<Option<String>, _>(src.as_str())
            .map_err(|e| bad(table, col, i, e))
    };
    Ok(match ty {
        Ty::Text => get_text()?.map_or(Val::Null, Val::Text),
        Ty::Int | Ty::Int4 => r
            .try_get::<Option<i64>, _>(src.as_str())
            .map_err(|e| bad(table, col, i, e))?
            .map_or(Val::Null, Val::Int),
        Ty::Time if src != col => {
            // Unix seconds.
            match r
                .try_get::<Option<i64>, _>(src.as_str())
                .map_err(|e| bad(table, col, i, e))?
            {
                None => Val::Null,
                Some(s) => Val::Time(
                    DateTime::from_timestamp(s, 0)
                        .ok_or_else(|| bad(table, col, i, format!("{s} is not a time")))?,
                ),
            }
        }
        Ty::Time => match get_text()? {
            None => Val::Null,
            Some(s) => Val::Time(
                DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| bad(table, col, i, format!("\"{s}\": {e}")))?
                    .with_timezone(&Utc),
            ),
        },
        Ty::Date => match get_text()? {
            None => Val::Null,
            Some(s) => Val::Date(
                NaiveDate::from_str(&s).map_err(|e| bad(table, col, i, format!("\"{s}\": {e}")))?,
            ),
        },
        Ty::Json => match get_text()? {
            None => Val::Null,
            Some(s) => Val::Json(
                serde_json::from_str(&s).map_err(|e| bad(table, col, i, format!("JSON: {e}")))?,
            ),
        },
        Ty::Bytes => r
            .try_get::<Option<Vec<u8>>, _>(src.as_str())
            .map_err(|e| bad(table, col, i, e))?
            .map_or(Val::Null, Val::Bytes),
    })
}

fn from_pg(r: &PgRow, col: &str, ty: Ty) -> Result<Val> {
    let e = |e: sqlx::Error| StoreError::Backend(format!("reading back {col}: {e}"));
    Ok(match ty {
        Ty::Text => r
            .try_get::<Option<String>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Text),
        Ty::Int => r
            .try_get::<Option<i64>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Int),
        Ty::Int4 => r
            .try_get::<Option<i32>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, |v| Val::Int(i64::from(v))),
        Ty::Time => r
            .try_get::<Option<DateTime<Utc>>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Time),
        Ty::Date => r
            .try_get::<Option<NaiveDate>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Date),
        Ty::Json => r
            .try_get::<Option<serde_json::Value>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Json),
        Ty::Bytes => r
            .try_get::<Option<Vec<u8>>, _>(col)
            .map_err(e)?
            .map_or(Val::Null, Val::Bytes),
    })
}

/// Row count and SHA-256 of a table's rows in canonical form (rows sorted,
/// so that the order each database returns them in does not matter).
fn digest(rows: &[Vec<Val>]) -> String {
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(Val::canonical)
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect();
    lines.sort_unstable();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies the SQLite database at `from` into the PostgreSQL database at
/// `to` (made or brought up to date first). Refuses a target that holds any
/// row unless `replace`, which empties it first, in the same transaction.
/// Nothing is committed unless every table's count and checksum match.
pub async fn from_sqlite(from: &str, to: &str, replace: bool) -> Result<CopyReport> {
    let from_url = if from.starts_with("sqlite:") {
        from.to_string()
    } else {
        format!("sqlite://{from}")
    };
    let opts = SqliteConnectOptions::from_str(&from_url)
        .map_err(|e| StoreError::Invalid(format!("--from {from}: {e}")))?
        .create_if_missing(false)
        .read_only(true);
    let src = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(|e| {
            StoreError::NotFound(format!("--from {from}: no SQLite database there ({e})"))
        })?;
    // The source must have every migration of this build, so that its
    // columns are the ones expected.
    let pending: Vec<i64> = touban_store_sqlite_status(&src).await?;
    if !pending.is_empty() {
        return Err(StoreError::Invalid(format!(
            "--from {from}: the SQLite database lacks migrations {pending:?}; run `touban db migrate --db {from}` first"
        )));
    }
    let target = PgStore::connect(to, 2).await?;
    let mut tx = target.pool().begin().await.map_err(db_err)?;
    // No other writer while copying.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(crate::WRITE_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let mut report = CopyReport::default();
    let mut held = Vec::new();
    for t in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if n > 0 {
            held.push(format!("{t} ({n})"));
        }
    }
    if !held.is_empty() {
        if !replace {
            return Err(StoreError::Conflict(format!(
                "the target database is not empty: {}; copy into an empty database, or pass --replace to empty it first (everything in it, the audit log too, is lost)",
                held.join(", ")
            )));
        }
        // The audit log refuses TRUNCATE by a trigger: lifted for this
        // transaction only (DDL is transactional in PostgreSQL).
        sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(&format!(
            "TRUNCATE {} RESTART IDENTITY CASCADE",
            TABLES.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        report.replaced = true;
    }
    sqlx::query("SET CONSTRAINTS ALL DEFERRED")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    for t in TABLES {
        let cols = columns(&mut tx, t).await?;
        let names: Vec<String> = cols.iter().map(|(c, _)| c.clone()).collect();
        let src_cols: Vec<String> = names.iter().map(|c| sqlite_column(t, c)).collect();
        let rows = sqlx::query(&format!("SELECT {} FROM {t}", src_cols.join(", ")))
            .fetch_all(&src)
            .await
            .map_err(|e| StoreError::Invalid(format!("--from {from}, table {t}: {e}")))?;
        let mut vals: Vec<Vec<Val>> = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            vals.push(
                cols.iter()
                    .map(|(c, ty)| read_sqlite(r, t, c, *ty, i))
                    .collect::<Result<_>>()?,
            );
        }
        insert(&mut tx, t, &cols, &vals).await?;
        let has_identity: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'
                AND is_identity = 'YES')",
        )
        .bind(t)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if has_identity {
            // The next id after the highest copied.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let back = sqlx::query(&format!("SELECT {} FROM {t}", names.join(", ")))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let back: Vec<Vec<Val>> = back
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|(c, ty)| from_pg(r, c, *ty))
                    .collect::<Result<_>>()
            })
            .collect::<Result<_>>()?;
        report.tables.push(TableCopy {
            table: t,
            source_rows: vals.len() as u64,
            target_rows: back.len() as u64,
            source_sha256: digest(&vals),
            target_sha256: digest(&back),
        });
    }
    let differ: Vec<&TableCopy> = report.tables.iter().filter(|t| !t.matches()).collect();
    if !differ.is_empty() {
        tx.rollback().await.map_err(db_err)?;
        return Err(StoreError::Backend(format!(
            "the copy differs from the source in {}; nothing was committed",
            differ
                .iter()
                .map(|t| format!("{} ({} rows → {})", t.table, t.source_rows, t.target_rows))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    tx.commit().await.map_err(db_err)?;
    src.close().await;
    target.pool().close().await;
    Ok(report)
}

/// Migrations of this build the SQLite database lacks.
async fn touban_store_sqlite_status(src: &sqlx::SqlitePool) -> Result<Vec<i64>> {
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(src)
            .await
            .unwrap_or_default();
    Ok(SQLITE
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// Inserts rows in batches (PostgreSQL takes at most 65,535 parameters per
/// statement), keeping the source's ids.
async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    cols: &[(String, Ty)],
    rows: &[Vec<Val>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let per = (30_000 / cols.len().max(1)).max(1);
    let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
    for chunk in rows.chunks(per) {
        let mut sql = format!(
            "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES ",
            names.join(", ")
        );
        let mut n = 0;
        let tuples: Vec<String> = chunk
            .iter()
            .map(|_| {
                let ps: Vec<String> = cols
                    .iter()
                    .map(|(_, ty)| {
                        n += 1;
                        match ty {
                            Ty::Int4 => format!("${n}::integer"),
                            _ => format!("${n}"),
                        }
                    })
                    .collect();
                format!("({})", ps.join(", "))
            })
            .collect();
        sql.push_str(&tuples.join(", "));
        let mut q = sqlx::query(&sql);
        for r in chunk {
            for (v, (_, ty)) in r.iter().zip(cols) {
                q = match (v, ty) {
                    (Val::Null, Ty::Text) => q.bind(None::<String>),
                    (Val::Null, Ty::Int | Ty::Int4) => q.bind(None::<i64>),
                    (Val::Null, Ty::Time) => q.bind(None::<DateTime<Utc>>),
                    (Val::Null, Ty::Date) => q.bind(None::<NaiveDate>),
                    (Val::Null, Ty::Json) => q.bind(None::<serde_json::Value>),
                    (Val::Null, Ty::Bytes) => q.bind(None::<Vec<u8>>),
                    (Val::Text(s), _) => q.bind(s.clone()),
                    (Val::Int(i), _) => q.bind(*i),
                    (Val::Time(t), _) => q.bind(*t),
                    (Val::Date(d), _) => q.bind(*d),
                    (Val::Json(j), _) => q.bind(j.clone()),
                    (Val::Bytes(b), _) => q.bind(b.clone()),
                };
            }
        }
        q.execute(&mut **tx).await.map_err(|e| match db_err(e) {
            StoreError::Backend(m) | StoreError::Invalid(m) | StoreError::Conflict(m) => {
                StoreError::Invalid(format!("copying table {table}: {m}"))
            }
            other => other,
        })?;
    }
    Ok(())
}
