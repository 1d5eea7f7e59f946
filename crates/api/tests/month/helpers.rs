//! Helpers that bring a month to the state a step needs: generated and
//! published, an absence reported, its repair published. Each asserts every
//! step it takes.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use touban_domain::StaffMember;
use touban_store::{Grant, Store};

use crate::common::{REGION, Server, config, json_of, region};

/// A server whose January 2027 is generated and published (version 1).
pub struct Month {
    pub srv: Server,
    pub c: Client,
    pub coord: String,
    pub admin: String,
    /// Version 1, as the API returned it.
    pub v1: Value,
}

impl Month {
    /// The ETag of a version, for If-Match.
    pub async fn etag(&self, version: u32) -> String {
        let r = self
            .c
            .get(self.rota(&format!("/versions/{version}")))
            .bearer_auth(&self.coord)
            .send()
            .await
            .unwrap();
        r.headers()["etag"].to_str().unwrap().to_string()
    }

    /// GET as the coordinator; `path` is below the server (`/api/v1/…`).
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(
            self.c
                .get(self.srv.url(path))
                .bearer_auth(&self.coord)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A version of January 2027, as the coordinator reads it.
    pub async fn version(&self, v: u32) -> Value {
        self.get(&format!(
            "/api/v1/regions/{REGION}/rotas/2027-01/versions/{v}"
        ))
        .await
        .1
    }

    /// Edits a version as the coordinator, with its current ETag.
    pub async fn edit(&self, version: u32, body: &Value) -> (StatusCode, Value) {
        let etag = self.etag(version).await;
        json_of(
            self.c
                .post(self.rota(&format!("/versions/{version}/edits")))
                .bearer_auth(&self.coord)
                .header("If-Match", etag)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A new viewing key of the region (what a clinic's desk is given).
    pub async fn viewing_key(&self) -> String {
        let (s, vk) = json_of(
            self.c
                .post(
                    self.srv
                        .url(&format!("/api/v1/regions/{REGION}/viewing-key")),
                )
                .bearer_auth(&self.coord)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{vk}");
        vk["url"]
            .as_str()
            .unwrap()
            .split("key=")
            .nth(1)
            .unwrap()
            .to_string()
    }

    pub fn rota(&self, p: &str) -> String {
        self.srv
            .url(&format!("/api/v1/regions/{REGION}/rotas/2027-01{p}"))
    }
}

/// Generate (a background job) and publish, with If-Match.
pub async fn published() -> Month {
    let srv = Server::start(config()).await;
    let c = Client::new();
    let coord = srv.token(Grant::Coordinator { region: region() }).await;
    let admin = srv.token(Grant::Admin).await;
    let rota = |p: &str| srv.url(&format!("/api/v1/regions/{REGION}/rotas/2027-01{p}"));

    // Generate: a background job.
    let r = c
        .post(rota("/generate"))
        .bearer_auth(&coord)
        .json(&json!({"time_limit_seconds": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job = loop {
        let (s, j) = json_of(
            c.get(srv.url(&location))
                .bearer_auth(&coord)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        if j["status"] == "succeeded" || j["status"] == "failed" {
            break j;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["version"], 1);
    assert_eq!(job["result"]["unfilled"], 0);

    // Publish needs If-Match.
    let r = c
        .get(rota("/versions/1"))
        .bearer_auth(&coord)
        .send()
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let v1: Value = r.json().await.unwrap();
    assert_eq!(etag, "\"2027-01-v1-draft\"");
    let r = c
        .post(rota("/versions/1/publish"))
        .bearer_auth(&coord)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .post(rota("/versions/1/publish"))
        .bearer_auth(&coord)
        .header("If-Match", "\"2027-01-v1-published\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let r = c
        .post(rota("/versions/1/publish"))
        .bearer_auth(&coord)
        .header("If-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2027-01-v1-published\"");
    Month {
        srv,
        c,
        coord,
        admin,
        v1,
    }
}

/// The primary of the home-care night of 01-14 in version 1: the person
/// who falls ill in the steps below.
pub fn night_person(v1: &Value) -> String {
    let first = v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["service"] == "homecare-oncall"
                && a["template"] == "night"
                && a["role"] == "primary"
                && a["date"] == "2027-01-14"
        })
        .expect("a home-care night on 01-14")
        .clone();
    first["staff"].as_str().unwrap().to_string()
}

/// The absent person's clinic reports the absence (01-14 to 01-16); the
/// repair is proposed as version 2 and changes only that person's shifts.
/// Returns the person, the clinic's token and the repair's changes.
pub async fn report_absence(m: &Month, absent: &str) -> (StaffMember, String, Vec<Value>) {
    let (srv, c) = (&m.srv, &m.c);
    // The absent person's clinic reports the absence; a repair is proposed.
    let net = srv.store.load_network(&region()).await.unwrap();
    let person = net
        .staff_member(&touban_domain::StaffId::parse(absent).unwrap())
        .unwrap()
        .clone();
    let clinic = srv
        .token(Grant::Institution {
            region: region(),
            institution: person.home_institution.clone(),
        })
        .await;
    let (s, res) = json_of(
        c.post(srv.url(&format!("/api/v1/regions/{REGION}/absences")))
            .bearer_auth(&clinic)
            .json(&json!({
                "staff": absent,
                "start": "2027-01-14T00:00:00+09:00",
                "end": "2027-01-16T00:00:00+09:00",
                "kind": "sickness",
                "reason": "influenza"
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let repair = &res["repairs"][0];
    assert_eq!(repair["from_version"], 1);
    assert_eq!(repair["version"], 2);
    assert_eq!(repair["published"], false);
    let changes = repair["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for ch in changes {
        assert!(
            ch["before"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == &json!(absent)),
            "only the absent person's shifts change: {ch}"
        );
        assert!(
            !ch["after"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == &json!(absent))
        );
    }
    (person, clinic, changes.clone())
}

/// The coordinator publishes version 2 (the repair).
pub async fn publish_repair(m: &Month) {
    let etag2 = m.etag(2).await;
    let r =
        m.c.post(m.rota("/versions/2/publish"))
            .bearer_auth(&m.coord)
            .header("If-Match", &etag2)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
