//! Swaps through the API (issue 16 item 6), each role kept to its own: a
//! nurse asks whom her duty can go to, proposes a swap; nobody else sees
//! or answers it; the colleague accepts; the coordinator approves and the
//! swap is the new published version, with change notices to both. A
//! proposal whose duties changed meanwhile is withdrawn when accepted; with
//! `auto_approve_swaps` an acceptance is published at once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use touban_domain::{NewRota, StaffId};
use touban_store::{Grant, MessageFilter, MessageKind, Store};

use crate::common::{REGION, json_of, region};
use crate::helpers::{Month, published};

async fn post(m: &Month, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = m.c.post(m.srv.url(path)).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    json_of(r.send().await.unwrap()).await
}

async fn get(m: &Month, token: &str, path: &str) -> (StatusCode, Value) {
    json_of(
        m.c.get(m.srv.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn staff_token(m: &Month, who: &str) -> String {
    m.srv
        .token(Grant::Staff {
            region: region(),
            staff: StaffId::parse(who).unwrap(),
        })
        .await
}

/// A nurse, one of her duties in the published `version` and a swap
/// partner for it (the first duty that has one), as the API lists them.
async fn a_swap(m: &Month, version: u32) -> (String, String, Value, String, Value) {
    a_swap_without(m, version, &[]).await
}

/// [`a_swap`] between two people not in `skip`.
async fn a_swap_without(
    m: &Month,
    version: u32,
    skip: &[&str],
) -> (String, String, Value, String, Value) {
    let v = m.version(version).await;
    let rows = v["assignments"].as_array().unwrap().clone();
    let net = m.srv.store.load_network(&region()).await.unwrap();
    for p in net.staff.iter().filter(|p| {
        p.profession == touban_domain::Profession::Nurse && !skip.contains(&p.id.as_str())
    }) {
        let token = staff_token(m, p.id.as_str()).await;
        for a in rows.iter().filter(|a| a["staff"] == p.id.as_str()) {
            let give =
                json!({"service": a["service"], "template": a["template"], "date": a["date"]});
            let (s, found) = post(m, &token, "/api/v1/me/swap-partners", Some(give.clone())).await;
            assert_eq!(s, StatusCode::OK, "{found}");
            if let Some(first) = found["swaps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| !skip.contains(&x["staff"].as_str().unwrap()))
            {
                return (
                    p.id.to_string(),
                    token,
                    give,
                    first["staff"].as_str().unwrap().to_string(),
                    first["take"].clone(),
                );
            }
        }
    }
    panic!("no nurse has a duty that can be swapped");
}

async fn kinds_to(m: &Month, who: &str) -> Vec<MessageKind> {
    m.srv
        .store
        .messages(&MessageFilter {
            region: None,
            state: None,
            staff: Some(StaffId::parse(who).unwrap()),
            after: 0,
            limit: 500,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_is_proposed_accepted_and_approved_each_by_its_own() {
    let m = published().await;
    let (a, a_token, give, b, take) = a_swap(&m, 1).await;
    let b_token = staff_token(&m, &b).await;
    let other = m
        .srv
        .store
        .load_network(&region())
        .await
        .unwrap()
        .staff
        .iter()
        .find(|p| p.id.as_str() != a && p.id.as_str() != b)
        .unwrap()
        .id
        .to_string();
    let other_token = staff_token(&m, &other).await;
    let clinic = m
        .srv
        .token(Grant::Institution {
            region: region(),
            institution: touban_domain::InstitutionId::parse("anan-hospital").unwrap(),
        })
        .await;

    // Only a staff member asks for partners, and only for their own duty.
    let (s, _) = post(&m, &m.coord, "/api/v1/me/swap-partners", Some(give.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = post(&m, &b_token, "/api/v1/me/swap-partners", Some(give.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");

    // A swap the list does not name is refused; the one it names is made.
    let wrong = json!({"give": give, "to_staff": b, "take": give});
    let (s, p) = post(&m, &a_token, "/api/v1/me/swaps", Some(wrong)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let body = json!({"give": give, "to_staff": b, "take": take, "note": "家族の用事"});
    let (s, swap) = post(&m, &a_token, "/api/v1/me/swaps", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{swap}");
    assert_eq!(swap["status"], "proposed");
    let id = swap["id"].as_i64().unwrap();
    let (s, _) = post(&m, &a_token, "/api/v1/me/swaps", Some(body)).await;
    assert_eq!(s, StatusCode::CONFLICT, "one open proposal per duty");
    assert!(kinds_to(&m, &b).await.contains(&MessageKind::SwapProposed));

    // Nobody but the two and the coordinators sees it.
    let one = format!("/api/v1/swaps/{id}");
    for (t, want) in [
        (&other_token, StatusCode::NOT_FOUND),
        (&clinic, StatusCode::NOT_FOUND),
        (&b_token, StatusCode::OK),
        (&m.coord, StatusCode::OK),
    ] {
        assert_eq!(get(&m, t, &one).await.0, want);
    }
    let (_, list) = get(&m, &other_token, &format!("/api/v1/regions/{REGION}/swaps")).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    let (_, list) = get(&m, &m.coord, &format!("/api/v1/regions/{REGION}/swaps")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Only the colleague answers; only a coordinator approves, once accepted.
    assert_eq!(
        post(&m, &other_token, &format!("{one}/accept"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&m, &a_token, &format!("{one}/accept"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&m, &b_token, &format!("{one}/approve"), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, p) = post(&m, &m.coord, &format!("{one}/approve"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not accepted yet: {p}");
    let (s, accepted) = post(&m, &b_token, &format!("{one}/accept"), None).await;
    assert_eq!(s, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    assert!(kinds_to(&m, &a).await.contains(&MessageKind::SwapUpdate));

    let (s, approved) = post(&m, &m.coord, &format!("{one}/approve"), None).await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["result_version"], 2);
    let v2 = m.version(2).await;
    assert_eq!(v2["status"], "published");
    let on = |who: &str, d: &Value| {
        v2["assignments"].as_array().unwrap().iter().any(|x| {
            x["staff"] == who
                && x["service"] == d["service"]
                && x["template"] == d["template"]
                && x["date"] == d["date"]
        })
    };
    assert!(on(&b, &give) && on(&a, &take), "{v2}");
    assert!(!on(&a, &give) && !on(&b, &take), "{v2}");
    for who in [&a, &b] {
        assert!(
            kinds_to(&m, who).await.contains(&MessageKind::Changed),
            "{who} told"
        );
    }
    // Settled: nothing more moves it.
    assert_eq!(
        post(&m, &a_token, &format!("{one}/withdraw"), None).await.1["status"],
        "approved"
    );
    let (s, _) = post(
        &m,
        &m.coord,
        &format!("{one}/refuse"),
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_duties_withdraw_a_proposal_and_the_policy_approves_at_once() {
    let m = published().await;
    let (a, a_token, give, b, take) = a_swap(&m, 1).await;
    let b_token = staff_token(&m, &b).await;
    let (s, swap) = post(
        &m,
        &a_token,
        "/api/v1/me/swaps",
        Some(json!({"give": give, "to_staff": b, "take": take})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{swap}");
    let id = swap["id"].as_i64().unwrap();

    // Meanwhile the coordinator gives her duty to someone else and
    // publishes it: the proposal can no longer be kept.
    let store: &dyn Store = m.srv.store.as_ref();
    let month = touban_domain::Month::new(2027, 1).unwrap();
    let v1 = store.rota(&region(), month, Some(1)).await.unwrap();
    let net = store.load_network(&region()).await.unwrap();
    let inst = touban_solver::Instance::new(&net, month);
    let key = touban_domain::ShiftKey {
        service: touban_domain::ServiceId::parse(give["service"].as_str().unwrap()).unwrap(),
        template: touban_domain::TemplateId::parse(give["template"].as_str().unwrap()).unwrap(),
        date: give["date"].as_str().unwrap().parse().unwrap(),
    };
    let (n_a, n_b) = (StaffId::parse(&a).unwrap(), StaffId::parse(&b).unwrap());
    let replacement = inst.candidates[inst.shift_index[&key]]
        .iter()
        .map(|&i| inst.staff[i].id.clone())
        .find(|s| {
            *s != n_a
                && *s != n_b
                && !v1
                    .assignments
                    .iter()
                    .any(|x| x.shift == key && &x.staff == s)
        })
        .unwrap();
    let mut assignments = v1.assignments.clone();
    for x in assignments
        .iter_mut()
        .filter(|x| x.shift == key && x.staff == n_a)
    {
        x.staff = replacement.clone();
    }
    let v2 = store
        .save_rota(&NewRota {
            region: region(),
            month,
            created_by: "test".into(),
            note: None,
            based_on: Some(1),
            assignments,
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    store
        .publish_rota_with(&region(), month, v2.version, "test", &Default::default())
        .await
        .unwrap();
    let (s, after) = post(&m, &b_token, &format!("/api/v1/swaps/{id}/accept"), None).await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert_eq!(after["status"], "withdrawn", "{after}");
    assert!(
        after["reason"].as_str().unwrap().contains("当番が変わった"),
        "{after}"
    );
    assert!(kinds_to(&m, &a).await.contains(&MessageKind::SwapUpdate));

    // With auto_approve_swaps, a swap the checker finds nothing against is
    // published as soon as the colleague accepts.
    let mut net = store.load_network(&region()).await.unwrap();
    net.policy.auto_approve_swaps = true;
    store.import_network(&net, "test").await.unwrap();
    let (a, a_token, give, b, take) = a_swap(&m, 2).await;
    let b_token = staff_token(&m, &b).await;
    let (s, swap) = post(
        &m,
        &a_token,
        "/api/v1/me/swaps",
        Some(json!({"give": give, "to_staff": b, "take": take})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{swap}");
    let (s, done) = post(
        &m,
        &b_token,
        &format!("/api/v1/swaps/{}/accept", swap["id"]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "approved", "{done}");
    assert_eq!(done["result_version"], 3);
    let _ = a;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_swaps_approved_at_once_are_both_published() {
    let m = published().await;
    let (a, a_token, give1, b, take1) = a_swap(&m, 1).await;
    let (c, c_token, give2, d, take2) = a_swap_without(&m, 1, &[a.as_str(), b.as_str()]).await;
    let mut ids = Vec::new();
    for (token, give, to, take, answer) in [
        (&a_token, &give1, &b, &take1, staff_token(&m, &b).await),
        (&c_token, &give2, &d, &take2, staff_token(&m, &d).await),
    ] {
        let (s, swap) = post(
            &m,
            token,
            "/api/v1/me/swaps",
            Some(json!({"give": give, "to_staff": to, "take": take})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{swap}");
        let id = swap["id"].as_i64().unwrap();
        let (s, p) = post(&m, &answer, &format!("/api/v1/swaps/{id}/accept"), None).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        ids.push(id);
    }
    // Two coordinators approve at the same moment: both swaps are published,
    // one on top of the other, and neither is lost.
    let (p0, p1) = (
        format!("/api/v1/swaps/{}/approve", ids[0]),
        format!("/api/v1/swaps/{}/approve", ids[1]),
    );
    let (x, y) = tokio::join!(post(&m, &m.coord, &p0, None), post(&m, &m.coord, &p1, None));
    for (s, p) in [&x, &y] {
        assert_eq!(*s, StatusCode::OK, "{p}");
        assert_eq!(p["status"], "approved", "{p}");
    }
    // The one approved second is applied on top of the first (a draft made
    // against the old version before the race was lost stays as a draft).
    let mut versions = vec![
        x.1["result_version"].as_u64().unwrap(),
        y.1["result_version"].as_u64().unwrap(),
    ];
    versions.sort_unstable();
    assert!(
        versions[0] >= 2 && versions[1] > versions[0],
        "{versions:?}"
    );
    let v3 = m.version(versions[1] as u32).await;
    assert_eq!(v3["status"], "published");
    let on = |who: &str, d: &Value| {
        v3["assignments"].as_array().unwrap().iter().any(|x| {
            x["staff"] == who
                && x["service"] == d["service"]
                && x["template"] == d["template"]
                && x["date"] == d["date"]
        })
    };
    assert!(
        on(&b, &give1) && on(&a, &take1),
        "the first swap is in the last version"
    );
    assert!(
        on(&d, &give2) && on(&c, &take2),
        "the second swap is in the last version"
    );
}
