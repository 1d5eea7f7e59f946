//! Issue 13's on-call and patient-list fixes through the API: never the
//! absent person, 未定 for a slot nobody holds, keys instead of public
//! phone numbers, the institution's number for duty done at one.

use reqwest::StatusCode;
use serde_json::json;
use touban_store::Store;

use crate::common::{REGION, json_of};
use crate::helpers::{Month, night_person, published};
use crate::safety::publish;

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
