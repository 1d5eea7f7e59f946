//! Sending over SMTP with lettre: building the MIME message and telling a
//! failure worth retrying (4xx, refused connection, timeout) from one that is
//! not (5xx).

use anyhow::{Context, anyhow};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::compose::Draft;
use crate::config::{SmtpConfig, TlsMode};

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport from `[smtp]`.
pub fn transport(cfg: &SmtpConfig) -> anyhow::Result<Transport> {
    let mut b = match cfg.tls {
        TlsMode::Auto => Transport::from_url(&cfg.url)
            .with_context(|| format!("smtp.url \"{}\" is not an SMTP URL", cfg.url))?,
        mode => {
            let (host, port) = host_port(&cfg.url)?;
            let b = Transport::builder_dangerous(&host).port(port);
            match mode {
                TlsMode::None | TlsMode::Auto => b,
                TlsMode::Starttls => b.tls(Tls::Required(TlsParameters::new(host)?)),
                TlsMode::Tls => b.tls(Tls::Wrapper(TlsParameters::new(host)?)),
            }
        }
    };
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        b = b.credentials(Credentials::new(u.clone(), p.expose_secret().to_string()));
    }
    Ok(b.timeout(Some(cfg.timeout()))
        .pool_config(PoolConfig::new().max_size(cfg.pool_size.max(1)))
        .build())
}

/// Host and port of `smtp://[user:pass@]host[:port][?…]`.
fn host_port(url: &str) -> anyhow::Result<(String, u16)> {
    let bad = || anyhow!("smtp.url \"{url}\" should look like smtp://host:port");
    let rest = url
        .strip_prefix("smtp://")
        .or_else(|| url.strip_prefix("smtps://"))
        .ok_or_else(bad)?;
    let rest = rest.split(['/', '?']).next().unwrap_or_default();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    match rest.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), p.parse().map_err(|_| bad())?)),
        None if !rest.is_empty() => Ok((
            rest.to_string(),
            if url.starts_with("smtps") { 465 } else { 25 },
        )),
        None => Err(bad()),
    }
}

/// The Message-ID of an outbox row: the same on every attempt, so a
/// message sent twice after an ambiguous failure can be recognised as one.
pub fn message_id(row: i64, region: &str, sender: &Mailbox) -> String {
    format!("<touban.{region}.{row}@{}>", sender.email.domain())
}

/// `X-Touban-Outbox: <row id>`: lets mail tools and tests match a message to
/// its row without parsing the Message-ID.
#[derive(Debug, Clone)]
struct OutboxHeader(String);

impl Header for OutboxHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Touban-Outbox")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The MIME message: multipart/mixed of (plain text + HTML) and the
/// calendar files.
pub fn build(
    draft: &Draft,
    sender: &Mailbox,
    message_id: String,
    row: i64,
) -> anyhow::Result<Mail> {
    let mut b = Mail::builder()
        .from(sender.clone())
        .subject(&draft.rendered.subject)
        .message_id(Some(message_id))
        .header(OutboxHeader(row.to_string()));
    for to in &draft.to {
        let mb: Mailbox = to
            .parse()
            .with_context(|| format!("recipient address \"{to}\" is not valid"))?;
        b = b.to(mb);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(draft.rendered.text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(draft.rendered.html.clone()),
        );
    let mail = if draft.attachments.is_empty() {
        b.multipart(body)?
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &draft.attachments {
            let ct = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={}",
                a.method
            ))?;
            mixed =
                mixed.singlepart(MimeAttachment::new(a.filename.clone()).body(a.body.clone(), ct));
        }
        b.multipart(mixed)?
    };
    Ok(mail)
}

/// How one send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// 4xx, a refused or dropped connection, a timeout: try again later.
    Transient(String),
    /// 5xx: the server will never take it.
    Permanent(String),
}

/// Sends one message, bounded by `timeout` from start to the server's final
/// answer (lettre's own timeout applies per read and does not cover every
/// way a silent server can stall).
pub async fn send(t: &Transport, mail: Mail, timeout: std::time::Duration) -> Outcome {
    match tokio::time::timeout(timeout, t.send(mail)).await {
        Ok(Ok(_)) => Outcome::Sent,
        Ok(Err(e)) if e.is_permanent() => Outcome::Permanent(describe(&e)),
        Ok(Err(e)) => Outcome::Transient(describe(&e)),
        Err(_) => Outcome::Transient(format!(
            "the SMTP server did not answer within {:.1} s",
            timeout.as_secs_f64()
        )),
    }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(
            host_port("smtp://127.0.0.1:2525").unwrap(),
            ("127.0.0.1".into(), 2525)
        );
        assert_eq!(
            host_port("smtps://u:p@mail.example.jp").unwrap(),
            ("mail.example.jp".into(), 465)
        );
        assert_eq!(
            host_port("smtp://mx?tls=required").unwrap(),
            ("mx".into(), 25)
        );
        assert!(host_port("http://x").is_err());
    }
}
