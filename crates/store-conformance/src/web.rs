//! Conformance cases of the web app's sign-in links and sessions.

use chrono::{Duration, SubsecRound, Utc};
use touban_store::web::{Login, Session};
use touban_store::{Grant, MessageKind, NewMessage, Store, StoreError};

use crate::demo_network;

/// A sign-in link is stored with its e-mail in one step, works once, not
/// after it expires; sessions end one at a time or all together.
pub async fn sign_in_links_and_sessions(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    // Times are kept to the microsecond.
    let now = Utc::now().trunc_subsecs(6);
    let login = |id: &str, expires| Login {
        id: id.into(),
        email: "renkei@example.jp".into(),
        address: Some("127.0.0.1".into()),
        created_at: now,
        expires_at: expires,
        used_at: None,
    };
    let msg = |id: &str| NewMessage {
        region: net.region.id.clone(),
        kind: MessageKind::SignIn,
        staff: None,
        payload: serde_json::json!({ "login": id }),
        due_at: now,
        dedupe_key: Some(format!("sign-in:{id}")),
        merge_key: None,
    };
    store
        .create_login(&login("a1", now + Duration::minutes(15)), &msg("a1"))
        .await
        .unwrap();
    store
        .create_login(&login("old", now - Duration::minutes(1)), &msg("old"))
        .await
        .unwrap();
    let queued = store
        .messages(&touban_store::MessageFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        queued
            .iter()
            .filter(|m| m.kind == MessageKind::SignIn)
            .count(),
        2,
        "each link's e-mail is queued with it"
    );
    assert_eq!(
        store
            .recent_logins(
                "renkei@example.jp",
                Some("127.0.0.1"),
                now - Duration::minutes(15)
            )
            .await
            .unwrap(),
        (2, 2)
    );
    let used = store.use_login("a1", Utc::now()).await.unwrap();
    assert!(used.used_at.is_some());
    assert!(matches!(
        store.use_login("a1", Utc::now()).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.use_login("old", Utc::now()).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.use_login("nope", Utc::now()).await,
        Err(StoreError::NotFound(_))
    ));

    let session = |h: &str| Session {
        id_hash: h.into(),
        email: "renkei@example.jp".into(),
        grant: Grant::Coordinator {
            region: net.region.id.clone(),
        },
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(24),
        ended_at: None,
        verified_at: (h != "s3").then_some(now),
    };
    for h in ["s1", "s2", "s3"] {
        store.create_session(&session(h)).await.unwrap();
    }
    assert_eq!(store.session("s1").await.unwrap(), session("s1"));
    assert_eq!(store.session("s3").await.unwrap().verified_at, None);
    store.verify_session("s3", later_of(now)).await.unwrap();
    assert_eq!(
        store.session("s3").await.unwrap().verified_at,
        Some(later_of(now))
    );
    let later = now + Duration::minutes(5);
    store.touch_session("s1", later).await.unwrap();
    assert_eq!(store.session("s1").await.unwrap().last_seen_at, later);
    assert_eq!(
        store
            .end_sessions("renkei@example.jp", Some("s1"), Utc::now())
            .await
            .unwrap(),
        1
    );
    assert!(store.session("s1").await.unwrap().ended_at.is_some());
    assert!(store.session("s2").await.unwrap().ended_at.is_none());
    assert_eq!(
        store
            .end_sessions("renkei@example.jp", None, Utc::now())
            .await
            .unwrap(),
        2,
        "signing out everywhere ends the others"
    );
    assert!(matches!(
        store.session("gone").await,
        Err(StoreError::NotFound(_))
    ));
}

fn later_of(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    t + Duration::minutes(1)
}

/// A second factor is set up unconfirmed, confirmed by its first code, and
/// then cannot be replaced without removing it; a time step works once.
pub async fn second_factors_confirm_and_codes_work_once(store: &dyn Store) {
    let now = Utc::now().trunc_subsecs(6);
    let who = "renkei@example.jp";
    assert_eq!(store.second_factor(who).await.unwrap(), None);
    store.begin_second_factor(who, "AAAA", now).await.unwrap();
    // Set up again before confirming: the new secret replaces the old.
    store.begin_second_factor(who, "BBBB", now).await.unwrap();
    let f = store.second_factor(who).await.unwrap().unwrap();
    assert_eq!(
        (f.secret.as_str(), f.confirmed_at, f.last_step),
        ("BBBB", None, 0)
    );
    assert!(store.use_second_factor_step(who, 100, now).await.unwrap());
    let f = store.second_factor(who).await.unwrap().unwrap();
    assert_eq!((f.confirmed_at, f.last_step), (Some(now), 100));
    assert!(
        !store.use_second_factor_step(who, 100, now).await.unwrap(),
        "a code works once"
    );
    assert!(
        !store.use_second_factor_step(who, 99, now).await.unwrap(),
        "nor an older one"
    );
    assert!(store.use_second_factor_step(who, 101, now).await.unwrap());
    assert!(matches!(
        store.begin_second_factor(who, "CCCC", now).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.second_factor(who).await.unwrap().unwrap().secret,
        "BBBB"
    );
    store.remove_second_factor(who).await.unwrap();
    assert_eq!(store.second_factor(who).await.unwrap(), None);
    assert!(
        !store
            .use_second_factor_step("nobody@example.jp", 1, now)
            .await
            .unwrap()
    );
}

/// Admins are added once, listed by address and removed once.
pub async fn admins_are_added_listed_and_removed(store: &dyn Store) {
    let now = Utc::now().trunc_subsecs(6);
    assert!(store.admins().await.unwrap().is_empty());
    let a = store.add_admin("b@example.jp", "cli", now).await.unwrap();
    assert_eq!(a.email, "b@example.jp");
    store.add_admin("a@example.jp", "cli", now).await.unwrap();
    assert!(matches!(
        store.add_admin("a@example.jp", "cli", now).await,
        Err(StoreError::Conflict(ref m)) if m.contains("a@example.jp")
    ));
    let all = store.admins().await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(),
        ["a@example.jp", "b@example.jp"]
    );
    assert_eq!(all[1].created_at, now);
    assert_eq!(all[1].created_by, "cli");
    store.remove_admin("a@example.jp").await.unwrap();
    assert!(matches!(
        store.remove_admin("a@example.jp").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.admins().await.unwrap().len(), 1);
}
