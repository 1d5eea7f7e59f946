//! Conformance of swaps: a proposal is stored with the colleague's e-mail
//! queued; one open proposal per duty; each move is conditional (two
//! answers at once: one wins, the other is a conflict); the news goes to
//! whom it concerns.

use touban_domain::{Month, ServiceId, ShiftKey, StaffId, TemplateId};
use touban_store::{MessageFilter, MessageKind, NewSwap, Store, StoreError, SwapMove, SwapStatus};

use crate::demo_network;

fn key(day: u32) -> ShiftKey {
    ShiftKey {
        service: ServiceId::parse("home-care-oncall").unwrap(),
        template: TemplateId::parse("night").unwrap(),
        date: chrono::NaiveDate::from_ymd_opt(2027, 1, day).unwrap(),
    }
}

async fn kinds_to(store: &dyn Store, who: &StaffId) -> Vec<MessageKind> {
    store
        .messages(&MessageFilter {
            region: None,
            state: None,
            staff: Some(who.clone()),
            after: 0,
            limit: 100,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect()
}

pub async fn swaps_move_once_and_tell_whom_they_concern(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let region = net.region.id.clone();
    let (a, b) = (net.staff[0].id.clone(), net.staff[1].id.clone());
    let new = NewSwap {
        region: region.clone(),
        month: Month::new(2027, 1).unwrap(),
        from_staff: a.clone(),
        give: key(12),
        to_staff: b.clone(),
        take: Some(key(15)),
        base_version: 1,
        note: Some("家庭の事情".into()),
    };
    let s = store.create_swap(&new, "staff:a").await.unwrap();
    assert_eq!(s.status, SwapStatus::Proposed);
    assert_eq!((s.give.clone(), s.take.clone()), (key(12), Some(key(15))));
    assert_eq!(store.swap(s.id).await.unwrap(), s);
    assert_eq!(kinds_to(store, &b).await, vec![MessageKind::SwapProposed]);
    // The same duty cannot be in two open proposals.
    assert!(matches!(
        store.create_swap(&new, "staff:a").await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    // Accepted once; a second answer from the same state is a conflict.
    let accept = SwapMove {
        from: SwapStatus::Proposed,
        to: SwapStatus::Accepted,
        reason: None,
        result_version: None,
    };
    let s2 = store.settle_swap(s.id, &accept, "staff:b").await.unwrap();
    assert_eq!(s2.status, SwapStatus::Accepted);
    assert!(s2.answered_at.is_some());
    assert!(matches!(
        store
            .settle_swap(s.id, &accept, "staff:b")
            .await
            .unwrap_err(),
        StoreError::Conflict(_)
    ));
    assert_eq!(kinds_to(store, &a).await, vec![MessageKind::SwapUpdate]);
    // Refused by a coordinator: both are told, with the reason kept.
    let s3 = store
        .settle_swap(
            s.id,
            &SwapMove {
                from: SwapStatus::Accepted,
                to: SwapStatus::Refused,
                reason: Some("研修と重なる".into()),
                result_version: None,
            },
            "coordinator:x",
        )
        .await
        .unwrap();
    assert_eq!(s3.status, SwapStatus::Refused);
    assert_eq!(s3.reason.as_deref(), Some("研修と重なる"));
    assert_eq!(s3.decided_by.as_deref(), Some("coordinator:x"));
    assert_eq!(kinds_to(store, &a).await.len(), 2);
    assert_eq!(kinds_to(store, &b).await.len(), 2);
    // Closed, the duty may be proposed again; the list holds both, in order.
    let again = store.create_swap(&new, "staff:a").await.unwrap();
    let all = store.swaps(&region).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s.id, again.id]
    );
    assert!(matches!(
        store.swap(again.id + 100).await.unwrap_err(),
        StoreError::NotFound(_)
    ));
}
