//! From an outbox row to an e-mail: who it goes to, what it says (rendered
//! from the templates) and which calendar files go with it. Everything is
//! read from the store when the message is sent, so a message says what is
//! true then; a message with nothing left to say is skipped, not sent.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use icalendar::{Calendar as ICal, Component, Event, EventLike, EventStatus};
use serde::Serialize;
use touban_calendar::Calendar;
use touban_domain::{Month, Network, RegionId, Role, Rota, Shift, ShiftKey, StaffId};
use touban_store::outbox::{CoverPayload, RotaPayload};
use touban_store::{Message, MessageKind, OfferStatus, Store};

use crate::format::{date_en, date_ja, month_en, month_ja, times, when};
use crate::render::{Rendered, Renderer};

mod digest;

/// A calendar file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// `PUBLISH` or `CANCEL` (the iTIP method, also in the Content-Type).
    pub method: &'static str,
    pub body: String,
}

/// A message ready to send.
#[derive(Debug, Clone)]
pub struct Draft {
    /// `Name <address>` mailboxes.
    pub to: Vec<String>,
    pub rendered: Rendered,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug)]
pub enum Composed {
    Send(Box<Draft>),
    /// Nothing to say any more; the reason is recorded on the row.
    Skip(String),
}

/// A failure to compose that no retry will mend (the person left the
/// network, no coordinator address): the message is marked failed.
#[derive(Debug)]
pub struct Permanent(pub String);

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Permanent {}

/// Where links in e-mails point and how long they live.
#[derive(Debug, Clone)]
pub struct Links {
    pub public_url: String,
    pub key: Vec<u8>,
    pub valid_hours: i64,
}

/// The shifts of a month by key.
type ShiftMap = Arc<HashMap<ShiftKey, Shift>>;

const NET_TTL: Duration = Duration::from_secs(30);

/// Reads what messages need, with caches: networks for a short while (they
/// can be re-imported), rota versions for good (they never change).
pub struct Composer {
    store: Arc<dyn Store>,
    renderer: Renderer,
    links: Links,
    digest_days: u32,
    nets: Mutex<HashMap<RegionId, (Instant, Arc<Network>)>>,
    rotas: Mutex<HashMap<(RegionId, Month, u32), Arc<Rota>>>,
    shifts: Mutex<HashMap<(RegionId, Month), (Instant, ShiftMap)>>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DutyView {
    pub date_ja: String,
    pub date_en: String,
    pub time_ja: String,
    pub time_en: String,
    pub service: String,
    pub service_en: String,
    pub shift: String,
    pub shift_en: String,
    pub role_ja: &'static str,
    pub role_en: &'static str,
    pub place: Option<String>,
    pub place_en: Option<String>,
    pub holiday: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct CoverView {
    id: i64,
    institution: String,
    institution_en: String,
    phone: Option<String>,
    when_ja: String,
    when_en: String,
    note: Option<String>,
}

impl Composer {
    pub fn new(store: Arc<dyn Store>, renderer: Renderer, links: Links, digest_days: u32) -> Self {
        Self {
            store,
            renderer,
            links,
            digest_days,
            nets: Mutex::new(HashMap::new()),
            rotas: Mutex::new(HashMap::new()),
            shifts: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub async fn network(&self, region: &RegionId) -> anyhow::Result<Arc<Network>> {
        if let Some((at, n)) = self.nets.lock().expect("cache lock").get(region)
            && at.elapsed() < NET_TTL
        {
            return Ok(n.clone());
        }
        let n = Arc::new(self.store.load_network(region).await?);
        self.nets
            .lock()
            .expect("cache lock")
            .insert(region.clone(), (Instant::now(), n.clone()));
        Ok(n)
    }

    async fn rota(
        &self,
        region: &RegionId,
        month: Month,
        version: u32,
    ) -> anyhow::Result<Arc<Rota>> {
        let key = (region.clone(), month, version);
        if let Some(r) = self.rotas.lock().expect("cache lock").get(&key) {
            return Ok(r.clone());
        }
        let r = Arc::new(self.store.rota(region, month, Some(version)).await?);
        let mut c = self.rotas.lock().expect("cache lock");
        if c.len() > 64 {
            c.clear();
        }
        c.insert(key, r.clone());
        Ok(r)
    }

    pub(crate) fn shift_map(&self, net: &Network, month: Month) -> ShiftMap {
        let key = (net.region.id.clone(), month);
        if let Some((at, m)) = self.shifts.lock().expect("cache lock").get(&key)
            && at.elapsed() < NET_TTL
        {
            return m.clone();
        }
        let cal = Calendar::for_region(&net.region);
        let m: HashMap<ShiftKey, Shift> = net
            .services
            .iter()
            .flat_map(|s| cal.shifts(s, month))
            .map(|s| (s.key(), s))
            .collect();
        let m = Arc::new(m);
        self.shifts
            .lock()
            .expect("cache lock")
            .insert(key, (Instant::now(), m.clone()));
        m
    }

    fn duty_view(&self, net: &Network, cal: &Calendar, shift: &Shift, role: Role) -> DutyView {
        let svc = net.service(&shift.service);
        let t = svc.and_then(|s| s.template(&shift.template));
        let place = svc
            .and_then(|s| s.host.as_ref())
            .and_then(|h| net.institution(h));
        let (time_ja, time_en) = times(shift.start, shift.end);
        DutyView {
            date_ja: date_ja(shift.date),
            date_en: date_en(shift.date),
            time_ja,
            time_en,
            service: svc.map_or_else(|| shift.service.to_string(), |s| s.name.clone()),
            service_en: svc.map_or_else(
                || shift.service.to_string(),
                |s| s.name_en.clone().unwrap_or_else(|| s.id.to_string()),
            ),
            shift: t.map_or_else(|| shift.template.to_string(), |t| t.name.clone()),
            shift_en: t.map_or_else(
                || shift.template.to_string(),
                |t| t.name_en.clone().unwrap_or_else(|| t.id.to_string()),
            ),
            role_ja: match role {
                Role::Primary => "主当番",
                Role::Backup => "副当番",
            },
            role_en: match role {
                Role::Primary => "primary",
                Role::Backup => "backup",
            },
            place: place.map(|i| i.name.clone()),
            place_en: place.map(|i| i.name_en.clone().unwrap_or_else(|| i.name.clone())),
            holiday: cal.day_off(shift.date).map(|d| d.name),
        }
    }

    /// A person's duties in a version, sorted by start.
    fn duties_of(
        &self,
        net: &Network,
        rota: &Rota,
        staff: &StaffId,
        filter: impl Fn(&Shift) -> bool,
    ) -> Vec<(Shift, Role)> {
        let map = self.shift_map(net, rota.month);
        let mut v: Vec<(Shift, Role)> = rota
            .assignments
            .iter()
            .filter(|a| &a.staff == staff)
            .filter_map(|a| map.get(&a.shift).map(|s| (s.clone(), a.role)))
            .filter(|(s, _)| filter(s))
            .collect();
        v.sort_by_key(|(s, _)| (s.start, s.service.clone()));
        v
    }

    fn ics(
        &self,
        net: &Network,
        staff: &StaffId,
        duties: &[(Shift, Role)],
        seq: u32,
        cancel: bool,
    ) -> String {
        let cal_days = Calendar::for_region(&net.region);
        let mut cal = ICal::new();
        cal.append_property(("METHOD", if cancel { "CANCEL" } else { "PUBLISH" }));
        cal.timezone(net.region.time_zone.name());
        for (s, role) in duties {
            let v = self.duty_view(net, &cal_days, s, *role);
            let mut e = Event::new();
            e.uid(&touban_api::ical::uid(
                net.region.id.as_str(),
                &s.key(),
                staff.as_str(),
            ))
            .sequence(seq)
            .timestamp(Utc::now())
            .starts(s.start.with_timezone(&Utc))
            .ends(s.end.with_timezone(&Utc))
            .summary(&format!("当番 {}（{}）{}", v.service, v.shift, v.role_ja))
            .description(&format!(
                "{} {} {} / {} ({}), {}",
                v.service, v.shift, v.role_ja, v.service_en, v.shift_en, v.role_en
            ))
            .status(if cancel {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
            if let Some(p) = &v.place {
                e.location(p);
            }
            cal.push(e.done());
        }
        cal.done().to_string()
    }

    fn recipients(&self, net: &Network, m: &Message) -> Result<Vec<String>, Permanent> {
        match &m.staff {
            Some(id) => {
                let p = net.staff_member(id).ok_or_else(|| {
                    Permanent(format!(
                        "staff member \"{id}\" is no longer in the network of region \"{}\"",
                        net.region.id
                    ))
                })?;
                Ok(vec![format!("{} <{}>", p.name, p.email)])
            }
            None if net.policy.coordinator_emails.is_empty() => Err(Permanent(format!(
                "region \"{}\" has no coordinator address: set [policy] coordinator_emails in its network file",
                net.region.id
            ))),
            None => Ok(net
                .policy
                .coordinator_emails
                .iter()
                .map(|e| format!("{} コーディネーター <{e}>", net.region.name))
                .collect()),
        }
    }

    /// Composes one message. `Err` with a [`Permanent`] inside means the
    /// message can never be sent; other errors are worth a retry.
    pub async fn compose(&self, m: &Message) -> anyhow::Result<Composed> {
        let net = self.network(&m.region).await?;
        let to = self.recipients(&net, m)?;
        let person = m.staff.as_ref().and_then(|s| net.staff_member(s));
        let mut ctx = serde_json::json!({
            "region": net.region.name,
            "region_en": net.region.name_en,
            "name": person.map(|p| p.name.clone()),
            "name_en": person.and_then(|p| p.name_en.clone()),
        });
        let cal = Calendar::for_region(&net.region);
        let mut attachments = Vec::new();
        let extra = match m.kind {
            MessageKind::Published | MessageKind::Changed => {
                let p: RotaPayload = serde_json::from_value(m.payload.clone())
                    .context("outbox payload of a rota message")?;
                let staff = m
                    .staff
                    .as_ref()
                    .ok_or_else(|| anyhow!("rota message without a person"))?;
                let new = self.rota(&m.region, p.month, p.to).await?;
                let now_duties = self.duties_of(&net, &new, staff, |_| true);
                let mut extra = serde_json::json!({
                    "month_ja": month_ja(p.month),
                    "month_en": month_en(p.month),
                    "urgent": p.urgent,
                });
                match (m.kind, p.from) {
                    (MessageKind::Changed, Some(from)) => {
                        let old = self.rota(&m.region, p.month, from).await?;
                        let before = self.duties_of(&net, &old, staff, |_| true);
                        let key = |(s, r): &(Shift, Role)| (s.key(), *r);
                        let before_set: BTreeSet<_> = before.iter().map(key).collect();
                        let after_set: BTreeSet<_> = now_duties.iter().map(key).collect();
                        let removed: Vec<_> = before
                            .iter()
                            .filter(|d| !after_set.contains(&key(d)))
                            .cloned()
                            .collect();
                        let added: Vec<_> = now_duties
                            .iter()
                            .filter(|d| !before_set.contains(&key(d)))
                            .cloned()
                            .collect();
                        if removed.is_empty() && added.is_empty() {
                            return Ok(Composed::Skip(format!(
                                "versions {from} and {} give this person the same duties",
                                p.to
                            )));
                        }
                        // A duty whose role changed stays (same UID, new
                        // SEQUENCE); only duties gone altogether are cancelled.
                        let kept: BTreeSet<ShiftKey> = added.iter().map(|(s, _)| s.key()).collect();
                        let cancelled: Vec<_> = removed
                            .iter()
                            .filter(|(s, _)| !kept.contains(&s.key()))
                            .cloned()
                            .collect();
                        if !added.is_empty() {
                            attachments.push(Attachment {
                                filename: "duties.ics".into(),
                                method: "PUBLISH",
                                body: self.ics(&net, staff, &added, p.to, false),
                            });
                        }
                        if !cancelled.is_empty() {
                            attachments.push(Attachment {
                                filename: "cancel.ics".into(),
                                method: "CANCEL",
                                body: self.ics(&net, staff, &cancelled, p.to, true),
                            });
                        }
                        let view = |v: &[(Shift, Role)]| -> Vec<DutyView> {
                            v.iter()
                                .map(|(s, r)| self.duty_view(&net, &cal, s, *r))
                                .collect()
                        };
                        extra["removed"] = serde_json::to_value(view(&removed))?;
                        extra["added"] = serde_json::to_value(view(&added))?;
                    }
                    _ => {
                        if now_duties.is_empty() {
                            return Ok(Composed::Skip("no duties in this version".into()));
                        }
                        attachments.push(Attachment {
                            filename: "duties.ics".into(),
                            method: "PUBLISH",
                            body: self.ics(&net, staff, &now_duties, p.to, false),
                        });
                        let views: Vec<DutyView> = now_duties
                            .iter()
                            .map(|(s, r)| self.duty_view(&net, &cal, s, *r))
                            .collect();
                        extra["duties"] = serde_json::to_value(views)?;
                    }
                }
                extra
            }
            MessageKind::Reminder => {
                let date: NaiveDate = serde_json::from_value(m.payload["date"].clone())
                    .context("outbox payload of a reminder")?;
                let staff = m
                    .staff
                    .as_ref()
                    .ok_or_else(|| anyhow!("reminder without a person"))?;
                if !net.policy.reminders || person.is_some_and(|p| !p.reminders) {
                    return Ok(Composed::Skip("reminders are switched off".into()));
                }
                let month = Month::new(date.year(), date.month())?;
                let Some(rota) = self.store.published_rota(&m.region, month).await? else {
                    return Ok(Composed::Skip("the month is no longer published".into()));
                };
                let duties = self.duties_of(&net, &rota, staff, |s| s.date == date);
                if duties.is_empty() {
                    return Ok(Composed::Skip(format!("no duty on {date} any more")));
                }
                let views: Vec<DutyView> = duties
                    .iter()
                    .map(|(s, r)| self.duty_view(&net, &cal, s, *r))
                    .collect();
                serde_json::json!({
                    "day_ja": date_ja(date),
                    "day_en": date_en(date),
                    "duties": views,
                })
            }
            MessageKind::Offer
            | MessageKind::OfferTaken
            | MessageKind::Escalation
            | MessageKind::LateAcceptance
            | MessageKind::CoverCancelled => {
                let p: CoverPayload = serde_json::from_value(m.payload.clone())
                    .context("outbox payload of a cover message")?;
                let c = self.store.cover(p.request).await?;
                let inst = net.institution(&c.request.institution);
                let (when_ja, when_en) = when(c.request.start, c.request.end);
                let cover = CoverView {
                    id: c.id,
                    institution: inst
                        .map_or_else(|| c.request.institution.to_string(), |i| i.name.clone()),
                    institution_en: inst.map_or_else(
                        || c.request.institution.to_string(),
                        |i| i.name_en.clone().unwrap_or_else(|| i.name.clone()),
                    ),
                    phone: inst.and_then(|i| i.phone.as_ref()).map(ToString::to_string),
                    when_ja,
                    when_en,
                    note: c.request.note.clone(),
                };
                let mut extra = serde_json::json!({ "cover": cover });
                match m.kind {
                    MessageKind::Offer => {
                        let offer_id = p
                            .offer
                            .ok_or_else(|| anyhow!("offer message without an offer"))?;
                        let Some(o) = c.offers.iter().find(|o| o.id == offer_id) else {
                            return Err(
                                Permanent(format!("offer {offer_id} does not exist")).into()
                            );
                        };
                        if o.status != OfferStatus::Offered {
                            return Ok(Composed::Skip(format!(
                                "the offer is {} now; nothing to ask",
                                o.status.as_str()
                            )));
                        }
                        let exp = (Utc::now() + chrono::Duration::hours(self.links.valid_hours))
                            .min(c.request.end.with_timezone(&Utc));
                        let base = self.links.public_url.trim_end_matches('/');
                        let link = |a| {
                            format!(
                                "{base}{}",
                                touban_api::links::link(&self.links.key, offer_id, a, exp)
                            )
                        };
                        let exp_local = exp.with_timezone(&net.region.time_zone);
                        extra["accept_url"] = link("accept").into();
                        extra["decline_url"] = link("decline").into();
                        extra["reason"] = o.reason.clone().into();
                        extra["broadcast"] =
                            (c.request.mode == touban_domain::OfferMode::Broadcast).into();
                        extra["expires_ja"] = format!(
                            "{} {}",
                            date_ja(exp_local.date_naive()),
                            exp_local.format("%H:%M")
                        )
                        .into();
                        extra["expires_en"] = format!(
                            "{} {}",
                            date_en(exp_local.date_naive()),
                            exp_local.format("%H:%M")
                        )
                        .into();
                    }
                    MessageKind::LateAcceptance => {
                        let who = c.filled_by.as_ref().and_then(|s| net.staff_member(s));
                        let Some(who) = who else {
                            return Ok(Composed::Skip("the request is not filled any more".into()));
                        };
                        extra["taker"] = who.name.clone().into();
                        extra["taker_en"] = who
                            .name_en
                            .clone()
                            .unwrap_or_else(|| who.name.clone())
                            .into();
                        extra["taker_phone"] = who
                            .phone
                            .as_ref()
                            .map_or_else(|| "—".to_string(), ToString::to_string)
                            .into();
                    }
                    MessageKind::Escalation => {
                        let offers: Vec<_> = c
                            .offers
                            .iter()
                            .map(|o| {
                                let p = net.staff_member(&o.staff);
                                serde_json::json!({
                                    "name": p.map_or_else(|| o.staff.to_string(), |p| p.name.clone()),
                                    "name_en": p.and_then(|p| p.name_en.clone()).unwrap_or_else(|| o.staff.to_string()),
                                    "status": o.status.as_str(),
                                    "status_ja": match o.status {
                                        OfferStatus::Waiting => "未依頼",
                                        OfferStatus::Offered => "返答なし",
                                        OfferStatus::Accepted => "引き受け",
                                        OfferStatus::Declined => "辞退",
                                        OfferStatus::Taken | OfferStatus::Withdrawn => "終了",
                                    },
                                })
                            })
                            .collect();
                        extra["offers"] = offers.into();
                    }
                    _ => {}
                }
                extra
            }
            MessageKind::RepairPending => {
                let p: touban_store::outbox::RepairPayload =
                    serde_json::from_value(m.payload.clone())
                        .context("outbox payload of a pending repair")?;
                let who = net.staff_member(&p.absent);
                let tz = net.region.time_zone;
                let (s, e) = (p.start.with_timezone(&tz), p.end.with_timezone(&tz));
                let span = |f: fn(NaiveDate) -> String| {
                    format!(
                        "{} {} – {} {}",
                        f(s.date_naive()),
                        s.format("%H:%M"),
                        f(e.date_naive()),
                        e.format("%H:%M")
                    )
                };
                serde_json::json!({
                    "month": p.month.to_string(),
                    "from": p.from,
                    "to": p.to,
                    "changes": p.changes,
                    "unfilled": p.unfilled,
                    "absent": who.map_or_else(|| p.absent.to_string(), |w| w.name.clone()),
                    "absent_en": who.and_then(|w| w.name_en.clone()).unwrap_or_else(|| p.absent.to_string()),
                    "when_ja": span(date_ja),
                    "when_en": span(date_en),
                })
            }
            MessageKind::DeliveryFailed => {
                let since: DateTime<Utc> = serde_json::from_value(m.payload["since"].clone())
                    .context("outbox payload of a failure notice")?;
                let failed = self.failed_since(&net, since).await?;
                if failed.is_empty() {
                    return Ok(Composed::Skip(
                        "no failed deliveries (retried since)".into(),
                    ));
                }
                serde_json::json!({ "failed": failed })
            }
            MessageKind::Digest => {
                let day: NaiveDate = serde_json::from_value(m.payload["date"].clone())
                    .context("outbox payload of a digest")?;
                let failed = self
                    .failed_since(&net, Utc::now() - chrono::Duration::hours(24))
                    .await?;
                let unfilled = self.unfilled(&net, day).await?;
                if failed.is_empty() && unfilled.is_empty() {
                    return Ok(Composed::Skip("nothing to report".into()));
                }
                serde_json::json!({
                    "day_ja": date_ja(day),
                    "day_en": date_en(day),
                    "days": self.digest_days,
                    "failed": failed,
                    "unfilled": unfilled,
                })
            }
        };
        merge(&mut ctx, extra);
        let rendered = self.renderer.render(m.kind, &ctx)?;
        Ok(Composed::Send(Box::new(Draft {
            to,
            rendered,
            attachments,
        })))
    }
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
