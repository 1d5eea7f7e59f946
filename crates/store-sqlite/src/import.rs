//! Importing a network: one transaction that brings each table in line with
//! the network, touching only rows that differ, so that importing the same
//! file twice writes nothing the second time.

use std::collections::HashMap;

use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use touban_domain::Network;
use touban_store::{ImportReport, KindReport, Result};

use crate::{Settings, db_err, now, to_json};

/// A column value to bind.
#[derive(Debug, Clone)]
enum V {
    T(String),
    I(i64),
}

/// One row as the network wants it.
#[derive(Debug)]
struct Wanted {
    /// Identity within the region; empty for content-identified rows
    /// (absences and requests, which have no id in the file).
    key: Vec<String>,
    cols: Vec<V>,
    data: String,
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

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    vals: &'q [V],
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for v in vals {
        q = match v {
            V::T(s) => q.bind(s.as_str()),
            V::I(i) => q.bind(*i),
        };
    }
    q
}

/// Brings `kind.table` in line with `wanted` for `region`.
async fn sync(
    tx: &mut Transaction<'_, Sqlite>,
    region: &str,
    kind: &Kind,
    wanted: Vec<Wanted>,
) -> Result<KindReport> {
    let mut report = KindReport {
        kind: kind.label,
        ..KindReport::default()
    };
    // Identity → fingerprint (data plus the other columns) of what is stored.
    let key_sel = if kind.key_cols.is_empty() {
        "data".to_string()
    } else {
        kind.key_cols.join(" || char(31) || ")
    };
    let fp_cols: Vec<String> = kind
        .cols
        .iter()
        .map(|c| format!("CAST({c} AS TEXT)"))
        .collect();
    // Rows identified by content are equal when their data is; their other
    // columns (creation time) are bookkeeping.
    let content_identified = kind.key_cols.is_empty();
    let fp_sel = if fp_cols.is_empty() || content_identified {
        "data".to_string()
    } else {
        format!("{} || char(31) || data", fp_cols.join(" || char(31) || "))
    };
    let sql = format!(
        "SELECT {key_sel} AS k, {fp_sel} AS fp FROM {} WHERE region_id = ? {}",
        kind.table, kind.owned
    );
    let rows = sqlx::query(&sql)
        .bind(region)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        stored.entry(r.get("k")).or_default().push(r.get("fp"));
    }
    let fingerprint = |w: &Wanted| {
        if content_identified {
            return w.data.clone();
        }
        let mut parts: Vec<String> = w
            .cols
            .iter()
            .map(|v| match v {
                V::T(s) => s.clone(),
                V::I(i) => i.to_string(),
            })
            .collect();
        parts.push(w.data.clone());
        parts.join("\u{1f}")
    };
    let all_cols: Vec<&str> = kind.key_cols.iter().chain(kind.cols).copied().collect();
    let insert = format!(
        "INSERT INTO {} (region_id, {}{}data) VALUES (?, {}?)",
        kind.table,
        all_cols.join(", "),
        if all_cols.is_empty() { "" } else { ", " },
        "?, ".repeat(all_cols.len())
    );
    let update = format!(
        "UPDATE {} SET {}{}data = ? WHERE region_id = ? AND {}",
        kind.table,
        kind.cols
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", "),
        if kind.cols.is_empty() { "" } else { ", " },
        kind.key_cols
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    for w in wanted {
        let identity = if kind.key_cols.is_empty() {
            w.data.clone()
        } else {
            w.key.join("\u{1f}")
        };
        let fp = fingerprint(&w);
        let existing = stored.get_mut(&identity).and_then(Vec::pop);
        match existing {
            Some(old) if old == fp => report.unchanged += 1,
            Some(_) => {
                let mut vals = w.cols.clone();
                vals.push(V::T(w.data.clone()));
                vals.push(V::T(region.to_string()));
                vals.extend(w.key.iter().cloned().map(V::T));
                bind_all(sqlx::query(&update), &vals)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                report.updated += 1;
            }
            None => {
                let mut vals = vec![V::T(region.to_string())];
                vals.extend(w.key.iter().cloned().map(V::T));
                vals.extend(w.cols.iter().cloned());
                vals.push(V::T(w.data.clone()));
                bind_all(sqlx::query(&insert), &vals)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
                report.added += 1;
            }
        }
    }
    // Whatever is left is no longer in the network.
    for (identity, left) in stored {
        for _ in left {
            let (cond, vals): (String, Vec<V>) = if kind.key_cols.is_empty() {
                ("data = ?".into(), vec![V::T(identity.clone())])
            } else {
                (
                    kind.key_cols
                        .iter()
                        .map(|c| format!("{c} = ?"))
                        .collect::<Vec<_>>()
                        .join(" AND "),
                    identity
                        .split('\u{1f}')
                        .map(|s| V::T(s.to_string()))
                        .collect(),
                )
            };
            // One row at a time: content-identified duplicates are removed singly.
            let sql = format!(
                "DELETE FROM {t} WHERE rowid = (SELECT rowid FROM {t} WHERE region_id = ? {owned} AND {cond} LIMIT 1)",
                t = kind.table,
                owned = kind.owned
            );
            let mut all = vec![V::T(region.to_string())];
            all.extend(vals);
            bind_all(sqlx::query(&sql), &all)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
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

pub async fn import(pool: &SqlitePool, net: &Network, actor: &str) -> Result<ImportReport> {
    let region = net.region.id.as_str();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let mut report = ImportReport::default();

    let data = to_json(&net.region)?;
    let settings = to_json(&Settings {
        weights: net.weights.clone(),
        policy: net.policy.clone(),
        travel: net.travel,
        rules: net.rules.clone(),
        pinned: net.pinned.clone(),
    })?;
    let existing = sqlx::query("SELECT data, settings FROM regions WHERE id = ?")
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
            sqlx::query("INSERT INTO regions (id, name, data, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(region)
                .bind(&net.region.name)
                .bind(&data)
                .bind(&settings)
                .bind(&at)
                .bind(&at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            report.region_created = true;
            region_kind.added = 1;
        }
        Some(r) if r.get::<&str, _>("data") == data && r.get::<&str, _>("settings") == settings => {
            region_kind.unchanged = 1
        }
        Some(_) => {
            sqlx::query(
                "UPDATE regions SET name = ?, data = ?, settings = ?, updated_at = ? WHERE id = ?",
            )
            .bind(&net.region.name)
            .bind(&data)
            .bind(&settings)
            .bind(&at)
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
                    "start_ts",
                    "end_ts",
                    "source",
                    "created_at",
                    "created_by",
                ],
                owned: "AND source = 'file'",
            },
            wanted(&net.absences, |_, a| {
                let cols = vec![
                    t(a.staff.as_str()),
                    V::I(a.start.timestamp()),
                    V::I(a.end.timestamp()),
                    t("file"),
                    t(&at),
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
                (
                    Vec::new(),
                    vec![t(r.staff.as_str()), t(&r.date.to_string())],
                )
            })?,
        ),
    ];
    for (kind, wanted) in kinds {
        report
            .kinds
            .push(sync(&mut tx, region, &kind, wanted).await?);
    }

    if report.changed() {
        sqlx::query("INSERT INTO network_changes (region_id, at, actor, action, detail) VALUES (?, ?, ?, 'import', ?)")
            .bind(region)
            .bind(&at)
            .bind(actor)
            .bind(report.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
    } else {
        // Nothing differs: roll back so not even a timestamp moves.
        tx.rollback().await.map_err(db_err)?;
    }
    Ok(report)
}
