//! `touban notify`: run the outbox worker alone, show message states, queue a
//! failed message again.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use touban_domain::RegionId;
use touban_notify::{LinkSettings, Worker};
use touban_store::{MessageFilter, MessageState, Store};

use crate::DbArg;
use crate::config::Config;
use crate::store::{database_url, open};

pub async fn worker(cfg: &Config, store: Arc<dyn Store>) -> anyhow::Result<Worker> {
    Worker::new(
        store,
        cfg.smtp.clone(),
        cfg.notify.clone(),
        LinkSettings {
            public_url: cfg.api.public_url.clone(),
            valid_hours: cfg.api.link_valid_hours,
        },
    )
    .await
}

pub async fn run(cfg: &Config, db: &DbArg, once: bool) -> anyhow::Result<ExitCode> {
    let url = database_url(cfg, db);
    let store: Arc<dyn Store> =
        Arc::from(crate::store::open_pool(&url, cfg.database.max_connections).await?);
    let w = worker(cfg, store).await?;
    if once {
        let queued = w.schedule(chrono::Utc::now()).await?;
        let mut total = touban_notify::Pass::default();
        loop {
            let p = w.pass().await?;
            if p.claimed == 0 {
                break;
            }
            total.claimed += p.claimed;
            total.sent += p.sent;
            total.retrying += p.retrying;
            total.failed += p.failed;
            total.cancelled += p.cancelled;
        }
        println!(
            "reminders/digests queued {queued}; messages handled {}: sent {}, retrying {}, failed {}, skipped {}",
            total.claimed, total.sent, total.retrying, total.failed, total.cancelled
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "touban notify: worker {} sending through {} (database {url}); Ctrl-C stops it",
        w.owner(),
        redact(&cfg.smtp.url)
    );
    w.run(crate::serve::shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

/// The SMTP URL without its password.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

pub async fn status(
    cfg: &Config,
    db: &DbArg,
    region: Option<&str>,
    state: Option<&str>,
    after: i64,
    limit: u32,
) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    let region = region
        .map(RegionId::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--region: {}", e.message))?;
    let state = state
        .map(|s| {
            MessageState::parse(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "--state: \"{s}\" is not a state (queued, sending, sent, retrying, failed, cancelled)"
                )
            })
        })
        .transpose()?;
    let counts = store.message_counts(region.as_ref()).await?;
    let summary: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{} {n}", s.as_str()))
        .collect();
    println!(
        "messages: {}",
        if summary.is_empty() {
            "none".to_string()
        } else {
            summary.join(", ")
        }
    );
    let list = store
        .messages(&MessageFilter {
            region,
            state,
            staff: None,
            after,
            limit,
        })
        .await?;
    if !list.is_empty() {
        println!("id\tregion\tkind\tto\tstate\tattempts\twhen\tdetail");
    }
    for m in list {
        let when = match m.state {
            MessageState::Sent => m.sent_at.unwrap_or(m.updated_at),
            MessageState::Queued | MessageState::Retrying => m.due_at,
            MessageState::Sending => m.lease_until.unwrap_or(m.updated_at),
            _ => m.updated_at,
        };
        let detail = match m.state {
            MessageState::Sent => m.sent_to.clone().unwrap_or_default(),
            MessageState::Retrying => format!(
                "next attempt at {when}; {}",
                m.last_error.clone().unwrap_or_default()
            ),
            MessageState::Sending => {
                format!("leased by {}", m.lease_owner.clone().unwrap_or_default())
            }
            _ => m.last_error.clone().unwrap_or_default(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            m.id,
            m.region,
            m.kind.as_str(),
            m.staff.as_ref().map_or("coordinators", |s| s.as_str()),
            m.state.as_str(),
            m.attempts,
            when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            detail
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn retry(cfg: &Config, db: &DbArg, id: i64) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    let m = store
        .requeue_message(id, chrono::Utc::now())
        .await
        .with_context(|| format!("message {id}"))?;
    println!("message {} queued again", m.id);
    Ok(ExitCode::SUCCESS)
}
