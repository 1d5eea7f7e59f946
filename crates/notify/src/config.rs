//! `[smtp]` and `[notify]` settings. Every key can be overridden from the
//! environment, e.g. `TOUBAN_SMTP__URL=smtp://127.0.0.1:2525` (figment, in
//! the CLI's config loader).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// From the URL: `smtp://` plain (or `?tls=required` for STARTTLS),
    /// `smtps://` TLS from the first byte.
    #[default]
    Auto,
    /// Plain text (a relay on the same machine or a trusted network).
    None,
    /// Plain connection upgraded with STARTTLS; refused if the server can't.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// `smtp://host:port`, `smtp://user:pass@host:587?tls=required`, or
    /// `smtps://host:465`.
    pub url: String,
    /// The From: of every message, e.g. `当番 Touban <touban@example.jp>`.
    pub sender: String,
    /// Credentials, if the server wants them (override the URL's).
    pub username: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    pub tls: TlsMode,
    /// Seconds one send may take, from connecting to the server's answer
    /// to the message. lettre's own timeout covers single reads; this one
    /// also bounds a server that accepts and then says nothing.
    pub timeout_seconds: f64,
    /// Connections kept open to the server.
    pub pool_size: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            url: "smtp://127.0.0.1:25".into(),
            sender: "当番 Touban <touban@localhost>".into(),
            username: None,
            password: None,
            tls: TlsMode::Auto,
            timeout_seconds: 30.0,
            pool_size: 4,
        }
    }
}

impl SmtpConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds.max(0.1))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Run the worker inside `touban serve`.
    pub in_server: bool,
    /// Milliseconds between looks at the outbox when it was empty.
    pub poll_interval_ms: u64,
    /// Messages claimed at a time.
    pub batch_size: u32,
    /// Messages sent at the same time.
    pub concurrency: usize,
    /// Seconds a claimed message stays with its worker; after that another
    /// worker may take it (the first one died). Must exceed the send timeout.
    pub lease_seconds: u64,
    /// Attempts before a message that keeps failing transiently is given up.
    pub max_attempts: u32,
    /// First retry after about this many seconds; each later one waits twice
    /// as long (with random jitter), up to `backoff_max_seconds`.
    pub backoff_base_seconds: f64,
    pub backoff_max_seconds: f64,
    /// Seconds a change notice waits for further changes to the same person
    /// and month, which it then absorbs (one e-mail instead of several).
    pub merge_window_seconds: u64,
    /// Seconds between checks for reminders and digests to queue.
    pub schedule_interval_seconds: u64,
    /// Local time the coordinators' daily digest is queued (minutes after
    /// midnight).
    pub digest_minute_of_day: u16,
    /// Days ahead the digest looks for unfilled shifts.
    pub digest_days_ahead: u32,
    /// A folder whose `*.txt` / `*.html` files replace the built-in
    /// templates of the same name.
    pub templates_dir: Option<PathBuf>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            in_server: true,
            poll_interval_ms: 500,
            batch_size: 50,
            concurrency: 8,
            lease_seconds: 120,
            max_attempts: 8,
            backoff_base_seconds: 30.0,
            backoff_max_seconds: 3600.0,
            merge_window_seconds: 120,
            schedule_interval_seconds: 60,
            digest_minute_of_day: 7 * 60,
            digest_days_ahead: 14,
            templates_dir: None,
        }
    }
}

impl NotifyConfig {
    /// The wait before attempt `attempt + 1`, given that `attempt` attempts
    /// failed: base·2^(attempt−1), capped, then "equal jitter" (half fixed,
    /// half random) so that many messages failing together spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_base_seconds * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let cap = exp.min(self.backoff_max_seconds).max(0.0);
        Duration::from_secs_f64(cap / 2.0 + fastrand::f64() * cap / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let c = NotifyConfig {
            backoff_base_seconds: 10.0,
            backoff_max_seconds: 100.0,
            ..NotifyConfig::default()
        };
        for _ in 0..50 {
            let a = c.backoff(1).as_secs_f64();
            assert!((5.0..=10.0).contains(&a), "{a}");
            let b = c.backoff(3).as_secs_f64();
            assert!((20.0..=40.0).contains(&b), "{b}");
            let z = c.backoff(20).as_secs_f64();
            assert!((50.0..=100.0).contains(&z), "{z}");
        }
    }
}
