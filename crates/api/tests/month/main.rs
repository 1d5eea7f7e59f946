//! A month through the API, step by step, each step its own test: generate
//! and publish, notices, on-call, an absence and its repair, manual edits,
//! emergency cover, calendar feeds, the patient list (`patients.rs`) and the
//! audit log. Each test starts its own server on a fresh SQLite database
//! (the harness is in `common`) and brings the month to the state its step
//! needs with the helpers in `helpers.rs`, which assert every step they
//! take.

#[path = "../common/mod.rs"]
mod common;
mod cover;
mod helpers;
mod oncall;
mod patients;
mod safety;
mod swaps;

use common::{REGION, Server, json_of, region};
use reqwest::StatusCode;
use serde_json::json;
use touban_store::Grant;

use helpers::{Month, night_person, publish_repair, published, report_absence};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_then_publish_queues_one_notice_per_person() {
    let m = published().await;
    let Month {
        srv, c, coord, v1, ..
    } = &m;
    // The publish queued one notice per person with duties, in its own
    // transaction; the coordinator sees them all, a person only their own.
    let msgs = |q: &str| srv.url(&format!("/api/v1/regions/{REGION}/messages{q}"));
    let (s, page) = json_of(
        c.get(msgs("?limit=500"))
            .bearer_auth(coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    let people: std::collections::BTreeSet<&str> = v1["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["staff"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), people.len(), "{page}");
    assert!(
        items
            .iter()
            .all(|m| m["kind"] == "published" && m["state"] == "queued")
    );
    assert!(items.iter().all(|m| m["next_attempt_at"].is_string()));
    let someone = items[0]["staff"].as_str().unwrap().to_string();
    let own = srv
        .token(Grant::Staff {
            region: region(),
            staff: touban_domain::StaffId::parse(&someone).unwrap(),
        })
        .await;
    let (s, mine) = json_of(c.get(msgs("")).bearer_auth(&own).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["staff"], someone.as_str());
    let id = items[1]["id"].as_i64().unwrap();
    let r = c
        .get(msgs(&format!("/{id}")))
        .bearer_auth(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "someone else's message");
    let (s, bad) = json_of(
        c.get(msgs("?state=lost"))
            .bearer_auth(coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad["detail"].as_str().unwrap().contains("query.state")
            || bad.to_string().contains("query.state"),
        "{bad}"
    );
    m.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oncall_follows_the_published_version_after_a_repair() {
    let m = published().await;
    let Month {
        srv, c, coord, v1, ..
    } = &m;
    let rota = |p: &str| m.rota(p);
    // Who is on call, from the published rota.
    let absent = night_person(v1);
    let (s, on) = json_of(
        c.get(srv.url("/api/v1/oncall?service=homecare-oncall&at=2027-01-14T23:00:00%2B09:00"))
            .bearer_auth(coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    let now = &on["entries"][0]["now"];
    assert_eq!(now["start"], "2027-01-14T17:30:00+09:00");
    assert!(
        now["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["staff"] == absent)
    );
    assert!(
        now["people"][0]["phone"]
            .as_str()
            .unwrap()
            .starts_with("090-")
    );
    assert_eq!(
        on["entries"][0]["next"]["start"],
        "2027-01-15T08:30:00+09:00"
    );
    let (_, _, changes) = report_absence(&m, &absent).await;
    // The coordinator accepts it: published.
    publish_repair(&m).await;
    let (_, on) = json_of(
        c.get(srv.url("/api/v1/oncall?service=homecare-oncall&at=2027-01-14T23:00:00%2B09:00"))
            .bearer_auth(coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        !on["entries"][0]["now"]["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["staff"] == absent),
        "the on-call answer follows the new published version at once: {on}"
    );
    let (s, d) = json_of(
        c.get(rota("/diff?from=1&to=2"))
            .bearer_auth(coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["changes"].as_array().unwrap().len(), changes.len());
    m.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_edits_are_checked_and_overrides_recorded() {
    let m = published().await;
    let Month { c, coord, v1, .. } = &m;
    let rota = |p: &str| m.rota(p);
    let absent = night_person(v1);
    let (_, _, changes) = report_absence(&m, &absent).await;
    publish_repair(&m).await;
    // A manual edit that puts the absent person back is refused with the rule…
    let etag2 = m.etag(2).await;
    let replacement = changes[0]["after"][0].as_str().map(str::to_string);
    let mut edit = json!({"service": changes[0]["service"], "template": changes[0]["template"],
        "date": changes[0]["date"], "add": absent});
    if let Some(rep) = &replacement {
        edit["remove"] = json!(rep);
    }
    let (s, p) = json_of(
        c.post(rota("/versions/2/edits"))
            .bearer_auth(coord)
            .header("If-Match", &etag2)
            .json(&json!({"changes": [edit.clone()]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "3"
                && v["staff"] == json!(absent)
                && v["message_ja"].as_str().unwrap().starts_with("不在（")
                && v["message"].as_str().unwrap().starts_with("absent (")),
        "{p}"
    );
    // …and accepted with an override, which is recorded.
    let (s, e) = json_of(
        c.post(rota("/versions/2/edits"))
            .bearer_auth(coord)
            .header("If-Match", &etag2)
            .json(&json!({"changes": [edit.clone()], "override_reason": "本人が出勤可能と連絡"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["rota"]["version"], 3);
    assert!(
        e["rota"]["note"]
            .as_str()
            .unwrap()
            .contains("本人が出勤可能と連絡")
    );
    // A second edit of version 2 (someone else's stale copy) is a conflict.
    let (s, _) = json_of(
        c.post(rota("/versions/2/edits"))
            .bearer_auth(coord)
            .header("If-Match", &etag2)
            .json(&json!({"changes": [edit], "override_reason": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    m.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_cover_goes_to_the_first_who_accepts() {
    let m = published().await;
    let Month { srv, c, v1, .. } = &m;
    let absent = night_person(v1);
    let (person, clinic, _) = report_absence(&m, &absent).await;
    // Emergency cover: the clinic asks for a physician on 01-20.
    let (s, cover) = json_of(
        c.post(srv.url(&format!("/api/v1/regions/{REGION}/cover-requests")))
            .bearer_auth(&clinic)
            .json(&json!({
                "institution": person.home_institution.to_string(),
                "profession": "physician",
                "start": "2027-01-15T09:00:00+09:00",
                "end": "2027-01-15T12:00:00+09:00",
                "note": "外来代診",
                "max_offers": 3
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cover}");
    let offers = cover["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 3);
    assert!(offers.iter().all(|o| o["status"] == "offered"));
    assert!(
        offers[0]["reason"]
            .as_str()
            .unwrap()
            .contains("km from base")
            && offers[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("拠点から ")
    );
    let excluded = cover["excluded"].as_array().unwrap();
    assert!(
        excluded.iter().any(|x| x["staff"] == json!(absent)
            && x["reason"].as_str().unwrap().starts_with("不在（病気")
            && x["reason"].as_str().unwrap().contains("/ absent (sickness")),
        "{cover}"
    );
    // The first-ranked accepts from the e-mail link; the second, too late, by API.
    let first_staff = offers[0]["staff"].as_str().unwrap();
    let second_staff = offers[1]["staff"].as_str().unwrap();
    let t1 = srv
        .token(Grant::Staff {
            region: region(),
            staff: touban_domain::StaffId::parse(first_staff).unwrap(),
        })
        .await;
    let t2 = srv
        .token(Grant::Staff {
            region: region(),
            staff: touban_domain::StaffId::parse(second_staff).unwrap(),
        })
        .await;
    let (_, mine) = json_of(
        c.get(srv.url("/api/v1/me/offers"))
            .bearer_auth(&t1)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let link = mine["items"][0]["accept_link"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &link[link.find("/api/").unwrap()..];
    let r = c.get(srv.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("引き受ける") && page.contains("<form method=\"post\""),
        "GET only shows the page"
    );
    // An expired link (signed right, but its time is past) says so in
    // Japanese first, and what to do.
    let key = touban_store::Store::server_secret(srv.store.as_ref(), "offer-links", b"unused")
        .await
        .unwrap();
    let offer1 = offers[0]["id"].as_i64().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let old = touban_app::links::link(&key, offer1, "accept", past);
    let r = c.get(srv.url(&old)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    let (ja, en) = (
        page.find("有効期限が切れています").expect("Japanese"),
        page.find("the link has expired").expect("English"),
    );
    assert!(ja < en && page.contains("コーディネーター"), "{page}");
    let tampered = path.replace("action=accept", "action=decline");
    let r = c.post(srv.url(&tampered)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.post(srv.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("引き受けました"));
    let r = c.post(srv.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "a link works once");
    // The answer through the link is in the coordinator's audit view: the
    // region is known though the path does not name it.
    let (_, audit) = json_of(
        c.get(srv.url("/api/v1/audit?limit=500"))
            .bearer_auth(&m.coord)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let answered = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("/respond") && e["status"] == 200)
        .unwrap_or_else(|| panic!("the link's answer is not in the region's audit log: {audit}"));
    assert_eq!(answered["region"], REGION, "{answered}");
    assert!(
        answered["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("through the e-mail link of {first_staff}")),
        "{answered}"
    );
    let offer2 = offers[1]["id"].as_i64().unwrap();
    let (s, a2) = json_of(
        c.post(srv.url(&format!("/api/v1/offers/{offer2}/accept")))
            .bearer_auth(&t2)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a2}");
    assert_eq!(a2["outcome"], "already_taken");
    assert_eq!(a2["request"]["status"], "filled");
    assert_eq!(a2["request"]["filled_by"], json!(first_staff));
    m.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_feed_cancels_duties_a_published_repair_removed() {
    let m = published().await;
    let Month {
        srv, c, coord, v1, ..
    } = &m;
    let rota = |p: &str| m.rota(p);
    let absent = night_person(v1);
    let (person, _, changes) = report_absence(&m, &absent).await;
    publish_repair(&m).await;
    // An unpublished version 3 (an override edit) changes nothing in the feed.
    let etag2 = m.etag(2).await;
    let edit = json!({"service": changes[0]["service"], "template": changes[0]["template"],
        "date": changes[0]["date"], "add": absent});
    let (s, e) = json_of(
        c.post(rota("/versions/2/edits"))
            .bearer_auth(coord)
            .header("If-Match", &etag2)
            .json(&json!({"changes": [edit], "override_reason": "本人が出勤可能と連絡"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    // Calendar feed of the absent person: the removed nights come as CANCELLED.
    let absent_token = srv
        .token(Grant::Staff {
            region: region(),
            staff: person.id.clone(),
        })
        .await;
    let (s, f) = json_of(
        c.post(srv.url(&format!("/api/v1/regions/{REGION}/staff/{absent}/feed")))
            .bearer_auth(&absent_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let r = c
        .get(srv.url(f["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = r.text().await.unwrap();
    let cal: icalendar::Calendar = text.parse().unwrap();
    let events: Vec<&icalendar::Event> = cal.events().collect();
    assert!(!events.is_empty());
    use icalendar::Component;
    let night = events
        .iter()
        .find(|e| {
            e.get_uid()
                .unwrap()
                .contains(".homecare-oncall.night.2027-01-14.")
        })
        .expect("the 01-14 night is in the feed");
    // Version 3 (the override edit) is not published; version 2 removed the night.
    assert_eq!(
        night.get_status(),
        Some(icalendar::EventStatus::Cancelled),
        "{text}"
    );
    assert_eq!(night.get_sequence(), Some(2));
    let kept = events
        .iter()
        .find(|e| e.get_status() == Some(icalendar::EventStatus::Confirmed))
        .expect("other duties stay");
    assert_eq!(kept.get_sequence(), Some(1));
    assert!(text.contains("DTSTART:2027"), "times in UTC: {text}");
    // Revoked feed address stops working.
    let feed_id = f["info"]["id"].as_str().unwrap();
    let r = c
        .delete(srv.url(&format!("/api/v1/tokens/{feed_id}")))
        .bearer_auth(&absent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .get(srv.url(f["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    m.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_records_every_change_and_is_append_only() {
    let m = published().await;
    let Month {
        srv,
        c,
        coord,
        admin,
        v1,
    } = &m;
    let rota = |p: &str| m.rota(p);
    let absent = night_person(v1);
    let (_, _, changes) = report_absence(&m, &absent).await;
    // An edit the checker refuses (422) is logged too.
    let etag2 = m.etag(2).await;
    let edit = json!({"service": changes[0]["service"], "template": changes[0]["template"],
        "date": changes[0]["date"], "add": absent});
    let r = c
        .post(rota("/versions/2/edits"))
        .bearer_auth(coord)
        .header("If-Match", &etag2)
        .json(&json!({"changes": [edit]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The audit log has every change, with the caller and address.
    let (s, log) = json_of(
        c.get(srv.url("/api/v1/audit?limit=500"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["action"]
        == "POST /api/v1/regions/{region}/rotas/{month}/versions/{version}/publish"
        && i["status"] == 200
        && i["address"] == "127.0.0.1"));
    assert!(
        items
            .iter()
            .any(|i| i["action"] == "POST /api/v1/regions/{region}/absences"
                && i["actor"].as_str().unwrap().starts_with("institution:"))
    );
    assert!(
        items
            .iter()
            .any(|i| i["path"].as_str().unwrap().ends_with("/edits") && i["status"] == 422)
    );
    let r = c
        .delete(srv.url("/api/v1/audit"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let err = sqlx_update_audit(srv).await;
    assert!(err.contains("append-only"), "{err}");
    m.srv.stop().await;
}

async fn sqlx_update_audit(srv: &Server) -> String {
    sqlx::query("UPDATE audit_log SET actor = 'someone else'")
        .execute(srv.store.pool())
        .await
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string())
}

/// names the version it was based on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regions_months_with_rotas_are_listed() {
    let m = published().await;
    let (s, list) = m.get(&format!("/api/v1/regions/{REGION}/rotas")).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(
        list["items"],
        json!([{"month": "2027-01", "published": 1, "latest": 1, "versions": 1}])
    );
    m.srv.stop().await;
}
