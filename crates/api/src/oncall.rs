//! "Who is on call": published rotas turned into per-service, time-sorted
//! slots with names and phones already resolved, kept in memory. A lookup is
//! a binary search; the database is read only when a month is first asked
//! for, after this server publishes, when the store reports that another
//! server changed something ([`Store::generation`]: PostgreSQL's
//! LISTEN/NOTIFY, within a round trip of the other server's commit), or
//! when the refresh interval has passed (the fallback for SQLite files
//! shared with other processes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use touban_domain::{Month, Network, RegionId, ServiceId};
use touban_solver::Instance;
use touban_store::Store;

use crate::dto::{PersonOnCall, SlotDto};
use crate::error::Problem;

#[derive(Debug, Clone)]
pub struct Slot {
    pub start_ts: i64,
    pub end_ts: i64,
    pub dto: SlotDto,
}

/// One month of one region: slots per service, sorted by start.
#[derive(Debug, Default)]
pub struct MonthSlots {
    pub services: HashMap<ServiceId, Vec<Slot>>,
}

type Key = (RegionId, Month);

/// A month's slots, when they were built and at which store generation.
type Cached = (Arc<MonthSlots>, Instant, u64);

#[derive(Debug)]
pub struct OnCallCache {
    ttl: Duration,
    months: Mutex<HashMap<Key, Cached>>,
}

impl OnCallCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            months: Mutex::new(HashMap::new()),
        }
    }

    pub fn forget(&self, region: &RegionId) {
        if let Ok(mut m) = self.months.lock() {
            m.retain(|(r, _), _| r != region);
        }
    }

    pub async fn month(
        &self,
        store: &dyn Store,
        net: &Network,
        month: Month,
    ) -> Result<Arc<MonthSlots>, Problem> {
        let key = (net.region.id.clone(), month);
        // Read before the database, so that a change announced while this
        // loads makes the next lookup load again.
        let generation = store.generation();
        if let Ok(m) = self.months.lock()
            && let Some((s, at, g)) = m.get(&key)
            && at.elapsed() < self.ttl
            && *g == generation
        {
            return Ok(s.clone());
        }
        let slots = Arc::new(match store.published_rota(&net.region.id, month).await? {
            Some(rota) => {
                // A repair (or edit) made from the published version and not
                // yet published names who stands in for absent people.
                let pending = touban_app::ops::repair_base(store, &net.region.id, month)
                    .await?
                    .filter(|r| r.version != rota.version);
                build(
                    net,
                    month,
                    &rota.assignments,
                    pending.as_ref().map(|r| r.assignments.as_slice()),
                )
            }
            None => MonthSlots::default(),
        });
        if let Ok(mut m) = self.months.lock() {
            m.insert(key, (slots.clone(), Instant::now(), generation));
        }
        Ok(slots)
    }

    /// The slot covering `at` and the one after it, for one service.
    pub async fn lookup(
        &self,
        store: &dyn Store,
        net: &Network,
        service: &ServiceId,
        at: DateTime<FixedOffset>,
    ) -> Result<(Option<SlotDto>, Option<SlotDto>), Problem> {
        let local = at.with_timezone(&net.region.time_zone).date_naive();
        let m = Month::new(local.year(), local.month())
            .map_err(|e| Problem::invalid("at", e.message))?;
        let t = at.timestamp();
        let mut now: Option<&Slot> = None;
        let mut next: Option<&Slot> = None;
        let months = [
            self.month(store, net, m.prev()).await?,
            self.month(store, net, m).await?,
            self.month(store, net, m.next()).await?,
        ];
        for ms in &months {
            let Some(slots) = ms.services.get(service) else {
                continue;
            };
            // Slots are sorted by start; the covering one started at or before `at`.
            let idx = slots.partition_point(|s| s.start_ts <= t);
            for s in slots[..idx].iter().rev().take(4) {
                if s.end_ts > t && now.is_none_or(|n| s.start_ts > n.start_ts) {
                    now = Some(s);
                }
            }
        }
        let after = now.map_or(t, |n| n.end_ts);
        for ms in &months {
            let Some(slots) = ms.services.get(service) else {
                continue;
            };
            let idx = slots.partition_point(|s| s.start_ts < after);
            if let Some(s) = slots.get(idx)
                && next.is_none_or(|n| s.start_ts < n.start_ts)
            {
                next = Some(s);
            }
        }
        Ok((now.map(|s| s.dto.clone()), next.map(|s| s.dto.clone())))
    }
}

/// Slots of a published month: one per shift (a shift nobody holds is a
/// slot marked unfilled, with the number to call instead). A person
/// reported absent is never given out: where an absence covers part of a
/// shift, the shift is split at its edges and the absent person left out of
/// the parts it covers; the people a pending repair puts on that shift
/// stand in, marked provisional.
pub fn build(
    net: &Network,
    month: Month,
    assignments: &[touban_domain::Assignment],
    pending: Option<&[touban_domain::Assignment]>,
) -> MonthSlots {
    let inst = Instance::new(net, month);
    let person = |a: &touban_domain::Assignment, provisional: bool| {
        let p = net.staff_member(&a.staff);
        PersonOnCall {
            staff: a.staff.to_string(),
            name: p.map_or_else(|| a.staff.to_string(), |p| p.name.clone()),
            name_en: p.and_then(|p| p.name_en.clone()),
            role: a.role.as_str().to_string(),
            phone: p.and_then(|p| p.phone.as_ref()).map(ToString::to_string),
            provisional,
        }
    };
    let mut absent: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for x in &net.absences {
        absent
            .entry(x.staff.as_str())
            .or_default()
            .push((x.start.timestamp(), x.end.timestamp()));
    }
    let absences_of = |staff: &str| absent.get(staff).cloned().unwrap_or_default().into_iter();
    fn group<'a>(
        inst: &Instance<'_>,
        list: &'a [touban_domain::Assignment],
    ) -> HashMap<usize, Vec<&'a touban_domain::Assignment>> {
        let mut m: HashMap<usize, Vec<&touban_domain::Assignment>> = HashMap::new();
        for a in list {
            if let Some(&i) = inst.shift_index.get(&a.shift) {
                m.entry(i).or_default().push(a);
            }
        }
        m
    }
    fn ids<'a>(l: &[&'a touban_domain::Assignment]) -> Vec<&'a str> {
        let mut v: Vec<&str> = l.iter().map(|a| a.staff.as_str()).collect();
        v.sort_unstable();
        v
    }
    let published = group(&inst, assignments);
    let planned = group(&inst, pending.unwrap_or_default());
    // Per shift: the published people; where one of them is away during
    // the shift and the pending repair changed it, the repair's people
    // (those new to the shift marked provisional).
    let mut by_shift: HashMap<usize, Vec<PersonOnCall>> = HashMap::new();
    let nobody = Vec::new();
    for i in 0..inst.shifts.len() {
        let now = published.get(&i).unwrap_or(&nobody);
        let s = &inst.shifts[i].shift;
        let (start, end) = (s.start.timestamp(), s.end.timestamp());
        let someone_away = now
            .iter()
            .any(|a| absences_of(a.staff.as_str()).any(|(x, y)| x < end && start < y));
        let people = match planned.get(&i) {
            Some(plan) if someone_away && ids(plan) != ids(now) => plan
                .iter()
                .map(|a| person(a, !now.iter().any(|p| p.staff == a.staff)))
                .collect(),
            _ => now.iter().map(|a| person(a, false)).collect(),
        };
        by_shift.insert(i, people);
    }
    let mut services: HashMap<ServiceId, Vec<Slot>> = HashMap::new();
    for (i, people) in by_shift {
        let s = &inst.shifts[i].shift;
        let fallback = net
            .service(&s.service)
            .and_then(|svc| net.fallback_phone(svc))
            .map(ToString::to_string);
        let (start, end) = (s.start.timestamp(), s.end.timestamp());
        // The shift's parts: split at every absence edge inside it.
        let mut cuts = vec![start, end];
        for p in &people {
            for (a, b) in absences_of(&p.staff) {
                cuts.extend([a, b].into_iter().filter(|t| *t > start && *t < end));
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let away = |staff: &str| absences_of(staff).any(|(a, b)| a < to && from < b);
            let mut here: Vec<PersonOnCall> =
                people.iter().filter(|p| !away(&p.staff)).cloned().collect();
            here.sort_by(|a, b| a.role.cmp(&b.role).reverse().then(a.name.cmp(&b.name)));
            let tz = s.start.timezone();
            let at = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0).map_or(s.start, |u| u.with_timezone(&tz))
            };
            services.entry(s.service.clone()).or_default().push(Slot {
                start_ts: from,
                end_ts: to,
                dto: SlotDto {
                    template: s.template.to_string(),
                    date: s.date,
                    start: at(from),
                    end: at(to),
                    unfilled: here.is_empty(),
                    people: here,
                    fallback_phone: fallback.clone(),
                },
            });
        }
    }
    for v in services.values_mut() {
        v.sort_by_key(|s| (s.start_ts, s.end_ts));
    }
    MonthSlots { services }
}

pub fn now_in(net: &Network) -> DateTime<FixedOffset> {
    Utc::now()
        .with_timezone(&net.region.time_zone)
        .fixed_offset()
}
