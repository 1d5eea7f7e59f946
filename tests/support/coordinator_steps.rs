//! Steps of the coordinator's walk through the web app (`tests/browser.rs`)
//! that stand on their own: signing in the first time (a wrong address, an
//! unknown one, the link used twice) and the second factor (set up, asked
//! for, required by the region).

use fantoccini::{Client, Locator};
use touban_domain::Network;

use super::browser::*;
use super::harness::Sink;
use super::support::demo;

/// Signs the coordinator in from the sign-in page: a wrong address is
/// refused next to the field, an unknown one gets the same answer as a
/// known one (and no e-mail), the link works once.
pub async fn sign_in_first_time(c: &Client, sink: &Sink, base: &str, net: &Network) {
    // Sign in: a wrong address is refused next to the field; the right one
    // gets a link by e-mail.
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/sign-in"));
    shot(c, "01-sign-in").await;
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("renkei-at-example")
        .await
        .unwrap();
    click(c, Locator::Css("form.card button")).await;
    let err = wait_for(c, Locator::Id("email-error")).await;
    assert!(
        err.text()
            .await
            .unwrap()
            .contains("メールアドレスの形ではありません")
    );
    shot(c, "02-sign-in-bad-address").await;
    // An address nobody has gets the very same answer (and no e-mail).
    let email = c.find(Locator::Id("email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("stranger@example.jp").await.unwrap();
    click(c, Locator::Css("form.card button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
    let unknown_answer = text_of(c, Locator::Css("main p")).await;
    assert!(
        unknown_answer.contains("stranger@example.jp"),
        "{unknown_answer}"
    );
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    let email = c.find(Locator::Id("email")).await.unwrap();
    email
        .send_keys(net.policy.coordinator_emails[0].as_str())
        .await
        .unwrap();
    click(c, Locator::Css("form.card button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
    let link = sign_in_link(sink, 0).await;
    assert!(link.starts_with(base), "{link}");
    assert!(
        sink.messages()
            .iter()
            .all(|raw| !String::from_utf8_lossy(raw).contains("stranger@example.jp")),
        "nothing is sent to an unknown address"
    );
    c.goto(&link).await.unwrap();
    click(c, Locator::Id("sign-in-button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'ホーム')]")).await;
    shot(c, "03-home").await;
    // The link works once.
    c.goto(&link).await.unwrap();
    assert!(c.source().await.unwrap().contains("このリンクは使えません"));
}

/// A second factor: set up with an authenticator app (a wrong code is
/// refused next to the field), then asked for after the e-mail link; then
/// required by the region (sign-in links 1 and 2 of the sink).
pub async fn second_factor(
    c: &Client,
    sink: &Sink,
    base: &str,
    dir: &std::path::Path,
    net: &Network,
) {
    c.goto(&format!("{base}/account")).await.unwrap();
    click(c, Locator::Id("set-up")).await;
    let secret = text_of(c, wait_for_locator(c, "#secret").await).await;
    assert!(
        c.find(Locator::Css("img[alt*='QR']")).await.is_ok(),
        "a QR code"
    );
    shot(c, "12-second-factor-set-up").await;
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys("000000")
        .await
        .unwrap();
    click(c, Locator::Id("code-button")).await;
    let err = text_of(c, wait_for_locator(c, "#code-error").await).await;
    assert!(err.contains("コードが違う"), "{err}");
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code(&secret, 0))
        .await
        .unwrap();
    click(c, Locator::Id("code-button")).await;
    let account = text_of(c, wait_for_locator(c, "section#second-factor").await).await;
    assert!(account.contains("設定済み"), "{account}");
    sign_out_and_ask_again(c, net.policy.coordinator_emails[0].as_str()).await;
    let second = sign_in_link(sink, 1).await;
    c.goto(&second).await.unwrap();
    click(c, Locator::Id("sign-in-button")).await;
    wait_for(c, Locator::Id("code")).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/second-factor");
    assert!(
        c.find(Locator::Id("secret")).await.is_err(),
        "the key is not shown again"
    );
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/second-factor",
        "nothing opens before the code"
    );
    shot(c, "13-second-factor-asked").await;
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code(&secret, 1))
        .await
        .unwrap();
    click(c, Locator::Id("code-button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'ホーム')]")).await;

    // The region requires a second factor: turned off, the coordinator is
    // made to set one up at the next sign-in, and cannot turn it off.
    c.goto(&format!("{base}/account")).await.unwrap();
    click(c, Locator::Id("remove-factor")).await;
    wait_for(c, Locator::Id("set-up")).await;
    let required = dir.join("required.toml");
    std::fs::write(
        &required,
        std::fs::read_to_string(demo()).unwrap().replacen(
            "[policy]\n",
            "[policy]\nrequire_second_factor = true\n",
            1,
        ),
    )
    .unwrap();
    c.goto(&format!("{base}/network")).await.unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(required.to_str().unwrap())
        .await
        .unwrap();
    click(c, Locator::Id("check")).await;
    click(c, wait_for_locator(c, "button#apply").await).await;
    wait_for(c, Locator::Css("section#applied")).await;
    sign_out_and_ask_again(c, net.policy.coordinator_emails[0].as_str()).await;
    c.goto(&sign_in_link(sink, 2).await).await.unwrap();
    click(c, Locator::Id("sign-in-button")).await;
    let secret = text_of(c, wait_for_locator(c, "#secret").await).await;
    assert!(
        c.source().await.unwrap().contains("この地域では"),
        "told why"
    );
    c.goto(&format!("{base}/months/2027-01")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/second-factor");
    shot(c, "14-second-factor-required").await;
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code(&secret, 0))
        .await
        .unwrap();
    click(c, Locator::Id("code-button")).await;
    let account = text_of(c, wait_for_locator(c, "section#second-factor").await).await;
    assert!(
        account.contains("設定済み") && account.contains("必須"),
        "{account}"
    );
    assert!(c.find(Locator::Id("remove-factor")).await.is_err());
}

/// Downloads of version 3 of January 2027: a CSV with a BOM, the month's
/// names and `name` in it; an Excel workbook.
pub async fn downloads(c: &Client, name: &str) {
    let csv = c
        .execute(
            "return fetch('/months/2027-01/rota.csv?version=3').then(async r => [r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), Array.from(new Uint8Array(await r.arrayBuffer())).slice(0, 3), ''])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(csv[0], 200, "{csv}");
    assert!(csv[1].as_str().unwrap().starts_with("text/csv"), "{csv}");
    assert!(csv[2].as_str().unwrap().contains("2027-01-v3.csv"), "{csv}");
    assert_eq!(csv[3], serde_json::json!([0xEF, 0xBB, 0xBF]), "a BOM");
    let csv_text = c
        .execute(
            "return fetch('/months/2027-01/rota.csv?version=3').then(r => r.text())",
            vec![],
        )
        .await
        .unwrap();
    let csv_text = csv_text.as_str().unwrap();
    assert!(
        csv_text.contains("日付") && csv_text.contains(name) && csv_text.contains("元日"),
        "{csv_text}"
    );
    let xlsx = c
        .execute(
            "return fetch('/months/2027-01/rota.xlsx?version=3').then(async r => [r.status, r.headers.get('content-type'), Array.from(new Uint8Array(await r.arrayBuffer())).slice(0, 2)])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(xlsx[0], 200, "{xlsx}");
    assert!(
        xlsx[1].as_str().unwrap().contains("spreadsheetml"),
        "{xlsx}"
    );
    assert_eq!(xlsx[2], serde_json::json!([0x50, 0x4B]), "a zip (xlsx)");
}
