//! Issue 13's safety fixes, seen through the API: nothing overwritten,
//! nothing published stale, never the absent person given out.

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

async fn publish(m: &Month, version: u32, etag: &str, body: Option<Value>) -> (StatusCode, Value) {
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

/// Issue 13, item 7: once a clinic reports an absence, and before any
/// coordinator publishes the repair, the on-call lookup and the patient
/// list never give out the absent doctor: they name the repair's
/// replacement, marked provisional; the coordinators are told at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_absence_takes_effect_at_once_in_oncall_answers() {
    let m = published().await;
    let absent = night_person(&m.v1);
    let at = "/api/v1/oncall?service=homecare-oncall&at=2027-01-14T23:00:00%2B09:00";
    let (_, _, changes) = crate::helpers::report_absence(&m, &absent).await;
    let (s, on) = json_of(
        m.c.get(m.srv.url(at))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    let people = on["entries"][0]["now"]["people"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!people.is_empty(), "{on}");
    assert!(
        !people.iter().any(|p| p["staff"] == absent),
        "the absent doctor is given out: {on}"
    );
    let night = changes
        .iter()
        .find(|c| c["date"] == "2027-01-14" && c["template"] == "night")
        .expect("the night is repaired");
    for newcomer in night["after"].as_array().unwrap() {
        if !night["before"].as_array().unwrap().contains(newcomer) {
            let p = people
                .iter()
                .find(|p| &p["staff"] == newcomer)
                .expect("replacement given");
            assert_eq!(p["provisional"], true, "{p}");
        }
    }
    // The patient list, likewise.
    let (s, list) = json_of(
        m.c.get(m.srv.url(&format!(
            "/api/v1/regions/{REGION}/services/homecare-oncall/patient-list?from=2027-01-14&to=2027-01-15"
        )))
        .bearer_auth(&m.coord)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let absent_name = m
        .srv
        .store
        .load_network(&crate::common::region())
        .await
        .unwrap()
        .staff_member(&touban_domain::StaffId::parse(&absent).unwrap())
        .unwrap()
        .name
        .clone();
    assert!(
        !list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == json!(absent_name)),
        "{list}"
    );
    // The coordinators hear at once, not in tomorrow's digest.
    let (_, msgs) = json_of(
        m.c.get(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/messages?limit=500")),
        )
        .bearer_auth(&m.coord)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(
        msgs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "repair_pending"),
        "{msgs}"
    );
    m.srv.stop().await;
}

/// Issue 13, item 7: an absence from 17:00 on a day shift that ends at
/// 17:30 leaves the person on call until 17:00 and not after.
#[test]
fn a_partial_absence_splits_the_slot() {
    let mut net = touban_netfile::load(&crate::common::demo_file()).unwrap();
    let month = touban_domain::Month::parse("2027-01").unwrap();
    let shift = {
        let inst = touban_solver::Instance::new(&net, month);
        inst.shifts
            .iter()
            .map(|s| s.shift.clone())
            .find(|s| s.end - s.start >= chrono::Duration::hours(8))
            .expect("a long shift")
    };
    let who = net.staff[0].id.clone();
    let from = shift.end - chrono::Duration::minutes(30);
    net.absences.push(
        touban_domain::Absence::new(
            who.clone(),
            from,
            shift.end + chrono::Duration::days(1),
            touban_domain::AbsenceKind::Sudden,
            None,
        )
        .unwrap(),
    );
    let a = touban_domain::Assignment {
        shift: shift.key(),
        staff: who.clone(),
        role: touban_domain::Role::Primary,
    };
    let slots = touban_api::oncall::build(&net, month, &[a], None);
    let parts: Vec<_> = slots.services[&shift.service]
        .iter()
        .filter(|s| s.dto.date == shift.date && s.dto.template == shift.template.as_str())
        .collect();
    assert_eq!(parts.len(), 2, "split at the absence's start: {parts:?}");
    assert_eq!((parts[0].dto.start, parts[0].dto.end), (shift.start, from));
    assert_eq!(parts[0].dto.people[0].staff, who.as_str());
    // From 17:00 the absent person is not given out: nobody holds it (the
    // number to call instead is given).
    assert_eq!((parts[1].dto.start, parts[1].dto.end), (from, shift.end));
    assert!(parts[1].dto.people.is_empty() && parts[1].dto.unfilled);
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

/// Issue 13, item 17: who is on call, with personal phones, is not public:
/// a token of the region or a revocable viewing key (the region's, or a
/// service feed's for that service alone); never another region's people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oncall_and_patient_lists_need_a_token_or_a_viewing_key() {
    let m = published().await;
    let (srv, c) = (&m.srv, &m.c);
    let at = "at=2027-01-14T23:00:00%2B09:00";
    let oncall = |q: &str| srv.url(&format!("/api/v1/oncall?{q}&{at}"));
    let list = |svc: &str, key: &str| {
        srv.url(&format!(
            "/api/v1/regions/{REGION}/services/{svc}/patient-list?from=2027-01-14&to=2027-01-15&key={key}"
        ))
    };
    let r = c
        .get(oncall("service=homecare-oncall"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c.get(list("homecare-oncall", "")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A coordinator of this region sees no other region's services.
    let net2 = srv
        .store
        .load_network(&touban_domain::RegionId::parse("synth").unwrap())
        .await
        .unwrap();
    let other_service = net2.services[0].id.to_string();
    let (s, p) = json_of(
        c.get(oncall(&format!("service={other_service}")))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    // The region's viewing key: every service of the region, no other region.
    let key = m.viewing_key().await;
    let (s, on) = json_of(
        c.get(oncall(&format!("region={REGION}&key={key}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    assert!(on["entries"].as_array().unwrap().len() >= 2, "{on}");
    assert!(
        on["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["region"] == REGION)
    );
    let r = c
        .get(oncall(&format!("service={other_service}&key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c.get(list("homecare-oncall", &key)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A service feed's key opens that service alone.
    let (s, feed) = json_of(
        c.post(srv.url(&format!(
            "/api/v1/regions/{REGION}/services/homecare-oncall/feed"
        )))
        .bearer_auth(&m.coord)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{feed}");
    let fkey = feed["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/api/v1/feeds/")
        .trim_end_matches(".ics")
        .to_string();
    let r = c.get(list("homecare-oncall", &fkey)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, on) = json_of(
        c.get(oncall(&format!("region={REGION}&key={fkey}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let services: Vec<_> = on["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].clone())
        .collect();
    assert_eq!(services, [json!("homecare-oncall")], "{on}");
    let other = net_service_other_than(&m, "homecare-oncall").await;
    let r = c.get(list(&other, &fkey)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Revoked: the key stops working at once.
    let id = key.split('.').next().unwrap();
    let r = c
        .delete(srv.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&m.coord)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = c.get(list("homecare-oncall", &key)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    m.srv.stop().await;
}

async fn net_service_other_than(m: &Month, svc: &str) -> String {
    m.srv
        .store
        .load_network(&crate::common::region())
        .await
        .unwrap()
        .services
        .iter()
        .find(|s| s.id.as_str() != svc)
        .unwrap()
        .id
        .to_string()
}

/// Issue 13, item 17: a staff member looking at a cover request sees their
/// own offer only: not who else was asked, their ranks or the reasons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_only_their_own_offer() {
    let m = published().await;
    let (s, cover) = json_of(
        m.c.post(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/cover-requests")),
        )
        .bearer_auth(&m.coord)
        .json(
            &json!({"institution": "anan-hospital", "profession": "physician",
                "start": "2027-01-15T09:00:00+09:00", "end": "2027-01-15T12:00:00+09:00",
                "max_offers": 3}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cover}");
    let offers = cover["offers"].as_array().unwrap();
    assert!(offers.len() >= 2, "{cover}");
    let first = offers[0]["staff"].as_str().unwrap();
    let staff = m
        .srv
        .token(touban_store::Grant::Staff {
            region: crate::common::region(),
            staff: touban_domain::StaffId::parse(first).unwrap(),
        })
        .await;
    let (s, seen) = json_of(
        m.c.get(
            m.srv
                .url(&format!("/api/v1/cover-requests/{}", cover["id"])),
        )
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    let mine = seen["offers"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{seen}");
    assert_eq!(mine[0]["staff"], first);
    assert!(
        seen["excluded"].as_array().is_none_or(|e| e.is_empty()),
        "{seen}"
    );
    let (_, page) = json_of(
        m.c.get(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/cover-requests")),
        )
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        page["items"][0]["offers"].as_array().unwrap().len(),
        1,
        "{page}"
    );
    m.srv.stop().await;
}

/// Issue 13, item 12: a published slot nobody holds is on the patient list
/// as 未定 with the number to call instead, never a silent gap; the on-call
/// answer says so too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfilled_slot_is_on_the_patient_list_as_undecided() {
    let m = published().await;
    let night = m.v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "night-pharmacy" && a["date"] == "2027-01-20")
        .unwrap()
        .clone();
    let (s, e) = m
        .edit(
            1,
            &json!({"changes": [{"service": "night-pharmacy", "template": night["template"],
                "date": "2027-01-20", "remove": night["staff"]}], "override_reason": "調整中"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, p) = publish(
        &m,
        2,
        &m.etag(2).await,
        Some(json!({"override_reason": "調整中"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, list) = m
        .get(&format!(
            "/api/v1/regions/{REGION}/services/night-pharmacy/patient-list?from=2027-01-20&to=2027-01-20"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let row = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unfilled"] == true)
        .unwrap_or_else(|| panic!("no 未定 row: {list}"));
    assert!(row["name"].as_str().unwrap().starts_with("未定"), "{row}");
    assert_eq!(row["phone"], "0260-00-0000");
    let (_, on) = m
        .get("/api/v1/oncall?service=night-pharmacy&at=2027-01-20T23:00:00%2B09:00")
        .await;
    assert_eq!(on["entries"][0]["now"]["unfilled"], true, "{on}");
    assert_eq!(on["entries"][0]["now"]["fallback_phone"], "0260-00-0000");
    m.srv.stop().await;
}

/// Asks for cover as the coordinator; returns the request.
async fn ask_cover(m: &Month, institution: &str, start: &str, end: &str) -> Value {
    let (s, c) = json_of(
        m.c.post(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/cover-requests")),
        )
        .bearer_auth(&m.coord)
        .json(
            &json!({"institution": institution, "profession": "physician",
                "start": start, "end": end, "max_offers": 20}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

/// Issue 13, item 4: an accepted cover is a duty. The same person cannot
/// accept a second, overlapping request; the next request's ranking
/// excludes them; a rota edit putting them on an overlapping shift breaks
/// rule 3; their calendar feed shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_cover_is_a_duty_for_every_rule() {
    let m = published().await;
    let first = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-21T09:00:00+09:00",
        "2027-01-21T12:00:00+09:00",
    )
    .await;
    let second = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-21T10:00:00+09:00",
        "2027-01-21T13:00:00+09:00",
    )
    .await;
    // Someone offered both.
    let offered = |c: &Value| -> Vec<(String, i64)> {
        c["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["staff"].as_str().unwrap().to_string(),
                    o["id"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let (who, o1) = offered(&first)
        .into_iter()
        .find(|(s, _)| offered(&second).iter().any(|(t, _)| t == s))
        .expect("someone offered both");
    let o2 = offered(&second)
        .into_iter()
        .find(|(s, _)| s == &who)
        .unwrap()
        .1;
    let staff = m
        .srv
        .token(touban_store::Grant::Staff {
            region: crate::common::region(),
            staff: touban_domain::StaffId::parse(&who).unwrap(),
        })
        .await;
    let accept = |o: i64| {
        m.c.post(m.srv.url(&format!("/api/v1/offers/{o}/accept")))
            .bearer_auth(&staff)
            .send()
    };
    let (s, a) = json_of(accept(o1).await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["outcome"], "accepted");
    let (s, p) = json_of(accept(o2).await.unwrap()).await;
    assert_eq!(s, StatusCode::CONFLICT, "double booking refused: {p}");
    assert!(
        p["detail"].as_str().unwrap().contains("on duty then"),
        "{p}"
    );
    // A third request that morning: the person is excluded, with the reason.
    let third = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-21T11:00:00+09:00",
        "2027-01-21T11:30:00+09:00",
    )
    .await;
    let why = third["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["staff"] == json!(who))
        .unwrap_or_else(|| panic!("{who} still offered: {third}"));
    assert!(
        why["reason"].as_str().unwrap().contains("cover request"),
        "{why}"
    );
    // A hand edit that puts them on a shift overlapping the cover breaks rule 3.
    let v1 = m.version(1).await;
    let day = v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["date"] == "2027-01-21"
                && a["staff"] != json!(who)
                && a["template"] != "night"
                && a["service"] == "homecare-oncall"
        })
        .cloned();
    if let Some(day) = day {
        let (s, p) = m
            .edit(
                1,
                &json!({"changes": [{"service": day["service"], "template": day["template"],
                "date": "2027-01-21", "remove": day["staff"], "add": who}]}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(
            p["violations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["rule"] == "3" && v["staff"] == json!(who)),
            "{p}"
        );
    }
    // The hospital's on-call answer names who comes to cover.
    let (s, on) = m
        .get("/api/v1/oncall?institution=anan-hospital&at=2027-01-21T10:00:00%2B09:00")
        .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    assert!(
        on["entries"].as_array().unwrap().iter().any(
            |e| e["now"]["template"] == "cover" && e["now"]["people"][0]["staff"] == json!(who)
        ),
        "{on}"
    );
    // The person's calendar feed has it.
    let (s, feed) = json_of(
        m.c.post(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/staff/{who}/feed")),
        )
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{feed}");
    let ics =
        m.c.get(m.srv.url(feed["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(
        ics.contains("代診・応援") && ics.contains("DTSTART:20270121T000000Z"),
        "{ics}"
    );
    m.srv.stop().await;
}

/// Issue 13, item 5: ranking reads rest as the checker does: a cover
/// ending at 12:00 before an on-call-from-home night at 17:30 (not work,
/// not on site) owes no rest before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_ranking_reads_rest_as_the_checker_does() {
    let m = published().await;
    let who = m.v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["service"] == "homecare-oncall"
                && a["template"] == "night"
                && a["date"] == "2027-01-20"
        })
        .unwrap()["staff"]
        .clone();
    let c = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-20T08:00:00+09:00",
        "2027-01-20T12:00:00+09:00",
    )
    .await;
    let reasons: Vec<String> = c["offers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(c["excluded"].as_array().unwrap())
        .filter(|o| o["staff"] == who)
        .map(|o| o["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons.len(), 1, "{c}");
    assert!(
        !reasons[0].contains("would not get the rest interval before"),
        "{}",
        reasons[0]
    );
    m.srv.stop().await;
}

/// The kinds of the region's queued messages, as the coordinator sees them.
async fn message_kinds(m: &Month) -> Vec<(String, Option<String>)> {
    let (_, msgs) = m
        .get(&format!("/api/v1/regions/{REGION}/messages?limit=500"))
        .await;
    msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["kind"].as_str().unwrap().to_string(),
                x["staff"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Issue 13, item 6: a request nobody can take is escalated once, not again
/// at its escalation time; an acceptance after escalation tells the
/// coordinators at once; a request can be cancelled and everyone asked is
/// told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_once_late_acceptance_told_and_cancel() {
    let m = published().await;
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    // Nobody can be asked (no dentist in the network): escalated at once…
    let (s, none) = json_of(
        m.c.post(
            m.srv
                .url(&format!("/api/v1/regions/{REGION}/cover-requests")),
        )
        .bearer_auth(&m.coord)
        .json(
            &json!({"institution": "anan-hospital", "profession": "dentist",
                "start": "2027-01-21T09:00:00+09:00", "end": "2027-01-21T12:00:00+09:00"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{none}");
    assert_eq!(none["status"], "escalated");
    // …and not again when its escalation time comes.
    m.srv.store.escalate_due(later).await.unwrap();
    let escalations =
        |k: &[(String, Option<String>)]| k.iter().filter(|(x, _)| x == "escalation").count();
    // A request with candidates, escalated because nobody answered in time.
    let c = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-22T09:00:00+09:00",
        "2027-01-22T12:00:00+09:00",
    )
    .await;
    let escalated = m.srv.store.escalate_due(later).await.unwrap();
    assert_eq!(escalated.len(), 1, "only the open one");
    assert_eq!(escalations(&message_kinds(&m).await), 2, "one per request");
    // Someone accepts late: the request is filled and the coordinators are
    // told at once.
    let o = &c["offers"][0];
    let staff = m
        .srv
        .token(touban_store::Grant::Staff {
            region: crate::common::region(),
            staff: touban_domain::StaffId::parse(o["staff"].as_str().unwrap()).unwrap(),
        })
        .await;
    let (s, a) = json_of(
        m.c.post(m.srv.url(&format!("/api/v1/offers/{}/accept", o["id"])))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["outcome"], "accepted");
    let kinds = message_kinds(&m).await;
    assert!(
        kinds
            .iter()
            .any(|(k, to)| k == "late_acceptance" && to.is_none()),
        "{kinds:?}"
    );
    // The institution cancels another request: everyone asked is told.
    let clinic = m
        .srv
        .token(touban_store::Grant::Institution {
            region: crate::common::region(),
            institution: touban_domain::InstitutionId::parse("anan-hospital").unwrap(),
        })
        .await;
    let d = ask_cover(
        &m,
        "anan-hospital",
        "2027-01-23T09:00:00+09:00",
        "2027-01-23T12:00:00+09:00",
    )
    .await;
    let asked: Vec<String> = d["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["staff"].as_str().unwrap().to_string())
        .collect();
    let (s, cancelled) = json_of(
        m.c.post(
            m.srv
                .url(&format!("/api/v1/cover-requests/{}/cancel", d["id"])),
        )
        .bearer_auth(&clinic)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let kinds = message_kinds(&m).await;
    for p in &asked {
        assert!(
            kinds
                .iter()
                .any(|(k, to)| k == "cover_cancelled" && to.as_deref() == Some(p.as_str())),
            "{p} not told: {kinds:?}"
        );
    }
    // Cancelling twice is a conflict; a staff member may not cancel.
    let r =
        m.c.post(
            m.srv
                .url(&format!("/api/v1/cover-requests/{}/cancel", d["id"])),
        )
        .bearer_auth(&clinic)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    m.srv.stop().await;
}

/// Issue 14, item 7: for a service done at an institution (a pharmacy on
/// call) the patient list gives the institution and its phone, not the
/// pharmacist's personal mobile; home-care on call gives the person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_list_gives_the_pharmacy_not_the_pharmacists_mobile() {
    let m = published().await;
    let list = |svc: &str| {
        format!(
            "/api/v1/regions/{REGION}/services/{svc}/patient-list?from=2027-01-20&to=2027-01-20"
        )
    };
    let (s, pharmacy) = m.get(&list("night-pharmacy")).await;
    assert_eq!(s, StatusCode::OK, "{pharmacy}");
    let rows = pharmacy["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        assert!(r["name"].as_str().unwrap().contains("薬局"), "{r}");
        assert!(r["phone"].as_str().unwrap().starts_with("0260-"), "{r}");
    }
    let (_, home) = m.get(&list("homecare-oncall")).await;
    for r in home["rows"].as_array().unwrap() {
        assert!(r["phone"].as_str().unwrap().starts_with("090-"), "{r}");
    }
    m.srv.stop().await;
}
