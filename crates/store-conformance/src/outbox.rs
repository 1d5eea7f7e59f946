//! Conformance cases of the notification outbox.

use chrono::{Duration, Utc};
use touban_domain::{Network, OfferMode, RegionId, Role, StaffId};
use touban_store::outbox::RotaPayload;
use touban_store::{
    Message, MessageFilter, MessageKind, MessageState, NewMessage, Settle, Store, StoreError,
};

use crate::{assignment, cover_request, demo_network, jan, offers, small_rota};

async fn all(store: &dyn Store) -> Vec<Message> {
    store
        .messages(&MessageFilter {
            limit: 1000,
            ..MessageFilter::default()
        })
        .await
        .unwrap()
}

fn of_kind(ms: &[Message], k: MessageKind) -> Vec<&Message> {
    ms.iter().filter(|m| m.kind == k).collect()
}

fn staff_of(ms: &[&Message]) -> Vec<String> {
    let mut v: Vec<String> = ms
        .iter()
        .map(|m| {
            m.staff
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect();
    v.sort();
    v
}

fn note(region: &RegionId, n: usize) -> NewMessage {
    NewMessage {
        region: region.clone(),
        kind: MessageKind::Reminder,
        staff: Some(StaffId::parse("yamada-kenji").unwrap()),
        payload: serde_json::json!({ "n": n }),
        due_at: Utc::now() - Duration::seconds(1),
        dedupe_key: None,
        merge_key: None,
    }
}

async fn imported(store: &dyn Store) -> Network {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    net
}

/// The first publish queues one notice per person with duties; a later one
/// a change notice only to those whose duties differ, and changes in quick
/// succession merge into the notice still queued (old → newest).
pub async fn publish_queues_notices(store: &dyn Store) {
    let net = imported(store).await;
    let region = &net.region.id;
    store.save_rota(&small_rota(&net, None)).await.unwrap();
    store.publish_rota(region, jan(), 1, "c").await.unwrap();
    let ms = all(store).await;
    let published = of_kind(&ms, MessageKind::Published);
    assert_eq!(
        staff_of(&published),
        ["saito-yoko", "tanaka-yui", "yamada-kenji"]
    );
    // Publishing the same version again queues nothing more.
    store.publish_rota(region, jan(), 1, "c").await.unwrap();
    assert_eq!(all(store).await.len(), 3);

    let mut v2 = small_rota(&net, Some(1));
    v2.assignments[1] = assignment("homecare-oncall", "night", 4, "suzuki-akiko", Role::Backup);
    store.save_rota(&v2).await.unwrap();
    store.publish_rota(region, jan(), 2, "c").await.unwrap();
    let ms = all(store).await;
    let changed = of_kind(&ms, MessageKind::Changed);
    // yamada keeps the night but works beside someone new: told too.
    assert_eq!(
        staff_of(&changed),
        ["suzuki-akiko", "tanaka-yui", "yamada-kenji"]
    );
    let p: RotaPayload = serde_json::from_value(changed[0].payload.clone()).unwrap();
    assert_eq!((p.from, p.to), (Some(1), 2));

    // Version 3 moves the pharmacist's night: saito changes; suzuki and
    // tanaka are untouched, their queued notices stay as they were.
    let mut v3 = v2.clone();
    v3.based_on = Some(2);
    v3.assignments[2] = assignment("night-pharmacy", "night", 5, "saito-yoko", Role::Primary);
    store.save_rota(&v3).await.unwrap();
    store.publish_rota(region, jan(), 3, "c").await.unwrap();
    // Version 4 gives tanaka the night back: tanaka's, suzuki's and
    // yamada's queued notices absorb it (from 1 to 4), no new rows for them.
    let mut v4 = v3.clone();
    v4.based_on = Some(3);
    v4.assignments[1] = assignment("homecare-oncall", "night", 4, "tanaka-yui", Role::Backup);
    store.save_rota(&v4).await.unwrap();
    store.publish_rota(region, jan(), 4, "c").await.unwrap();
    let ms = all(store).await;
    let changed = of_kind(&ms, MessageKind::Changed);
    assert_eq!(
        staff_of(&changed),
        ["saito-yoko", "suzuki-akiko", "tanaka-yui", "yamada-kenji"]
    );
    for m in &changed {
        let p: RotaPayload = serde_json::from_value(m.payload.clone()).unwrap();
        // saito changed only in version 3.
        let want = if m.staff.as_ref().unwrap().as_str() == "saito-yoko" {
            (Some(2), 3)
        } else {
            (Some(1), 4)
        };
        assert_eq!((p.from, p.to), want, "{:?}", m.staff);
    }
}

/// Two workers never hold the same message; a lease that runs out lets
/// another worker take the message, and the first can no longer settle it.
pub async fn claims_are_exclusive_and_leases_expire(store: &dyn Store) {
    let net = imported(store).await;
    let region = &net.region.id;
    let batch: Vec<NewMessage> = (0..5).map(|n| note(region, n)).collect();
    assert_eq!(store.enqueue(&batch).await.unwrap(), 5);
    let now = Utc::now();
    let lease = Duration::seconds(60);
    let a = store
        .claim_messages("a", now, lease, Duration::zero(), 3)
        .await
        .unwrap();
    let b = store
        .claim_messages("b", now, lease, Duration::zero(), 10)
        .await
        .unwrap();
    assert_eq!((a.len(), b.len()), (3, 2));
    let ids_a: Vec<i64> = a.iter().map(|m| m.id).collect();
    assert!(b.iter().all(|m| !ids_a.contains(&m.id)));
    assert!(
        a.iter()
            .all(|m| m.state == MessageState::Sending && m.attempts == 1)
    );
    assert!(
        store
            .claim_messages("c", now, lease, Duration::zero(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Only the holder settles.
    let err = store
        .settle_message(a[0].id, "b", &Settle::Sent { to: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    store
        .settle_message(
            a[0].id,
            "a",
            &Settle::Sent {
                to: "x <x@example.jp>".into(),
            },
        )
        .await
        .unwrap();
    // Worker "a" dies holding two; after the lease, "c" takes them (and b's).
    let later = now + lease + Duration::seconds(1);
    let c = store
        .claim_messages("c", later, lease, Duration::zero(), 10)
        .await
        .unwrap();
    assert_eq!(c.len(), 4);
    assert!(c.iter().all(|m| m.attempts == 2));
    let err = store
        .settle_message(a[1].id, "a", &Settle::Sent { to: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let sent = store.message(a[0].id).await.unwrap();
    assert_eq!(sent.state, MessageState::Sent);
    assert_eq!(sent.sent_to.as_deref(), Some("x <x@example.jp>"));
}

/// Retries wait for their time; failures are kept with the reason and tell
/// the coordinators; a failed message can be queued again; dedupe keys and
/// merge holds work.
pub async fn retries_failures_and_keys(store: &dyn Store) {
    let net = imported(store).await;
    let region = &net.region.id;
    store
        .enqueue(&[note(region, 1), note(region, 2)])
        .await
        .unwrap();
    let now = Utc::now();
    let lease = Duration::seconds(60);
    let got = store
        .claim_messages("w", now, lease, Duration::zero(), 10)
        .await
        .unwrap();
    let (r, f) = (got[0].id, got[1].id);
    let at = now + Duration::seconds(30);
    store
        .settle_message(
            r,
            "w",
            &Settle::Retry {
                at,
                error: "451 try later".into(),
            },
        )
        .await
        .unwrap();
    store
        .settle_message(
            f,
            "w",
            &Settle::Failed {
                error: "550 no such user".into(),
            },
        )
        .await
        .unwrap();
    let m = store.message(r).await.unwrap();
    assert_eq!(m.state, MessageState::Retrying);
    assert_eq!(m.last_error.as_deref(), Some("451 try later"));
    assert!((m.due_at - at).num_milliseconds().abs() < 5);
    let m = store.message(f).await.unwrap();
    assert_eq!(m.state, MessageState::Failed);
    assert_eq!(m.last_error.as_deref(), Some("550 no such user"));
    // The failure queued a notice to the coordinators.
    let ms = all(store).await;
    let notices = of_kind(&ms, MessageKind::DeliveryFailed);
    assert_eq!(notices.len(), 1);
    assert!(notices[0].staff.is_none());
    // Not before its time; then yes.
    let early = store
        .claim_messages(
            "w",
            now + Duration::seconds(10),
            lease,
            Duration::seconds(3600),
            10,
        )
        .await
        .unwrap();
    assert!(
        early.iter().all(|m| m.id != r),
        "claimed before its retry time"
    );
    let on_time = store
        .claim_messages(
            "w",
            at + Duration::seconds(1),
            lease,
            Duration::seconds(3600),
            10,
        )
        .await
        .unwrap();
    assert!(on_time.iter().any(|m| m.id == r));
    // The failure notice has a merge key: held for the merge window.
    assert!(
        on_time
            .iter()
            .all(|m| m.kind != MessageKind::DeliveryFailed)
    );
    // A second failure merges into the queued notice.
    store
        .settle_message(
            r,
            "w",
            &Settle::Failed {
                error: "550 again".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        of_kind(&all(store).await, MessageKind::DeliveryFailed).len(),
        1
    );
    // Queue a failed one again.
    let again = store.requeue_message(f, Utc::now()).await.unwrap();
    assert_eq!((again.state, again.attempts), (MessageState::Queued, 0));
    assert!(matches!(
        store.requeue_message(f, Utc::now()).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    // Dedupe keys: once only.
    let mut keyed = note(region, 9);
    keyed.dedupe_key = Some("reminder:x:2027-01-04".into());
    assert_eq!(store.enqueue(&[keyed.clone()]).await.unwrap(), 1);
    assert_eq!(store.enqueue(&[keyed]).await.unwrap(), 0);
    let counts = store.message_counts(Some(region)).await.unwrap();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, all(store).await.len() as u64);
}

/// Cover requests queue their offers, the "taken" notices and escalations
/// in the same transaction as the change.
pub async fn cover_events_queue_messages(store: &dyn Store) {
    let net = imported(store).await;
    let region = net.region.id.clone();
    let c = store
        .create_cover(
            &region,
            &cover_request(OfferMode::Broadcast),
            &offers(&["yamada-kenji", "suzuki-akiko", "takahashi-ryo"]),
            Utc::now() + Duration::minutes(30),
            "t",
        )
        .await
        .unwrap();
    let ms = all(store).await;
    assert_eq!(
        staff_of(&of_kind(&ms, MessageKind::Offer)),
        ["suzuki-akiko", "takahashi-ryo", "yamada-kenji"]
    );
    store
        .answer_offer(c.offers[2].id, false, "t")
        .await
        .unwrap();
    store.answer_offer(c.offers[1].id, true, "t").await.unwrap();
    let ms = all(store).await;
    // Only yamada still had an open offer; takahashi had declined.
    assert_eq!(
        staff_of(&of_kind(&ms, MessageKind::OfferTaken)),
        ["yamada-kenji"]
    );

    let one = store
        .create_cover(
            &region,
            &cover_request(OfferMode::OneByOne),
            &offers(&["yamada-kenji", "suzuki-akiko"]),
            Utc::now() - Duration::seconds(1),
            "t",
        )
        .await
        .unwrap();
    store
        .answer_offer(one.offers[0].id, false, "t")
        .await
        .unwrap();
    let ms = all(store).await;
    let to_suzuki: Vec<_> = of_kind(&ms, MessageKind::Offer)
        .into_iter()
        .filter(|m| m.payload["request"] == one.id)
        .collect();
    assert_eq!(staff_of(&to_suzuki), ["suzuki-akiko", "yamada-kenji"]);
    let escalated = store.escalate_due(Utc::now()).await.unwrap();
    assert_eq!(escalated.len(), 1);
    let ms = all(store).await;
    let esc = of_kind(&ms, MessageKind::Escalation);
    assert_eq!(esc.len(), 1);
    assert!(esc[0].staff.is_none());
    assert_eq!(esc[0].payload["request"], one.id);
}

/// Issue 13, item 8: a change to a duty that starts today or tomorrow is
/// told at once (no merge hold) and marked urgent; one weeks away waits to
/// merge as before.
pub async fn changes_to_imminent_duties_are_urgent(store: &dyn Store) {
    use chrono::Datelike;
    let net = imported(store).await;
    let region = &net.region.id;
    let today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    let month = touban_domain::Month::new(today.year(), today.month()).unwrap();
    let on = |staff: &str, date: chrono::NaiveDate| touban_domain::Assignment {
        shift: touban_domain::ShiftKey {
            service: touban_domain::ServiceId::parse("homecare-oncall").unwrap(),
            template: touban_domain::TemplateId::parse("night").unwrap(),
            date,
        },
        staff: StaffId::parse(staff).unwrap(),
        role: Role::Primary,
    };
    let rota = |based_on, assignments| touban_domain::NewRota {
        region: region.clone(),
        month,
        created_by: "c".into(),
        note: None,
        based_on,
        assignments,
        overridden: Vec::new(),
    };
    store
        .save_rota(&rota(None, vec![on("yamada-kenji", today)]))
        .await
        .unwrap();
    store.publish_rota(region, month, 1, "c").await.unwrap();
    let ms = all(store).await;
    let first = of_kind(&ms, MessageKind::Published);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload["urgent"], true, "{:?}", first[0].payload);
    // Today's night moves to suzuki: both are told at once, marked urgent.
    store
        .save_rota(&rota(Some(1), vec![on("suzuki-akiko", today)]))
        .await
        .unwrap();
    store.publish_rota(region, month, 2, "c").await.unwrap();
    let ms = all(store).await;
    let changed = of_kind(&ms, MessageKind::Changed);
    assert_eq!(staff_of(&changed), ["suzuki-akiko", "yamada-kenji"]);
    for m in &changed {
        assert_eq!(m.payload["urgent"], true);
        assert!(
            m.merge_key.is_none(),
            "urgent notices are not held to merge"
        );
    }
}
