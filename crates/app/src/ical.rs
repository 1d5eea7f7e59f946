//! Calendar feeds (RFC 5545). Each duty is one VEVENT whose UID is made of
//! the shift and the person, so it stays the same across rota versions;
//! SEQUENCE is the number of the published version in which the event last
//! changed (versions only grow, so a change always raises it), and a duty
//! taken away by a later published version is sent as STATUS:CANCELLED with
//! the current version's number. Times are written in UTC (`…Z`), which
//! every client converts to local time without needing a VTIMEZONE; the
//! region's zone is named in X-WR-TIMEZONE. DTEND is the shift's exclusive end.

use std::collections::BTreeMap;

use chrono::{Datelike, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use touban_domain::{Month, Network, RotaStatus, ServiceId, ShiftKey, StaffId};
use touban_solver::Instance;
use touban_store::Store;

use crate::AppError;

/// Months a feed covers around today: two back, three ahead.
fn months(net: &Network) -> Vec<Month> {
    let today = Utc::now().with_timezone(&net.region.time_zone).date_naive();
    let mut m = Month::new(today.year(), today.month()).expect("today is a month");
    m = m.prev().prev();
    (0..6)
        .map(|_| {
            let c = m;
            m = m.next();
            c
        })
        .collect()
}

/// What the feed shows for one shift: a label that changes when the event
/// changes (the role, or the set of people).
type Value = String;

struct Tracked {
    value: Value,
    since: u32,
    present: bool,
}

/// For each shift key: its value in the current published version (or none
/// if cancelled) and the version it last changed in.
async fn history<F>(
    store: &dyn Store,
    net: &Network,
    month: Month,
    pick: F,
) -> Result<(Option<u32>, BTreeMap<ShiftKey, Tracked>), AppError>
where
    F: Fn(&touban_domain::Rota) -> BTreeMap<ShiftKey, Value>,
{
    let mut versions: Vec<_> = store
        .rota_versions(&net.region.id, month)
        .await?
        .into_iter()
        .filter(|v| matches!(v.status, RotaStatus::Published | RotaStatus::Superseded))
        .collect();
    versions.sort_by_key(|v| v.version);
    let mut track: BTreeMap<ShiftKey, Tracked> = BTreeMap::new();
    let mut last = None;
    for v in versions {
        let rota = store.rota(&net.region.id, month, Some(v.version)).await?;
        let now = pick(&rota);
        for (k, t) in &mut track {
            if t.present && !now.contains_key(k) {
                t.present = false;
                t.since = v.version;
            }
        }
        for (k, val) in now {
            match track.get_mut(&k) {
                Some(t) if t.present && t.value == val => {}
                Some(t) => {
                    t.value = val;
                    t.present = true;
                    t.since = v.version;
                }
                None => {
                    track.insert(
                        k,
                        Tracked {
                            value: val,
                            since: v.version,
                            present: true,
                        },
                    );
                }
            }
        }
        last = Some(v.version);
    }
    Ok((last, track))
}

/// The UID of a duty's event: the same in feeds and e-mailed .ics files, and
/// across versions, so calendars update the event instead of adding one.
pub fn uid(region: &str, k: &ShiftKey, who: &str) -> String {
    format!(
        "{region}.{}.{}.{}.{who}@touban",
        k.service, k.template, k.date
    )
}

fn event(
    net: &Network,
    inst: &Instance<'_>,
    k: &ShiftKey,
    uid: String,
    seq: u32,
    cancelled: bool,
    people: &str,
) -> Option<Event> {
    let info = &inst.shifts[*inst.shift_index.get(k)?];
    let svc = net.service(&k.service)?;
    let t = svc.template(&k.template)?;
    let place = svc
        .host
        .as_ref()
        .and_then(|h| net.institution(h))
        .map(|i| i.name.clone());
    let mut e = Event::new();
    e.uid(&uid)
        .sequence(seq)
        .timestamp(Utc::now())
        .starts(info.shift.start.with_timezone(&Utc))
        .ends(info.shift.end.with_timezone(&Utc))
        .summary(&format!("当番 {} {}（{}）", svc.name, t.name, people))
        .description(&format!(
            "{} {} / {} {} — {}",
            svc.name,
            t.name,
            svc.name_en.as_deref().unwrap_or(svc.id.as_str()),
            t.name_en.as_deref().unwrap_or(t.id.as_str()),
            people
        ));
    if let Some(p) = place {
        e.location(&p);
    }
    e.status(if cancelled {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    });
    Some(e.done())
}

/// Touban's own product identifier (RFC 5545 §3.7.3), in every calendar
/// it writes.
pub const PRODID: &str = concat!("-//Touban//Touban ", env!("CARGO_PKG_VERSION"), "//JA");

/// An empty calendar with VERSION, Touban's PRODID and CALSCALE.
pub fn new_calendar() -> Calendar {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"));
    cal
}

/// The UID of an accepted cover's event, the same in the feed and in the
/// confirmation e-mail.
pub fn cover_uid(region: &str, id: i64, who: &str) -> String {
    format!("{region}.cover-{id}.{who}@touban")
}

/// Accepted cover as an event of `person`'s: in their feed and in the
/// confirmation e-mail, with the same UID.
pub fn cover_event(
    net: &Network,
    c: &touban_store::StoredCover,
    person: &touban_domain::StaffMember,
) -> Event {
    let inst = net.institution(&c.request.institution);
    let place = inst.map_or_else(|| c.request.institution.to_string(), |i| i.name.clone());
    let mut e = Event::new();
    e.uid(&cover_uid(net.region.id.as_str(), c.id, person.id.as_str()))
        .sequence(1)
        .timestamp(Utc::now())
        .starts(c.request.start.with_timezone(&Utc))
        .ends(c.request.end.with_timezone(&Utc))
        .summary(&format!("代診・応援 {place}（{}）", person.name))
        .description(&format!(
            "代診・応援 / cover: {place}{}{}",
            inst.and_then(|i| i.phone.as_ref())
                .map(|p| format!(" ☎ {p}"))
                .unwrap_or_default(),
            c.request
                .note
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        ))
        .location(&inst.and_then(|i| i.address.clone()).unwrap_or(place))
        .status(EventStatus::Confirmed);
    e.done()
}

fn calendar(name: &str, net: &Network, events: Vec<Event>) -> String {
    let mut cal = new_calendar();
    cal.name(name).timezone(net.region.time_zone.name());
    for e in events {
        cal.push(e);
    }
    cal.done().to_string()
}

/// The events of every published month: each shift key `pick` finds in a
/// rota, titled by `title` from its value, cancelled once it is gone.
async fn feed_events<F>(
    store: &dyn Store,
    net: &Network,
    pick: F,
    owner: &str,
    title: impl Fn(&str) -> String,
) -> Result<Vec<Event>, AppError>
where
    F: Fn(&touban_domain::Rota) -> BTreeMap<ShiftKey, Value>,
{
    let mut events = Vec::new();
    for m in months(net) {
        let (current, track) = history(store, net, m, &pick).await?;
        let Some(current) = current else { continue };
        let inst = Instance::new(net, m);
        for (k, t) in &track {
            let seq = if t.present { t.since } else { current };
            if let Some(e) = event(
                net,
                &inst,
                k,
                uid(net.region.id.as_str(), k, owner),
                seq,
                !t.present,
                &title(&t.value),
            ) {
                events.push(e);
            }
        }
    }
    Ok(events)
}

/// One person's duties.
pub async fn staff_feed(
    store: &dyn Store,
    net: &Network,
    staff: &StaffId,
) -> Result<String, AppError> {
    let person = net
        .staff_member(staff)
        .ok_or_else(|| AppError::NotFound(format!("staff member \"{staff}\"")))?;
    let pick = |r: &touban_domain::Rota| {
        r.assignments
            .iter()
            .filter(|a| &a.staff == staff)
            .map(|a| (a.shift.clone(), a.role.as_str().to_string()))
            .collect()
    };
    let title = |role: &str| {
        let label = if role == "backup" {
            "副 backup"
        } else {
            "主 primary"
        };
        format!("{} {label}", person.name)
    };
    let mut events = feed_events(store, net, pick, staff.as_str(), title).await?;
    // Accepted cover is a duty too.
    let ms = months(net);
    let edge = |m: Month| {
        m.first_day()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(net.region.time_zone).earliest())
            .map(|t| t.fixed_offset())
    };
    if let (Some(from), Some(to)) = (
        ms.first().copied().and_then(edge),
        ms.last().map(|m| m.next()).and_then(edge),
    ) {
        for (id, d) in crate::cover::accepted_covers(store, net, from, to).await? {
            if &d.staff != staff {
                continue;
            }
            let c = store.cover(id).await?;
            let e = cover_event(net, &c, person);
            events.push(e);
        }
    }
    Ok(calendar(&format!("当番 {}", person.name), net, events))
}

/// Every shift of one service, with who is on it.
pub async fn service_feed(
    store: &dyn Store,
    net: &Network,
    service: &ServiceId,
) -> Result<String, AppError> {
    let svc = net
        .service(service)
        .ok_or_else(|| AppError::NotFound(format!("service \"{service}\"")))?;
    let pick = |r: &touban_domain::Rota| {
        let mut by: BTreeMap<ShiftKey, Vec<String>> = BTreeMap::new();
        for a in r.assignments.iter().filter(|a| &a.shift.service == service) {
            let name = net
                .staff_member(&a.staff)
                .map_or_else(|| a.staff.to_string(), |p| p.name.clone());
            by.entry(a.shift.clone()).or_default().push(name);
        }
        by.into_iter()
            .map(|(k, mut v)| {
                v.sort();
                (k, v.join("・"))
            })
            .collect()
    };
    let events = feed_events(store, net, pick, "shift", str::to_string).await?;
    Ok(calendar(&format!("当番 {}", svc.name), net, events))
}
