//! The notifier against a real SMTP server on loopback (aiosmtpd, see
//! `tests/smtp/sink.py`) and a real SQLite database: what people receive on
//! publish and on change, and what happens when the server is down, answers
//! 451 or 550, or never answers.

#[allow(dead_code)]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::harness::{Sink, free_port, outbox_id};
use common::*;
use icalendar::Component;
use mail_parser::{MessageParser, MimeHeaders};
use touban_domain::{RegionId, StaffId};
use touban_store::{MessageKind, MessageState, NewMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_sends_one_notice_per_person_then_changes() {
    let e = env().await;
    let rota = demo_rota(&e).await;
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let region = e.net.region.id.clone();
    e.store
        .publish_rota(&region, jan(), 1, "coordinator")
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;

    let mut duties: BTreeMap<&StaffId, usize> = BTreeMap::new();
    for a in &rota.assignments {
        *duties.entry(&a.staff).or_default() += 1;
    }
    let mails = sink.messages();
    assert_eq!(
        mails.len(),
        duties.len(),
        "one notice per person with duties"
    );
    let mut seen = BTreeSet::new();
    let mut uid_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for raw in &mails {
        let m = MessageParser::default().parse(raw).unwrap();
        let to = m
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        let person = e
            .net
            .staff
            .iter()
            .find(|p| p.email.to_string() == to)
            .unwrap_or_else(|| panic!("mail to unknown address {to}"));
        assert!(
            seen.insert(person.id.clone()),
            "{} got two notices",
            person.id
        );
        let subject = m.subject().unwrap();
        assert!(subject.contains("2027年1月の当番表"), "{subject}");
        assert!(subject.contains("January 2027"), "{subject}");
        let text = m.body_text(0).unwrap();
        assert!(text.contains(&format!("{} 様", person.name)), "{text}");
        assert!(text.contains("---- English ----"));
        let html = m.body_html(0).unwrap();
        assert!(html.contains("<table") && html.contains(&person.name));
        let mid = m.message_id().unwrap();
        assert!(
            mid.starts_with(&format!("touban.{}.", e.net.region.id))
                && mid.ends_with("@shimoina-south.example.jp"),
            "{mid}"
        );
        // The calendar file: one event per duty, METHOD:PUBLISH.
        let att: Vec<_> = m.attachments().collect();
        assert_eq!(att.len(), 1);
        assert_eq!(att[0].attachment_name(), Some("duties.ics"));
        let ct = att[0].content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("calendar")));
        let cal = calendar_of(att[0]);
        assert_eq!(
            cal.property_value("METHOD"),
            Some("PUBLISH"),
            "{}",
            std::str::from_utf8(att[0].contents()).unwrap()
        );
        let events: Vec<_> = cal.events().collect();
        assert_eq!(events.len(), duties[&person.id], "{}", person.id);
        for ev in &events {
            assert_eq!(ev.get_sequence(), Some(1));
            assert!(ev.get_start().is_some() && ev.get_end().is_some());
        }
        uid_of.insert(
            person.id.to_string(),
            events
                .iter()
                .map(|e| e.get_uid().unwrap().to_string())
                .collect(),
        );
    }
    assert!(
        all(e.store.as_ref())
            .await
            .iter()
            .all(|m| m.state == MessageState::Sent)
    );

    // Version 2 gives one of A's duties to B: A gets cancel.ics (same UID,
    // SEQUENCE 2, STATUS:CANCELLED), B gets duties.ics with SEQUENCE 2; a
    // colleague on that shift hears who is beside them now; nobody else
    // hears anything.
    let moved = rota.assignments[0].clone();
    let a = moved.staff.clone();
    let b = rota
        .assignments
        .iter()
        .map(|x| &x.staff)
        .find(|s| {
            **s != a
                && !rota
                    .assignments
                    .iter()
                    .any(|y| y.staff == **s && y.shift == moved.shift)
        })
        .unwrap()
        .clone();
    let mut v2 = rota.assignments.clone();
    v2[0].staff = b.clone();
    save_version(&e, Some(1), v2).await;
    e.store
        .publish_rota(&region, jan(), 2, "coordinator")
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let mails = sink.messages();
    let fresh = &mails[duties.len()..];
    // The two people concerned, and anyone else on that shift (told who
    // works beside them now).
    let colleagues: Vec<&StaffId> = rota
        .assignments
        .iter()
        .filter(|x| x.shift == moved.shift && x.staff != a)
        .map(|x| &x.staff)
        .collect();
    assert_eq!(
        fresh.len(),
        2 + colleagues.len(),
        "only the people concerned"
    );
    let uid = touban_app::ical::uid(region.as_str(), &moved.shift, a.as_str());
    for raw in fresh {
        let m = MessageParser::default().parse(raw).unwrap();
        let to = m
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        assert!(m.subject().unwrap().contains("【当番変更】"));
        let att: Vec<_> = m.attachments().collect();
        let who = &e
            .net
            .staff
            .iter()
            .find(|p| p.email.to_string() == to)
            .unwrap()
            .id;
        if *who == a {
            let cancel = att
                .iter()
                .find(|x| x.attachment_name() == Some("cancel.ics"))
                .expect("cancel.ics for the person who lost the duty");
            let cal = calendar_of(cancel);
            assert_eq!(cal.property_value("METHOD"), Some("CANCEL"));
            let ev = cal.events().next().unwrap();
            assert_eq!(ev.get_uid(), Some(uid.as_str()));
            assert!(
                uid_of[a.as_str()].contains(&uid),
                "same UID as in the first notice"
            );
            assert_eq!(ev.get_sequence(), Some(2));
            assert_eq!(ev.get_status(), Some(icalendar::EventStatus::Cancelled));
            assert!(m.body_text(0).unwrap().contains("取り消し"));
        } else if colleagues.contains(&who) {
            assert!(att.is_empty(), "a colleague's own duty is unchanged");
            assert!(
                m.body_text(0)
                    .unwrap()
                    .contains("一緒に入る人が変わりました")
            );
        } else {
            assert_eq!(*who, b);
            let dut = att
                .iter()
                .find(|x| x.attachment_name() == Some("duties.ics"))
                .expect("duties.ics for the person who got the duty");
            let cal = calendar_of(dut);
            let ev = cal.events().next().unwrap();
            assert_eq!(ev.get_sequence(), Some(2));
            assert!(m.body_text(0).unwrap().contains("新しくあなたの当番"));
        }
    }
}

/// Messages for people with duties in the published demo month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_up_delivers_every_message_once() {
    let e = env().await;
    let ids = queue(&e, 200).await;
    let port = free_port();
    let (smtp, cfg) = configs(port);
    let w = worker(&e, smtp, cfg).await;
    // Nothing listens: every attempt is refused and scheduled again.
    for _ in 0..4 {
        w.pass().await.unwrap();
    }
    let c = counts(e.store.as_ref()).await;
    assert_eq!(c.get(&MessageState::Retrying), Some(&200), "{c:?}");
    let first = all(e.store.as_ref()).await;
    assert!(
        first
            .iter()
            .all(|m| m.last_error.as_deref().is_some_and(|x| !x.is_empty()))
    );
    // The server comes up.
    let sink = Sink::start(port, &[]);
    drain(e.store.as_ref(), &w, Duration::from_secs(120)).await;
    let got: Vec<i64> = sink.messages().iter().map(|r| outbox_id(r)).collect();
    assert_eq!(got.len(), 200, "none lost, none duplicated");
    let distinct: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(distinct, ids.into_iter().collect::<BTreeSet<_>>());
    assert_eq!(
        counts(e.store.as_ref()).await.get(&MessageState::Sent),
        Some(&200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_451_are_retried_and_550_fails_with_the_reason() {
    let e = env().await;
    let sink = Sink::start(
        free_port(),
        &["--tempfail", "2", "--reject", "suzuki.akiko"],
    );
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let region: RegionId = e.net.region.id.clone();
    let rota = demo_rota(&e).await;
    assert!(
        rota.assignments
            .iter()
            .any(|a| a.staff.as_str() == "suzuki-akiko")
    );
    let ok_person = rota
        .assignments
        .iter()
        .find(|a| a.staff.as_str() != "suzuki-akiko")
        .unwrap()
        .staff
        .clone();
    let mk = |s: &str| NewMessage {
        region: region.clone(),
        kind: MessageKind::Published,
        staff: Some(StaffId::parse(s).unwrap()),
        payload: serde_json::json!({ "month": jan(), "from": null, "to": 1 }),
        due_at: chrono::Utc::now(),
        dedupe_key: None,
        merge_key: None,
    };
    e.store
        .enqueue(&[mk(ok_person.as_str()), mk("suzuki-akiko")])
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let ms = all(e.store.as_ref()).await;
    let ok = ms
        .iter()
        .find(|m| m.staff.as_ref() == Some(&ok_person))
        .unwrap();
    assert_eq!(
        (ok.state, ok.attempts),
        (MessageState::Sent, 3),
        "two 451s, then delivered: {ok:?}"
    );
    assert!(
        ok.last_error.as_deref().unwrap().contains("451"),
        "{:?}",
        ok.last_error
    );
    let bad = ms
        .iter()
        .find(|m| {
            m.staff
                .as_ref()
                .is_some_and(|s| s.as_str() == "suzuki-akiko")
        })
        .unwrap();
    assert_eq!(
        (bad.state, bad.attempts),
        (MessageState::Failed, 1),
        "5xx: no retry"
    );
    let reason = bad.last_error.as_deref().unwrap();
    assert!(
        reason.contains("550") && reason.contains("mailbox unavailable"),
        "{reason}"
    );
    // The coordinators were told, by e-mail, with the reason.
    let notice = ms
        .iter()
        .find(|m| m.kind == MessageKind::DeliveryFailed)
        .unwrap();
    assert_eq!(notice.state, MessageState::Sent);
    let mails = sink.messages();
    let raw = mails
        .iter()
        .find(|r| outbox_id(r) == notice.id)
        .expect("the failure notice reached the server");
    let m = MessageParser::default().parse(raw).unwrap();
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("renkei@shimoina-south.example.jp")
    );
    let text = m.body_text(0).unwrap();
    assert!(
        text.contains("suzuki.akiko@") && text.contains("550"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_does_not_hang_the_worker() {
    let e = env().await;
    queue(&e, 3).await;
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            keep.push(s);
        }
    });
    let (mut smtp, cfg) = configs(port);
    smtp.timeout_seconds = 1.0;
    let w = worker(&e, smtp, cfg).await;
    let started = Instant::now();
    let pass = tokio::time::timeout(Duration::from_secs(30), w.pass())
        .await
        .expect("the worker hung on a silent server")
        .unwrap();
    assert_eq!(pass.retrying, 3);
    assert!(started.elapsed() < Duration::from_secs(30));
    for m in all(e.store.as_ref()).await {
        assert_eq!(m.state, MessageState::Retrying);
        let err = m.last_error.unwrap();
        assert!(
            err.contains("did not answer") || err.contains("timed out"),
            "{err}"
        );
    }
    held.abort();
}
