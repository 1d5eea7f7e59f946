//! The web app in a real browser, the network's people (issue 15): an admin
//! created with the CLI signs in by e-mail link and switches region; on a
//! person's page adds a request (a wrong weight refused next to the field)
//! and withdraws it, removes a reported absence, and retires the person
//! (the rota is repaired: no duty from that day on; the staff list says
//! so); then prints a service's patient list (A4 portrait). Removing the
//! admin with the CLI ends their session.

#[path = "support/browser.rs"]
mod browser;
#[path = "smtp/harness.rs"]
mod harness;
#[path = "support/cli.rs"]
mod support;

use browser::*;
use fantoccini::Locator;
use support::*;

/// A person's duties in a version, as `touban export` gives them: dates.
fn duty_dates(dbs: &str, version: u32, staff: &str) -> Vec<String> {
    let out = touban(&[
        "export",
        "--month",
        "2027-01",
        "--version",
        &version.to_string(),
        "--format",
        "json",
        "--db",
        dbs,
        "--region",
        "southern-shimoina",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    doc["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["staff"] == staff)
        .map(|a| a["date"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_requests_absences_retires_a_person_and_prints_the_patient_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let dbs = db.to_str().unwrap();
    let ok = touban_ok;
    ok(&["import", demo().to_str().unwrap(), "--db", dbs]);
    // A second region: the demo network under another id and name.
    let other = std::fs::read_to_string(demo())
        .unwrap()
        .replacen("id = \"southern-shimoina\"", "id = \"test-north\"", 1)
        .replacen(
            "name = \"南部地域医療連携推進ネットワーク（下伊那郡南部）\"",
            "name = \"試験用北部ネットワーク\"",
            1,
        );
    let other_file = dir.path().join("north.toml");
    std::fs::write(&other_file, other).unwrap();
    ok(&["import", other_file.to_str().unwrap(), "--db", dbs]);
    ok(&[
        "generate",
        "--month",
        "2027-01",
        "--db",
        dbs,
        "--region",
        "southern-shimoina",
    ]);
    ok(&[
        "publish",
        "--month",
        "2027-01",
        "--db",
        dbs,
        "--region",
        "southern-shimoina",
    ]);
    let net = touban_netfile::load(&demo()).unwrap();

    // A physician on duty both before and from the 15th.
    let person = net
        .staff
        .iter()
        .find(|p| {
            let d = duty_dates(dbs, 1, p.id.as_str());
            d.iter().any(|x| x.as_str() < "2027-01-15")
                && d.iter().any(|x| x.as_str() >= "2027-01-15")
        })
        .expect("someone on duty before and after the 15th");
    let pid = person.id.as_str();

    // Admins are created with the CLI; a wrong address is refused.
    let bad = touban(&["admin", "add", "not-an-address", "--db", dbs]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("EMAIL"), "{}", stderr(&bad));
    ok(&["admin", "add", "admin@example.jp", "--db", dbs]);
    assert!(ok(&["admin", "list", "--db", dbs]).contains("admin@example.jp"));
    // A reported absence on the 27th, to be removed in the browser.
    ok(&[
        "absence",
        "add",
        pid,
        "2027-01-27",
        "2027-01-27",
        "--db",
        dbs,
        "--region",
        "southern-shimoina",
    ]);

    let w = Web::start(dbs).await;
    let c = &w.c;
    w.sign_in("admin@example.jp", 0).await;
    shot(c, "20-admin-home").await;

    // The admin works in one region at a time and switches in the header.
    c.find(Locator::Id("region-choice"))
        .await
        .unwrap()
        .select_by_value("test-north")
        .await
        .unwrap();
    click(c, Locator::Css("form.region-switch button")).await;
    // The home page was already open: wait for the new one (its header
    // naming the region chosen), not for any home page.
    wait_for(
        c,
        Locator::XPath("//select[@id='region-choice']/option[@selected and contains(., '試験用北部ネットワーク')]"),
    )
    .await;
    wait_for(c, Locator::XPath("//h1[contains(., 'ホーム')]")).await;
    assert!(
        !c.source().await.unwrap().contains("第1版"),
        "the other region has no rota"
    );
    c.find(Locator::Id("region-choice"))
        .await
        .unwrap()
        .select_by_value("southern-shimoina")
        .await
        .unwrap();
    click(c, Locator::Css("form.region-switch button")).await;
    wait_for(
        c,
        Locator::XPath(
            "//select[@id='region-choice']/option[@selected and @value='southern-shimoina']",
        ),
    )
    .await;

    // A request with a wrong weight is refused next to the field; a right
    // one is listed; withdrawn, it is gone.
    w.go(&format!("/people/{pid}?month=2027-01")).await;
    click(c, Locator::Css("#add-request summary")).await;
    c.execute(
        "document.getElementById('request-date').value = '2027-01-20'",
        vec![],
    )
    .await
    .unwrap();
    let weight = c.find(Locator::Id("request-weight")).await.unwrap();
    weight.clear().await.unwrap();
    weight.send_keys("11").await.unwrap();
    click(c, Locator::Id("add-request-button")).await;
    let err = text_of(c, wait_for_locator(c, "#request-weight-error").await).await;
    assert!(err.contains("1から10"), "{err}");
    c.execute(
        "document.getElementById('add-request').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(c, "21-request-refused").await;
    let weight = c.find(Locator::Id("request-weight")).await.unwrap();
    weight.clear().await.unwrap();
    weight.send_keys("3").await.unwrap();
    click(c, Locator::Id("add-request-button")).await;
    let requests = text_of(c, wait_for_locator(c, "#requests").await).await;
    assert!(
        requests.contains("1月20日")
            && requests.contains("休み希望")
            && requests.contains("重み 3"),
        "{requests}"
    );
    click(
        c,
        Locator::XPath("//ul[@id='requests']/li[contains(., '1月20日')]//button"),
    )
    .await;
    // The page before showed a message too: wait for the request to go.
    let start = std::time::Instant::now();
    while c.source().await.unwrap().contains("1月20日(水) 休み希望") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the request is withdrawn"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    wait_for(c, Locator::Css("p.summary[role=status]")).await;

    // The reported absence of the 27th, removed.
    w.go(&format!("/people/{pid}?month=2027-01")).await;
    let absences = text_of(c, wait_for_locator(c, "#absences").await).await;
    assert!(absences.contains("1月27日"), "{absences}");
    click(
        c,
        Locator::XPath("//ul[@id='absences']/li[contains(., '1月27日')]//button"),
    )
    .await;
    wait_for(c, Locator::Css("p.summary[role=status]")).await;
    let left = match c.find(Locator::Css("#absences")).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => String::new(),
    };
    assert!(!left.contains("1月27日"), "{left}");

    // Retire: an empty date is refused next to the field; from the 15th,
    // January is repaired (a draft, v2) and has no duty of theirs from then.
    click(c, Locator::Css("#retire summary")).await;
    click(c, Locator::Id("retire-button")).await;
    let err = text_of(c, wait_for_locator(c, "#retire-from-error").await).await;
    assert!(err.contains("日付を入れてください"), "{err}");
    c.execute(
        "document.getElementById('retire-from').value = '2027-01-15'",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("retire-button")).await;
    let done = text_of(c, wait_for_locator(c, "main").await).await;
    assert!(
        done.contains("退職を登録しました") && done.contains("第1版 → 第2版"),
        "{done}"
    );
    shot(c, "22-retired").await;
    // The coordinators are told the repair waits, as a retirement.
    let told = mail_with(&w.sink, "renkei@shimoina-south.example.jp", "退職").await;
    assert!(told.contains("1月15日(金)から退職します"), "{told}");
    let kept = duty_dates(dbs, 2, pid);
    assert!(
        kept.iter().all(|d| d.as_str() < "2027-01-15"),
        "no duty from the 15th: {kept:?}"
    );
    let before: Vec<String> = duty_dates(dbs, 1, pid)
        .into_iter()
        .filter(|d| d.as_str() < "2027-01-15")
        .collect();
    assert_eq!(kept, before, "duties before the 15th are kept");
    w.go(&format!(
        "/network?q={}",
        person.name.split(' ').next().unwrap()
    ))
    .await;
    let list = text_of(c, wait_for_locator(c, "#staff").await).await;
    assert!(list.contains("退職"), "{list}");
    w.go(&format!("/people/{pid}?month=2027-01")).await;
    assert!(
        text_of(c, Locator::Id("retired-note"))
            .await
            .contains("1月15日")
    );

    // The patient list of a service: every slot with who to call, printed
    // A4 portrait.
    let svc = &net.services[0];
    w.go(&format!(
        "/months/2027-01/patients?version=2&service={}",
        svc.id
    ))
    .await;
    let src = c.source().await.unwrap();
    assert!(src.contains("id=\"patient-list\""), "{src}");
    let table = text_of(c, Locator::Id("patient-list")).await;
    assert!(table.contains("1月1日"), "{table}");
    shot(c, "23-patient-list").await;
    let (info, text) = w.pdf("patients-2027-01").await;
    let (wd, ht, a4) = page_size(&info);
    assert!(a4 && wd < ht, "A4 portrait: {info}");
    assert!(
        text.contains(&svc.name) && text.contains("2027年1月") && text.contains("第2版"),
        "{text}"
    );
    c.set_window_size(390, 844).await.unwrap();
    w.go(&format!("/people/{pid}?month=2027-01")).await;
    shot(c, "24-person-phone").await;

    // The admin removed with the CLI: their session ends.
    ok(&["admin", "remove", "admin@example.jp", "--db", dbs]);
    w.go("/").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/sign-in"));
}
