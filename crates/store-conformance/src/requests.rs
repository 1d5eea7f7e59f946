//! Conformance cases of credentials, cover requests and their offers,
//! stale edits, the audit log and jobs.

use crate::demo_network;
use touban_store::{Store, StoreError};

pub(crate) fn cover_request(mode: touban_domain::OfferMode) -> touban_domain::CoverRequest {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    touban_domain::CoverRequest {
        institution: touban_domain::InstitutionId::parse("anan-hospital").unwrap(),
        profession: touban_domain::Profession::Physician,
        skills: Default::default(),
        start: t("2027-01-15T09:00:00+09:00"),
        end: t("2027-01-15T12:00:00+09:00"),
        note: None,
        mode,
    }
}

pub(crate) fn offers(ids: &[&str]) -> Vec<touban_store::NewOffer> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| touban_store::NewOffer {
            staff: touban_domain::StaffId::parse(s).unwrap(),
            rank: u32::try_from(i + 1).unwrap(),
            reason: format!("rank {}", i + 1),
        })
        .collect()
}

/// A revoked credential stays readable, marked revoked; unknown ids are NotFound.
pub async fn credentials_revoke(store: &dyn Store) {
    use touban_store::{Grant, NewCredential};
    let c = store
        .create_credential(&NewCredential {
            id: "tkabc".into(),
            secret_hash: "$argon2id$fake".into(),
            grant: Grant::Admin,
            label: "test".into(),
            created_by: "test".into(),
        })
        .await
        .unwrap();
    assert!(c.revoked_at.is_none());
    assert_eq!(
        store.credential("tkabc").await.unwrap().secret_hash,
        "$argon2id$fake"
    );
    let r = store.revoke_credential("tkabc", "test").await.unwrap();
    assert!(r.revoked_at.is_some());
    let again = store.revoke_credential("tkabc", "test").await.unwrap();
    assert_eq!(
        again.revoked_at, r.revoked_at,
        "revoking twice keeps the first time"
    );
    assert!(matches!(
        store.credential("nope").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.credentials(None).await.unwrap().len(), 1);
}

/// Imports the demo network and opens a cover request offered to `ids`, in
/// that rank order, answerable for 30 minutes.
async fn open_cover(
    store: &dyn Store,
    mode: touban_domain::OfferMode,
    ids: &[&str],
) -> touban_store::StoredCover {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    store
        .create_cover(
            &net.region.id,
            &cover_request(mode),
            &offers(ids),
            chrono::Utc::now() + chrono::Duration::minutes(30),
            "test",
        )
        .await
        .unwrap()
}

/// Broadcast: the first acceptance fills the request, later ones are told
/// it is taken, and an answered offer cannot be answered again.
pub async fn cover_first_acceptance_wins(store: &dyn Store) {
    let c = open_cover(
        store,
        touban_domain::OfferMode::Broadcast,
        &["yamada-kenji", "suzuki-akiko", "takahashi-ryo"],
    )
    .await;
    assert!(
        c.offers
            .iter()
            .all(|o| o.status == touban_store::OfferStatus::Offered)
    );
    let (a, b, d) = (c.offers[0].id, c.offers[1].id, c.offers[2].id);
    assert_eq!(
        store.answer_offer(d, false, "t").await.unwrap(),
        touban_store::OfferAnswer::Declined { next: None }
    );
    assert_eq!(
        store.answer_offer(b, true, "t").await.unwrap(),
        touban_store::OfferAnswer::Accepted
    );
    assert_eq!(
        store.answer_offer(a, true, "t").await.unwrap(),
        touban_store::OfferAnswer::AlreadyTaken
    );
    assert!(matches!(
        store.answer_offer(b, true, "t").await,
        Err(StoreError::Conflict(_))
    ));
    let c = store.cover(c.id).await.unwrap();
    assert_eq!(c.status, touban_store::CoverStatus::Filled);
    assert_eq!(
        c.filled_by.as_ref().map(|s| s.as_str()),
        Some("suzuki-akiko")
    );
    assert!(matches!(
        store.answer_offer(9999, true, "t").await,
        Err(StoreError::NotFound(_))
    ));
    // Nothing left to escalate.
    assert!(
        store
            .escalate_due(chrono::Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
}

/// One by one: only the first is offered; a decline offers the next; an
/// unanswered request escalates once its time has passed.
pub async fn one_by_one_offers_in_rank_order(store: &dyn Store) {
    let c = open_cover(
        store,
        touban_domain::OfferMode::OneByOne,
        &["yamada-kenji", "suzuki-akiko"],
    )
    .await;
    let st: Vec<_> = c.offers.iter().map(|o| o.status).collect();
    assert_eq!(
        st,
        [
            touban_store::OfferStatus::Offered,
            touban_store::OfferStatus::Waiting
        ]
    );
    assert!(matches!(
        store.answer_offer(c.offers[1].id, true, "t").await,
        Err(StoreError::Conflict(_))
    ));
    let next = store
        .answer_offer(c.offers[0].id, false, "t")
        .await
        .unwrap();
    assert_eq!(
        next,
        touban_store::OfferAnswer::Declined {
            next: Some(touban_domain::StaffId::parse("suzuki-akiko").unwrap())
        }
    );
    assert!(
        store
            .escalate_due(chrono::Utc::now())
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let due = store
        .escalate_due(chrono::Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].status, touban_store::CoverStatus::Escalated);
    // Escalated requests can still be taken.
    assert_eq!(
        store.answer_offer(c.offers[1].id, true, "t").await.unwrap(),
        touban_store::OfferAnswer::Accepted
    );
    assert!(matches!(
        store
            .create_cover(
                &demo_network().region.id,
                &touban_domain::CoverRequest {
                    institution: touban_domain::InstitutionId::parse("no-such-place").unwrap(),
                    ..cover_request(touban_domain::OfferMode::Broadcast)
                },
                &[],
                chrono::Utc::now(),
                "t"
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// Saving "after version N" fails once someone saved N+1.
pub async fn stale_edit_is_a_conflict(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let rota = touban_domain::NewRota {
        region: net.region.id.clone(),
        month: touban_domain::Month::parse("2027-01").unwrap(),
        created_by: "test".into(),
        note: None,
        based_on: None,
        assignments: vec![],
        overridden: Vec::new(),
    };
    store.save_rota(&rota).await.unwrap();
    let edit = touban_domain::NewRota {
        based_on: Some(1),
        ..rota.clone()
    };
    assert_eq!(store.save_rota_after(&edit, 1).await.unwrap().version, 2);
    assert!(matches!(
        store.save_rota_after(&edit, 1).await,
        Err(StoreError::Stale(_))
    ));
    assert_eq!(
        store
            .rota_versions(&net.region.id, rota.month)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Audit entries read back in order, filtered by region; jobs keep their result.
pub async fn audit_and_jobs_round_trip(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let region = net.region.id.clone();
    for (i, r) in [Some(region.clone()), None, Some(region.clone())]
        .into_iter()
        .enumerate()
    {
        store
            .append_audit(&touban_store::AuditEntry {
                actor: format!("a{i}"),
                address: Some("127.0.0.1".into()),
                region: r,
                method: "POST".into(),
                path: "/x".into(),
                status: 200,
                action: "POST /x".into(),
                detail: "done".into(),
            })
            .await
            .unwrap();
    }
    let all = store.audit_log(None, 0, 10).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|a| a.entry.actor.as_str())
            .collect::<Vec<_>>(),
        ["a0", "a1", "a2"]
    );
    let mine = store.audit_log(Some(&region), 0, 10).await.unwrap();
    assert_eq!(mine.len(), 2);
    let page = store.audit_log(None, all[0].id, 1).await.unwrap();
    assert_eq!(page[0].entry.actor, "a1");
    let month = touban_domain::Month::parse("2027-01").unwrap();
    let j = store
        .create_job(
            &region,
            "generate",
            month,
            "t",
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(j.status, touban_store::JobStatus::Queued);
    let v = serde_json::json!({"version": 3});
    store
        .update_job(j.id, touban_store::JobStatus::Succeeded, Some(&v), None)
        .await
        .unwrap();
    let j = store.job(j.id).await.unwrap();
    assert_eq!(j.status, touban_store::JobStatus::Succeeded);
    assert_eq!(j.result, Some(v));
    assert!(j.finished_at.is_some());
    // A job whose deadline passed while still running reads as failed.
    let late = store
        .create_job(
            &region,
            "generate",
            month,
            "t",
            chrono::Utc::now() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let late = store.job(late.id).await.unwrap();
    assert_eq!(late.status, touban_store::JobStatus::Failed);
    assert!(late.error.unwrap().contains("interrupted"));
    assert!(matches!(
        store.job(99_999).await,
        Err(StoreError::NotFound(_))
    ));
    let secret = store.server_secret("k", b"first").await.unwrap();
    assert_eq!(store.server_secret("k", b"second").await.unwrap(), secret);
}

/// A version may be published only if it was derived (directly or through
/// earlier versions) from the month's published version: otherwise it would
/// silently undo that version's changes. Two versions derived from the same
/// published one cannot both be published one after the other. A reason
/// overrides, and is recorded.
pub async fn publish_refuses_versions_not_based_on_the_published(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let region = &net.region.id;
    let jan = touban_domain::Month::parse("2027-01").unwrap();
    let v = |based_on| touban_domain::NewRota {
        region: region.clone(),
        month: jan,
        created_by: "test".into(),
        note: None,
        based_on,
        assignments: vec![],
        overridden: Vec::new(),
    };
    store.save_rota(&v(None)).await.unwrap(); // 1
    store.save_rota(&v(Some(1))).await.unwrap(); // 2: an edit of 1
    store.save_rota(&v(Some(1))).await.unwrap(); // 3: a repair of 1
    store.save_rota(&v(Some(2))).await.unwrap(); // 4: an edit of 2
    store.publish_rota(region, jan, 2, "alice").await.unwrap();
    // 1 is an ancestor of 2, 3 a sibling: both would undo 2.
    for stale in [1, 3] {
        let err = store
            .publish_rota(region, jan, stale, "bob")
            .await
            .unwrap_err();
        match err {
            StoreError::Stale(m) => {
                assert!(m.contains("version 2") && m.contains("alice"), "{m}")
            }
            e => panic!("version {stale}: {e}"),
        }
    }
    assert_eq!(
        store
            .published_rota(region, jan)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    // 4 builds on 2: fine.
    store.publish_rota(region, jan, 4, "bob").await.unwrap();
    // With a reason, 3 replaces 4 and the reason is in the history.
    let opts = touban_store::PublishOptions {
        replace_reason: Some("v4 was wrong".into()),
        accepted_violations: vec!["rule 3: x".into()],
    };
    store
        .publish_rota_with(region, jan, 3, "carol", &opts)
        .await
        .unwrap();
    let h = store.rota_history(region, jan).await.unwrap();
    assert!(
        h.iter().any(|c| c.version == 3
            && c.action == "published"
            && c.detail.contains("v4 was wrong"))
    );
    assert!(
        h.iter()
            .any(|c| c.version == 3 && c.action == "override" && c.detail == "rule 3: x")
    );
}
