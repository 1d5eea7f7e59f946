//! Ranking candidates for an emergency cover request (代診・応援要請):
//! qualified, not absent, free of overlapping duty, rest intervals kept on
//! both sides, monthly cap kept; then nearest first, least loaded next. Every
//! person of the profession gets a reason, whether offered or not.

use chrono::{DateTime, Datelike, FixedOffset};
use touban_domain::{CoverRequest, Month, Network, RestPolicy, StaffId};
use touban_solver::Instance;
use touban_solver::check::rest_needed;
use touban_store::{NewOffer, Store};

use crate::error::Problem;
use crate::ops::current;

#[derive(Debug, Clone)]
struct Duty {
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    counts: bool,
    night: bool,
    label: String,
}

#[derive(Debug, Default)]
pub struct Ranking {
    pub offers: Vec<NewOffer>,
    pub excluded: Vec<(StaffId, String)>,
}

fn month_of(t: DateTime<FixedOffset>, net: &Network) -> Result<Month, Problem> {
    let d = t.with_timezone(&net.region.time_zone).date_naive();
    Month::new(d.year(), d.month()).map_err(|e| Problem::invalid("/start", e.0))
}

fn hours(a: DateTime<FixedOffset>, b: DateTime<FixedOffset>) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let m = (b - a).num_minutes() as f64;
    m / 60.0
}

/// Whether the cover interval is night work for the rest rules: it touches
/// 22:00–05:00 local time.
fn is_night(req: &CoverRequest, net: &Network) -> bool {
    let tz = net.region.time_zone;
    let s = req.start.with_timezone(&tz);
    let e = req.end.with_timezone(&tz);
    s.date_naive() != e.date_naive() || {
        use chrono::Timelike;
        s.hour() < 5 || e.hour() >= 22 || (e.hour() == 22 && e.minute() > 0)
    }
}

pub async fn rank(
    store: &dyn Store,
    net: &Network,
    req: &CoverRequest,
    max_offers: usize,
) -> Result<Ranking, Problem> {
    // Duties from the months around the interval (rest reaches 18 h back).
    let first = month_of(req.start, net)?.prev();
    let last = month_of(req.end, net)?.next();
    let cover_month = month_of(req.start, net)?;
    let mut duties: std::collections::HashMap<StaffId, Vec<Duty>> = Default::default();
    let mut month_hours: std::collections::HashMap<StaffId, f64> = Default::default();
    let mut m = first;
    while m <= last {
        if let Some(rota) = current(store, &net.region.id, m).await? {
            let inst = Instance::new(net, m);
            for a in &rota.assignments {
                let Some(&i) = inst.shift_index.get(&a.shift) else {
                    continue;
                };
                let info = &inst.shifts[i];
                if m == cover_month && info.counts {
                    *month_hours.entry(a.staff.clone()).or_default() += info.hours();
                }
                duties.entry(a.staff.clone()).or_default().push(Duty {
                    start: info.shift.start,
                    end: info.shift.end,
                    counts: info.counts,
                    night: info.night,
                    label: a.shift.to_string(),
                });
            }
        }
        m = m.next();
    }
    let target = net.institution(&req.institution).and_then(|i| i.location);
    let cover_hours = hours(req.start, req.end);
    let night = is_night(req, net);
    let mut ok: Vec<(f64, f64, StaffId, String)> = Vec::new();
    let mut excluded = Vec::new();
    for p in net.staff.iter().filter(|p| p.profession == req.profession) {
        if let Some(s) = req.skills.iter().find(|s| !p.skills.contains(*s)) {
            excluded.push((p.id.clone(), format!("lacks the skill {s}")));
            continue;
        }
        if let Some(a) = net
            .absences
            .iter()
            .find(|a| a.staff == p.id && a.overlaps(req.start, req.end))
        {
            excluded.push((
                p.id.clone(),
                format!(
                    "absent ({} {} – {})",
                    a.kind.as_str(),
                    a.start.format("%m-%d %H:%M"),
                    a.end.format("%m-%d %H:%M")
                ),
            ));
            continue;
        }
        let mine = duties.get(&p.id).map_or(&[][..], Vec::as_slice);
        if let Some(d) = mine.iter().find(|d| d.start < req.end && req.start < d.end) {
            excluded.push((p.id.clone(), format!("on duty then ({})", d.label)));
            continue;
        }
        if p.labour.rest == RestPolicy::Enforced {
            let before = mine.iter().find(|d| {
                rest_needed(d.counts, d.night)
                    .is_some_and(|need| d.end <= req.start && req.start < d.end + need)
            });
            if let Some(d) = before {
                excluded.push((
                    p.id.clone(),
                    format!("rest interval after {} (rule 4)", d.label),
                ));
                continue;
            }
            let need = rest_needed(true, night).unwrap_or_default();
            if let Some(d) = mine
                .iter()
                .find(|d| d.start >= req.end && d.start < req.end + need)
            {
                excluded.push((
                    p.id.clone(),
                    format!(
                        "would not get the rest interval before {} (rule 4)",
                        d.label
                    ),
                ));
                continue;
            }
        }
        let load = month_hours.get(&p.id).copied().unwrap_or(0.0);
        if let Some(cap) = p.labour.monthly_cap_hours()
            && load + cover_hours > f64::from(cap) + 1e-6
        {
            excluded.push((
                p.id.clone(),
                format!(
                    "monthly cap: {load:.1} h + {cover_hours:.1} h would exceed {cap} h (rule 5)"
                ),
            ));
            continue;
        }
        let base = p.base.or_else(|| {
            net.institution(&p.home_institution)
                .and_then(|i| i.location)
        });
        let km = match (base, target) {
            (Some(b), Some(t)) => b.distance_km(&t),
            _ => f64::INFINITY,
        };
        let dist = if km.is_finite() {
            format!("{km:.1} km from base")
        } else {
            "distance unknown".to_string()
        };
        ok.push((
            km,
            load,
            p.id.clone(),
            format!(
                "{dist}; {load:.1} h of duty this month; qualified, not absent, no overlapping duty, rest and monthly cap kept"
            ),
        ));
    }
    ok.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut offers = Vec::new();
    for (i, (_, _, staff, reason)) in ok.into_iter().enumerate() {
        if i < max_offers {
            offers.push(NewOffer {
                staff,
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                reason,
            });
        } else {
            excluded.push((
                staff,
                format!(
                    "ranked {} of the eligible, after the {max_offers} offered",
                    i + 1
                ),
            ));
        }
    }
    Ok(Ranking { offers, excluded })
}
