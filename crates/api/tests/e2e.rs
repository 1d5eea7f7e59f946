//! End to end: the real server on a loopback port, a temporary SQLite
//! database with the demo network, and HTTP requests as a client makes them.

mod common;

use std::time::Duration;

use common::{REGION, Server, config, json_of, region};
use reqwest::{Client, StatusCode};
use serde_json::json;
use touban_api::ApiConfig;
use touban_store::{Grant, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_is_kept_to_its_own() {
    let srv = Server::start(config()).await;
    let c = Client::new();
    let synth = touban_domain::RegionId::parse("synth").unwrap();
    let other_coord = srv.token(Grant::Coordinator { region: synth }).await;
    let coord = srv.token(Grant::Coordinator { region: region() }).await;
    let me = touban_domain::StaffId::parse("kobayashi-mai").unwrap();
    let staff = srv
        .token(Grant::Staff {
            region: region(),
            staff: me.clone(),
        })
        .await;
    let clinic = srv
        .token(Grant::Institution {
            region: region(),
            institution: touban_domain::InstitutionId::parse("nakajima-iin").unwrap(),
        })
        .await;
    // A draft exists.
    let net = srv.store.load_network(&region()).await.unwrap();
    srv.store
        .save_rota(&touban_domain::NewRota {
            region: region(),
            month: touban_domain::Month::parse("2027-01").unwrap(),
            created_by: "test".into(),
            note: None,
            based_on: None,
            assignments: vec![],
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    let _ = net;
    let r = |p: &str| srv.url(&format!("/api/v1/regions/{REGION}{p}"));
    // Ids the caller sent may be echoed; names and phones of others never.
    let secret_names = ["中島", "小林", "090-"];
    let no_leak = |body: &str| {
        for n in secret_names {
            assert!(!body.contains(n), "a refusal leaks \"{n}\": {body}");
        }
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        ("no token", c.get(r("/staff")), StatusCode::UNAUTHORIZED),
        ("bad token", c.get(r("/staff")).bearer_auth("tk0000.nope"), StatusCode::UNAUTHORIZED),
        ("other region's coordinator reads staff", c.get(r("/staff")).bearer_auth(&other_coord), StatusCode::NOT_FOUND),
        ("other region's coordinator reads a person", c.get(r("/staff/nakajima-taro")).bearer_auth(&other_coord), StatusCode::NOT_FOUND),
        ("other region's coordinator reads rotas", c.get(r("/rotas/2027-01")).bearer_auth(&other_coord), StatusCode::NOT_FOUND),
        ("other region's coordinator generates", c.post(r("/rotas/2027-01/generate")).bearer_auth(&other_coord), StatusCode::NOT_FOUND),
        ("staff reads another person", c.get(r("/staff/nakajima-taro")).bearer_auth(&staff), StatusCode::NOT_FOUND),
        ("staff reads a draft", c.get(r("/rotas/2027-01/versions/1")).bearer_auth(&staff), StatusCode::NOT_FOUND),
        ("staff generates", c.post(r("/rotas/2027-01/generate")).bearer_auth(&staff), StatusCode::FORBIDDEN),
        ("staff publishes", c.post(r("/rotas/2027-01/versions/1/publish")).bearer_auth(&staff), StatusCode::NOT_FOUND),
        ("clinic publishes", c.post(r("/rotas/2027-01/versions/1/publish")).bearer_auth(&clinic).header("If-Match", "*"), StatusCode::NOT_FOUND),
        ("staff reports another's absence", c.post(r("/absences")).bearer_auth(&staff).json(&json!({"staff": "nakajima-taro", "start": "2027-01-02T00:00:00+09:00", "end": "2027-01-03T00:00:00+09:00"})), StatusCode::FORBIDDEN),
        ("clinic reports another clinic's staff", c.post(r("/absences")).bearer_auth(&clinic).json(&json!({"staff": "kobayashi-mai", "start": "2027-01-02T00:00:00+09:00", "end": "2027-01-03T00:00:00+09:00"})), StatusCode::FORBIDDEN),
        ("clinic asks cover for another institution", c.post(r("/cover-requests")).bearer_auth(&clinic).json(&json!({"institution": "anan-hospital", "profession": "nurse", "start": "2027-01-02T09:00:00+09:00", "end": "2027-01-02T12:00:00+09:00"})), StatusCode::FORBIDDEN),
        ("staff creates tokens", c.post(srv.url("/api/v1/tokens")).bearer_auth(&staff).json(&json!({"role": "admin"})), StatusCode::FORBIDDEN),
        ("coordinator creates an admin", c.post(srv.url("/api/v1/tokens")).bearer_auth(&coord).json(&json!({"role": "admin"})), StatusCode::FORBIDDEN),
        ("staff reads the audit log", c.get(srv.url("/api/v1/audit")).bearer_auth(&staff), StatusCode::FORBIDDEN),
        ("clinic lists tokens", c.get(srv.url("/api/v1/tokens")).bearer_auth(&clinic), StatusCode::FORBIDDEN),
        ("staff makes another's feed", c.post(r("/staff/nakajima-taro/feed")).bearer_auth(&staff), StatusCode::FORBIDDEN),
        ("staff makes a service feed", c.post(r("/services/homecare-oncall/feed")).bearer_auth(&staff), StatusCode::FORBIDDEN),
        ("other coordinator's job", c.get(srv.url("/api/v1/jobs/1")).bearer_auth(&other_coord), StatusCode::NOT_FOUND),
    ];
    for (what, req, want) in cases {
        let res = req.send().await.unwrap();
        let got = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body = res.text().await.unwrap();
        assert_eq!(got, want, "{what}: {body}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{what}");
        if got != StatusCode::FORBIDDEN || what.contains("another") {
            no_leak(&body);
        }
    }
    // Staff see themselves only.
    let (s, list) = json_of(c.get(r("/staff")).bearer_auth(&staff).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["kobayashi-mai"]);
    // Regions list shows only one's own.
    let (_, regs) = json_of(
        c.get(srv.url("/api/v1/regions"))
            .bearer_auth(&other_coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(regs["items"].as_array().unwrap().len(), 1);
    assert_eq!(regs["items"][0]["id"], "synth");
    // A revoked token stops at once.
    let (s, t) = json_of(
        c.post(srv.url("/api/v1/tokens"))
            .bearer_auth(&coord)
            .json(&json!({"role": "staff", "region": REGION, "scope": "kato-naoko"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let tok = t["token"].as_str().unwrap();
    assert_eq!(
        c.get(r("/staff"))
            .bearer_auth(tok)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let id = t["info"]["id"].as_str().unwrap();
    assert_eq!(
        c.delete(srv.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&coord)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(r("/staff"))
            .bearer_auth(tok)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Bad input names the field.
    let (s, p) = json_of(
        c.post(r("/absences"))
            .bearer_auth(&coord)
            .json(&json!({"staff": "kato-naoko", "start": "2027-01-02T00:00:00+09:00"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "/end", "{p}");
    let (s, p) = json_of(c.post(r("/absences")).bearer_auth(&coord).json(&json!({"staff": "kato-naoko", "start": "2027-01-03T00:00:00+09:00", "end": "2027-01-02T00:00:00+09:00"})).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "/end", "{p}");
    let (s, p) = json_of(
        c.get(srv.url("/api/v1/oncall?service=homecare-oncall&at=tomorrow"))
            .bearer_auth(&coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "query.at");
    // Issue 14, item 11: an absence must lie in a sane range (one check for
    // the CLI, the API and the file), and cover is not asked for the past.
    let (s, p) = json_of(c.post(r("/absences")).bearer_auth(&coord).json(&json!({"staff": "kato-naoko", "start": "0000-01-01T00:00:00+09:00", "end": "9999-12-31T00:00:00+09:00"})).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("between 2000 and 2100"),
        "{p}"
    );
    let (s, p) = json_of(c.post(r("/cover-requests")).bearer_auth(&coord).json(&json!({"institution": "anan-hospital", "profession": "physician", "start": "2020-01-01T09:00:00+09:00", "end": "2020-01-01T12:00:00+09:00"})).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("in the past"), "{p}");
    // Body limit.
    let big = "x".repeat(400 * 1024);
    let s = c
        .post(r("/absences"))
        .bearer_auth(&coord)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_and_graceful_shutdown() {
    let srv = Server::start(ApiConfig {
        rate_per_second: 1,
        rate_burst: 3,
        ..ApiConfig::default()
    })
    .await;
    let c = Client::new();
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..5 {
        let r = c.get(srv.url("/api/v1/health")).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(r.status());
    }
    assert_eq!(&statuses[..3], &[StatusCode::OK; 3]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
    srv.stop().await;

    // A request in flight when shutdown begins still gets its answer.
    let srv = Server::start(config()).await;
    let coord = srv.token(Grant::Coordinator { region: region() }).await;
    srv.store
        .save_rota(&touban_domain::NewRota {
            region: region(),
            month: touban_domain::Month::parse("2027-01").unwrap(),
            created_by: "test".into(),
            note: None,
            based_on: None,
            assignments: vec![],
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    // The client sends the headers and half the body, then shutdown begins,
    // then the rest of the body: the request is in flight and must finish.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({"institution": "anan-hospital", "profession": "nurse",
        "start": "2027-01-02T09:00:00+09:00", "end": "2027-01-02T12:00:00+09:00"})
    .to_string();
    let addr = srv.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/regions/{REGION}/cover-requests HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {coord}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let Server {
        stop, handle, _dir, ..
    } = srv;
    stop.unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !handle.is_finished(),
        "the server waits for the request in flight"
    );
    tcp.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    handle.await.unwrap().unwrap();
    // New connections are refused once it has stopped.
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}

/// Issue 14, item 17: problem `type` links lead to a page that explains
/// them; a date-only instant names its field and the expected form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_types_are_documented_and_fields_named() {
    let srv = Server::start(config()).await;
    let c = reqwest::Client::new();
    let coord = srv.token(Grant::Coordinator { region: region() }).await;
    let (s, p) = json_of(
        c.post(srv.url(&format!("/api/v1/regions/{REGION}/absences")))
            .bearer_auth(&coord)
            .json(&json!({"staff": "kato-naoko", "start": "2027-01-02", "end": "2027-01-03T00:00:00+09:00"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["field"], "/start", "{p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2027-01-14T09:00:00+09:00"),
        "{p}"
    );
    let kind = p["type"].as_str().unwrap();
    let (path, anchor) = kind.split_once('#').unwrap();
    let page = c.get(srv.url(path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&format!("id=\"{anchor}\""))
    );
    srv.stop().await;
}

/// Behind a trusted proxy, `X-Forwarded-For` names the client: the rate
/// limit counts each client apart and the audit log records the client's
/// address; from a peer that is not trusted the header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxies_name_the_client_and_others_do_not() {
    let srv = Server::start(ApiConfig {
        rate_per_second: 1,
        rate_burst: 2,
        trusted_proxies: vec!["127.0.0.0/8".into()],
        ..ApiConfig::default()
    })
    .await;
    let c = Client::new();
    let get = |client: &'static str| {
        c.get(srv.url("/api/v1/health"))
            .header("X-Forwarded-For", format!("203.0.113.77, {client}"))
            .send()
    };
    // Two clients behind the proxy: each has its own burst of two.
    for client in ["198.51.100.1", "198.51.100.2"] {
        for _ in 0..2 {
            assert_eq!(get(client).await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(
            get(client).await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // The audit log records the client, not the proxy, nor the forged entry.
    let admin = srv.token(Grant::Admin).await;
    let r = c
        .post(srv.url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .header("X-Forwarded-For", "203.0.113.77, 198.51.100.9")
        .json(&json!({"role": "coordinator", "region": REGION}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let log = srv.store.audit_log(None, 0, 100).await.unwrap();
    let made = log.iter().rev().find(|a| a.entry.method == "POST").unwrap();
    assert_eq!(made.entry.address.as_deref(), Some("198.51.100.9"));
    srv.stop().await;

    // Not a trusted peer: the header changes nothing.
    let srv = Server::start(ApiConfig {
        trusted_proxies: vec!["10.0.0.0/8".into()],
        ..config()
    })
    .await;
    let admin = srv.token(Grant::Admin).await;
    c.post(srv.url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .header("X-Forwarded-For", "198.51.100.9")
        .json(&json!({"role": "coordinator", "region": REGION}))
        .send()
        .await
        .unwrap();
    let log = srv.store.audit_log(None, 0, 100).await.unwrap();
    let made = log.iter().rev().find(|a| a.entry.method == "POST").unwrap();
    assert_eq!(made.entry.address.as_deref(), Some("127.0.0.1"));
    srv.stop().await;
}
