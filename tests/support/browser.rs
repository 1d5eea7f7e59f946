//! What the browser test needs around the browser: processes killed with
//! the test, screenshots, waits, the PDF print command, sign-in links from
//! the SMTP sink, and an authenticator app.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::harness::Sink;
use crate::support::root;

pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn shots() -> PathBuf {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

pub async fn click(c: &Client, at: Locator<'_>) {
    c.find(at).await.unwrap().click().await.unwrap();
}

pub async fn wait_for(c: &Client, at: Locator<'_>) -> fantoccini::elements::Element {
    c.wait().for_element(at).await.unwrap()
}

pub async fn text_of(c: &Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// Waits for a CSS selector, then gives it back as a locator.
pub async fn wait_for_locator<'a>(c: &Client, css: &'a str) -> Locator<'a> {
    c.wait().for_element(Locator::Css(css)).await.unwrap();
    Locator::Css(css)
}

pub async fn wait_port(port: u16) {
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The sign-in link of the `n`-th sign-in e-mail, once it has arrived.
pub async fn sign_in_link(sink: &Sink, n: usize) -> String {
    let start = Instant::now();
    loop {
        let links: Vec<String> = sink
            .messages()
            .iter()
            .filter_map(|raw| {
                let m = mail_parser::MessageParser::default().parse(raw)?;
                let text = m.body_text(0)?.into_owned();
                text.split_whitespace()
                    .find(|w| w.contains("/sign-in/"))
                    .map(str::to_string)
            })
            .collect();
        if let Some(l) = links.get(n) {
            return l.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no sign-in e-mail"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs out, then asks for a new sign-in link for `email`.
pub async fn sign_out_and_ask_again(c: &Client, email: &str) {
    click(c, Locator::Css("form.signout button:not([name])")).await;
    wait_for(c, Locator::Id("email")).await;
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    click(c, Locator::Css("form.card button")).await;
    wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
}

/// The authenticator app: the code of `secret` `ahead` steps from now.
pub fn code(secret: &str, ahead: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.into()).to_bytes().unwrap();
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    t.generate(now + 30 * ahead)
}

/// `Page.printToPDF` through chromedriver, honouring the page's own
/// `@page` size (WebDriver's print command would impose its own paper).
#[derive(Debug)]
pub struct PrintCssPdf;

impl fantoccini::wd::WebDriverCompatibleCommand for PrintCssPdf {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(
                serde_json::json!({"cmd": "Page.printToPDF", "params": {"preferCSSPageSize": true, "printBackground": true}})
                    .to_string(),
            ),
        )
    }
}

pub fn text_of_pdf(pdf: &std::path::Path) -> (String, String) {
    let info = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let text = Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&info.stdout).into_owned(),
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}
