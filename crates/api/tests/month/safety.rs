//! Issue 13's publish, edit, repair and operations fixes through the API:
//! nothing overwritten, nothing published stale, jobs and locks handled.

use reqwest::StatusCode;
use serde_json::{Value, json};
use touban_store::Store;

use crate::common::{REGION, json_of};
use crate::helpers::{Month, night_person, published};

/// An edit that changes nothing but makes a new version: the primary of
/// the home-care night of 01-14 taken off and put back.
pub async fn edit_noop(m: &Month, version: u32) -> (StatusCode, Value) {
    let who = night_person(&m.version(version).await);
    m.edit(
        version,
        &json!({"changes": [{"service": "homecare-oncall", "template": "night",
            "date": "2027-01-14", "remove": who, "add": who, "role": "primary"}]}),
    )
    .await
}

pub async fn publish(
    m: &Month,
    version: u32,
    etag: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req =
        m.c.post(m.rota(&format!("/versions/{version}/publish")))
            .bearer_auth(&m.coord)
            .header("If-Match", etag);
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.unwrap()).await
}

/// Issue 13, item 1: a coordinator who read version 2 earlier cannot
/// publish it over version 3 (a hand edit of 2) with 2's still-valid ETag;
/// `If-Match: *` is refused; a stale edit is 412 as api.md says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_version_is_not_published_over_a_newer_one() {
    let m = published().await;
    let (s, e) = edit_noop(&m, 1).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let etag2 = m.etag(2).await; // the other coordinator reads version 2
    let (s, e) = edit_noop(&m, 2).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, p) = publish(&m, 3, &m.etag(3).await, None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        p["based_on"], 2,
        "the publish answer names what it was based on"
    );

    let (s, p) = publish(&m, 2, &etag2, None).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("version 3") && detail.contains("coordinator:"),
        "names the published version and who published it: {detail}"
    );
    let (s, p) = publish(&m, 2, "*", None).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("*"), "{p}");
    // Version 3 is still the one published.
    let (_, list) = json_of(
        m.c.get(m.rota(""))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let published: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "published")
        .map(|v| v["version"].clone())
        .collect();
    assert_eq!(published, [json!(3)]);

    // An explicit override with a reason replaces it, and the reason is in
    // the audit log.
    let (s, p) = publish(
        &m,
        2,
        &etag2,
        Some(json!({"override_reason": "版3の修正は誤り"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (_, audit) = json_of(
        m.c.get(m.srv.url("/api/v1/audit?limit=500"))
            .bearer_auth(&m.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("版3の修正は誤り")),
        "{audit}"
    );
    m.srv.stop().await;
}

/// Issue 13, item 1: two versions derived from the same published one,
/// published at the same moment: one wins, the other is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_publishes_of_two_versions_one_wins() {
    let m = published().await;
    let (s, _) = edit_noop(&m, 1).await;
    assert_eq!(s, StatusCode::CREATED);
    // Version 3: a fresh generation, not based on version 1.
    let job = json_of(
        m.c.post(m.rota("/generate"))
            .bearer_auth(&m.coord)
            .json(&json!({"time_limit_seconds": 10}))
            .send()
            .await
            .unwrap(),
    )
    .await
    .1;
    loop {
        let (_, j) = json_of(
            m.c.get(m.srv.url(&format!("/api/v1/jobs/{}", job["id"])))
                .bearer_auth(&m.coord)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if j["status"] == "succeeded" {
            break;
        }
        assert_ne!(j["status"], "failed", "{j}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (e2, e3) = (m.etag(2).await, m.etag(3).await);
    let (a, b) = tokio::join!(publish(&m, 2, &e2, None), publish(&m, 3, &e3, None));
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{a:?} {b:?}"
    );
    m.srv.stop().await;
}

/// Issue 13, item 1: a draft made before an absence was reported still has
/// the absent person on duty; publishing it is refused with the rule, until
/// the coordinator accepts it with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_with_an_absent_person_on_duty_is_not_published() {
    let m = published().await;
    let absent = night_person(&m.v1);
    // A hand edit (version 2) made before anyone knew.
    let (s, _) = edit_noop(&m, 1).await;
    assert_eq!(s, StatusCode::CREATED);
    let etag2 = m.etag(2).await;
    report_absence_after_edit(&m, &absent).await;
    let (s, p) = publish(&m, 2, &etag2, None).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{p}");
    assert!(
        p["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "3" && v["staff"] == json!(absent)),
        "{p}"
    );
    let (s, p) = publish(&m, 2, &etag2, Some(json!({"override_reason": "  "}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, p) = publish(
        &m,
        2,
        &etag2,
        Some(json!({"override_reason": "本人と電話で確認済み"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    m.srv.stop().await;
}

/// Reports `absent` ill on 01-14..16 through the clinic; asserts only that
/// it was stored.
async fn report_absence_after_edit(m: &Month, absent: &str) {
    let net = m
        .srv
        .store
        .load_network(&crate::common::region())
        .await
        .unwrap();
    let person = net
        .staff_member(&touban_domain::StaffId::parse(absent).unwrap())
        .unwrap()
        .clone();
    let clinic = m
        .srv
        .token(touban_store::Grant::Institution {
            region: crate::common::region(),
            institution: person.home_institution.clone(),
        })
        .await;
    let (s, res) = json_of(
        m.c.post(m.srv.url(&format!("/api/v1/regions/{REGION}/absences")))
            .bearer_auth(&clinic)
            .json(
                &json!({"staff": absent, "start": "2027-01-14T00:00:00+09:00",
                "end": "2027-01-16T00:00:00+09:00", "kind": "sickness"}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
}

/// Issue 13, item 3: replacing a shift's backup by hand (remove the
/// backup, add someone) leaves one primary and one backup; naming a new
/// primary makes the old one the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_keeps_one_primary_per_shift() {
    let m = published().await;
    let all = m.v1["assignments"].as_array().unwrap();
    let backup = all
        .iter()
        .find(|a| a["role"] == "backup")
        .expect("a shift with a backup")
        .clone();
    let same = |a: &Value, b: &Value| {
        a["service"] == b["service"] && a["template"] == b["template"] && a["date"] == b["date"]
    };
    let on_it: Vec<&str> = all
        .iter()
        .filter(|a| same(a, &backup))
        .map(|a| a["staff"].as_str().unwrap())
        .collect();
    let net = m
        .srv
        .store
        .load_network(&crate::common::region())
        .await
        .unwrap();
    let other = net
        .staff
        .iter()
        .find(|p| p.profession.as_str() == "physician" && !on_it.contains(&p.id.as_str()))
        .unwrap()
        .id
        .to_string();
    let change = |extra: Value| {
        let mut c = json!({"service": backup["service"], "template": backup["template"],
            "date": backup["date"]});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"changes": [c], "override_reason": "test"})
    };
    let roles_after = |rota: &Value| -> Vec<(String, String)> {
        let mut v: Vec<_> = rota["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| same(a, &backup))
            .map(|a| {
                (
                    a["role"].as_str().unwrap().to_string(),
                    a["staff"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (s, e) = m
        .edit(1, &change(json!({"remove": backup["staff"], "add": other})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let v2 = m.version(2).await;
    let r = roles_after(&v2);
    assert_eq!(
        r.iter().filter(|(role, _)| role == "primary").count(),
        1,
        "{r:?}"
    );
    assert!(r.contains(&("backup".to_string(), other.clone())), "{r:?}");
    // Making the new person primary demotes the old primary.
    let (s, e) = m
        .edit(2, &change(json!({"add": other, "role": "primary"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let v3 = m.version(3).await;
    let r = roles_after(&v3);
    assert_eq!(
        r.iter().filter(|(role, _)| role == "primary").count(),
        1,
        "{r:?}"
    );
    assert!(r.contains(&("primary".to_string(), other.clone())), "{r:?}");
    m.srv.stop().await;
}

/// Issue 13, item 2: absences reported at the same moment are repaired one
/// after the other, each from the version the previous repair left, so the
/// last draft has none of the absent people on duty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_absences_are_repaired_one_after_the_other() {
    let m = published().await;
    // Six different people with a duty on 01-20.
    let mut people: Vec<String> = m.v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["date"] == "2027-01-20")
        .map(|a| a["staff"].as_str().unwrap().to_string())
        .collect();
    people.sort();
    people.dedup();
    people.truncate(6);
    assert!(people.len() >= 4, "{people:?}");
    let abs_url = m.srv.url(&format!("/api/v1/regions/{REGION}/absences"));
    let mut reports = tokio::task::JoinSet::new();
    for p in &people {
        let req =
            m.c.post(&abs_url)
                .bearer_auth(&m.coord)
                .json(&json!({"staff": p, "start": "2027-01-20T00:00:00+09:00",
                "end": "2027-01-21T00:00:00+09:00", "kind": "sickness"}));
        reports.spawn(async move { json_of(req.send().await.unwrap()).await });
    }
    while let Some(r) = reports.join_next().await {
        let (s, b) = r.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let latest = json_of(
        m.c.get(m.rota(""))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await
    .1;
    let items = latest["items"].as_array().unwrap();
    let last = items.last().unwrap()["version"].as_u64().unwrap();
    // One repair per person still on duty when their turn came (a repair
    // may already have moved a colleague whose report was still waiting).
    assert!(last >= 2 && last as usize <= 1 + people.len(), "{latest}");
    // Each repair builds on the one before.
    for (i, v) in items.iter().enumerate().skip(1) {
        assert_eq!(v["based_on"], json!(i), "{latest}");
    }
    let v = json_of(
        m.c.get(m.rota(&format!("/versions/{last}")))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await
    .1;
    for a in v["assignments"].as_array().unwrap() {
        if a["date"] == "2027-01-20" {
            assert!(
                !people.contains(&a["staff"].as_str().unwrap().to_string()),
                "absent person still on duty in the last repair: {a}"
            );
        }
    }
    m.srv.stop().await;
}
/// Issue 13, item 16: another program holding the SQLite database longer
/// than the busy timeout gets 503 with Retry-After and a detail saying the
/// database is busy; nothing is lost and the same request works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_database_lock_is_503_with_retry_after() {
    use sqlx::Connection;
    let m = published().await;
    let db = m.srv._dir.path().join("touban.db");
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let r =
        m.c.post(m.rota("/versions/1/edits"))
            .bearer_auth(&m.coord)
            .header("If-Match", "\"2027-01-v1-published\"")
            .json(
                &json!({"changes": [{"service": "homecare-oncall", "template": "night",
            "date": "2027-01-14", "remove": night_person(&m.v1), "add": night_person(&m.v1),
            "role": "primary"}]}),
            )
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let (_, p) = json_of(r).await;
    assert!(p["detail"].as_str().unwrap().contains("database"), "{p}");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    drop(other);
    let (s, e) = edit_noop(&m, 1).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    m.srv.stop().await;
}

/// Issue 13, item 15: a job left running by a server that was killed is
/// marked failed (interrupted) when the next server starts; the queue of a
/// region is bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_jobs_are_marked_and_the_queue_is_bounded() {
    use touban_store::JobStatus;
    let srv = crate::common::Server::start(crate::common::config()).await;
    let region = crate::common::region();
    let month = touban_domain::Month::parse("2027-01").unwrap();
    let far = chrono::Utc::now() + chrono::Duration::hours(2);
    let coord = srv
        .token(touban_store::Grant::Coordinator {
            region: region.clone(),
        })
        .await;
    // Three jobs waiting fill the region's queue: a fourth is refused.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            srv.store
                .create_job(&region, "generate", month, "t", far)
                .await
                .unwrap()
                .id,
        );
    }
    srv.store
        .update_job(ids[0], JobStatus::Running, None, None)
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/api/v1/regions/{REGION}/rotas/2027-01/generate")))
        .bearer_auth(&coord)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Say the server was killed (its jobs never end): the next one to start
    // on the same database marks them failed at once, not hours later.
    let store = srv.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let dynstore: std::sync::Arc<dyn Store> = store.clone();
    let h = tokio::spawn(touban_api::serve(
        dynstore,
        crate::common::config(),
        listener,
        async {
            let _ = rx.await;
        },
    ));
    for _ in 0..100 {
        if store.job(ids[0]).await.unwrap().status == JobStatus::Failed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for id in &ids {
        let j = store.job(*id).await.unwrap();
        assert_eq!(j.status, JobStatus::Failed, "{j:?}");
        assert!(j.error.as_deref().unwrap().contains("interrupted"), "{j:?}");
        assert!(j.finished_at.is_some());
    }
    assert_eq!(store.active_jobs(&region).await.unwrap(), 0);
    let _ = tx.send(());
    h.await.unwrap().unwrap();
    srv.stop().await;
}
