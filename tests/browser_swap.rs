//! A swap of duties end to end (issue 16 item 6), in a real browser at
//! phone width against the real `touban serve`: a nurse picks one of her
//! published duties, Touban lists the colleagues a swap keeps every rule
//! for, she proposes one; the colleague answers through the link in the
//! e-mail Touban sends; the coordinator approves; the swap is the new
//! published version, both get a change notice, and the colleague's
//! calendar feed has the duty she took.

#[path = "support/browser.rs"]
mod browser;
#[path = "smtp/harness.rs"]
mod harness;
#[path = "support/cli.rs"]
mod support;

use browser::*;
use fantoccini::Locator;
use support::*;

/// A person's calendar feed as their calendar app reads it: a feed address
/// made with their own token, then fetched.
async fn feed_of(w: &Web, db: &str, who: &str) -> String {
    let token = touban_ok(&[
        "token",
        "create",
        "--role",
        "staff",
        "--region",
        "southern-shimoina",
        "--scope",
        who,
        "--db",
        db,
    ]);
    let (status, body) = http_post_json(
        &format!(
            "{}/api/v1/regions/southern-shimoina/staff/{who}/feed",
            w.base
        ),
        token.trim(),
        &serde_json::json!({}),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let feed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (status, ics) = http_get(&format!("{}{}", w.base, feed["url"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{ics}");
    ics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_swaps_a_duty_the_colleague_accepts_by_e_mail_and_the_coordinator_approves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("swap.db");
    let dbs = db.to_str().unwrap();
    let ok = touban_ok;
    ok(&["import", demo().to_str().unwrap(), "--db", dbs]);
    let month = next_month();
    ok(&["generate", "--month", &month, "--db", dbs]);
    ok(&["publish", "--month", &month, "--db", dbs]);
    let net = touban_netfile::load(&demo()).unwrap();
    let export = |ok: &dyn Fn(&[&str]) -> String| -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(&ok(&[
            "export", "--month", &month, "--format", "json", "--db", dbs,
        ]))
        .unwrap();
        doc["assignments"].as_array().unwrap().clone()
    };
    let before = export(&ok);
    let nurse = net
        .staff
        .iter()
        .filter(|p| p.profession == touban_domain::Profession::Nurse)
        .max_by_key(|p| {
            before
                .iter()
                .filter(|a| a["staff"] == p.id.as_str())
                .count()
        })
        .unwrap();

    let w = Web::start(dbs).await;
    let c = &w.c;
    c.set_window_size(390, 844).await.unwrap();
    w.sign_in_staff(nurse.email.as_str(), 0).await;

    // Her duties of next month, each with "swap or give away"; the first
    // with a swap that keeps every rule for both.
    w.go(&format!("/me?month={month}")).await;
    wait_for(c, Locator::Id("month-duties")).await;
    let mut links = Vec::new();
    for a in c
        .find_all(Locator::Css("#month-duties a.swap-link"))
        .await
        .unwrap()
    {
        links.push(a.attr("href").await.unwrap().unwrap());
    }
    assert!(!links.is_empty(), "no duty offers a swap");
    let mut chosen = None;
    for href in &links {
        c.goto(&format!("{}{href}", w.base)).await.unwrap();
        wait_for(c, Locator::Id("give-options")).await;
        let radios = c
            .find_all(Locator::Css("#swap-options input[type=radio]"))
            .await
            .unwrap();
        if let Some(r) = radios.first() {
            chosen = Some(r.attr("value").await.unwrap().unwrap());
            r.click().await.unwrap();
            break;
        }
    }
    let chosen = chosen.expect("some duty of hers can be swapped");
    let parts: Vec<&str> = chosen.split('|').collect();
    let (colleague_id, take_date) = (parts[0], parts[3]);
    let colleague = net
        .staff
        .iter()
        .find(|p| p.id.as_str() == colleague_id)
        .unwrap();
    let url = c.current_url().await.unwrap();
    let give_date = url
        .query_pairs()
        .find(|(k, _)| k == "date")
        .unwrap()
        .1
        .to_string();
    let give_service = url
        .query_pairs()
        .find(|(k, _)| k == "service")
        .unwrap()
        .1
        .to_string();
    let give_template = url
        .query_pairs()
        .find(|(k, _)| k == "template")
        .unwrap()
        .1
        .to_string();
    let list = text_of(c, Locator::Id("swap-options")).await;
    assert!(list.contains(&colleague.name), "{list}");
    shot(c, "50-swap-partners-phone").await;
    c.find(Locator::Id("swap-note"))
        .await
        .unwrap()
        .send_keys("子どもの行事のため")
        .await
        .unwrap();
    click(c, Locator::Id("propose-swap")).await;
    let said = text_of(c, wait_for_locator(c, "#offer-message").await).await;
    assert!(said.contains("交代を申し込みました"), "{said}");
    let mine = text_of(c, wait_for_locator(c, "#my-swaps").await).await;
    assert!(
        mine.contains(&colleague.name) && mine.contains("相手の返事待ち"),
        "{mine}"
    );
    shot(c, "51-swap-proposed-phone").await;

    // The colleague's e-mail: what is asked, with links; the accept link
    // opens a page to confirm (opening it changes nothing).
    let mail = mail_with(&w.sink, colleague.email.as_str(), "交代の申し込み").await;
    assert!(mail.contains("子どもの行事のため"), "{mail}");
    let accept = mail
        .split_whitespace()
        .find(|w| w.contains("/swaps/") && w.contains("action=accept"))
        .unwrap()
        .trim_start_matches("承諾する：")
        .to_string();
    let accept = &accept[accept.find("http").unwrap()..];
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;
    c.goto(accept).await.unwrap();
    let page = text_of(c, wait_for_locator(c, "section.card").await).await;
    assert!(page.contains(&nurse.name), "{page}");
    shot(c, "52-swap-respond-phone").await;
    click(c, Locator::Id("confirm")).await;
    let said = text_of(c, wait_for_locator(c, "p[role=alert]").await).await;
    assert!(said.contains("承諾しました"), "{said}");
    // The proposer hears of it.
    mail_with(&w.sink, nurse.email.as_str(), "相手が承諾しました").await;

    // The coordinator approves: the swap is the new published version.
    w.sign_in("renkei@shimoina-south.example.jp", 1).await;
    assert_eq!(text_of(c, Locator::Id("swaps-waiting")).await, "1");
    click(c, Locator::Css("a[href='/swaps']")).await;
    let open = text_of(c, wait_for_locator(c, "#open-swaps").await).await;
    assert!(
        open.contains(&nurse.name) && open.contains(&colleague.name),
        "{open}"
    );
    c.set_window_size(1280, 800).await.unwrap();
    shot(c, "53-swaps-coordinator").await;
    click(c, Locator::Css("#open-swaps button.primary")).await;
    let said = text_of(c, wait_for_locator(c, "#swap-message").await).await;
    assert!(said.contains("承認され"), "{said}");
    shot(c, "54-swap-approved").await;

    let after = export(&ok);
    // A duty is its date, service and template (she may give a day duty
    // and take a night of the same service on the same date).
    let on = |rows: &[serde_json::Value], who: &str, date: &str, duty: Option<(&str, &str)>| {
        rows.iter().any(|a| {
            a["staff"] == who
                && a["date"] == date
                && duty.is_none_or(|(s, t)| a["service"] == s && a["template"] == t)
        })
    };
    let gave_duty = Some((give_service.as_str(), give_template.as_str()));
    assert!(on(&before, nurse.id.as_str(), &give_date, gave_duty));
    assert!(
        !on(&after, nurse.id.as_str(), &give_date, gave_duty),
        "she still has the duty she gave"
    );
    assert!(
        on(&after, colleague_id, &give_date, gave_duty),
        "the colleague has not got her duty"
    );
    assert!(
        on(&after, nurse.id.as_str(), take_date, None),
        "she has not got the colleague's duty"
    );
    assert_eq!(before.len(), after.len());

    // Both are told by change notices; the colleague's feed has her duty.
    mail_with(&w.sink, nurse.email.as_str(), "当番変更").await;
    mail_with(&w.sink, colleague.email.as_str(), "当番変更").await;
    let ics = feed_of(&w, dbs, colleague_id).await;
    let uid = format!(
        "southern-shimoina.{give_service}.{give_template}.{give_date}.{colleague_id}@touban"
    );
    assert!(ics.contains(&uid), "the feed lacks {uid}");
    // And hers has the colleague's duty she took, not the one she gave.
    let ics = feed_of(&w, dbs, nurse.id.as_str()).await;
    let (take_service, take_template) = (parts[1], parts[2]);
    let hers = format!(
        "southern-shimoina.{take_service}.{take_template}.{take_date}.{}@touban",
        nurse.id
    );
    let gave = format!(
        "southern-shimoina.{give_service}.{give_template}.{give_date}.{}@touban",
        nurse.id
    );
    assert!(ics.contains(&hers), "her feed lacks {hers}");
    // The duty she gave is in her feed only as cancelled (so that calendars
    // that had it remove it).
    if let Some(event) = ics.split("BEGIN:VEVENT").find(|e| e.contains(&gave)) {
        assert!(event.contains("STATUS:CANCELLED"), "{event}");
    }

    // On her "my duties": the change of version 2 with when she was told,
    // and this year's hours.
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;
    c.set_window_size(390, 844).await.unwrap();
    w.sign_in_staff(nurse.email.as_str(), 2).await;
    w.go(&format!("/me?month={month}")).await;
    let changes = text_of(c, wait_for_locator(c, "#changes").await).await;
    assert!(
        changes.contains("第2版") && changes.contains("外れた") && changes.contains("入った"),
        "{changes}"
    );
    assert!(changes.contains("お知らせ送信"), "{changes}");
    let totals = text_of(c, Locator::Id("totals")).await;
    assert!(totals.contains("今年"), "{totals}");
    c.execute(
        "document.getElementById('changes').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(c, "55-my-duties-changes-phone").await;
}
