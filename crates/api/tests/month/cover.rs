//! Issue 13's cover fixes through the API: an accepted cover is a duty,
//! ranking reads the checker's rules, one escalation, cancel, and staff see
//! only their own offer.

use reqwest::StatusCode;
use serde_json::{Value, json};
use touban_store::Store;

use crate::common::{REGION, json_of};
use crate::helpers::{Month, published};

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
