//! A construction heuristic: shifts with the fewest candidates first, each
//! slot up to the minimum given to the least-loaded candidate that breaks no
//! hard rule given what is already placed. Used when HiGHS returns no
//! solution within its time limit, so that a month always gets a rota.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use touban_domain::RestPolicy;

use crate::check::rest_needed;
use crate::instance::{History, Instance, ShiftInfo};

/// What one person already carries in the partial rota.
#[derive(Debug, Default, Clone)]
struct Load {
    shifts: Vec<usize>,
    counted_hours: f64,
    busy_days: BTreeSet<NaiveDate>,
    nurse_nights: BTreeSet<NaiveDate>,
}

fn conflicts(a: &ShiftInfo, b: &ShiftInfo, rest: bool) -> bool {
    if a.shift.overlaps(&b.shift) {
        return true;
    }
    if !rest {
        return false;
    }
    let (first, second) = if a.shift.start <= b.shift.start {
        (a, b)
    } else {
        (b, a)
    };
    rest_needed(first.counts, first.night).is_some_and(|need| {
        (second.counts || second.on_site) && second.shift.start < first.shift.end + need
    })
}

/// For each shift of `part`, the people placed on it.
pub fn construct(
    inst: &Instance<'_>,
    history: &History,
    part: &[usize],
) -> BTreeMap<usize, Vec<usize>> {
    let days = inst.month.days().count();
    let mut load: Vec<Load> = vec![Load::default(); inst.staff.len()];
    for d in &history.before {
        if let Some(&p) = inst.staff_index.get(&d.staff)
            && d.nurse_night
        {
            load[p].nurse_nights.insert(d.date);
        }
    }
    let mut order: Vec<usize> = part.to_vec();
    order.sort_by_key(|&s| (inst.candidates[s].len(), inst.shifts[s].shift.start));
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for s in order {
        let info = &inst.shifts[s];
        for _ in 0..info.min {
            let placed = out.get(&s).cloned().unwrap_or_default();
            let best = inst.candidates[s]
                .iter()
                .copied()
                .filter(|p| !placed.contains(p))
                .filter(|&p| fits(inst, history, &load[p], p, s, days))
                .min_by(|&a, &b| {
                    let wa = load[a].shifts.len() as f64 / inst.staff[a].fte.get();
                    let wb = load[b].shifts.len() as f64 / inst.staff[b].fte.get();
                    wa.total_cmp(&wb)
                });
            let Some(p) = best else { break };
            let l = &mut load[p];
            l.shifts.push(s);
            if info.counts {
                l.counted_hours += info.hours();
            }
            l.busy_days
                .extend(info.dates().into_iter().filter(|d| inst.month.contains(*d)));
            if info.nurse_night {
                l.nurse_nights.insert(info.shift.date);
            }
            out.entry(s).or_default().push(p);
        }
    }
    out
}

fn fits(inst: &Instance<'_>, history: &History, l: &Load, p: usize, s: usize, days: usize) -> bool {
    let person = inst.staff[p];
    let info = &inst.shifts[s];
    let rest = person.labour.rest == RestPolicy::Enforced;
    if l.shifts
        .iter()
        .any(|&o| conflicts(&inst.shifts[o], info, rest))
    {
        return false;
    }
    if history
        .before
        .iter()
        .any(|d| d.staff == person.id && d.blocks(info, rest))
    {
        return false;
    }
    if info.counts {
        let h = l.counted_hours + info.hours();
        if person
            .labour
            .monthly_cap_hours()
            .is_some_and(|cap| h + history.extra(person) > f64::from(cap))
        {
            return false;
        }
        if person
            .labour
            .regime
            .annual_overtime_cap_hours()
            .is_some_and(|cap| history.hours_before(person) + h > f64::from(cap))
        {
            return false;
        }
    }
    if info.nurse_night {
        let d = info.shift.date;
        let has = |x: NaiveDate| x == d || l.nurse_nights.contains(&x);
        let one = Duration::days(1);
        if (has(d - one - one) && has(d - one))
            || (has(d - one) && has(d + one))
            || (has(d + one) && has(d + one + one))
        {
            return false;
        }
    }
    let mut busy = l.busy_days.clone();
    busy.extend(info.dates().into_iter().filter(|d| inst.month.contains(*d)));
    if busy.len() + usize::from(person.labour.min_days_off_per_month).min(days) > days {
        return false;
    }
    // Rule 7: no on-site duty while the attending partner is absent or on site.
    if info.on_site {
        for pair in &inst.net.attending_pairs {
            let other = if pair.primary == person.id {
                &pair.backup
            } else if pair.backup == person.id {
                &pair.primary
            } else {
                continue;
            };
            if inst
                .net
                .absences
                .iter()
                .any(|a| &a.staff == other && a.overlaps(info.shift.start, info.shift.end))
            {
                return false;
            }
        }
    }
    true
}
