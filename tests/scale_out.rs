//! Scale-out on PostgreSQL, with real processes: two `touban serve` and two
//! `touban notify run` on one database (the real server of the machine, a
//! database of its own, dropped afterwards) and a real SMTP server
//! (aiosmtpd) on loopback.
//!
//! - a publish on instance A is named by the on-call lookup on instance B
//!   within a second (B's refresh interval is set to an hour: only
//!   LISTEN/NOTIFY can tell it);
//! - two coordinators on A and B edit the same version at once: one wins,
//!   the other is told (412 with who saved what);
//! - a 200-person month is published and every notice reaches the SMTP
//!   server exactly once across the two workers;
//! - one worker is killed with SIGKILL mid-batch and every notice still
//!   arrives, duplicates only among the rows it held.

#[path = "smtp/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Sink, free_port, outbox_id, repo_root};
use serde_json::{Value, json};
use touban_domain::{Month, NewRota};
use touban_store::{MessageFilter, MessageKind, MessageState, NewMessage, Store};
use touban_store_postgres::PgStore;
use touban_store_postgres::testdb::TestDb;

fn touban(url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(args)
        .args(["--db", url])
        .current_dir(repo_root())
        .env_remove("TOUBAN_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "touban {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(url: &str, port: u16) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_touban"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db",
                url,
            ])
            .current_dir(repo_root())
            .env_remove("TOUBAN_CONFIG")
            // Only LISTEN/NOTIFY may tell B of A's publish within a second.
            .env("TOUBAN_API__ONCALL_REFRESH_SECONDS", "3600")
            .env("TOUBAN_API__RATE_PER_SECOND", "0")
            // E-mail is the workers' job here.
            .env("TOUBAN_NOTIFY__IN_SERVER", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn worker(url: &str, smtp: u16) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_touban"))
            .args(["notify", "run", "--db", url])
            .current_dir(repo_root())
            .env_remove("TOUBAN_CONFIG")
            .env("TOUBAN_SMTP__URL", format!("smtp://127.0.0.1:{smtp}"))
            .env("TOUBAN_SMTP__TIMEOUT_SECONDS", "2")
            .env("TOUBAN_NOTIFY__BATCH_SIZE", "16")
            .env("TOUBAN_NOTIFY__CONCURRENCY", "4")
            .env("TOUBAN_NOTIFY__LEASE_SECONDS", "2")
            .env("TOUBAN_NOTIFY__POLL_INTERVAL_MS", "50")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn up(c: &reqwest::Client, port: u16) {
    let start = Instant::now();
    loop {
        if let Ok(r) = c
            .get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve on {port} did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Messages settled without sending (no address, nothing left to tell),
/// with the reason.
async fn cancelled(store: &dyn Store, ids: &BTreeSet<i64>) -> BTreeMap<i64, String> {
    store
        .messages(&MessageFilter {
            limit: 100_000,
            ..MessageFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|m| ids.contains(&m.id) && m.state == MessageState::Cancelled)
        .map(|m| (m.id, m.last_error.unwrap_or_default()))
        .collect()
}

async fn states(store: &dyn Store) -> BTreeMap<i64, MessageState> {
    store
        .messages(&MessageFilter {
            limit: 100_000,
            ..MessageFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.state))
        .collect()
}

/// Waits until every listed message is sent (or cancelled: see
/// [`cancelled`]).
async fn all_sent(store: &dyn Store, ids: &BTreeSet<i64>, within: Duration) {
    let start = Instant::now();
    loop {
        let s = states(store).await;
        let left: BTreeMap<MessageState, usize> = ids
            .iter()
            .filter_map(|id| s.get(id))
            .filter(|st| !matches!(**st, MessageState::Sent | MessageState::Cancelled))
            .fold(BTreeMap::new(), |mut m, x| {
                *m.entry(*x).or_insert(0) += 1;
                m
            });
        if left.is_empty() {
            return;
        }
        assert!(start.elapsed() < within, "not all sent: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Who the on-call lookup of one instance names for one moment.
async fn on_call(c: &reqwest::Client, port: u16, token: &str, at: &str) -> BTreeSet<String> {
    let r: Value = c
        .get(format!("http://127.0.0.1:{port}/api/v1/oncall"))
        .query(&[("service", "homecare-oncall"), ("at", at)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["entries"][0]["now"]["people"]
        .as_array()
        .unwrap_or_else(|| panic!("no slot in {r}"))
        .iter()
        .map(|p| p["staff"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_two_workers_on_one_database() {
    let db = TestDb::new("scale").await;
    let url = db.url();
    let net_file = repo_root().join("config/networks/southern-shimoina.toml");
    touban(&url, &["import", net_file.to_str().unwrap()]);
    touban(
        &url,
        &["generate", "--month", "2027-01", "--time-limit", "30"],
    );
    touban(&url, &["publish", "--month", "2027-01"]);
    let token = touban(
        &url,
        &[
            "token",
            "create",
            "--role",
            "coordinator",
            "--region",
            "southern-shimoina",
        ],
    )
    .trim()
    .to_string();
    let store = PgStore::connect(&url, 4).await.unwrap();

    let (pa, pb) = (free_port(), free_port());
    let _a = serve(&url, pa);
    let _b = serve(&url, pb);
    let c = reqwest::Client::new();
    up(&c, pa).await;
    up(&c, pb).await;

    // B names the published person (and keeps the month in memory).
    let region = touban_domain::RegionId::parse("southern-shimoina").unwrap();
    let month = Month::new(2027, 1).unwrap();
    let v1 = store.published_rota(&region, month).await.unwrap().unwrap();
    let at = "2027-01-15T23:00:00+09:00";
    let date = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
    let before = on_call(&c, pb, &token, at).await;
    let on_shift: Vec<_> = v1
        .assignments
        .iter()
        .filter(|a| {
            a.shift.service.as_str() == "homecare-oncall"
                && a.shift.template.as_str() == "night"
                && a.shift.date == date
        })
        .collect();
    let primary = on_shift
        .iter()
        .find(|a| a.role == touban_domain::Role::Primary)
        .expect("a primary on the 15th");
    assert!(before.contains(primary.staff.as_str()), "{before:?}");
    // Someone of the same profession not on the shift.
    let net = store.load_network(&region).await.unwrap();
    let profession = net.staff_member(&primary.staff).unwrap().profession;
    let stand_in = net
        .staff
        .iter()
        .find(|s| s.profession == profession && !on_shift.iter().any(|a| a.staff == s.id))
        .unwrap()
        .id
        .clone();

    // Two coordinators, on A and on B, edit version 1 at once.
    let base =
        |p: u16| format!("http://127.0.0.1:{p}/api/v1/regions/southern-shimoina/rotas/2027-01");
    let etag = c
        .get(format!("{}/versions/1", base(pa)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let edit = |p: u16| {
        c.post(format!("{}/versions/1/edits", base(p)))
            .bearer_auth(&token)
            .header("If-Match", &etag)
            .json(&json!({
                "changes": [{"service": "homecare-oncall", "template": "night", "date": "2027-01-15",
                             "remove": primary.staff.as_str(), "add": stand_in.as_str()}],
                "override_reason": "scale-out test"
            }))
            .send()
    };
    let (ra, rb) = tokio::join!(edit(pa), edit(pb));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut codes = [ra.status().as_u16(), rb.status().as_u16()];
    codes.sort_unstable();
    let bodies = [ra.text().await.unwrap(), rb.text().await.unwrap()];
    assert_eq!(
        codes,
        [201, 412],
        "one edit wins, the other is told: {bodies:?}"
    );
    let told = bodies.iter().find(|b| !b.contains("\"rota\"")).unwrap();
    assert!(told.contains("version"), "{told}");

    // A publishes version 2; B names the stand-in within a second.
    let r = c
        .post(format!("{}/versions/2/publish", base(pa)))
        .bearer_auth(&token)
        .header("If-Match", "\"2027-01-v2-draft\"")
        .json(&json!({"override_reason": "scale-out test"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let published = Instant::now();
    loop {
        let now = on_call(&c, pb, &token, at).await;
        if now.contains(stand_in.as_str()) && !now.contains(primary.staff.as_str()) {
            break;
        }
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "B still names {now:?} a second after A's publish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen_after = published.elapsed();

    // A 200-person month, published: every notice exactly once.
    let synth = touban_solver::synth::network(200, 12, month.first_day(), 31, 7);
    store.import_network(&synth, "test").await.unwrap();
    let inst = touban_solver::Instance::new(&synth, month);
    let out = touban_solver::generate(
        &inst,
        &touban_solver::History::default(),
        &touban_solver::SolveOptions {
            time_limit: 10.0,
            mip_gap: 0.05,
            threads: 1,
            progress: false,
        },
    )
    .unwrap();
    let people: BTreeSet<_> = out.assignments.iter().map(|a| a.staff.clone()).collect();
    let sink = Sink::start(free_port(), &["--delay-ms", "10"]);
    let before_publish: BTreeSet<i64> = states(&store).await.into_keys().collect();
    let w1 = worker(&url, sink.port);
    let w2 = worker(&url, sink.port);
    let v = store
        .save_rota(&NewRota {
            region: synth.region.id.clone(),
            month,
            created_by: "test".into(),
            note: None,
            based_on: None,
            assignments: out.assignments.clone(),
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    store
        .publish_rota(&synth.region.id, month, v.version, "test")
        .await
        .unwrap();
    let ids: BTreeSet<i64> = states(&store)
        .await
        .into_keys()
        .filter(|id| !before_publish.contains(id))
        .collect();
    assert!(
        ids.len() >= people.len(),
        "{} notices for {} people",
        ids.len(),
        people.len()
    );
    assert!(people.len() >= 150, "only {} people on duty", people.len());
    all_sent(&store, &ids, Duration::from_secs(120)).await;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for raw in sink.messages() {
        *seen.entry(outbox_id(&raw)).or_default() += 1;
    }
    let skipped = cancelled(&store, &ids).await;
    for id in &ids {
        let want = usize::from(!skipped.contains_key(id));
        assert_eq!(
            seen.get(id).copied().unwrap_or(0),
            want,
            "notice {id} (cancelled: {:?})",
            skipped.get(id)
        );
    }
    // SIGKILL one worker mid-batch: every notice still arrives.
    let people: Vec<_> = people.into_iter().collect();
    let msgs: Vec<NewMessage> = (0..200)
        .map(|i| NewMessage {
            region: synth.region.id.clone(),
            kind: MessageKind::Published,
            staff: Some(people[i % people.len()].clone()),
            payload: json!({ "month": month, "from": null, "to": v.version }),
            due_at: chrono::Utc::now(),
            dedupe_key: None,
            merge_key: None,
        })
        .collect();
    let before_kill: BTreeSet<i64> = states(&store).await.into_keys().collect();
    let delivered_before = sink.messages().len();
    store.enqueue(&msgs).await.unwrap();
    let ids2: BTreeSet<i64> = states(&store)
        .await
        .into_keys()
        .filter(|id| !before_kill.contains(id))
        .collect();
    assert_eq!(ids2.len(), 200);
    let start = Instant::now();
    while sink.messages().len() < delivered_before + 30 {
        assert!(start.elapsed() < Duration::from_secs(60), "nothing sent");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut w1 = w1;
    w1.0.kill().unwrap(); // SIGKILL
    w1.0.wait().unwrap();
    let in_flight: BTreeSet<i64> = states(&store)
        .await
        .into_iter()
        .filter(|(id, s)| ids2.contains(id) && *s == MessageState::Sending)
        .map(|(id, _)| id)
        .collect();
    all_sent(&store, &ids2, Duration::from_secs(120)).await;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for raw in sink.messages() {
        *seen.entry(outbox_id(&raw)).or_default() += 1;
    }
    let got: BTreeSet<i64> = seen
        .keys()
        .copied()
        .filter(|id| ids2.contains(id))
        .collect();
    assert_eq!(got, ids2, "every notice delivered at least once");
    let dups: BTreeSet<i64> = ids2
        .iter()
        .copied()
        .filter(|id| seen.get(id).copied().unwrap_or(0) > 1)
        .collect();
    assert!(
        dups.is_subset(&in_flight),
        "duplicates {dups:?} outside the {} rows in flight at the kill",
        in_flight.len()
    );
    drop(w2);
    eprintln!(
        "B saw A's publish after {seen_after:?}; {} + 200 notices by two workers ({} not sent: {skipped:?}); {} in flight at the kill, {} duplicates",
        ids.len(),
        skipped.len(),
        in_flight.len(),
        dups.len()
    );
    store.pool().close().await;
}
