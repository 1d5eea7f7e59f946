//! For moving a database from one adapter to another (`touban db copy`):
//! [`fill_every_table`] writes at least one row of every kind a store
//! keeps, through the port; [`assert_same_content`] compares two stores
//! through the port, kind by kind.

use chrono::{Duration, SubsecRound, Utc};
use touban_domain::{
    Absence, AbsenceKind, Month, OfferMode, Request, RequestKind, Role, ShiftKey, StaffId,
};
use touban_store::web::{Login, Session};
use touban_store::{
    AuditEntry, Grant, JobStatus, MessageFilter, MessageKind, NewCredential, NewMessage, NewSwap,
    Store,
};

use crate::{assignment, cover_request, demo_network, jan, offers, small_rota};

/// Fills a fresh store with a row in every table: the demo network with a
/// reported absence and an entered request, two published versions of a
/// month (their notices queued), a credential, audit entries, a finished
/// job, a cover request answered, a server secret, a sign-in link, a
/// session, a second factor, an admin and a swap.
pub async fn fill_every_table(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let region = net.region.id.clone();
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    store
        .add_absence(
            &region,
            &Absence {
                staff: StaffId::parse("yamada-kenji").unwrap(),
                start: t("2027-01-20T00:00:00+09:00"),
                end: t("2027-01-22T00:00:00+09:00"),
                kind: AbsenceKind::Sickness,
                reason: Some("発熱".into()),
            },
            "web:renkei@example.jp",
        )
        .await
        .unwrap();
    store
        .add_request(
            &region,
            &Request {
                staff: StaffId::parse("tanaka-yui").unwrap(),
                date: chrono::NaiveDate::from_ymd_opt(2027, 1, 9).unwrap(),
                kind: RequestKind::Off,
                service: None,
                weight: 5,
            },
            "staff:tanaka-yui",
        )
        .await
        .unwrap();
    let v1 = store.save_rota(&small_rota(&net, None)).await.unwrap();
    store
        .publish_rota(&region, jan(), v1.version, "test")
        .await
        .unwrap();
    let mut second = small_rota(&net, Some(v1.version));
    second.assignments.push(assignment(
        "homecare-oncall",
        "night",
        5,
        "yamada-kenji",
        Role::Primary,
    ));
    second.overridden = vec!["accepted: a test override".into()];
    let v2 = store.save_rota(&second).await.unwrap();
    store
        .publish_rota(&region, jan(), v2.version, "test")
        .await
        .unwrap();
    store
        .create_credential(&NewCredential {
            id: "tok1".into(),
            secret_hash: "$argon2id$x".into(),
            grant: Grant::Coordinator {
                region: region.clone(),
            },
            label: "renkei".into(),
            created_by: "admin".into(),
        })
        .await
        .unwrap();
    for (i, r) in [Some(region.clone()), None].into_iter().enumerate() {
        store
            .append_audit(&AuditEntry {
                actor: format!("a{i}"),
                address: Some("127.0.0.1".into()),
                region: r,
                method: "POST".into(),
                path: "/x".into(),
                status: 201,
                action: "POST /x".into(),
                detail: "done".into(),
            })
            .await
            .unwrap();
    }
    let job = store
        .create_job(
            &region,
            "generate",
            jan(),
            "test",
            Utc::now() + Duration::minutes(5),
        )
        .await
        .unwrap();
    store
        .update_job(
            job.id,
            JobStatus::Succeeded,
            Some(&serde_json::json!({ "version": 2, "cost": 1.5 })),
            None,
        )
        .await
        .unwrap();
    let cover = store
        .create_cover(
            &region,
            &cover_request(OfferMode::OneByOne),
            &offers(&["yamada-kenji", "suzuki-akiko"]),
            Utc::now() + Duration::hours(1),
            "institution:anan-hospital",
        )
        .await
        .unwrap();
    store
        .answer_offer(cover.offers[0].id, false, "staff:yamada-kenji")
        .await
        .unwrap();
    store
        .server_secret("links", b"\x00\x01secret\xff")
        .await
        .unwrap();
    let now = Utc::now().trunc_subsecs(6);
    store
        .create_login(
            &Login {
                id: "l1".into(),
                email: "renkei@example.jp".into(),
                address: Some("127.0.0.1".into()),
                created_at: now,
                expires_at: now + Duration::minutes(15),
                used_at: None,
            },
            &NewMessage {
                region: region.clone(),
                kind: MessageKind::SignIn,
                staff: None,
                payload: serde_json::json!({ "login": "l1" }),
                due_at: now,
                dedupe_key: Some("sign-in:l1".into()),
                merge_key: None,
            },
        )
        .await
        .unwrap();
    store
        .create_session(&Session {
            id_hash: "h1".into(),
            email: "renkei@example.jp".into(),
            grant: Grant::Coordinator {
                region: region.clone(),
            },
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(12),
            ended_at: None,
            verified_at: Some(now),
        })
        .await
        .unwrap();
    store
        .begin_second_factor("renkei@example.jp", "JBSWY3DPEHPK3PXP", now)
        .await
        .unwrap();
    store
        .add_admin("admin@example.jp", "setup", now)
        .await
        .unwrap();
    let key = |day| ShiftKey {
        service: touban_domain::ServiceId::parse("homecare-oncall").unwrap(),
        template: touban_domain::TemplateId::parse("night").unwrap(),
        date: chrono::NaiveDate::from_ymd_opt(2027, 1, day).unwrap(),
    };
    store
        .create_swap(
            &NewSwap {
                region: region.clone(),
                month: Month::new(2027, 1).unwrap(),
                from_staff: StaffId::parse("yamada-kenji").unwrap(),
                give: key(4),
                to_staff: StaffId::parse("tanaka-yui").unwrap(),
                take: None,
                base_version: v2.version,
                note: Some("法事".into()),
            },
            "staff:yamada-kenji",
        )
        .await
        .unwrap();
}

/// Asserts that two stores hold the same things, read through the port.
pub async fn assert_same_content(a: &dyn Store, b: &dyn Store) {
    let ra = a.regions().await.unwrap();
    assert_eq!(ra, b.regions().await.unwrap(), "regions");
    for r in &ra {
        let id = &r.id;
        crate::assert_same_network(
            &b.load_network(id).await.unwrap(),
            &a.load_network(id).await.unwrap(),
        );
        assert_eq!(a.absences(id).await.unwrap(), b.absences(id).await.unwrap());
        assert_eq!(a.requests(id).await.unwrap(), b.requests(id).await.unwrap());
        let months = a.rota_months(id).await.unwrap();
        assert_eq!(months, b.rota_months(id).await.unwrap(), "months");
        for m in months {
            let va = a.rota_versions(id, m).await.unwrap();
            assert_eq!(va, b.rota_versions(id, m).await.unwrap(), "versions {m}");
            for v in &va {
                assert_eq!(
                    a.rota(id, m, Some(v.version)).await.unwrap(),
                    b.rota(id, m, Some(v.version)).await.unwrap(),
                    "rota {m} v{}",
                    v.version
                );
            }
            assert_eq!(
                a.rota_history(id, m).await.unwrap(),
                b.rota_history(id, m).await.unwrap()
            );
        }
        assert_eq!(
            a.covers(id, 0, 1000).await.unwrap(),
            b.covers(id, 0, 1000).await.unwrap()
        );
        assert_eq!(a.swaps(id).await.unwrap(), b.swaps(id).await.unwrap());
    }
    assert_eq!(
        a.credentials(None).await.unwrap(),
        b.credentials(None).await.unwrap()
    );
    assert_eq!(
        a.audit_log(None, 0, 10_000).await.unwrap(),
        b.audit_log(None, 0, 10_000).await.unwrap()
    );
    let all = MessageFilter {
        limit: 10_000,
        ..Default::default()
    };
    assert_eq!(
        a.messages(&all).await.unwrap(),
        b.messages(&all).await.unwrap()
    );
    assert_eq!(a.admins().await.unwrap(), b.admins().await.unwrap());
}
