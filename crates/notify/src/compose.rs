//! From an outbox row to an e-mail: who it goes to, what it says (rendered
//! from the templates) and which calendar files go with it. Everything is
//! read from the store when the message is sent, so a message says what is
//! true then; a message with nothing left to say is skipped, not sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use touban_calendar::Calendar;
use touban_domain::{Month, Network, RegionId, Role, Rota, Shift, ShiftKey, StaffId};
use touban_store::{Message, MessageKind, Store};

use crate::format::{date_en, date_ja, times};
use crate::render::{Rendered, Renderer};

mod cover;
mod digest;
mod ics;
mod rota;
mod swap;

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
    /// The sender's address: the ORGANIZER of calendar files when the
    /// region names no coordinator.
    pub sender: String,
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
    feeds: Mutex<HashMap<(RegionId, StaffId), (Instant, String)>>,
    /// When each region's feed credentials were last read into `feeds`.
    feed_index: Mutex<HashMap<RegionId, Instant>>,
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
    /// Change notices: who holds a duty the person lost (empty: nobody yet).
    pub now: Option<Vec<PersonView>>,
    /// Change notices: who was on the shift before the change.
    pub before: Option<Vec<PersonView>>,
    /// The others on the same shift, with their phones.
    pub others: Vec<PersonView>,
}

/// Someone on a shift, as a notice names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonView {
    pub name: String,
    pub name_en: Option<String>,
    pub role_ja: &'static str,
    pub role_en: &'static str,
    pub phone: Option<String>,
}

/// Who is on each shift of a version.
type Holders = HashMap<ShiftKey, Vec<(StaffId, Role)>>;

fn holders(rota: &Rota) -> Holders {
    let mut h: Holders = HashMap::new();
    for a in &rota.assignments {
        h.entry(a.shift.clone())
            .or_default()
            .push((a.staff.clone(), a.role));
    }
    for v in h.values_mut() {
        v.sort_by_key(|(s, r)| (*r != Role::Primary, s.clone()));
    }
    h
}

fn role_words(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Primary => ("主当番", "primary"),
        Role::Backup => ("副当番", "backup"),
    }
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
            feeds: Mutex::new(HashMap::new()),
            feed_index: Mutex::new(HashMap::new()),
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
            role_ja: role_words(role).0,
            role_en: role_words(role).1,
            place: place.map(|i| i.name.clone()),
            place_en: place.map(|i| i.name_en.clone().unwrap_or_else(|| i.name.clone())),
            holiday: cal.day_off(shift.date).map(|d| d.name),
            now: None,
            before: None,
            others: Vec::new(),
        }
    }

    /// The people of `holders` on `key` that `keep` keeps.
    fn people_on(
        net: &Network,
        holders: &Holders,
        key: &ShiftKey,
        keep: impl Fn(&StaffId) -> bool,
    ) -> Vec<PersonView> {
        holders
            .get(key)
            .into_iter()
            .flatten()
            .filter(|(s, _)| keep(s))
            .map(|(s, r)| {
                let p = net.staff_member(s);
                PersonView {
                    name: p.map_or_else(|| s.to_string(), |p| p.name.clone()),
                    name_en: p.and_then(|p| p.name_en.clone()),
                    role_ja: role_words(*r).0,
                    role_en: role_words(*r).1,
                    phone: p.and_then(|p| p.phone.as_ref()).map(ToString::to_string),
                }
            })
            .collect()
    }

    /// Views of `duties` with the others on each shift in `rota`.
    fn views_with_others(
        &self,
        net: &Network,
        rota: &Rota,
        staff: &StaffId,
        duties: &[(Shift, Role)],
    ) -> Vec<DutyView> {
        let cal = Calendar::for_region(&net.region);
        let h = holders(rota);
        duties
            .iter()
            .map(|(s, r)| {
                let mut v = self.duty_view(net, &cal, s, *r);
                v.others = Self::people_on(net, &h, &s.key(), |x| x != staff);
                v
            })
            .collect()
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

    /// The coordinators' contact, printed at the foot of every message.
    fn coordinator(net: &Network) -> serde_json::Value {
        let emails: Vec<String> = net
            .policy
            .coordinator_emails
            .iter()
            .map(ToString::to_string)
            .collect();
        let phone = net
            .policy
            .coordinator_phone
            .as_ref()
            .or(net.region.fallback_phone.as_ref())
            .map(ToString::to_string);
        serde_json::json!({
            "emails": emails.join(", "),
            "first_email": emails.first(),
            "phone": phone,
        })
    }

    /// The address of a person's calendar feed for e-mails: the newest
    /// unrevoked feed credential made for e-mails, or a new one. Its secret
    /// is derived from the link key, so nothing secret is stored to build it
    /// again; revoking it (API or CLI) makes the next e-mail carry a new one.
    async fn feed_url(&self, net: &Network, staff: &StaffId) -> anyhow::Result<String> {
        let key = (net.region.id.clone(), staff.clone());
        let cached = |feeds: &HashMap<(RegionId, StaffId), (Instant, String)>| {
            feeds
                .get(&key)
                .filter(|(at, _)| at.elapsed() < NET_TTL)
                .map(|(_, url)| url.clone())
        };
        if let Some(url) = cached(&self.feeds.lock().expect("cache lock")) {
            return Ok(url);
        }
        // One read of the region's feed credentials serves everyone in it
        // (a month's first notices would otherwise read the growing list
        // once per person); after it, a person missing from the cache has
        // none yet.
        let indexed = self
            .feed_index
            .lock()
            .expect("cache lock")
            .get(&net.region.id)
            .is_some_and(|at| at.elapsed() < NET_TTL);
        if !indexed {
            let mut newest: HashMap<StaffId, touban_store::Credential> = HashMap::new();
            for c in self.store.credentials(Some(&net.region.id)).await? {
                if let touban_store::Grant::StaffFeed { staff, .. } = &c.grant
                    && c.revoked_at.is_none()
                    && c.label == touban_app::tokens::EMAIL_FEED_LABEL
                    && newest
                        .get(staff)
                        .is_none_or(|n| n.created_at < c.created_at)
                {
                    newest.insert(staff.clone(), c);
                }
            }
            let now = Instant::now();
            let mut feeds = self.feeds.lock().expect("cache lock");
            for (s, c) in newest {
                let url = self.feed_address(&c.id);
                feeds.insert((net.region.id.clone(), s), (now, url));
            }
            if let Some(url) = cached(&feeds) {
                drop(feeds);
                self.feed_index
                    .lock()
                    .expect("cache lock")
                    .insert(net.region.id.clone(), now);
                return Ok(url);
            }
            drop(feeds);
            self.feed_index
                .lock()
                .expect("cache lock")
                .insert(net.region.id.clone(), now);
        }
        let grant = touban_store::Grant::StaffFeed {
            region: net.region.id.clone(),
            staff: staff.clone(),
        };
        let issued = touban_app::tokens::issue_derived(grant, &self.links.key, "notifier")
            .map_err(|p| anyhow::anyhow!("making a feed token: {}", p))?;
        let id = self.store.create_credential(&issued.credential).await?.id;
        let url = self.feed_address(&id);
        self.feeds
            .lock()
            .expect("cache lock")
            .insert(key, (Instant::now(), url.clone()));
        Ok(url)
    }

    fn feed_address(&self, id: &str) -> String {
        format!(
            "{}/api/v1/feeds/{id}.{}.ics",
            self.links.public_url.trim_end_matches('/'),
            touban_app::tokens::derived_secret(&self.links.key, id)
        )
    }

    /// Composes one message. `Err` with a [`Permanent`] inside means the
    /// message can never be sent; other errors are worth a retry.
    pub async fn compose(&self, m: &Message) -> anyhow::Result<Composed> {
        let net = self.network(&m.region).await?;
        let person = m.staff.as_ref().and_then(|s| net.staff_member(s));
        let feed_url = match person {
            Some(p) => Some(self.feed_url(&net, &p.id).await?),
            None => None,
        };
        let mut ctx = serde_json::json!({
            "region": net.region.name,
            "region_en": net.region.name_en,
            "name": person.map(|p| p.name.clone()),
            "name_en": person.and_then(|p| p.name_en.clone()),
            "coordinator": Self::coordinator(&net),
            "feed_url": feed_url,
        });
        let mut attachments = Vec::new();
        let (to, extra) = match m.kind {
            MessageKind::Published | MessageKind::Changed => {
                match self.rota_notice(&net, m, &mut attachments).await? {
                    Ok(extra) => (self.recipients(&net, m)?, extra),
                    Err(skip) => return Ok(Composed::Skip(skip)),
                }
            }
            MessageKind::Reminder => match self.reminder(&net, m).await? {
                Ok(extra) => (self.recipients(&net, m)?, extra),
                Err(skip) => return Ok(Composed::Skip(skip)),
            },
            MessageKind::Offer
            | MessageKind::OfferTaken
            | MessageKind::Escalation
            | MessageKind::LateAcceptance
            | MessageKind::CoverCancelled
            | MessageKind::CoverFilled
            | MessageKind::CoverConfirmed
            | MessageKind::CoverUnfilled => {
                match self.cover_notice(&net, m, &mut attachments).await? {
                    Ok((to, extra)) => match to {
                        Some(to) => (to, extra),
                        None => (self.recipients(&net, m)?, extra),
                    },
                    Err(skip) => return Ok(Composed::Skip(skip)),
                }
            }
            MessageKind::SwapProposed | MessageKind::SwapUpdate => {
                match self.swap_notice(&net, m).await? {
                    Ok(extra) => (self.recipients(&net, m)?, extra),
                    Err(skip) => return Ok(Composed::Skip(skip)),
                }
            }
            MessageKind::RepairPending => {
                (self.recipients(&net, m)?, Self::repair_pending(&net, m)?)
            }
            MessageKind::SignIn => match self.sign_in(m).await? {
                Ok(x) => x,
                Err(skip) => return Ok(Composed::Skip(skip)),
            },
            MessageKind::DeliveryFailed => {
                let since: DateTime<Utc> = serde_json::from_value(m.payload["since"].clone())
                    .context("outbox payload of a failure notice")?;
                let failed = self.failed_since(&net, since).await?;
                if failed.is_empty() {
                    return Ok(Composed::Skip(
                        "no failed deliveries (retried since)".into(),
                    ));
                }
                (
                    self.recipients(&net, m)?,
                    serde_json::json!({ "failed": failed }),
                )
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
                (
                    self.recipients(&net, m)?,
                    serde_json::json!({
                        "day_ja": date_ja(day),
                        "day_en": date_en(day),
                        "days": self.digest_days,
                        "failed": failed,
                        "unfilled": unfilled,
                    }),
                )
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

impl Composer {
    /// A web sign-in link, to the address that asked for it.
    async fn sign_in(&self, m: &Message) -> Part<(Vec<String>, serde_json::Value)> {
        let id = m.payload["login"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("sign-in message without a login"))?;
        let l = self.store.login(id).await?;
        if l.used_at.is_some() || l.expires_at <= Utc::now() {
            return Ok(Err("the sign-in link was used or has expired".into()));
        }
        let url = format!(
            "{}/sign-in/{id}/{}",
            self.links.public_url.trim_end_matches('/'),
            touban_app::links::sign_in_secret(&self.links.key, id)
        );
        let minutes = (l.expires_at - l.created_at).num_minutes();
        Ok(Ok((
            vec![l.email],
            serde_json::json!({ "url": url, "minutes": minutes }),
        )))
    }
}

/// What a part of the composer returns: the template's values, or why the
/// message is skipped.
type Part<T = serde_json::Value> = anyhow::Result<Result<T, String>>;

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
