//! Several instances on one PostgreSQL database, each a `PgStore` with its
//! own pool (as separate processes would have): claims never overlap,
//! writers queue instead of losing updates, a change on one is announced to
//! the others, and one instance's start-up leaves another's running jobs
//! alone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use touban_domain::{Month, NewRota};
use touban_store::{MessageKind, NewMessage, Store, StoreError};
use touban_store_conformance::demo_network;
use touban_store_postgres::PgStore;
use touban_store_postgres::testdb::TestDb;

async fn two(tag: &str) -> (TestDb, PgStore, PgStore) {
    let db = TestDb::new(tag).await;
    let a = PgStore::connect(&db.url(), 4).await.unwrap();
    let b = PgStore::connect(&db.url(), 4).await.unwrap();
    (db, a, b)
}

/// Four claimers on two instances, all at once, over 400 messages: every
/// message claimed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_on_two_instances_never_overlap() {
    let (_db, a, b) = two("claims").await;
    let net = demo_network();
    a.import_network(&net, "t").await.unwrap();
    let msgs: Vec<NewMessage> = (0..400)
        .map(|i| NewMessage {
            region: net.region.id.clone(),
            kind: MessageKind::Digest,
            staff: None,
            payload: serde_json::json!({ "i": i }),
            due_at: Utc::now(),
            dedupe_key: None,
            merge_key: None,
        })
        .collect();
    a.enqueue(&msgs).await.unwrap();
    let mut tasks = Vec::new();
    for (k, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s
                    .claim_messages(
                        &format!("w{k}"),
                        Utc::now(),
                        chrono::Duration::seconds(60),
                        chrono::Duration::zero(),
                        7,
                    )
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|m| m.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    let mut per = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        per.push(mine.len());
        all.extend(mine);
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 400, "claimed {per:?}");
    assert_eq!(distinct.len(), 400, "a message claimed twice: {per:?}");
}

/// Two instances saving versions of one month at once: the numbers count
/// up with no gaps or doubles; "saved after version N" is refused to the
/// slower one, never silently overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_on_two_instances_are_serialised() {
    let (_db, a, b) = two("saves").await;
    let net = demo_network();
    a.import_network(&net, "t").await.unwrap();
    let month = Month::new(2027, 1).unwrap();
    let rota = |based_on| NewRota {
        region: net.region.id.clone(),
        month,
        created_by: "t".into(),
        note: None,
        based_on,
        assignments: Vec::new(),
        overridden: Vec::new(),
    };
    let mut tasks = Vec::new();
    for k in 0..10 {
        let s = if k % 2 == 0 { a.clone() } else { b.clone() };
        let r = rota(None);
        tasks.push(tokio::spawn(async move {
            s.save_rota(&r).await.unwrap().version
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=10).collect::<Vec<u32>>());
    // Both edit "after version 10" at once: one saves 11, the other is told.
    let (next_a, next_b) = (rota(Some(10)), rota(Some(10)));
    let (ra, rb) = tokio::join!(
        a.save_rota_after(&next_a, 10),
        b.save_rota_after(&next_b, 10)
    );
    let results = [ra, rb];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let told = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(told, StoreError::Stale(m) if m.contains("version 11")),
        "{told}"
    );
}

/// A publish on one instance moves the other's generation within a second
/// (LISTEN/NOTIFY); so does a reported absence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_one_instance_are_announced_to_the_other() {
    let (_db, a, b) = two("notify").await;
    let net = demo_network();
    a.import_network(&net, "t").await.unwrap();
    let month = Month::new(2027, 1).unwrap();
    let wait_for_move = |from: u64| {
        let b = b.clone();
        async move {
            let t = Instant::now();
            while b.generation() == from {
                assert!(
                    t.elapsed() < Duration::from_secs(1),
                    "no announcement within a second"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            t.elapsed()
        }
    };
    // Let b's listener start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let g = b.generation();
    let v = a
        .save_rota(&NewRota {
            region: net.region.id.clone(),
            month,
            created_by: "t".into(),
            note: None,
            based_on: None,
            assignments: Vec::new(),
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    wait_for_move(g).await;
    let g = b.generation();
    a.publish_rota(&net.region.id, month, v.version, "t")
        .await
        .unwrap();
    let took = wait_for_move(g).await;
    eprintln!("publish announced after {took:?}");
    let g = b.generation();
    let absence = touban_domain::Absence {
        staff: net.staff[0].id.clone(),
        start: chrono::DateTime::parse_from_rfc3339("2027-01-10T00:00:00+09:00").unwrap(),
        end: chrono::DateTime::parse_from_rfc3339("2027-01-11T00:00:00+09:00").unwrap(),
        kind: touban_domain::AbsenceKind::Sickness,
        reason: None,
    };
    a.add_absence(&net.region.id, &absence, "t").await.unwrap();
    wait_for_move(g).await;
    // Reads do not announce.
    let g = b.generation();
    a.load_network(&net.region.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.generation(), g);
}

/// A server starting up marks failed only the jobs past their deadline: a
/// job another instance is running (deadline ahead) is left alone, and one
/// whose instance died is reported failed once its deadline passes.
#[tokio::test]
async fn start_up_leaves_other_instances_jobs_alone() {
    let (_db, a, b) = two("jobs").await;
    let net = demo_network();
    a.import_network(&net, "t").await.unwrap();
    let month = Month::new(2027, 1).unwrap();
    let running = a
        .create_job(
            &net.region.id,
            "generate",
            month,
            "t",
            Utc::now() + chrono::Duration::minutes(5),
        )
        .await
        .unwrap();
    let orphan = a
        .create_job(
            &net.region.id,
            "generate",
            month,
            "t",
            Utc::now() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let marked = b
        .interrupt_jobs(None, "interrupted: start generate again")
        .await
        .unwrap();
    assert_eq!(marked, 1);
    assert_eq!(
        b.job(running.id).await.unwrap().status,
        touban_store::JobStatus::Queued
    );
    let o = b.job(orphan.id).await.unwrap();
    assert_eq!(o.status, touban_store::JobStatus::Failed);
    assert!(o.error.unwrap().contains("interrupted"));
}
