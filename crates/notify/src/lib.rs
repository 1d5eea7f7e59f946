//! The notifier. Changes queue messages in the store's outbox in their own
//! transaction (see `touban_store::outbox`); this crate's [`Worker`] claims
//! them with a lease, renders each from templates (Japanese first, English
//! after; plain text and HTML; `.ics` files attached) and sends it over SMTP
//! with lettre, retrying transient failures with exponential backoff and
//! jitter. It runs inside `touban serve` and alone as `touban notify`.
#![forbid(unsafe_code)]

pub mod compose;
pub mod config;
pub mod format;
pub mod render;
pub mod smtp;
pub mod worker;

pub use config::{NotifyConfig, SmtpConfig, TlsMode};
pub use worker::{LinkSettings, Pass, Worker};
