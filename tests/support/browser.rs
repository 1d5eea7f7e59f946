//! What the browser test needs around the browser: processes killed with
//! the test, screenshots, waits, the PDF print command, sign-in links from
//! the SMTP sink, and an authenticator app.

#![allow(dead_code)]

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

/// The text of the element at `at`. When the page replaces the element
/// between finding it and reading it (an htmx swap, a redirect landing),
/// it is found again: the text asked for is the page's, not that of an
/// element the page no longer shows.
pub async fn text_of(c: &Client, at: Locator<'_>) -> String {
    for _ in 0..20 {
        match c.find(at).await.unwrap().text().await {
            Ok(t) => return t,
            Err(e) if e.is_stale_element_reference() => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("text of {at:?}: {e}"),
        }
    }
    panic!("text of {at:?}: the element was replaced 20 times in 2 s")
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

/// The real `touban serve` on a database, a real SMTP server for its
/// e-mails, and a headless Chromium driven over WebDriver.
pub struct Web {
    pub base: String,
    pub sink: Sink,
    pub c: Client,
    _server: Killed,
    _driver: Killed,
}

impl Web {
    pub async fn start(db: &str) -> Self {
        let sink = Sink::start(crate::harness::free_port(), &[]);
        let port = crate::harness::free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = Killed(
            Command::new(env!("CARGO_BIN_EXE_touban"))
                .args([
                    "serve",
                    "--db",
                    db,
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ])
                .current_dir(root())
                .env(
                    "TOUBAN_SMTP__URL",
                    format!("smtp://127.0.0.1:{}", sink.port),
                )
                .env("TOUBAN_API__PUBLIC_URL", &base)
                .env("TOUBAN_NOTIFY__POLL_INTERVAL_MS", "50")
                // Change notices are sent at once, not held to merge.
                .env("TOUBAN_NOTIFY__MERGE_WINDOW_SECONDS", "0")
                .env_remove("TOUBAN_DATABASE_URL")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let driver_port = crate::harness::free_port();
        let driver = Killed(
            Command::new("chromedriver")
                .arg(format!("--port={driver_port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("chromedriver (scripts/setup.sh installs chromium-driver)"),
        );
        wait_port(port).await;
        wait_port(driver_port).await;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--lang=ja"]}),
        );
        // chromedriver is on loopback: plain HTTP, no TLS stack.
        let c = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session");
        Self {
            base,
            sink,
            c,
            _server: server,
            _driver: driver,
        }
    }

    /// Signs `email` in by the `n`-th sign-in e-mail; on the home page after.
    pub async fn sign_in(&self, email: &str, n: usize) {
        let c = &self.c;
        c.goto(&format!("{}/sign-in", self.base)).await.unwrap();
        c.find(Locator::Id("email"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        click(c, Locator::Css("form.card button")).await;
        wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
        let link = sign_in_link(&self.sink, n).await;
        c.goto(&link).await.unwrap();
        click(c, Locator::Id("sign-in-button")).await;
        wait_for(c, Locator::XPath("//h1[contains(., 'ホーム')]")).await;
    }

    pub async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Prints the page to `name`.pdf under the screenshots; its `pdfinfo`
    /// and its text.
    pub async fn pdf(&self, name: &str) -> (String, String) {
        use base64::Engine;
        let out = self.c.issue_cmd(PrintCssPdf).await.unwrap();
        let data = out["data"].as_str().expect("PDF data");
        let pdf = shots().join(format!("{name}.pdf"));
        std::fs::write(
            &pdf,
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
        )
        .unwrap();
        text_of_pdf(&pdf)
    }
}

/// The page size of a `pdfinfo` report: (width, height) in points, and
/// whether it is A4.
pub fn page_size(info: &str) -> (f64, f64, bool) {
    let size = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .unwrap_or_default();
    let dims: Vec<f64> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (
        dims.first().copied().unwrap_or_default(),
        dims.get(1).copied().unwrap_or_default(),
        size.contains("(A4)"),
    )
}

/// Sends one HTTP/1.0 request (`head` without the Host line) to the
/// server of `url`: the status and the body.
async fn http(url: &str, head: String, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let u = url::Url::parse(url).unwrap();
    let host = u.host_str().unwrap();
    let mut s = tokio::net::TcpStream::connect((host, u.port().unwrap()))
        .await
        .unwrap();
    s.write_all(format!("{head}Host: {host}\r\n\r\n{body}").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A plain HTTP GET over loopback: the status and the body.
pub async fn http_get(url: &str) -> (u16, String) {
    let path = url::Url::parse(url).unwrap().path().to_string();
    http(url, format!("GET {path} HTTP/1.0\r\n"), "").await
}

/// A JSON POST with a bearer token over loopback: the status and the body.
pub async fn http_post_json(url: &str, token: &str, body: &serde_json::Value) -> (u16, String) {
    let path = url::Url::parse(url).unwrap().path().to_string();
    let body = body.to_string();
    let head = format!(
        "POST {path} HTTP/1.0\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    http(url, head, &body).await
}

/// A GET with a bearer token over loopback: the status and the body.
pub async fn http_get_auth(url: &str, token: &str) -> (u16, String) {
    let u = url::Url::parse(url).unwrap();
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    http(
        url,
        format!("GET {path} HTTP/1.0\r\nAuthorization: Bearer {token}\r\n"),
        "",
    )
    .await
}

impl Web {
    /// Signs a staff member in by the `n`-th sign-in e-mail; on "my duties"
    /// after.
    pub async fn sign_in_staff(&self, email: &str, n: usize) {
        let c = &self.c;
        c.goto(&format!("{}/sign-in", self.base)).await.unwrap();
        c.find(Locator::Id("email"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        click(c, Locator::Css("form.card button")).await;
        wait_for(c, Locator::XPath("//h1[contains(., 'メールを確認')]")).await;
        c.goto(&sign_in_link(&self.sink, n).await).await.unwrap();
        click(c, Locator::Id("sign-in-button")).await;
        wait_for(c, Locator::XPath("//h1[contains(., '私の当番')]")).await;
    }
}

/// The texts of the e-mails to `to` so far (subject line and body).
pub fn mails_to(sink: &Sink, to: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter_map(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw)?;
            let rcpt = m
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.address())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            rcpt.contains(to).then(|| {
                format!(
                    "{}\n{}",
                    m.subject().unwrap_or_default(),
                    m.body_text(0).unwrap_or_default()
                )
            })
        })
        .collect()
}

/// Waits for an e-mail to `to` that contains `what`; its text.
pub async fn mail_with(sink: &Sink, to: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(m) = mails_to(sink, to).into_iter().find(|m| m.contains(what)) {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no e-mail to {to} with {what}: {:?}",
            mails_to(sink, to)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
