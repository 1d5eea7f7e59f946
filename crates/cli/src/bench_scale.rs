//! Benchmarks of several instances on one database (issue 17), on either
//! backend, for BENCHMARKS.md's side-by-side table:
//!
//! - `touban bench edits`: coordinators editing and publishing one month at
//!   once through several API servers on one database; every answer is
//!   counted by status (the documented conflicts are 412, a version saved
//!   meanwhile, and 409, a version published meanwhile) and the latency of
//!   each kind of request given as p50 / p99 / max;
//! - `touban bench copy`: `db copy` of a generated network with a year of
//!   published rotas, timed.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use touban_domain::{Month, Network, NewRota};
use touban_solver::{History, Instance};
use touban_store::{Grant, Store};

use crate::config::DatabaseUrl;

/// A rota for a month by the solver's construction (fast and complete
/// enough for storage benchmarks).
pub(crate) fn constructed(net: &Network, month: Month) -> Vec<touban_domain::Assignment> {
    let inst = Instance::new(net, month);
    let all: Vec<usize> = (0..inst.shifts.len()).collect();
    let placed = touban_solver::greedy::construct(&inst, &History::default(), &all);
    let mut out = Vec::new();
    for (s, people) in placed {
        for (k, p) in people.into_iter().enumerate() {
            out.push(touban_domain::Assignment {
                shift: inst.shifts[s].shift.key(),
                staff: inst.staff[p].id.clone(),
                role: if k == 0 {
                    touban_domain::Role::Primary
                } else {
                    touban_domain::Role::Backup
                },
            });
        }
    }
    out
}

fn percentiles(mut v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "—".into();
    }
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} requests)",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(v[v.len() - 1]),
        v.len()
    )
}

#[derive(Default)]
struct Tally {
    /// (request kind, status) → count.
    statuses: BTreeMap<(&'static str, u16), usize>,
    /// request kind → latencies.
    times: BTreeMap<&'static str, Vec<Duration>>,
    published: usize,
}

async fn timed(
    tally: &Mutex<Tally>,
    kind: &'static str,
    req: reqwest::RequestBuilder,
) -> anyhow::Result<(u16, Value, Option<String>)> {
    let t = Instant::now();
    let r = req.send().await?;
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let took = t.elapsed();
    if let Ok(mut t) = tally.lock() {
        *t.statuses.entry((kind, status)).or_default() += 1;
        t.times.entry(kind).or_default().push(took);
    }
    Ok((status, body, etag))
}

/// `touban bench edits --db URL`: the database must be empty (a new
/// SQLite file or a new PostgreSQL database).
pub async fn edits(
    url: &DatabaseUrl,
    instances: usize,
    coordinators: usize,
    rounds: usize,
) -> anyhow::Result<ExitCode> {
    let store: Arc<dyn Store> = Arc::from(crate::store::open_pool(url, 10).await?);
    anyhow::ensure!(
        store.regions().await?.is_empty(),
        "--db {url}: give an empty database (this benchmark imports the demo network)"
    );
    let net = touban_netfile::parse(
        "southern-shimoina.toml",
        include_str!("../../../config/networks/southern-shimoina.toml"),
    )
    .map_err(|p| anyhow::anyhow!("demo network: {p}"))?;
    store.import_network(&net, "bench").await?;
    let month = Month::new(2027, 1)?;
    let v1 = store
        .save_rota(&NewRota {
            region: net.region.id.clone(),
            month,
            created_by: "bench".into(),
            note: None,
            based_on: None,
            assignments: constructed(&net, month),
            overridden: Vec::new(),
        })
        .await?;
    store
        .publish_rota(&net.region.id, month, v1.version, "bench")
        .await?;
    let issued = touban_api::auth::issue(
        Grant::Coordinator {
            region: net.region.id.clone(),
        },
        "bench",
        "bench",
    )
    .map_err(|p| anyhow::anyhow!(p.detail.clone()))?;
    store.create_credential(&issued.credential).await?;
    let token = issued.token;

    // The instances: each a server with a store (a pool) of its own.
    let mut bases = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..instances.max(1) {
        let s: Arc<dyn Store> = Arc::from(crate::store::open_pool(url, 10).await?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        bases.push(format!(
            "http://{}/api/v1/regions/{}/rotas/{month}",
            listener.local_addr()?,
            net.region.id
        ));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(tx);
        let config = touban_api::ApiConfig {
            rate_per_second: 0,
            ..touban_api::ApiConfig::default()
        };
        tokio::spawn(touban_api::serve(s, config, listener, async {
            let _ = rx.await;
        }));
    }
    let c = reqwest::Client::new();
    for b in &bases {
        let start = Instant::now();
        while c.get(b).bearer_auth(&token).send().await.is_err() {
            anyhow::ensure!(
                start.elapsed() < Duration::from_secs(10),
                "{b} did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let physicians: Vec<String> = net
        .staff
        .iter()
        .filter(|s| s.profession == touban_domain::Profession::Physician)
        .map(|s| s.id.to_string())
        .collect();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..coordinators {
        let base = bases[i % bases.len()].clone();
        let (c, token, tally, physicians) =
            (c.clone(), token.clone(), tally.clone(), physicians.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(i as u64);
            for _ in 0..rounds {
                // Read the latest version, change one physician's duty,
                // publish; start again from the latest on a conflict.
                for _attempt in 0..20 {
                    let (_, list, _) =
                        timed(&tally, "list", c.get(&base).bearer_auth(&token)).await?;
                    let latest = list["items"]
                        .as_array()
                        .and_then(|a| a.iter().filter_map(|v| v["version"].as_u64()).max())
                        .unwrap_or(1);
                    let (_, rota, etag) = timed(
                        &tally,
                        "read",
                        c.get(format!("{base}/versions/{latest}"))
                            .bearer_auth(&token),
                    )
                    .await?;
                    let duties: Vec<&Value> = rota["assignments"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter(|x| physicians.iter().any(|p| x["staff"] == json!(p)))
                                .collect()
                        })
                        .unwrap_or_default();
                    if duties.is_empty() {
                        anyhow::bail!("version {latest} has no physician's duty: {rota}");
                    }
                    let d = duties[rng.usize(..duties.len())];
                    let other = &physicians[rng.usize(..physicians.len())];
                    if d["staff"] == json!(other) {
                        continue;
                    }
                    let (s, saved, _) = timed(
                        &tally,
                        "edit",
                        c.post(format!("{base}/versions/{latest}/edits"))
                            .bearer_auth(&token)
                            .header("If-Match", etag.unwrap_or_default())
                            .json(&json!({
                                "changes": [{"service": d["service"], "template": d["template"],
                                    "date": d["date"], "remove": d["staff"], "add": other}],
                                "override_reason": "benchmark"
                            })),
                    )
                    .await?;
                    if s != 201 {
                        continue;
                    }
                    let v = saved["rota"]["version"].as_u64().unwrap_or(0);
                    let (s, _, _) = timed(
                        &tally,
                        "publish",
                        c.post(format!("{base}/versions/{v}/publish"))
                            .bearer_auth(&token)
                            .header("If-Match", format!("\"{month}-v{v}-draft\""))
                            .json(&json!({"override_reason": "benchmark"})),
                    )
                    .await?;
                    if s == 200 {
                        if let Ok(mut t) = tally.lock() {
                            t.published += 1;
                        }
                        break;
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    for s in stops {
        let _ = s.send(());
    }
    let t = std::mem::take(&mut *tally.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let backend = if crate::store::is_postgres(url) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{backend}: {coordinators} coordinators over {} instances, {rounds} published edits each: {} publishes in {secs:.1} s",
        bases.len(),
        t.published
    );
    let mut unexpected = 0;
    for ((kind, status), n) in &t.statuses {
        let documented = matches!(
            (*kind, *status),
            (_, 200 | 201) | ("edit", 412) | ("publish", 409 | 412)
        );
        if !documented {
            unexpected += n;
        }
        println!(
            "  {kind:<8} {status}: {n}{}",
            if documented {
                ""
            } else {
                "  ← not a documented answer"
            }
        );
    }
    for (kind, times) in &t.times {
        println!("  {kind:<8} {}", percentiles(times.clone()));
    }
    let versions = store.rota_versions(&net.region.id, month).await?;
    let published = versions
        .iter()
        .filter(|v| v.status == touban_domain::RotaStatus::Published)
        .count();
    println!(
        "  {} versions saved, {published} published now (exactly one), {unexpected} unexpected answers",
        versions.len()
    );
    anyhow::ensure!(published == 1, "{published} versions published at once");
    Ok(if unexpected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `touban bench copy --to URL`: a generated network with `months`
/// published months in a new SQLite file, copied to an empty PostgreSQL
/// database, timed.
pub async fn copy(
    staff: usize,
    services: usize,
    months: u32,
    to: &str,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("copy.db");
    let path = path.to_str().unwrap_or("copy.db");
    let t = Instant::now();
    let first = Month::new(2027, 1)?;
    let net = touban_solver::synth::network(staff, services, first.first_day(), 31, 1);
    let sqlite = touban_store_sqlite::SqliteStore::connect(path).await?;
    sqlite.import_network(&net, "bench").await?;
    let mut month = first;
    let mut assignments = 0;
    for _ in 0..months {
        let a = constructed(&net, month);
        assignments += a.len();
        let v = sqlite
            .save_rota(&NewRota {
                region: net.region.id.clone(),
                month,
                created_by: "bench".into(),
                note: None,
                based_on: None,
                assignments: a,
                overridden: Vec::new(),
            })
            .await?;
        sqlite
            .publish_rota(&net.region.id, month, v.version, "bench")
            .await?;
        month = month.next();
    }
    sqlite.pool().close().await;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "source: {} staff, {} services, {months} published months ({assignments} assignments), {:.1} MB, made in {:.1} s",
        net.staff.len(),
        net.services.len(),
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let report = touban_store_postgres::copy::from_sqlite(path, to, false).await?;
    let secs = t.elapsed().as_secs_f64();
    for tc in report.tables.iter().filter(|t| t.target_rows > 0) {
        println!("  {:<16} {:>9} rows", tc.table, tc.target_rows);
    }
    println!(
        "db copy: {} rows copied and verified (counts and SHA-256 per table) in {secs:.1} s",
        report.rows()
    );
    Ok(ExitCode::SUCCESS)
}
