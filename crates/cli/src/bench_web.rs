//! `touban bench web`: how fast the web app answers, measured against the
//! real server (the API and the web app, in this process, on a loopback
//! port, over HTTP): the month grid (time, and size as sent gzip-compressed),
//! a cell's candidate panel, an edit with its rule check, a staff
//! member's "my duties" and the swap partners of one duty, on the demo
//! network and on a generated one.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use touban_domain::{Month, Network, NewRota, ShiftKey};
use touban_solver::{Instance, SolveOptions};
use touban_store::web::Session;
use touban_store::{Grant, Store};
use touban_store_sqlite::SqliteStore;

struct Server {
    base: String,
    cookie: String,
    csrf: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// A signed-in session for `grant`: the cookie's value and the id's hash.
async fn session(store: &dyn Store, grant: Grant) -> anyhow::Result<(String, String)> {
    let (value, id_hash) = touban_web::session::new_id();
    let now = Utc::now();
    store
        .create_session(&Session {
            id_hash: id_hash.clone(),
            email: "bench@example.jp".into(),
            grant,
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
            ended_at: None,
            verified_at: Some(now),
        })
        .await?;
    Ok((value, id_hash))
}

async fn start(store: Arc<dyn Store>, net: &Network) -> anyhow::Result<Server> {
    let jobs = touban_app::jobs::Jobs::new(3);
    let web =
        touban_web::WebState::new(store.clone(), "http://127.0.0.1", false, jobs.clone(), None)
            .await?;
    let key = store.server_secret("offer-links", b"unused").await?;
    let (value, id_hash) = session(
        store.as_ref(),
        Grant::Coordinator {
            region: net.region.id.clone(),
        },
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = touban_api::ApiConfig {
        rate_per_second: 0,
        ..touban_api::ApiConfig::default()
    };
    tokio::spawn(touban_api::serve_with(
        store,
        config,
        listener,
        async {
            let _ = rx.await;
        },
        touban_web::router(web),
        jobs,
    ));
    Ok(Server {
        base,
        cookie: format!("{}={value}", touban_web::session::COOKIE),
        csrf: touban_web::session::csrf_token(&key, &id_hash),
        stop: tx,
    })
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms, max {:.1} ms ({} runs)",
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

/// GETs `path` `runs` times; the times and the last body's size as sent.
async fn get(
    c: &reqwest::Client,
    s: &Server,
    path: &str,
    runs: usize,
) -> anyhow::Result<(Vec<Duration>, usize, reqwest::StatusCode)> {
    let mut times = Vec::new();
    let mut size = 0;
    let mut status = reqwest::StatusCode::OK;
    for _ in 0..runs {
        let t = Instant::now();
        let r = c
            .get(format!("{}{path}", s.base))
            .header("cookie", &s.cookie)
            .header("accept-encoding", "gzip")
            .send()
            .await?;
        status = r.status();
        size = r.bytes().await?.len();
        times.push(t.elapsed());
    }
    Ok((times, size, status))
}

async fn measure(
    label: &str,
    net: &Network,
    month: Month,
    runs: usize,
    edit: bool,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::connect(dir.path().join("b.db").to_str().unwrap_or("b.db")).await?);
    store.import_network(net, "bench").await?;
    let inst = Instance::new(net, month);
    let out = touban_solver::generate(
        &inst,
        &touban_solver::History::default(),
        &SolveOptions {
            time_limit: 20.0,
            mip_gap: 0.05,
            threads: 1,
            progress: false,
        },
    )?;
    let rota = store
        .save_rota(&NewRota {
            region: net.region.id.clone(),
            month,
            created_by: "bench".into(),
            note: None,
            based_on: None,
            assignments: out.assignments,
            overridden: Vec::new(),
        })
        .await?;
    let s = start(store.clone(), net).await?;
    let c = reqwest::Client::new();
    // The busiest cell: the shift with the most people of its profession.
    let key: &ShiftKey = &rota
        .assignments
        .iter()
        .max_by_key(|a| {
            inst.shift_index
                .get(&a.shift)
                .map_or(0, |&i| inst.candidates[i].len())
        })
        .ok_or_else(|| anyhow::anyhow!("an empty rota"))?
        .shift;
    let cell = format!(
        "/months/{month}/cell?version=1&service={}&template={}&date={}",
        key.service, key.template, key.date
    );
    // The first opening of a cell computes the month's fair targets of its
    // profession (kept until the region changes); later ones reuse them.
    let (first, _, status) = get(&c, &s, &cell, 1).await?;
    anyhow::ensure!(status.is_success(), "cell panel answered {status}");
    let (t, size, status) = get(&c, &s, &format!("/months/{month}?version=1"), runs).await?;
    anyhow::ensure!(status.is_success(), "month page answered {status}");
    println!(
        "{label}: month grid ({} staff, {} shifts): {}, {:.0} KB as sent (gzip)",
        net.staff.len(),
        inst.shifts.len(),
        stats(t),
        size as f64 / 1024.0
    );
    let (t, _, status) = get(&c, &s, &cell, runs).await?;
    anyhow::ensure!(status.is_success(), "cell panel answered {status}");
    let i = inst.shift_index[key];
    println!(
        "{label}: cell panel ({} candidates of the profession): first opening (fair targets computed) {:.1} ms; then {}",
        inst.candidates[i].len(),
        first[0].as_secs_f64() * 1000.0,
        stats(t)
    );
    if edit {
        // Edits, each on the newest version: a person of the cell replaced
        // by the first candidate who may take it, checked and saved.
        let mut times = Vec::new();
        for version in 1..=runs.min(10) as u32 {
            let latest = store.rota(&net.region.id, month, Some(version)).await?;
            let on = latest
                .assignments
                .iter()
                .find(|a| a.shift == *key)
                .map(|a| a.staff.to_string());
            let (net2, history) =
                touban_app::ops::context(store.as_ref(), &net.region.id, month).await?;
            let inst2 = Instance::new(&net2, month);
            let cand = touban_solver::explain::candidates(
                &inst2,
                &latest.assignments,
                &history,
                key,
                None,
            )
            .into_iter()
            .find(|b| b.rule.is_none())
            .ok_or_else(|| anyhow::anyhow!("nobody may take {key}"))?;
            let mut form = vec![
                ("csrf", s.csrf.clone()),
                ("version", version.to_string()),
                ("service", key.service.to_string()),
                ("template", key.template.to_string()),
                ("date", key.date.to_string()),
                ("add", cand.staff.to_string()),
            ];
            if let Some(r) = on {
                form.push(("remove", r));
            }
            let t = Instant::now();
            let r = c
                .post(format!("{}/months/{month}/edit", s.base))
                .header("cookie", &s.cookie)
                .header("hx-request", "true")
                .form(&form)
                .send()
                .await?;
            times.push(t.elapsed());
            anyhow::ensure!(
                r.status() == reqwest::StatusCode::NO_CONTENT,
                "edit answered {}",
                r.status()
            );
        }
        println!("{label}: edit with its rule check, saved: {}", stats(times));
    }
    // "My duties" of the person with the most duties, once the version is
    // published (staff see published versions only).
    touban_app::ops::publish(
        store.as_ref(),
        &net.region.id,
        month,
        1,
        "bench",
        Some("bench"),
    )
    .await
    .map_err(|e| anyhow::anyhow!("publish: {e:?}"))?;
    let mut count: std::collections::HashMap<&touban_domain::StaffId, usize> =
        std::collections::HashMap::new();
    for a in &rota.assignments {
        *count.entry(&a.staff).or_default() += 1;
    }
    let (busiest, n) = count
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .ok_or_else(|| anyhow::anyhow!("an empty rota"))?;
    let (value, _) = session(
        store.as_ref(),
        Grant::Staff {
            region: net.region.id.clone(),
            staff: busiest.clone(),
        },
    )
    .await?;
    let staff = Server {
        base: s.base.clone(),
        cookie: format!("{}={value}", touban_web::session::COOKIE),
        csrf: String::new(),
        stop: tokio::sync::oneshot::channel().0,
    };
    let (t, _, status) = get(&c, &staff, &format!("/me?month={month}"), runs).await?;
    anyhow::ensure!(status.is_success(), "my duties answered {status}");
    println!("{label}: my duties ({n} duties in the month): {}", stats(t));
    // Swap partners for that person's first duty: the page that lists the
    // swaps keeping every hard rule for both, and the give-aways.
    let first = rota
        .assignments
        .iter()
        .filter(|a| &a.staff == busiest)
        .min_by_key(|a| a.shift.date)
        .ok_or_else(|| anyhow::anyhow!("no duty"))?;
    let path = format!(
        "/me/swap?service={}&template={}&date={}",
        first.shift.service, first.shift.template, first.shift.date
    );
    let (t, size, status) = get(&c, &staff, &path, runs).await?;
    anyhow::ensure!(status.is_success(), "swap partners answered {status}");
    let net_partners =
        touban_app::swaps::partners(store.as_ref(), &net.region.id, busiest, &first.shift).await?;
    println!(
        "{label}: swap partners of one duty ({} swaps, {} give-aways found; {:.0} KB): {}",
        net_partners.swaps.len(),
        net_partners.takers.len(),
        size as f64 / 1024.0,
        stats(t)
    );
    let _ = s.stop.send(());
    Ok(())
}

pub async fn web(runs: usize) -> anyhow::Result<ExitCode> {
    let month = Month::new(2027, 1)?;
    let demo = touban_netfile::parse(
        "southern-shimoina.toml (built in)",
        crate::commands::DEMO_NETWORK,
    )
    .map_err(|p| anyhow::anyhow!("{p}"))?;
    measure("demo", &demo, month, runs, true).await?;
    let synth = touban_solver::synth::network(1000, 60, month.first_day(), 31, 1);
    measure("synth 1000 staff", &synth, month, runs, false).await?;
    Ok(ExitCode::SUCCESS)
}
