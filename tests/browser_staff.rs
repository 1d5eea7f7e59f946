//! The web app for staff and clinics in a real browser at phone width
//! (issue 16, first part): a nurse signs in by e-mail link, sees her next
//! duties and her month, makes a calendar address (the feed answers with
//! her duties) and revokes it (the feed stops), is kept out of the
//! coordinators' pages, marks two days off for next month (kept, and
//! honoured by the next generate) while this month's requests are closed,
//! reports her own absence, and accepts a cover offer in the app (a missing date
//! refused next to the field; the rota is repaired). A clinic signs in,
//! sees who covers it now and next, prints a service's patient list, and
//! reports one of its staff absent and sees the repair, then asks for
//! emergency cover and sees the acceptance arrive without reloading.

#[path = "support/browser.rs"]
mod browser;
#[path = "smtp/harness.rs"]
mod harness;
#[path = "support/cli.rs"]
mod support;

use browser::*;
use fantoccini::Locator;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_sees_her_duties_and_calendar_and_a_clinic_reports_an_absence() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let dbs = db.to_str().unwrap();
    let ok = touban_ok;
    ok(&["import", demo().to_str().unwrap(), "--db", dbs]);
    let month = next_month();
    ok(&["generate", "--month", &month, "--db", dbs]);
    ok(&["publish", "--month", &month, "--db", dbs]);
    let net = touban_netfile::load(&demo()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&[
        "export", "--month", &month, "--format", "json", "--db", dbs,
    ]))
    .unwrap();
    let rows = doc["assignments"].as_array().unwrap().clone();
    let duties_of = |id: &str| -> Vec<String> {
        rows.iter()
            .filter(|a| a["staff"] == id)
            .map(|a| a["date"].as_str().unwrap().to_string())
            .collect()
    };
    // A nurse with duties next month.
    let nurse = net
        .staff
        .iter()
        .filter(|p| p.profession == touban_domain::Profession::Nurse)
        .max_by_key(|p| duties_of(p.id.as_str()).len())
        .unwrap();
    let mine = duties_of(nurse.id.as_str());
    assert!(!mine.is_empty());

    let w = Web::start(dbs).await;
    let c = &w.c;
    c.set_window_size(390, 844).await.unwrap();
    // She signs in by e-mail link like anyone; her page is "my duties".
    c.goto(&format!("{}/sign-in", w.base)).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(nurse.email.as_str())
        .await
        .unwrap();
    click(c, Locator::Css("form.card button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
    let link = sign_in_link(&w.sink, 0).await;
    c.goto(&link).await.unwrap();
    click(c, Locator::Id("sign-in-button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., '私の当番')]")).await;
    assert!(c.current_url().await.unwrap().path().ends_with("/me"));
    let upcoming = text_of(c, Locator::Id("upcoming")).await;
    assert!(upcoming.contains("次の当番"), "{upcoming}");
    shot(c, "30-staff-me-phone").await;
    w.go(&format!("/me?month={month}")).await;
    let table = text_of(c, wait_for_locator(c, "#month-duties").await).await;
    assert_eq!(
        table.lines().count() - 1,
        mine.len(),
        "one row per duty: {table}"
    );
    assert!(
        text_of(c, Locator::Id("totals"))
            .await
            .contains(&format!("当番 {}", mine.len()))
    );
    shot(c, "31-staff-month-phone").await;
    // The coordinators' pages are not hers.
    w.go("/network").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/me"));

    // Requests for next month (open until it starts: the demo sets no
    // earlier deadline): two days "please not", saved and shown again.
    let (off1, off2) = (format!("{month}-10"), format!("{month}-11"));
    w.go("/me/requests").await;
    for d in [&off1, &off2] {
        c.find(Locator::Id(&format!("d-{d}")))
            .await
            .unwrap()
            .select_by_value("off")
            .await
            .unwrap();
    }
    click(c, Locator::Id("save-requests")).await;
    let saved = text_of(c, wait_for_locator(c, "#requests-message").await).await;
    assert!(saved.contains("保存しました"), "{saved}");
    w.go(&format!("/me/requests?month={month}")).await;
    for d in [&off1, &off2] {
        let v = c
            .find(Locator::Id(&format!("d-{d}")))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("off"), "{d}");
    }
    shot(c, "32a-staff-requests-phone").await;
    // One request for one service with a weight: a wrong weight is refused
    // next to the field; a right one is listed, then withdrawn.
    let third = (1..=28)
        .map(|d| format!("{month}-{d:02}"))
        .find(|d| *d != off1 && *d != off2)
        .unwrap();
    click(c, Locator::Css("#add-detail summary")).await;
    c.execute(
        &format!(
            "document.getElementById('detail-date').value = '{third}'; document.getElementById('detail-kind').value = 'on'; document.getElementById('detail-service').selectedIndex = 1; document.getElementById('detail-weight').value = '11'"
        ),
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("add-detail-button")).await;
    let err = text_of(c, wait_for_locator(c, "#detail-weight-error").await).await;
    assert!(err.contains("1から10"), "{err}");
    c.execute(
        "document.getElementById('detail-weight').value = '8'",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("add-detail-button")).await;
    // The page before had a list too: wait for the answer to this form.
    wait_for(
        c,
        Locator::XPath("//p[@id='requests-message' and contains(., '追加しました')]"),
    )
    .await;
    let listed = text_of(c, Locator::Id("my-requests")).await;
    assert!(
        listed.contains("勤務希望") && listed.contains("重み 8"),
        "{listed}"
    );
    shot(c, "32c-staff-request-detail-phone").await;
    click(
        c,
        Locator::XPath("//ul[@id='my-requests']/li[contains(., '重み 8')]//button"),
    )
    .await;
    wait_for(
        c,
        Locator::XPath("//p[@id='requests-message' and contains(., '取り消しました')]"),
    )
    .await;
    assert!(
        !text_of(c, Locator::Id("my-requests"))
            .await
            .contains("重み 8")
    );
    // This month's are closed: read only, and a forced post is refused.
    let this_month = {
        let t = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
        t.format("%Y-%m").to_string()
    };
    w.go(&format!("/me/requests?month={this_month}")).await;
    wait_for(c, Locator::Id("requests-closed")).await;
    assert!(c.find(Locator::Id("save-requests")).await.is_err());
    c.execute(
        "document.querySelector('form[action=\"/me/requests\"]').submit()",
        vec![],
    )
    .await
    .unwrap();
    let refused = text_of(c, wait_for_locator(c, "#requests-message").await).await;
    assert!(refused.contains("締め切られました"), "{refused}");
    shot(c, "32b-staff-requests-closed-phone").await;

    // A calendar address, shown once with its QR code; the feed has her
    // duties; revoked, it stops.
    w.go("/me/calendar").await;
    click(c, Locator::Id("make-feed")).await;
    let url = wait_for(c, Locator::Id("feed-url"))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(
        url.starts_with(&format!("{}/api/v1/feeds/", w.base)),
        "{url}"
    );
    assert!(c.find(Locator::Css("img[alt*='QR']")).await.is_ok());
    shot(c, "32-staff-calendar-phone").await;
    let (status, ics) = http_get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), mine.len(), "{ics}");
    // Revoked (the e-mails' own calendar link stays), it stops.
    let feed_id = url
        .rsplit('/')
        .next()
        .and_then(|t| t.split('.').next())
        .unwrap()
        .to_string();
    let revoke = format!("form[action='/me/calendar/{feed_id}/revoke'] button");
    w.go("/me/calendar").await;
    click(c, Locator::Css(&revoke)).await;
    wait_for(c, Locator::Id("revoked")).await;
    assert!(c.find(Locator::Css(&revoke)).await.is_err(), "revoked");
    let (status, _) = http_get(&url).await;
    assert_eq!(status, 401);

    // Her own absence: a missing date is refused next to the field; on a
    // day she is on duty, the rota is repaired.
    w.go("/me/absence").await;
    c.find(Locator::Id("absence-kind"))
        .await
        .unwrap()
        .select_by_value("sickness")
        .await
        .unwrap();
    click(c, Locator::Id("report-absence")).await;
    let err = text_of(c, wait_for_locator(c, "#absence-from-error").await).await;
    assert!(err.contains("日付を入れてください"), "{err}");
    shot(c, "33-staff-absence-refused-phone").await;
    let day = mine.last().unwrap();
    c.execute(
        &format!(
            "document.getElementById('absence-from').value = '{day}'; document.getElementById('absence-to').value = '{day}'"
        ),
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("report-absence")).await;
    let sent = text_of(c, wait_for_locator(c, "#absence-sent").await).await;
    assert!(
        sent.contains("コーディネーターに届きました")
            && sent.contains("件は、ほかの人に替わります"),
        "{sent}"
    );
    shot(c, "34-staff-absence-sent-phone").await;
    // The repair waits as a draft (the demo does not publish repairs).
    let v2: serde_json::Value = serde_json::from_str(&ok(&[
        "export",
        "--month",
        &month,
        "--version",
        "2",
        "--format",
        "json",
        "--db",
        dbs,
    ]))
    .unwrap();
    assert_eq!(v2["status"], "draft");
    assert!(
        !v2["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["staff"] == nurse.id.as_str() && a["date"] == day.as_str()),
        "not on duty the day she is away"
    );
    // Generating the month again honours her requests.
    ok(&["generate", "--month", &month, "--db", dbs]);
    let v3: serde_json::Value = serde_json::from_str(&ok(&[
        "export",
        "--month",
        &month,
        "--version",
        "3",
        "--format",
        "json",
        "--db",
        dbs,
    ]))
    .unwrap();
    for d in [&off1, &off2] {
        assert!(
            !v3["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["staff"] == nurse.id.as_str() && a["date"] == d.as_str()),
            "no duty on {d}, a day she asked off"
        );
    }
    // A cover request (代診) from her station, on a free day: she is offered
    // it in the app and accepts; it is among her duties.
    let token = ok(&[
        "token",
        "create",
        "--role",
        "coordinator",
        "--region",
        "southern-shimoina",
        "--db",
        dbs,
    ]);
    let free = (12..=28)
        .map(|d| format!("{month}-{d:02}"))
        .find(|d| !mine.contains(d) && *d != off1 && *d != off2)
        .unwrap();
    let (status, body) = http_post_json(
        &format!("{}/api/v1/regions/southern-shimoina/cover-requests", w.base),
        token.trim(),
        &serde_json::json!({
            "institution": nurse.home_institution.as_str(),
            "profession": "nurse",
            "start": format!("{free}T10:00:00+09:00"),
            "end": format!("{free}T12:00:00+09:00"),
            "note": "訪問1件の代行",
            "mode": "broadcast",
            "max_offers": 20,
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    w.go("/me/offers").await;
    let offers = text_of(c, wait_for_locator(c, "#offers").await).await;
    assert!(offers.contains("訪問1件の代行"), "{offers}");
    shot(c, "34a-staff-offers-phone").await;
    click(c, Locator::Css("#offers button[value=accept]")).await;
    let said = text_of(c, wait_for_locator(c, "#offer-message").await).await;
    assert!(said.contains("引き受けました"), "{said}");
    w.go(&format!("/me?month={month}")).await;
    let table = text_of(c, wait_for_locator(c, "#month-duties").await).await;
    assert!(table.contains("応援"), "{table}");
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;

    // A clinic: who covers us, the patient list, an absence of our staff.
    let clinic = net
        .institutions
        .iter()
        .find(|i| {
            i.email.is_some()
                && net
                    .staff
                    .iter()
                    .any(|p| p.home_institution == i.id && !duties_of(p.id.as_str()).is_empty())
        })
        .unwrap();
    let theirs = net
        .staff
        .iter()
        .find(|p| p.home_institution == clinic.id && !duties_of(p.id.as_str()).is_empty())
        .unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(clinic.email.as_ref().unwrap().as_str())
        .await
        .unwrap();
    click(c, Locator::Css("form.card button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
    c.goto(&sign_in_link(&w.sink, 1).await).await.unwrap();
    click(c, Locator::Id("sign-in-button")).await;
    wait_for(c, Locator::Id("covers-us")).await;
    assert!(c.current_url().await.unwrap().path().ends_with("/clinic"));
    shot(c, "35-clinic-phone").await;
    c.set_window_size(1280, 800).await.unwrap();
    shot(c, "36-clinic").await;
    // Reporting without choosing who is refused next to the field.
    click(c, Locator::Id("report-absence")).await;
    let err = text_of(c, wait_for_locator(c, "#absence-staff-error").await).await;
    assert!(err.contains("職員を選んでください"), "{err}");
    let day = duties_of(theirs.id.as_str()).first().unwrap().clone();
    c.find(Locator::Id("absence-staff"))
        .await
        .unwrap()
        .select_by_value(theirs.id.as_str())
        .await
        .unwrap();
    c.find(Locator::Id("absence-kind"))
        .await
        .unwrap()
        .select_by_value("sudden")
        .await
        .unwrap();
    c.execute(
        &format!(
            "document.getElementById('absence-from').value = '{day}'; document.getElementById('absence-to').value = '{day}'"
        ),
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("report-absence")).await;
    let repair = text_of(c, wait_for_locator(c, "section.repair").await).await;
    assert!(repair.contains(&theirs.name), "{repair}");
    shot(c, "37-clinic-absence-repaired").await;

    // The clinic asks for emergency cover (代診): a form without a
    // profession is refused next to the field; a right one shows the
    // request's live status. Someone accepts (through the API, as their
    // e-mail link would) and the page shows it without being reloaded.
    w.go("/clinic/cover/new").await;
    click(c, Locator::Id("ask-cover")).await;
    let err = text_of(c, wait_for_locator(c, "#cover-profession-error").await).await;
    assert!(err.contains("職種を選んでください"), "{err}");
    c.find(Locator::Id("cover-profession"))
        .await
        .unwrap()
        .select_by_value(theirs.profession.as_str())
        .await
        .unwrap();
    let cover_day = (3..=27)
        .map(|d| format!("{month}-{d:02}"))
        .find(|d| *d != day)
        .unwrap();
    c.execute(
        &format!(
            "document.getElementById('cover-from').value = '{cover_day}T13:00'; document.getElementById('cover-to').value = '{cover_day}T15:00'"
        ),
        vec![],
    )
    .await
    .unwrap();
    shot(c, "38-clinic-cover-form").await;
    click(c, Locator::Id("ask-cover")).await;
    let offered = text_of(c, wait_for_locator(c, "#cover-offers").await).await;
    assert!(offered.contains("依頼中"), "{offered}");
    let url = c.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    shot(c, "39-clinic-cover-asked").await;
    c.execute("window.notReloaded = true", vec![])
        .await
        .unwrap();
    let (status, body) = http_get_auth(
        &format!("{}/api/v1/cover-requests/{id}", w.base),
        token.trim(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cover: serde_json::Value = serde_json::from_str(&body).unwrap();
    let first = cover["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["status"] == "offered")
        .unwrap()
        .clone();
    let staff_token = ok(&[
        "token",
        "create",
        "--role",
        "staff",
        "--region",
        "southern-shimoina",
        "--scope",
        first["staff"].as_str().unwrap(),
        "--db",
        dbs,
    ]);
    let (status, body) = http_post_json(
        &format!("{}/api/v1/offers/{}/accept", w.base, first["id"]),
        staff_token.trim(),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let accepted = c
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Css("#cover-filled"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let name = net
        .staff
        .iter()
        .find(|p| p.id.as_str() == first["staff"].as_str().unwrap())
        .unwrap()
        .name
        .clone();
    assert!(accepted.contains(&name), "{accepted}");
    let state = text_of(c, Locator::Id("cover-state")).await;
    assert!(state.contains("決まりました"), "{state}");
    let same_page = c
        .execute("return window.notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::json!(true), "the page was reloaded");
    shot(c, "40-clinic-cover-accepted").await;
    // On the clinic's page, with who took it.
    w.go("/clinic").await;
    let ours = text_of(c, wait_for_locator(c, "#our-covers").await).await;
    assert!(
        ours.contains("決まりました") && ours.contains(&name),
        "{ours}"
    );

    // The coordinator sees the month's requests in a list, the nurse's two
    // days among them, entered by her and kept by the version generated
    // after them (version 3). The newest version is the clinic's repair,
    // which builds on the published line (version 1, made before her
    // requests) and keeps its duties: whether it keeps her days off
    // depends on version 1 alone.
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;
    w.sign_in("renkei@shimoina-south.example.jp", 2).await;
    w.go(&format!("/months/{month}")).await;
    click(c, Locator::Id("requests-link")).await;
    wait_for_locator(c, "table#requests").await;
    w.go(&format!("/months/{month}/requests?version=3")).await;
    let list = text_of(c, wait_for_locator(c, "table#requests").await).await;
    assert!(list.contains("第3版"), "{list}");
    let hers: Vec<&str> = list
        .lines()
        .filter(|l| l.contains(&nurse.name) && l.contains("本人"))
        .collect();
    assert_eq!(hers.len(), 2, "{list}");
    assert!(
        hers.iter()
            .all(|l| l.contains("避けたい") && l.contains("かなった")),
        "{list}"
    );
    shot(c, "41-coordinator-requests").await;
    // In the grid, each day names its requests.
    w.go(&format!("/months/{month}")).await;
    let grid = text_of(c, wait_for_locator(c, "table.grid").await).await;
    assert!(grid.contains("希望 休"), "{grid}");
}
