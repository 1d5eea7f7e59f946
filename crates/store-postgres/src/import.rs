//! Importing a network: one transaction that brings each table in line with
//! the network, touching only rows that differ, so that importing the same
//! file twice writes nothing the second time.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction};
use touban_domain::Network;
use touban_store::{ImportReport, KindReport, Result};

use crate::{Settings, announce, begin, db_err, now, to_json};

/// A column value to bind.
#[derive(Debug, Clone)]
enum V {
    T(String),
    I(i64),
    Ts(DateTime<Utc>),
    D(NaiveDate),
}

impl V {
    /// The value as PostgreSQL's `CAST(… AS TEXT)` writes it (only text and
    /// integers take part in fingerprints).
    fn text(&self) -> String {
        match self {
            V::T(s) => s.clone(),
            V::I(i) => i.to_string(),
            V::Ts(t) => t.to_rfc3339(),
            V::D(d) => d.to_string(),
        }
    }
}

/// One row as the network wants it.
#[derive(Debug)]
struct Wanted {
    /// Identity within the region; empty for content-identified rows
    /// (absences and requests, which have no id in the file).
    key: Vec<String>,
    cols: Vec<V>,
    data: serde_json::Value,
}

/// How one table maps to the network.
#[derive(Debug)]
struct Kind {
    label: &'static str,
    table: &'static str,
    key_cols: &'static [&'static str],
    cols: &'static [&'static str],
    /// Extra condition selecting the rows the import owns.
    owned: &'static str,
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_all<'q>(mut q: Query<'q>, vals: &'q [V]) -> Query<'q> {
    for v in vals {
        q = match v {
            V::T(s) => q.bind(s.as_str()),
            V::I(i) => q.bind(*i),
            V::Ts(t) => q.bind(*t),
            V::D(d) => q.bind(*d),
        };
    }
    q
}

/// `$from, $from+1, …` (`n` of them).
fn params(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("${i}")).collect()
}

/// Brings `kind.table` in line with `wanted` for `region`.
async fn sync(
    tx: &mut Transaction<'_, Postgres>,
    region: &str,
    kind: &Kind,
    wanted: Vec<Wanted>,
) -> Result<KindReport> {
    let mut report = KindReport {
        kind: kind.label,
        ..KindReport::default()
    };
    // Rows identified by content are equal when their data is; their other
    // columns (creation time) are bookkeeping.
    let content_identified = kind.key_cols.is_empty();
    let key_sel = if content_identified {
        "''".to_string()
    } else {
        kind.key_cols.join(" || chr(31) || ")
    };
    let fp_sel = if kind.cols.is_empty() || content_identified {
        "''".to_string()
    } else {
        kind.cols
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || chr(31) || ")
    };
    let sql = format!(
        "SELECT {key_sel} AS k, {fp_sel} AS fp, data FROM {} WHERE region_id = $1 {}",
        kind.table, kind.owned
    );
    let rows = sqlx::query(&sql)
        .bind(region)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    // Identity → (fingerprint of the other columns, data) of what is stored.
    let mut stored: HashMap<String, Vec<(String, serde_json::Value)>> = HashMap::new();
    for r in rows {
        let data: serde_json::Value = r.get("data");
        let k: String = if content_identified {
            crate::canonical_json(&data)
        } else {
            r.get("k")
        };
        stored.entry(k).or_default().push((r.get("fp"), data));
    }
    let fingerprint = |w: &Wanted| -> String {
        if content_identified {
            return String::new();
        }
        w.cols
            .iter()
            .map(V::text)
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let all_cols: Vec<&str> = kind.key_cols.iter().chain(kind.cols).copied().collect();
    let insert = format!(
        "INSERT INTO {} (region_id, {}{}data) VALUES ({})",
        kind.table,
        all_cols.join(", "),
        if all_cols.is_empty() { "" } else { ", " },
        params(1, all_cols.len() + 2).join(", ")
    );
    let n_cols = kind.cols.len();
    let update = format!(
        "UPDATE {} SET {}{}data = ${} WHERE region_id = ${} AND {}",
        kind.table,
        kind.cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect::<Vec<_>>()
            .join(", "),
        if kind.cols.is_empty() { "" } else { ", " },
        n_cols + 1,
        n_cols + 2,
        kind.key_cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", n_cols + 3 + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    for w in wanted {
        let identity = if content_identified {
            crate::canonical_json(&w.data)
        } else {
            w.key.join("\u{1f}")
        };
        let fp = fingerprint(&w);
        let existing = stored.get_mut(&identity).and_then(Vec::pop);
        match existing {
            Some((old_fp, old_data)) if old_fp == fp && old_data == w.data => report.unchanged += 1,
            Some(_) => {
                let mut vals = w.cols.clone();
                let data_at = vals.len();
                vals.push(V::T(String::new())); // placeholder for data
                vals.push(V::T(region.to_string()));
                vals.extend(w.key.iter().cloned().map(V::T));
                let mut q = sqlx::query(&update);
                for (i, v) in vals.iter().enumerate() {
                    q = if i == data_at {
                        q.bind(&w.data)
                    } else {
                        bind_all(q, std::slice::from_ref(v))
                    };
                }
                q.execute(&mut **tx).await.map_err(db_err)?;
                report.updated += 1;
            }
            None => {
                let mut vals = vec![V::T(region.to_string())];
                vals.extend(w.key.iter().cloned().map(V::T));
                vals.extend(w.cols.iter().cloned());
                bind_all(sqlx::query(&insert), &vals)
                    .bind(&w.data)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                report.added += 1;
            }
        }
    }
    // Whatever is left is no longer in the network; one row at a time, so
    // that content-identified duplicates are removed singly.
    for (identity, left) in stored {
        for (_, data) in left {
            let (cond, vals): (String, Vec<V>) = if content_identified {
                ("data = $2".into(), Vec::new())
            } else {
                (
                    kind.key_cols
                        .iter()
                        .enumerate()
                        .map(|(i, c)| format!("{c} = ${}", i + 2))
                        .collect::<Vec<_>>()
                        .join(" AND "),
                    identity
                        .split('\u{1f}')
                        .map(|s| V::T(s.to_string()))
                        .collect(),
                )
            };
            let sql = format!(
                "DELETE FROM {t} WHERE ctid = (SELECT ctid FROM {t} WHERE region_id = $1 {owned} AND {cond} LIMIT 1)",
                t = kind.table,
                owned = kind.owned
            );
            let q = sqlx::query(&sql).bind(region);
            let q = if content_identified {
                q.bind(&data)
            } else {
                bind_all(q, &vals)
            };
            q.execute(&mut **tx).await.map_err(db_err)?;
            report.removed += 1;
        }
    }
    Ok(report)
}

/// The rows a list of domain values wants: `f` gives each value's key and
/// column values; the value itself is stored as JSON.
fn wanted<T: serde::Serialize>(
    items: &[T],
    f: impl Fn(usize, &T) -> (Vec<String>, Vec<V>),
) -> Result<Vec<Wanted>> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let (key, cols) = f(i, x);
            Ok(Wanted {
                key,
                cols,
                data: to_json(x)?,
            })
        })
        .collect()
}

fn ord(i: usize) -> V {
    V::I(i64::try_from(i).unwrap_or(i64::MAX))
}

pub async fn import(pool: &PgPool, net: &Network, actor: &str) -> Result<ImportReport> {
    let region = net.region.id.as_str();
    let mut tx = begin(pool).await?;
    let mut report = ImportReport::default();

    let data = to_json(&net.region)?;
    let settings = to_json(&Settings {
        weights: net.weights.clone(),
        policy: net.policy.clone(),
        travel: net.travel,
        rules: net.rules.clone(),
        pinned: net.pinned.clone(),
    })?;
    let existing = sqlx::query("SELECT data, settings FROM regions WHERE id = $1")
        .bind(region)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let at = now();
    let mut region_kind = KindReport {
        kind: "region",
        ..KindReport::default()
    };
    match existing {
        None => {
            sqlx::query("INSERT INTO regions (id, name, data, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
                .bind(region)
                .bind(&net.region.name)
                .bind(&data)
                .bind(&settings)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            report.region_created = true;
            region_kind.added = 1;
        }
        Some(r)
            if r.get::<serde_json::Value, _>("data") == data
                && r.get::<serde_json::Value, _>("settings") == settings =>
        {
            region_kind.unchanged = 1
        }
        Some(_) => {
            sqlx::query(
                "UPDATE regions SET name = $1, data = $2, settings = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(&net.region.name)
            .bind(&data)
            .bind(&settings)
            .bind(at)
            .bind(region)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            region_kind.updated = 1;
        }
    }
    report.kinds.push(region_kind);

    let t = |s: &str| V::T(s.to_string());
    let kinds: [(Kind, Vec<Wanted>); 7] = [
        (
            Kind {
                label: "municipalities",
                table: "municipalities",
                key_cols: &["id"],
                cols: &["ord", "name"],
                owned: "",
            },
            wanted(&net.municipalities, |i, m| {
                (vec![m.id.to_string()], vec![ord(i), t(&m.name)])
            })?,
        ),
        (
            Kind {
                label: "institutions",
                table: "institutions",
                key_cols: &["id"],
                cols: &["ord", "name", "kind", "municipality_id"],
                owned: "",
            },
            wanted(&net.institutions, |i, x| {
                (
                    vec![x.id.to_string()],
                    vec![
                        ord(i),
                        t(&x.name),
                        t(x.kind.as_str()),
                        t(x.municipality.as_str()),
                    ],
                )
            })?,
        ),
        (
            Kind {
                label: "staff",
                table: "staff",
                key_cols: &["id"],
                cols: &["ord", "name", "profession", "home_institution_id", "email"],
                owned: "",
            },
            wanted(&net.staff, |i, s| {
                let cols = vec![
                    ord(i),
                    t(&s.name),
                    t(s.profession.as_str()),
                    t(s.home_institution.as_str()),
                    t(s.email.as_str()),
                ];
                (vec![s.id.to_string()], cols)
            })?,
        ),
        (
            Kind {
                label: "services",
                table: "services",
                key_cols: &["id"],
                cols: &["ord", "name", "profession"],
                owned: "",
            },
            wanted(&net.services, |i, s| {
                (
                    vec![s.id.to_string()],
                    vec![ord(i), t(&s.name), t(s.profession.as_str())],
                )
            })?,
        ),
        (
            Kind {
                label: "attending pairs",
                table: "attending_pairs",
                key_cols: &["primary_id", "backup_id"],
                cols: &["ord"],
                owned: "",
            },
            wanted(&net.attending_pairs, |i, p| {
                (
                    vec![p.primary.to_string(), p.backup.to_string()],
                    vec![ord(i)],
                )
            })?,
        ),
        (
            Kind {
                label: "absences",
                table: "absences",
                key_cols: &[],
                cols: &[
                    "staff_id",
                    "start_at",
                    "end_at",
                    "source",
                    "created_at",
                    "created_by",
                ],
                owned: "AND source = 'file'",
            },
            wanted(&net.absences, |_, a| {
                let cols = vec![
                    t(a.staff.as_str()),
                    V::Ts(a.start.with_timezone(&Utc)),
                    V::Ts(a.end.with_timezone(&Utc)),
                    t("file"),
                    V::Ts(at),
                    t(actor),
                ];
                (Vec::new(), cols)
            })?,
        ),
        (
            Kind {
                label: "requests",
                table: "requests",
                key_cols: &[],
                cols: &["staff_id", "date"],
                owned: "AND source = 'file'",
            },
            wanted(&net.requests, |_, r| {
                (Vec::new(), vec![t(r.staff.as_str()), V::D(r.date)])
            })?,
        ),
    ];
    for (kind, wanted) in kinds {
        report
            .kinds
            .push(sync(&mut tx, region, &kind, wanted).await?);
    }

    if report.changed() {
        sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES ($1, $2, $3, 'import', $4)")
            .bind(region)
            .bind(at)
            .bind(actor)
            .bind(report.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        announce(&mut tx, region).await?;
        tx.commit().await.map_err(db_err)?;
    } else {
        // Nothing differs: roll back so not even a timestamp moves.
        tx.rollback().await.map_err(db_err)?;
    }
    Ok(report)
}
