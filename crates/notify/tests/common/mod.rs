//! The notifier tests' harness: a demo database, a worker pointed at a
//! loopback SMTP server, and helpers to drain the outbox and read it.

#[path = "../../../../tests/smtp/harness.rs"]
pub mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use touban_domain::{Month, Network, NewRota, Rota, StaffId};
use touban_notify::{LinkSettings, NotifyConfig, SmtpConfig, Worker};
use touban_store::{MessageFilter, MessageKind, MessageState, NewMessage, Store};
use touban_store_sqlite::SqliteStore;

pub fn jan() -> Month {
    Month::new(2027, 1).unwrap()
}

pub struct Env {
    pub store: Arc<dyn Store>,
    pub net: Network,
    _tmp: tempfile::TempDir,
}

pub async fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(tmp.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    let net =
        touban_netfile::load(&harness::repo_root().join("config/networks/southern-shimoina.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
    store.import_network(&net, "test").await.unwrap();
    Env {
        store: Arc::new(store),
        net,
        _tmp: tmp,
    }
}

/// The demo month, solved and stored as version 1 (a draft).
pub async fn demo_rota(e: &Env) -> Rota {
    let inst = touban_solver::Instance::new(&e.net, jan());
    let out = touban_solver::generate(
        &inst,
        &touban_solver::History::default(),
        &touban_solver::SolveOptions {
            time_limit: 30.0,
            ..touban_solver::SolveOptions::default()
        },
    )
    .unwrap();
    save_version(e, None, out.assignments).await
}

pub fn configs(port: u16) -> (SmtpConfig, NotifyConfig) {
    (
        SmtpConfig {
            url: format!("smtp://127.0.0.1:{port}"),
            sender: "当番 Touban <touban@shimoina-south.example.jp>".into(),
            timeout_seconds: 2.0,
            ..SmtpConfig::default()
        },
        NotifyConfig {
            backoff_base_seconds: 0.05,
            backoff_max_seconds: 0.2,
            merge_window_seconds: 0,
            poll_interval_ms: 20,
            ..NotifyConfig::default()
        },
    )
}

pub async fn worker(e: &Env, smtp: SmtpConfig, cfg: NotifyConfig) -> Worker {
    Worker::new(
        e.store.clone(),
        smtp,
        cfg,
        LinkSettings {
            public_url: "https://touban.example.jp".into(),
            valid_hours: 72,
        },
    )
    .await
    .unwrap()
}

pub async fn counts(store: &dyn Store) -> BTreeMap<MessageState, u64> {
    store
        .message_counts(None)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Runs passes until no message is queued, retrying or being sent.
pub async fn drain(store: &dyn Store, w: &Worker, limit: Duration) {
    let start = Instant::now();
    loop {
        let p = w.pass().await.unwrap();
        let c = counts(store).await;
        let open: u64 = [
            MessageState::Queued,
            MessageState::Retrying,
            MessageState::Sending,
        ]
        .iter()
        .filter_map(|s| c.get(s))
        .sum();
        if open == 0 {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "messages still open after {limit:?}: {c:?}"
        );
        if p.claimed == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub async fn all(store: &dyn Store) -> Vec<touban_store::Message> {
    store
        .messages(&MessageFilter {
            limit: 10_000,
            ..MessageFilter::default()
        })
        .await
        .unwrap()
}

pub fn calendar_of(part: &mail_parser::MessagePart<'_>) -> icalendar::Calendar {
    let text = std::str::from_utf8(part.contents()).unwrap();
    text.parse::<icalendar::Calendar>()
        .unwrap_or_else(|e| panic!("attachment is not iCalendar: {e}\n{text}"))
}

pub async fn queue(e: &Env, n: usize) -> Vec<i64> {
    let rota = demo_rota(e).await;
    let people: Vec<StaffId> = rota
        .assignments
        .iter()
        .map(|a| a.staff.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let msgs: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            region: e.net.region.id.clone(),
            kind: MessageKind::Published,
            staff: Some(people[i % people.len()].clone()),
            payload: serde_json::json!({ "month": jan(), "from": null, "to": rota.version }),
            due_at: chrono::Utc::now(),
            dedupe_key: None,
            merge_key: None,
        })
        .collect();
    assert_eq!(e.store.enqueue(&msgs).await.unwrap(), n);
    all(e.store.as_ref()).await.iter().map(|m| m.id).collect()
}

/// Saves `assignments` as the next version of January 2027.
pub async fn save_version(
    e: &Env,
    based_on: Option<u32>,
    assignments: Vec<touban_domain::Assignment>,
) -> Rota {
    e.store
        .save_rota(&NewRota {
            region: e.net.region.id.clone(),
            month: jan(),
            created_by: "test".into(),
            note: None,
            based_on,
            assignments,
            overridden: Vec::new(),
        })
        .await
        .unwrap()
}

/// A physician's day of cover at the first institution, 12 January 2027.
pub fn cover_request(e: &Env, mode: touban_domain::OfferMode) -> touban_domain::CoverRequest {
    touban_domain::CoverRequest {
        institution: e.net.institutions[0].id.clone(),
        profession: touban_domain::Profession::Physician,
        skills: BTreeSet::new(),
        start: chrono::DateTime::parse_from_rfc3339("2027-01-12T09:00:00+09:00").unwrap(),
        end: chrono::DateTime::parse_from_rfc3339("2027-01-12T17:00:00+09:00").unwrap(),
        note: Some("外来の代診".into()),
        mode,
    }
}

pub fn offer(staff: &str, reason: &str) -> touban_store::NewOffer {
    touban_store::NewOffer {
        staff: StaffId::parse(staff).unwrap(),
        rank: 1,
        reason: reason.into(),
    }
}
