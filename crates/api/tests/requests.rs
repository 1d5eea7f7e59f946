//! Staff's on/off requests through the API: a person enters and withdraws
//! their own until the deadline and sees no one else's; a coordinator
//! enters for anyone at any time and sees all; an institution sees its
//! staff's and changes none. What is entered is in the network `generate`
//! reads.

mod common;

use chrono::{Datelike, Utc};
use common::{REGION, Server, config, json_of, region};
use reqwest::StatusCode;
use serde_json::{Value, json};
use touban_store::{Grant, Store};

async fn post(c: &reqwest::Client, srv: &Server, token: &str, body: Value) -> (StatusCode, Value) {
    json_of(
        c.post(srv.url(&format!("/api/v1/regions/{REGION}/requests")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn list(c: &reqwest::Client, srv: &Server, token: &str) -> Vec<Value> {
    let (s, v) = json_of(
        c.get(srv.url(&format!("/api/v1/regions/{REGION}/requests?limit=500")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn delete(c: &reqwest::Client, srv: &Server, token: &str, id: i64) -> StatusCode {
    c.delete(srv.url(&format!("/api/v1/regions/{REGION}/requests/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_entered_listed_and_withdrawn_each_by_its_own() {
    let srv = Server::start(config()).await;
    let c = reqwest::Client::new();
    let net = srv.store.load_network(&region()).await.unwrap();
    // Two people of different institutions.
    let me = &net.staff[0];
    let other = net
        .staff
        .iter()
        .find(|p| p.home_institution != me.home_institution)
        .unwrap();
    let token = |g| srv.token(g);
    let mine = token(Grant::Staff {
        region: region(),
        staff: me.id.clone(),
    })
    .await;
    let theirs = token(Grant::Staff {
        region: region(),
        staff: other.id.clone(),
    })
    .await;
    let coord = token(Grant::Coordinator { region: region() }).await;
    let clinic = token(Grant::Institution {
        region: region(),
        institution: me.home_institution.clone(),
    })
    .await;

    // A month still open (no deadline set: open until it starts), and one
    // already closed.
    let today = Utc::now().date_naive();
    let ahead = (today + chrono::Duration::days(70)).with_day(10).unwrap();
    let past = (today - chrono::Duration::days(40)).with_day(10).unwrap();

    let (s, r) = post(
        &c,
        &srv,
        &mine,
        json!({"staff": me.id.as_str(), "date": ahead.to_string(), "kind": "off", "weight": 7}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["source"], "entered");
    assert_eq!(r["kind"], "off");
    assert_eq!(r["weight"], 7);
    let id = r["id"].as_i64().unwrap();

    // Wrong input is named by its field; nothing is stored.
    for (body, field) in [
        (
            json!({"staff": me.id.as_str(), "date": ahead.to_string(), "kind": "off"}),
            "/date",
        ),
        (
            json!({"staff": me.id.as_str(), "date": "2027-02-30", "kind": "off"}),
            "/date",
        ),
        (
            json!({"staff": me.id.as_str(), "date": ahead.to_string(), "kind": "maybe"}),
            "/kind",
        ),
        (
            json!({"staff": me.id.as_str(), "date": (ahead + chrono::Duration::days(1)).to_string(), "kind": "on", "weight": 11}),
            "/weight",
        ),
        (
            json!({"staff": me.id.as_str(), "date": (ahead + chrono::Duration::days(1)).to_string(), "kind": "on", "service": "no-such"}),
            "/service",
        ),
        (
            json!({"staff": other.id.as_str(), "date": ahead.to_string(), "kind": "off"}),
            "/staff",
        ),
        (
            json!({"staff": me.id.as_str(), "date": past.to_string(), "kind": "off"}),
            "/date",
        ),
    ] {
        let (s, p) = post(&c, &srv, &mine, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        let text = p.to_string();
        assert!(text.contains(field), "{body}: {p}");
    }
    let (_, p) = post(
        &c,
        &srv,
        &mine,
        json!({"staff": me.id.as_str(), "date": past.to_string(), "kind": "off"}),
    )
    .await;
    assert!(p.to_string().contains("closed"), "{p}");

    // A coordinator enters for anyone, even for a closed month; an
    // institution enters nothing.
    let (s, r) = post(
        &c,
        &srv,
        &coord,
        json!({"staff": other.id.as_str(), "date": past.to_string(), "kind": "on"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["weight"], 5);
    let coord_id = r["id"].as_i64().unwrap();
    let (s, _) = post(
        &c,
        &srv,
        &clinic,
        json!({"staff": me.id.as_str(), "date": ahead.to_string(), "kind": "on"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Each sees what is theirs to see.
    let seen = list(&c, &srv, &mine).await;
    assert!(
        seen.iter().all(|r| r["staff"] == me.id.as_str()),
        "{seen:?}"
    );
    assert!(seen.iter().any(|r| r["id"] == id));
    let seen = list(&c, &srv, &theirs).await;
    assert!(
        seen.iter().all(|r| r["staff"] == other.id.as_str()),
        "{seen:?}"
    );
    assert!(seen.iter().any(|r| r["id"] == coord_id));
    let all = list(&c, &srv, &coord).await;
    assert!(all.iter().any(|r| r["id"] == id) && all.iter().any(|r| r["id"] == coord_id));
    assert!(
        all.iter().any(|r| r["source"] == "file"),
        "the file's requests are listed too"
    );
    let seen = list(&c, &srv, &clinic).await;
    assert!(seen.iter().any(|r| r["id"] == id));
    assert!(seen.iter().all(|r| {
        net.staff_member(&touban_domain::StaffId::parse(r["staff"].as_str().unwrap()).unwrap())
            .is_some_and(|p| p.may_work_for(&me.home_institution))
    }));

    // What is entered is in the network the solver reads.
    let now = srv.store.load_network(&region()).await.unwrap();
    assert!(
        now.requests
            .iter()
            .any(|r| r.staff == me.id && r.date == ahead && r.weight == 7)
    );

    // Withdrawing: not someone else's (not found, as if it did not exist),
    // not by an institution, not a file request; one's own once.
    assert_eq!(delete(&c, &srv, &theirs, id).await, StatusCode::NOT_FOUND);
    assert_eq!(delete(&c, &srv, &clinic, id).await, StatusCode::FORBIDDEN);
    assert_eq!(
        delete(&c, &srv, &mine, coord_id).await,
        StatusCode::NOT_FOUND
    );
    let file_id = all.iter().find(|r| r["source"] == "file").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        delete(&c, &srv, &coord, file_id).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(delete(&c, &srv, &mine, id).await, StatusCode::NO_CONTENT);
    assert_eq!(delete(&c, &srv, &mine, id).await, StatusCode::NOT_FOUND);
    // The person may not withdraw the coordinator's entry for them in a
    // closed month either; the coordinator may.
    assert_eq!(
        delete(&c, &srv, &theirs, coord_id).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        delete(&c, &srv, &coord, coord_id).await,
        StatusCode::NO_CONTENT
    );
    let now = srv.store.load_network(&region()).await.unwrap();
    assert!(
        !now.requests
            .iter()
            .any(|r| r.staff == me.id && r.date == ahead)
    );

    // Every change is in the audit log, by whom.
    let admin = srv.token(Grant::Admin).await;
    let (s, audit) = json_of(
        c.get(srv.url("/api/v1/audit?limit=500"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = audit.to_string();
    assert!(text.contains("/requests"), "{text}");
    srv.stop().await;
}
