//! "Who is on call": published rotas turned into per-service, time-sorted
//! slots with names and phones already resolved, kept in memory. A lookup is
//! a binary search; the database is read only when a month is first asked
//! for, after this server publishes, or when the refresh interval has passed
//! (to see publishes made by other servers on the same database).

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

#[derive(Debug)]
pub struct OnCallCache {
    ttl: Duration,
    months: Mutex<HashMap<Key, (Arc<MonthSlots>, Instant)>>,
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
        if let Ok(m) = self.months.lock()
            && let Some((s, at)) = m.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(s.clone());
        }
        let slots = Arc::new(match store.published_rota(&net.region.id, month).await? {
            Some(rota) => build(net, month, &rota.assignments),
            None => MonthSlots::default(),
        });
        if let Ok(mut m) = self.months.lock() {
            m.insert(key, (slots.clone(), Instant::now()));
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
        let m = Month::new(local.year(), local.month()).map_err(|e| Problem::invalid("at", e.0))?;
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

/// Slots of a published month: one per shift with anyone on it.
pub fn build(net: &Network, month: Month, assignments: &[touban_domain::Assignment]) -> MonthSlots {
    let inst = Instance::new(net, month);
    let mut by_shift: HashMap<usize, Vec<PersonOnCall>> = HashMap::new();
    for a in assignments {
        let Some(&i) = inst.shift_index.get(&a.shift) else {
            continue;
        };
        let p = net.staff_member(&a.staff);
        by_shift.entry(i).or_default().push(PersonOnCall {
            staff: a.staff.to_string(),
            name: p.map_or_else(|| a.staff.to_string(), |p| p.name.clone()),
            name_en: p.and_then(|p| p.name_en.clone()),
            role: a.role.as_str().to_string(),
            phone: p.and_then(|p| p.phone.as_ref()).map(ToString::to_string),
        });
    }
    let mut services: HashMap<ServiceId, Vec<Slot>> = HashMap::new();
    for (i, mut people) in by_shift {
        let s = &inst.shifts[i].shift;
        people.sort_by(|a, b| a.role.cmp(&b.role).reverse().then(a.name.cmp(&b.name)));
        services.entry(s.service.clone()).or_default().push(Slot {
            start_ts: s.start.timestamp(),
            end_ts: s.end.timestamp(),
            dto: SlotDto {
                template: s.template.to_string(),
                date: s.date,
                start: s.start,
                end: s.end,
                people,
            },
        });
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
