//! The outbox worker: claims due messages with a lease, renders and sends
//! them, and settles each one as soon as its send ends (so a kill loses at
//! most the sends in flight, which are then sent again: at least once).
//! It also queues the time-driven messages: day-before reminders and the
//! coordinators' daily digest, each under a dedupe key, so several workers
//! (or one restarted) queue each only once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use futures::StreamExt;
use lettre::message::Mailbox;
use touban_domain::Month;
use touban_store::{Message, MessageKind, NewMessage, Settle, Store, StoreError};

use crate::compose::{Composed, Composer, Links, Permanent};
use crate::config::{NotifyConfig, SmtpConfig};
use crate::render::Renderer;
use crate::smtp::{self, Outcome, Transport};

/// Where offer links point, and for how long they work.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    pub public_url: String,
    pub valid_hours: i64,
}

pub struct Worker {
    store: Arc<dyn Store>,
    composer: Composer,
    transport: Transport,
    smtp: SmtpConfig,
    cfg: NotifyConfig,
    sender: Mailbox,
    owner: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl Worker {
    pub async fn new(
        store: Arc<dyn Store>,
        smtp_cfg: SmtpConfig,
        cfg: NotifyConfig,
        links: LinkSettings,
    ) -> anyhow::Result<Self> {
        let sender: Mailbox = smtp_cfg.sender.parse().map_err(|e| {
            anyhow::anyhow!("smtp.sender \"{}\" is not a mailbox: {e}", smtp_cfg.sender)
        })?;
        let key = store
            .server_secret("offer-links", &touban_app::tokens::random_bytes(32))
            .await?;
        let renderer = Renderer::new(cfg.templates_dir.as_deref())?;
        let composer = Composer::new(
            store.clone(),
            renderer,
            Links {
                public_url: links.public_url,
                key,
                valid_hours: links.valid_hours,
                sender: sender.email.to_string(),
            },
            cfg.digest_days_ahead,
        );
        let transport = smtp::transport(&smtp_cfg)?;
        let owner = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            fastrand::u32(..)
        );
        Ok(Self {
            store,
            composer,
            transport,
            smtp: smtp_cfg,
            cfg,
            sender,
            owner,
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// A lease long enough for a whole batch, even if every send in it runs
    /// into the timeout: otherwise another worker could take a message this
    /// one is about to send.
    fn lease(&self) -> chrono::Duration {
        let rounds = (self.cfg.batch_size as usize).div_ceil(self.cfg.concurrency.max(1)) as f64;
        let need = self.smtp.timeout().as_secs_f64() * rounds + 5.0;
        let secs = need.max(self.cfg.lease_seconds as f64);
        chrono::Duration::milliseconds((secs * 1000.0) as i64)
    }

    /// Claims one batch and sends it. Returns what happened.
    pub async fn pass(&self) -> anyhow::Result<Pass> {
        let now = Utc::now();
        let hold = chrono::Duration::seconds(self.cfg.merge_window_seconds as i64);
        let batch = self
            .store
            .claim_messages(&self.owner, now, self.lease(), hold, self.cfg.batch_size)
            .await?;
        let mut pass = Pass {
            claimed: batch.len(),
            ..Pass::default()
        };
        let outcomes: Vec<Settle> = futures::stream::iter(batch)
            .map(|m| self.process(m))
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        for o in outcomes {
            match o {
                Settle::Sent { .. } => pass.sent += 1,
                Settle::Retry { .. } => pass.retrying += 1,
                Settle::Failed { .. } => pass.failed += 1,
                Settle::Cancelled { .. } => pass.cancelled += 1,
            }
        }
        Ok(pass)
    }

    fn retry_or_fail(&self, m: &Message, error: String) -> Settle {
        if m.attempts >= self.cfg.max_attempts {
            Settle::Failed {
                error: format!("gave up after {} attempts; last: {error}", m.attempts),
            }
        } else {
            let wait = self.cfg.backoff(m.attempts);
            Settle::Retry {
                at: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                error,
            }
        }
    }

    async fn process(&self, m: Message) -> Settle {
        let outcome = match self.composer.compose(&m).await {
            Ok(Composed::Skip(reason)) => Settle::Cancelled { reason },
            Ok(Composed::Send(d)) => {
                let id = smtp::message_id(m.id, m.region.as_str(), &self.sender);
                match smtp::build(&d, &self.sender, id, m.id) {
                    Err(e) => Settle::Failed {
                        error: format!("{e:#}"),
                    },
                    Ok(mail) => {
                        match smtp::send(&self.transport, mail, self.smtp.timeout()).await {
                            Outcome::Sent => Settle::Sent {
                                to: d.to.join(", "),
                            },
                            Outcome::Permanent(error) => Settle::Failed { error },
                            Outcome::Transient(error) => self.retry_or_fail(&m, error),
                        }
                    }
                }
            }
            Err(e) if e.downcast_ref::<Permanent>().is_some() => Settle::Failed {
                error: format!("{e:#}"),
            },
            Err(e) => self.retry_or_fail(&m, format!("could not prepare the message: {e:#}")),
        };
        match &outcome {
            Settle::Sent { to } => {
                tracing::info!("message {} ({}) sent to {to}", m.id, m.kind.as_str())
            }
            Settle::Retry { at, error } => {
                tracing::warn!("message {} will be retried at {at}: {error}", m.id)
            }
            Settle::Failed { error } => tracing::error!("message {} failed: {error}", m.id),
            Settle::Cancelled { reason } => tracing::info!("message {} skipped: {reason}", m.id),
        }
        match self.store.settle_message(m.id, &self.owner, &outcome).await {
            Ok(()) => {}
            Err(StoreError::Conflict(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::error!(
                "could not record the outcome of message {}; it will be sent again after its lease: {e}",
                m.id
            ),
        }
        outcome
    }

    /// Queues the reminders and digests that are due at `now`. Returns how
    /// many new messages were queued.
    pub async fn schedule(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut msgs: Vec<NewMessage> = Vec::new();
        for r in self.store.regions().await? {
            let net = self.composer.network(&r.id).await?;
            let local = now.with_timezone(&net.region.time_zone);
            let today = local.date_naive();
            let minute = local.hour() * 60 + local.minute();
            if net.policy.reminders {
                let mut dates = vec![today];
                if minute >= u32::from(net.policy.reminder_minute_of_day) {
                    dates.push(today + chrono::Duration::days(1));
                }
                for date in dates {
                    let month = Month::new(date.year(), date.month())?;
                    let Some(rota) = self.store.published_rota(&r.id, month).await? else {
                        continue;
                    };
                    let shifts = self.composer.shift_map(&net, month);
                    let mut people = std::collections::BTreeSet::new();
                    for a in rota.assignments.iter().filter(|a| a.shift.date == date) {
                        // Today only for duties not yet begun (a reminder
                        // missed yesterday, e.g. while no worker ran).
                        let starts = shifts.get(&a.shift).map(|s| s.start.with_timezone(&Utc));
                        if date == today && starts.is_none_or(|s| s <= now) {
                            continue;
                        }
                        if net.staff_member(&a.staff).is_some_and(|p| p.reminders) {
                            people.insert(a.staff.clone());
                        }
                    }
                    for s in people {
                        msgs.push(NewMessage {
                            region: r.id.clone(),
                            kind: MessageKind::Reminder,
                            staff: Some(s.clone()),
                            payload: serde_json::json!({ "month": month, "date": date }),
                            due_at: Utc::now(),
                            dedupe_key: Some(format!("reminder:{}:{s}:{date}", r.id)),
                            merge_key: None,
                        });
                    }
                }
            }
            if minute >= u32::from(self.cfg.digest_minute_of_day)
                && !net.policy.coordinator_emails.is_empty()
            {
                msgs.push(NewMessage {
                    region: r.id.clone(),
                    kind: MessageKind::Digest,
                    staff: None,
                    payload: serde_json::json!({ "date": today }),
                    due_at: Utc::now(),
                    dedupe_key: Some(format!("digest:{}:{today}", r.id)),
                    merge_key: None,
                });
            }
        }
        Ok(self.store.enqueue(&msgs).await?)
    }

    /// Runs until `shutdown` resolves: a pass whenever messages are due, the
    /// schedule every `schedule_interval_seconds`. A pass in progress is
    /// finished before returning.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = Duration::from_millis(self.cfg.poll_interval_ms.max(10));
        let every = Duration::from_secs(self.cfg.schedule_interval_seconds.max(1));
        let mut next_schedule = tokio::time::Instant::now();
        tracing::info!("notifier {} started", self.owner);
        loop {
            if tokio::time::Instant::now() >= next_schedule {
                match self.schedule(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("queued {n} reminders and digests"),
                    Err(e) => tracing::error!("could not queue reminders and digests: {e:#}"),
                }
                next_schedule = tokio::time::Instant::now() + every;
            }
            let idle = match self.pass().await {
                Ok(p) => p.claimed == 0,
                Err(e) => {
                    tracing::error!("outbox pass failed: {e:#}");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(poll) => {}
                }
            } else if futures::FutureExt::now_or_never(&mut shutdown).is_some() {
                break;
            }
        }
        tracing::info!("notifier {} stopped", self.owner);
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "touban".into())
}
