//! `touban notify run` killed with SIGKILL in the middle of a batch, then
//! started again: every message reaches the (real, aiosmtpd) SMTP server at
//! least once, and the only duplicates are messages that were claimed and
//! unsettled when the process died (their send may have been in flight).

#[path = "smtp/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Sink, free_port, outbox_id, repo_root};
use touban_store::{MessageFilter, MessageKind, MessageState, NewMessage, Store};
use touban_store_sqlite::SqliteStore;

fn touban(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(args)
        .arg("--db")
        .arg(db)
        .current_dir(repo_root())
        .env_remove("TOUBAN_CONFIG")
        .output()
        .unwrap()
}

fn worker(db: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(["notify", "run", "--db"])
        .arg(db)
        .current_dir(repo_root())
        .env_remove("TOUBAN_CONFIG")
        .env("TOUBAN_SMTP__URL", format!("smtp://127.0.0.1:{port}"))
        .env("TOUBAN_SMTP__TIMEOUT_SECONDS", "2")
        .env("TOUBAN_NOTIFY__BATCH_SIZE", "16")
        .env("TOUBAN_NOTIFY__CONCURRENCY", "8")
        .env("TOUBAN_NOTIFY__LEASE_SECONDS", "1")
        .env("TOUBAN_NOTIFY__POLL_INTERVAL_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn states(store: &dyn Store) -> BTreeMap<i64, MessageState> {
    store
        .messages(&MessageFilter {
            limit: 10_000,
            ..MessageFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_nothing_and_duplicates_only_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kill.db");
    let net_file = repo_root().join("config/networks/southern-shimoina.toml");
    assert!(
        touban(&db, &["import", net_file.to_str().unwrap()])
            .status
            .success()
    );
    let g = touban(
        &db,
        &["generate", "--month", "2027-01", "--time-limit", "30"],
    );
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));

    let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
    let net = store.regions().await.unwrap().remove(0);
    let rota = store
        .rota(&net.id, touban_domain::Month::new(2027, 1).unwrap(), None)
        .await
        .unwrap();
    let people: Vec<_> = rota
        .assignments
        .iter()
        .map(|a| a.staff.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let msgs: Vec<NewMessage> = (0..200)
        .map(|i| NewMessage {
            region: net.id.clone(),
            kind: MessageKind::Published,
            staff: Some(people[i % people.len()].clone()),
            payload: serde_json::json!({ "month": rota.month, "from": null, "to": rota.version }),
            due_at: chrono::Utc::now(),
            dedupe_key: None,
            merge_key: None,
        })
        .collect();
    store.enqueue(&msgs).await.unwrap();
    let ids: BTreeSet<i64> = states(&store).await.into_keys().collect();
    assert_eq!(ids.len(), 200);

    // A slow server (40 ms per message), so that the kill lands mid-batch.
    let sink = Sink::start(free_port(), &["--delay-ms", "40"]);
    let mut first = worker(&db, sink.port);
    let start = Instant::now();
    while sink.messages().len() < 40 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "worker sent nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = states(&store).await;
    let in_flight: BTreeSet<i64> = at_kill
        .iter()
        .filter(|(_, s)| **s == MessageState::Sending)
        .map(|(id, _)| *id)
        .collect();
    assert!(!in_flight.is_empty(), "the kill should land mid-batch");
    let delivered_before = sink.messages().len();
    assert!(
        delivered_before < 200,
        "the kill came too late to test anything"
    );

    // Restarted, the worker takes the dead one's claims after their lease.
    let mut second = worker(&db, sink.port);
    let start = Instant::now();
    loop {
        // Only the 200 (the worker may also queue a daily digest).
        let s: BTreeMap<i64, MessageState> = states(&store)
            .await
            .into_iter()
            .filter(|(id, _)| ids.contains(id))
            .collect();
        if s.values().all(|x| *x == MessageState::Sent) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not all sent after restart: {:?}",
            s.values().fold(BTreeMap::new(), |mut m, x| {
                *m.entry(*x).or_insert(0) += 1;
                m
            })
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    second.kill().unwrap();
    second.wait().unwrap();

    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for raw in sink.messages() {
        *seen.entry(outbox_id(&raw)).or_default() += 1;
    }
    let got: BTreeSet<i64> = seen.keys().copied().filter(|id| ids.contains(id)).collect();
    assert_eq!(got, ids, "every message delivered at least once");
    let dups: BTreeSet<i64> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        dups.is_subset(&in_flight),
        "duplicates {dups:?} outside the {} messages in flight at the kill",
        in_flight.len()
    );
    eprintln!(
        "killed after {delivered_before} deliveries with {} claimed; {} duplicates",
        in_flight.len(),
        dups.len()
    );
    // The status command agrees.
    let st = touban(&db, &["notify", "status", "--limit", "1"]);
    let out = String::from_utf8_lossy(&st.stdout);
    assert!(out.contains("sent 200"), "{out}");
}
