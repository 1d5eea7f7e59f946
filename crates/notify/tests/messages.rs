//! The notifier's other messages against a real SMTP server on loopback:
//! cover offers (signed links), "taken" and escalation notices, day-before
//! reminders and the coordinators' digest.

#[allow(dead_code)]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::harness::{Sink, free_port};
use common::*;
use mail_parser::MessageParser;
use touban_domain::StaffId;
use touban_store::MessageKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_offers_carry_signed_links_then_taken_and_escalation_notices() {
    use touban_domain::OfferMode;
    let e = env().await;
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let region = e.net.region.id.clone();
    let request = |mode| cover_request(&e, mode);
    let offer = |s: &str| offer(s, "最寄り (12 分)");
    let c = e
        .store
        .create_cover(
            &region,
            &request(OfferMode::Broadcast),
            &[offer("yamada-kenji"), offer("suzuki-akiko")],
            chrono::Utc::now() + chrono::Duration::minutes(30),
            "test",
        )
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let key = e
        .store
        .server_secret("offer-links", b"unused")
        .await
        .unwrap();
    let mails = sink.messages();
    assert_eq!(mails.len(), 2);
    for raw in &mails {
        let m = MessageParser::default().parse(raw).unwrap();
        assert!(m.subject().unwrap().contains("【応援依頼】"));
        let text = m.body_text(0).unwrap();
        assert!(
            text.contains("外来の代診") && text.contains("最寄り (12 分)"),
            "{text}"
        );
        for action in ["accept", "decline"] {
            let url = text
                .split_whitespace()
                .find(|w| w.contains(&format!("action={action}")))
                .unwrap_or_else(|| panic!("no {action} link in:\n{text}"));
            assert!(
                url.starts_with("https://touban.example.jp/api/v1/offers/"),
                "{url}"
            );
            let (path, query) = url.split_once('?').unwrap();
            let offer: i64 = path.split('/').nth_back(1).unwrap().parse().unwrap();
            let q: BTreeMap<&str, &str> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            touban_app::links::verify(
                &key,
                offer,
                action,
                q["expires"].parse().unwrap(),
                q["sig"],
                chrono::Utc::now(),
            )
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
            // A link that has been altered is refused.
            assert!(
                touban_app::links::verify(
                    &key,
                    offer + 1,
                    action,
                    q["expires"].parse().unwrap(),
                    q["sig"],
                    chrono::Utc::now()
                )
                .is_err()
            );
        }
        let html = m.body_html(0).unwrap();
        assert!(
            html.contains("引き受ける")
                && html.contains("href=\"https://touban.example.jp/api/v1/offers/")
        );
    }
    // Suzuki accepts: Yamada hears that it is taken.
    e.store
        .answer_offer(c.offers[1].id, true, "test")
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let mails = sink.messages();
    // And the institution and Suzuki hear the outcome (outcomes.rs).
    assert_eq!(mails.len(), 5);
    let m = mails
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .find(|m| m.subject().unwrap().contains("【応援依頼・終了】"))
        .unwrap();
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("yamada.kenji@anan-hospital.example.jp")
    );
    // Nobody answers a one-by-one request in time: the coordinators hear.
    e.store
        .create_cover(
            &region,
            &request(OfferMode::OneByOne),
            &[offer("yamada-kenji")],
            chrono::Utc::now() - chrono::Duration::seconds(1),
            "test",
        )
        .await
        .unwrap();
    e.store.escalate_due(chrono::Utc::now()).await.unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let mails = sink.messages();
    let parsed: Vec<_> = mails
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .collect();
    let last = parsed
        .iter()
        .find(|m| m.subject().unwrap().contains("【要対応】"))
        .expect("an escalation to the coordinators");
    assert_eq!(
        last.to().unwrap().first().unwrap().address(),
        Some("renkei@shimoina-south.example.jp")
    );
    assert!(last.body_text(0).unwrap().contains("返答なし"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_the_day_before_and_the_coordinators_digest() {
    let e = env().await;
    let full = demo_rota(&e).await;
    let region = e.net.region.id.clone();
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
    // Version 2 leaves one shift of the 10th empty, for the digest to find.
    let gap = full
        .assignments
        .iter()
        .find(|a| a.shift.date == day)
        .unwrap()
        .shift
        .clone();
    let mut v2 = full.assignments.clone();
    v2.retain(|a| a.shift != gap);
    save_version(&e, Some(1), v2.clone()).await;
    e.store.publish_rota(&region, jan(), 2, "c").await.unwrap();
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let published = sink.messages().len();

    // 17:30 on the 9th (Japan): past the network's reminder time (17:00).
    let at = chrono::DateTime::parse_from_rfc3339("2027-01-09T17:30:00+09:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let queued = w.schedule(at).await.unwrap();
    assert_eq!(w.schedule(at).await.unwrap(), 0, "each reminder once");
    let tomorrow: BTreeSet<&StaffId> = v2
        .iter()
        .filter(|a| a.shift.date == day)
        .map(|a| &a.staff)
        .collect();
    let ms = all(e.store.as_ref()).await;
    let reminders: Vec<_> = ms
        .iter()
        .filter(|m| m.kind == MessageKind::Reminder)
        .collect();
    assert!(reminders.len() >= tomorrow.len());
    for s in &tomorrow {
        assert!(
            reminders.iter().any(|m| m.staff.as_ref() == Some(*s)),
            "no reminder for {s}"
        );
    }
    assert_eq!(queued, reminders.len() + 1, "reminders and one digest");
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let mails = sink.messages();
    let fresh: Vec<_> = mails[published..]
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .collect();
    let subjects: Vec<String> = fresh
        .iter()
        .map(|m| m.subject().unwrap().to_string())
        .collect();
    assert!(
        subjects
            .iter()
            // Sent today (not the 9th): it says the date, not "tomorrow".
            .any(|s| s.contains("【当番のお知らせ】1月10日(日)")),
        "{subjects:?}"
    );
    let digest = fresh
        .iter()
        .find(|m| m.subject().unwrap().contains("【当番 日報】"))
        .expect("a digest");
    let text = digest.body_text(0).unwrap();
    assert!(
        text.contains("1月10日(日)") && text.contains("　0/"),
        "{text}"
    );
}

/// Issue 13, items 6 and 7: the coordinators' urgent notices (a repair
/// waiting, a late acceptance) and the cancellation notice to people asked,
/// as received by a real SMTP server, Japanese first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_waiting_late_acceptance_and_cancellation_are_sent() {
    use touban_domain::OfferMode;
    let e = env().await;
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let region = e.net.region.id.clone();
    let offer = |s: &str| offer(s, "最寄り");
    let request = touban_domain::CoverRequest {
        note: None,
        ..cover_request(&e, OfferMode::Broadcast)
    };
    let c = e
        .store
        .create_cover(
            &region,
            &request,
            &[offer("yamada-kenji"), offer("suzuki-akiko")],
            chrono::Utc::now() - chrono::Duration::minutes(1),
            "test",
        )
        .await
        .unwrap();
    e.store.escalate_due(chrono::Utc::now()).await.unwrap();
    let yamada = c
        .offers
        .iter()
        .find(|o| o.staff.as_str() == "yamada-kenji")
        .unwrap();
    e.store.answer_offer(yamada.id, true, "test").await.unwrap();
    let c2 = e
        .store
        .create_cover(
            &region,
            &request,
            &[offer("suzuki-akiko")],
            chrono::Utc::now() + chrono::Duration::hours(1),
            "test",
        )
        .await
        .unwrap();
    e.store.cancel_cover(c2.id, "test").await.unwrap();
    let payload = touban_store::outbox::RepairPayload {
        month: jan(),
        from: 1,
        to: 2,
        absent: StaffId::parse("yamada-kenji").unwrap(),
        start: chrono::DateTime::parse_from_rfc3339("2027-01-14T00:00:00+09:00").unwrap(),
        end: chrono::DateTime::parse_from_rfc3339("2027-01-16T00:00:00+09:00").unwrap(),
        changes: 3,
        unfilled: 0,
        retired: false,
    };
    e.store
        .enqueue(&[touban_store::outbox::repair_pending_message(
            &region,
            &payload,
            chrono::Utc::now(),
        )])
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let subjects: Vec<String> = sink
        .messages()
        .iter()
        .map(|raw| {
            let m = MessageParser::default().parse(raw).unwrap();
            format!(
                "{} || {}",
                m.subject().unwrap(),
                m.body_text(0).unwrap_or_default()
            )
        })
        .collect();
    let find = |needle: &str| {
        subjects
            .iter()
            .find(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("no mail with {needle}: {subjects:#?}"))
            .clone()
    };
    let late = find("【至急・応援決定】");
    assert!(late.contains("山田") && late.contains("090-"), "{late}");
    let cancelled = find("【応援依頼・取消】");
    assert!(cancelled.contains("取り消されました"), "{cancelled}");
    let repair = find("修正案");
    assert!(
        repair.contains("第1版 → 第2版") && repair.contains("3件"),
        "{repair}"
    );
    let failed = all(e.store.as_ref())
        .await
        .into_iter()
        .filter(|m| m.state == touban_store::MessageState::Failed)
        .count();
    assert_eq!(failed, 0);
}
