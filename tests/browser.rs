//! The web app in a real browser (issue 15): headless Chromium driven over
//! WebDriver (chromedriver, fantoccini) against the real `touban serve`,
//! with a real SMTP server on loopback for the sign-in link. A coordinator
//! signs in, opens the month, edits a cell into a violation and sees it
//! refused, makes a valid edit, publishes, prints the month to PDF (A4
//! landscape, the month on it) and signs out. Screenshots of each page, at
//! desktop and phone width, are written under `target/screenshots/`.

#[path = "support/browser.rs"]
mod browser;
#[path = "smtp/harness.rs"]
mod harness;
#[path = "support/coordinator_steps.rs"]
mod steps;
#[path = "support/cli.rs"]
mod support;

use std::time::{Duration, Instant};

use browser::*;
use fantoccini::Locator;

use steps::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_signs_in_fixes_a_cell_publishes_and_prints() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let dbs = db.to_str().unwrap();
    assert!(
        touban(&["import", demo().to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );
    let net = touban_netfile::load(&demo()).unwrap();

    // The real server, with a real SMTP server for the sign-in link, and
    // the browser.
    let w = Web::start(dbs).await;
    let (c, sink, base) = (&w.c, &w.sink, w.base.clone());

    sign_in_first_time(c, sink, &base, &net).await;

    // Generate January 2027 in the browser: a wrong time limit is refused
    // next to the field; then the job's page shows its progress until the
    // new draft is there.
    c.goto(&format!("{base}/months/2027-01/generate"))
        .await
        .unwrap();
    shot(c, "03b-generate").await;
    let seconds = c.find(Locator::Id("seconds")).await.unwrap();
    seconds.clear().await.unwrap();
    seconds.send_keys("abc").await.unwrap();
    click(c, Locator::Id("generate")).await;
    let err = wait_for(c, Locator::Id("seconds-error")).await;
    assert!(
        err.text().await.unwrap().contains("5から600"),
        "next to the field"
    );
    assert!(
        !touban(&["show", "--month", "2027-01", "--db", dbs])
            .status
            .success(),
        "nothing generated"
    );
    let seconds = c.find(Locator::Id("seconds")).await.unwrap();
    seconds.clear().await.unwrap();
    seconds.send_keys("30").await.unwrap();
    click(c, Locator::Id("generate")).await;
    wait_for(c, Locator::Css("section#job")).await;
    assert!(c.current_url().await.unwrap().path().starts_with("/jobs/"));
    shot(c, "03c-generating").await;
    let start = Instant::now();
    let open = loop {
        if let Ok(a) = c.find(Locator::Id("open-version")).await {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the job page shows the new version: {}",
            c.source().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let job = text_of(c, Locator::Css("section#job")).await;
    assert!(job.contains("第1版") && job.contains("未定の枠"), "{job}");
    shot(c, "03d-generated").await;
    open.click().await.unwrap();
    wait_for(
        c,
        Locator::XPath("//span[@class='state'][contains(., '下書き 第1版')]"),
    )
    .await;

    // Who has the home-care night of 14 January, and a physician away that
    // night (putting them on it is a violation of rule 3).
    let export = touban(&["export", "--month", "2027-01", "--db", dbs]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&export)).unwrap();
    let on_night = |id: &str| {
        doc["assignments"].as_array().unwrap().iter().any(|r| {
            r["staff"] == id
                && ["2027-01-13", "2027-01-14", "2027-01-15"].contains(&r["date"].as_str().unwrap())
        })
    };
    let svc = net
        .services
        .iter()
        .find(|s| s.id.as_str() == "homecare-oncall")
        .unwrap();
    let free: Vec<&touban_domain::StaffMember> = net
        .staff
        .iter()
        .filter(|p| {
            p.profession == svc.profession && net.eligible(p, svc) && !on_night(p.id.as_str())
        })
        .collect();
    assert!(free.len() >= 2, "two physicians free around the 14th");
    let (away, ok) = (free[0], free[1]);
    assert!(
        touban(&[
            "absence",
            "add",
            away.id.as_str(),
            "2027-01-14",
            "2027-01-14",
            "--db",
            dbs
        ])
        .status
        .success()
    );

    // The month.
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    let src = c.source().await.unwrap();
    assert!(
        src.contains("2027年1月") && src.contains("元日"),
        "holidays named"
    );
    shot(c, "04-month").await;

    // The home-care night of the 14th: its panel.
    let cell =
        "a[href*='service=homecare-oncall'][href*='template=night'][href*='date=2027-01-14']";
    click(c, Locator::Css(cell)).await;
    wait_for(c, Locator::Id("cell-title")).await;
    let panel = text_of(c, Locator::Id("panel")).await;
    assert!(panel.contains("担当する人"), "{panel}");
    assert!(
        panel.contains(&away.name) && panel.contains("規則3"),
        "the absent physician, with the rule: {panel}"
    );
    shot(c, "05-cell-panel").await;

    // Choosing the absent physician is refused, with the rule.
    click(c, Locator::Id(&format!("c-{}", away.id))).await;
    click(c, Locator::Id("save-edit")).await;
    let refused = wait_for(c, Locator::Css(".refused")).await;
    let why = refused.text().await.unwrap();
    assert!(
        why.contains("保存していません") && why.contains("不在"),
        "{why}"
    );
    shot(c, "06-edit-refused").await;
    assert!(
        !c.source().await.unwrap().contains("第2版"),
        "nothing saved"
    );

    // A valid edit: a physician free that night. A new draft, version 2.
    click(c, Locator::Id(&format!("c-{}", ok.id))).await;
    click(c, Locator::Id("save-edit")).await;
    c.wait()
        .for_url(&url::Url::parse(&format!("{base}/months/2027-01?version=2")).unwrap())
        .await
        .unwrap();
    let family = ok.name.split(' ').next().unwrap();
    let row = text_of(c, Locator::XPath("//tr[th[contains(., '1月14日')]]")).await;
    assert!(row.contains(family), "{family} on the 14th: {row}");
    shot(c, "07-month-v2").await;

    // Pinning that duty (固定): the panel says so, the grid marks it, and
    // the network file keeps it for generate and repair.
    click(c, Locator::Css(cell)).await;
    wait_for(c, Locator::Id("cell-title")).await;
    click(c, Locator::Id(&format!("pin-{}", ok.id))).await;
    wait_for(c, Locator::Id(&format!("unpin-{}", ok.id))).await;
    shot(c, "07a-pinned").await;
    c.goto(&format!("{base}/months/2027-01?version=2"))
        .await
        .unwrap();
    let row = text_of(c, Locator::XPath("//tr[th[contains(., '1月14日')]]")).await;
    assert!(row.contains("◎固定"), "the pin in the grid: {row}");
    // Replacing a pinned person would now be refused by the checker (the
    // pin dropped): unpin it again, as the steps below replace them.
    click(c, Locator::Css(cell)).await;
    wait_for(c, Locator::Id(&format!("unpin-{}", ok.id))).await;
    click(c, Locator::Id(&format!("unpin-{}", ok.id))).await;
    wait_for(c, Locator::Id(&format!("pin-{}", ok.id))).await;
    c.goto(&format!("{base}/months/2027-01?version=2"))
        .await
        .unwrap();

    // A form without this session's token is refused (CSRF).
    let status = c
        .execute(
            "return fetch('/months/2027-01/publish', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'csrf=forged&version=2'}).then(r => r.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, 403);

    // Someone else saves version 3 meanwhile (here from the terminal): an
    // edit made on the page of version 2 is refused and says why.
    let backup_20 = doc["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["service"] == "homecare-oncall"
                && r["template"] == "night"
                && r["date"] == "2027-01-20"
                && r["role"] == "backup"
        })
        .unwrap()["staff"]
        .as_str()
        .unwrap()
        .to_string();
    let other = touban(&[
        "edit",
        "--month",
        "2027-01",
        "--version",
        "2",
        "--shift",
        "homecare-oncall/night/2027-01-20",
        "--remove",
        &backup_20,
        "--override-reason",
        "電話で調整済み",
        "--db",
        dbs,
    ]);
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    click(c, Locator::Css(cell)).await;
    wait_for(c, Locator::Id("cell-title")).await;
    click(c, Locator::Css("ul.candidates li.ok input")).await;
    click(c, Locator::Id("save-edit")).await;
    wait_for(
        c,
        Locator::XPath("//h1[contains(., 'ほかの人が先に変更しました')]"),
    )
    .await;
    shot(c, "07b-stale-edit").await;
    let back = c
        .find(Locator::XPath("//a[contains(., '戻る')]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        back.as_deref(),
        Some("/months/2027-01"),
        "back to the newest version"
    );
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    assert!(c.source().await.unwrap().contains("下書き 第3版"));

    // Publish the newest version, 3.
    click(c, Locator::Id("publish")).await;
    wait_for(
        c,
        Locator::XPath("//span[@class='state'][contains(., '公開中 第3版')]"),
    )
    .await;
    shot(c, "08-published").await;

    // The versions, and what changed from the generated version to the
    // published one: the edited cell is marked, the people named.
    c.goto(&format!("{base}/months/2027-01/versions"))
        .await
        .unwrap();
    let versions = text_of(c, Locator::Css("table.list")).await;
    assert!(
        versions.contains("第3版") && versions.contains("公開中") && versions.contains("第1版"),
        "{versions}"
    );
    shot(c, "08c-versions").await;
    let from = c.find(Locator::Id("from")).await.unwrap();
    from.select_by_value("1").await.unwrap();
    c.find(Locator::Id("to"))
        .await
        .unwrap()
        .select_by_value("3")
        .await
        .unwrap();
    click(c, Locator::Id("compare")).await;
    let changes = text_of(c, wait_for_locator(c, "table#changes").await).await;
    assert!(
        changes.contains("1月14日") && changes.contains(&ok.name),
        "the edited night, with who took it: {changes}"
    );
    assert!(
        c.find(Locator::Css("td.changed")).await.is_ok(),
        "changed cells marked in the grid"
    );
    shot(c, "08d-diff").await;

    // Fairness: every person's load against their fair target; a person's
    // page with their duties.
    c.goto(&format!("{base}/months/2027-01/fairness?version=3"))
        .await
        .unwrap();
    let fair = text_of(c, Locator::Css("table#fairness")).await;
    assert!(fair.contains(&ok.name) && fair.contains("/"), "{fair}");
    let costs = text_of(c, Locator::Css("table#costs")).await;
    assert!(
        costs.contains("希望の不一致") && costs.contains("合計"),
        "{costs}"
    );
    shot(c, "08e-fairness").await;
    click(c, Locator::LinkText(&ok.name)).await;
    let duties = text_of(c, wait_for_locator(c, "table#duties").await).await;
    assert!(duties.contains("1月14日"), "{duties}");
    shot(c, "08f-person").await;

    // Downloads: CSV with a BOM and the month's names; an Excel workbook.
    downloads(c, &ok.name).await;

    // The staff list, searched by family name.
    c.goto(&format!("{base}/network")).await.unwrap();
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys(family).await.unwrap();
    click(c, Locator::Id("search")).await;
    // The page before had a staff table too: wait for the search's own page
    // (its address names the query) before reading the table.
    let start = std::time::Instant::now();
    while !c.current_url().await.unwrap().as_str().contains("q=") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the search did not load"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let list = text_of(c, wait_for_locator(c, "table#staff").await).await;
    assert!(list.contains(&ok.name), "{list}");
    assert!(
        !list.contains(&away.name) || away.name.starts_with(family),
        "{list}"
    );
    shot(c, "08g-staff").await;

    // A network file with a mistake: every problem with its line, nothing
    // stored. Then the demo file itself: checked, applied.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(demo()).unwrap().replacen(
            "profession = \"physician\"",
            "profession = \"surgeon\"",
            1,
        ),
    )
    .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    click(c, Locator::Id("check")).await;
    let problems = text_of(c, wait_for_locator(c, "table#problems").await).await;
    assert!(
        problems.contains("surgeon") && problems.contains("profession"),
        "{problems}"
    );
    // Said in Japanese, as the page around it.
    assert!(
        problems.contains("「surgeon」は職種ではありません"),
        "{problems}"
    );
    shot(c, "08h-network-problems").await;
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(demo().to_str().unwrap())
        .await
        .unwrap();
    click(c, Locator::Id("check")).await;
    click(c, wait_for_locator(c, "button#apply").await).await;
    let applied = text_of(c, wait_for_locator(c, "section#applied").await).await;
    assert!(applied.contains("反映しました"), "{applied}");

    // The network downloaded as a file: it validates, and it is the network
    // imported (absences reported since are kept apart, not in the file).
    let text = c
        .execute(
            "return fetch('/network/download').then(r => r.text())",
            vec![],
        )
        .await
        .unwrap();
    let again = touban_netfile::parse("downloaded.toml", text.as_str().unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, net, "the round trip keeps the network");

    // Editing a person: each wrong field is refused next to it with the
    // network file's own rule, nothing stored; a right one is saved.
    c.goto(&format!("{base}/people/{}/edit", ok.id))
        .await
        .unwrap();
    let fte = c.find(Locator::Id("fte")).await.unwrap();
    fte.clear().await.unwrap();
    fte.send_keys("1.5").await.unwrap();
    let phone = c.find(Locator::Id("phone")).await.unwrap();
    phone.clear().await.unwrap();
    phone.send_keys("12").await.unwrap();
    click(c, Locator::Id("save-person")).await;
    let fte_err = text_of(c, wait_for_locator(c, "#fte-error").await).await;
    let phone_err = text_of(c, Locator::Css("#phone-error")).await;
    assert!(fte_err.contains("1.5"), "{fte_err}");
    assert!(phone_err.contains("12"), "{phone_err}");
    shot(c, "08k-person-edit-refused").await;
    let stored = touban_netfile::parse(
        "downloaded.toml",
        c.execute(
            "return fetch('/network/download').then(r => r.text())",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, net, "nothing stored");
    let fte = c.find(Locator::Id("fte")).await.unwrap();
    fte.clear().await.unwrap();
    fte.send_keys("0.6").await.unwrap();
    let phone = c.find(Locator::Id("phone")).await.unwrap();
    phone.clear().await.unwrap();
    phone.send_keys("090-0000-9999").await.unwrap();
    click(c, Locator::Id("save-person")).await;
    let facts = text_of(c, wait_for_locator(c, "dl.facts").await).await;
    assert!(
        facts.contains("090-0000-9999") && facts.contains("0.6"),
        "{facts}"
    );
    assert!(c.source().await.unwrap().contains("保存しました"));

    // An absence recorded on a person's page: a missing date is refused
    // next to its field; a real one repairs January (a draft waits for the
    // coordinator) and says who takes over.
    c.goto(&format!("{base}/people/{}?month=2027-01", ok.id))
        .await
        .unwrap();
    c.execute(
        "document.getElementById('absence-to').value = '2027-01-14'",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("absence-kind"))
        .await
        .unwrap()
        .select_by_value("sickness")
        .await
        .unwrap();
    click(c, Locator::Id("add-absence-button")).await;
    let err = text_of(c, wait_for_locator(c, "#absence-from-error").await).await;
    assert!(err.contains("日付を入れてください"), "{err}");
    assert!(
        c.source().await.unwrap().contains("2027年1月"),
        "the same month again"
    );
    c.execute(
        "document.getElementById('add-absence').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(c, "08i-absence-refused").await;
    assert!(
        !c.source().await.unwrap().contains("第4版"),
        "nothing stored, nothing repaired"
    );
    c.execute(
        "document.getElementById('absence-from').value = '2027-01-14'",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Id("add-absence-button")).await;
    let repair = text_of(c, wait_for_locator(c, "section.repair").await).await;
    assert!(
        repair.contains("第3版 → 第4版") && repair.contains("1月14日") && repair.contains(&ok.name),
        "{repair}"
    );
    shot(c, "08j-absence-repaired").await;

    // A new staff member: a wrong id is refused next to it, then added.
    c.goto(&format!("{base}/network")).await.unwrap();
    click(c, Locator::Id("add-person")).await;
    for (field, value) in [
        ("id", "Shinjin Taro"),
        ("name", "新人 太郎"),
        ("email", "shinjin@example.jp"),
    ] {
        c.find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Id("profession"))
        .await
        .unwrap()
        .select_by_value("nurse")
        .await
        .unwrap();
    click(c, Locator::Id("save-person")).await;
    let id_err = text_of(c, wait_for_locator(c, "#id-error").await).await;
    assert!(id_err.contains("Shinjin Taro"), "{id_err}");
    shot(c, "08l-add-person-refused").await;
    let id = c.find(Locator::Id("id")).await.unwrap();
    id.clear().await.unwrap();
    id.send_keys("shinjin-taro").await.unwrap();
    click(c, Locator::Id("save-person")).await;
    wait_for(c, Locator::XPath("//h1[contains(., '新人 太郎')]")).await;
    assert!(c.source().await.unwrap().contains("保存しました"));
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/people/shinjin-taro"
    );

    // The audit log has the coordinator's changes, with who made them.
    c.goto(&format!("{base}/audit?q=publish")).await.unwrap();
    let audit = text_of(c, Locator::Css("table.audit")).await;
    assert!(
        audit.contains(&format!("web:{}", net.policy.coordinator_emails[0]))
            && audit.contains("POST /months/{month}/publish"),
        "{audit}"
    );
    shot(c, "08b-audit").await;

    // Print: A4 landscape, the month on it.
    c.goto(&format!("{base}/months/2027-01/print?version=3"))
        .await
        .unwrap();
    shot(c, "09-print").await;
    let (info, text) = w.pdf("month-2027-01").await;
    let (width, height, a4) = page_size(&info);
    assert!(a4 && width > height, "A4 landscape: {info}");
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
        "one page for the demo network: {info}"
    );
    assert!(
        text.contains("2027年1月") && text.contains("第3版") && text.contains(family),
        "{text}"
    );

    // Phone width.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    shot(c, "10-month-phone").await;
    c.goto(&format!("{base}/")).await.unwrap();
    shot(c, "11-home-phone").await;
    c.set_window_size(1280, 800).await.unwrap();

    second_factor(c, sink, &base, dir.path(), &net).await;

    // Sign out: the month needs signing in again.
    c.goto(&format!("{base}/")).await.unwrap();
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/sign-in"));
    c.clone().close().await.unwrap();
}
