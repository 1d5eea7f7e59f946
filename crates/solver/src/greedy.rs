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
    let days = inst.days().count();
    let mut load: Vec<Load> = vec![Load::default(); inst.staff.len()];
    for d in &history.before {
        if let Some(&p) = inst.staff_index.get(&d.staff)
            && d.nurse_night
        {
            load[p].nurse_nights.insert(d.date);
        }
    }
    let rules = crate::rules::in_force(inst);
    let in_part: std::collections::HashSet<usize> = part.iter().copied().collect();
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let place =
        |load: &mut Vec<Load>, out: &mut BTreeMap<usize, Vec<usize>>, p: usize, s: usize| {
            let info = &inst.shifts[s];
            let l = &mut load[p];
            l.shifts.push(s);
            if info.counts {
                l.counted_hours += info.hours();
            }
            l.busy_days
                .extend(info.dates().into_iter().filter(|d| inst.contains(*d)));
            if info.nurse_night {
                l.nurse_nights.insert(info.shift.date);
            }
            out.entry(s).or_default().push(p);
        };
    // Pinned duties first.
    for pin in &inst.net.pinned {
        if let (Some(&s), Some(&p)) = (
            inst.shift_index.get(&pin.shift),
            inst.staff_index.get(&pin.staff),
        ) && in_part.contains(&s)
            && inst.candidates[s].contains(&p)
            && !out.get(&s).is_some_and(|v| v.contains(&p))
            && fits(inst, history, &load[p], p, s, days)
            && keeps_rules(inst, history, &rules[p], &load[p], p, s)
        {
            place(&mut load, &mut out, p, s);
        }
    }
    let mut order: Vec<usize> = part.to_vec();
    order.sort_by_key(|&s| (inst.candidates[s].len(), inst.shifts[s].shift.start));
    for s in order {
        let info = &inst.shifts[s];
        let already = out.get(&s).map_or(0, Vec::len);
        for _ in already..usize::from(info.min) {
            let placed = out.get(&s).cloned().unwrap_or_default();
            let best = inst.candidates[s]
                .iter()
                .copied()
                .filter(|p| !placed.contains(p))
                .filter(|&p| fits(inst, history, &load[p], p, s, days))
                .filter(|&p| keeps_rules(inst, history, &rules[p], &load[p], p, s))
                .min_by(|&a, &b| {
                    let wa = load[a].shifts.len() as f64 / inst.staff[a].fte.get();
                    let wb = load[b].shifts.len() as f64 / inst.staff[b].fte.get();
                    wa.total_cmp(&wb)
                });
            let Some(p) = best else { break };
            place(&mut load, &mut out, p, s);
        }
    }
    out
}

/// Whether adding shift `s` breaks none of the person's hard rules that
/// an added duty can break (upper limits: counts, hours, weekends,
/// consecutive days, successions) more than they already are.
fn keeps_rules(
    inst: &Instance<'_>,
    history: &History,
    rules: &[&touban_domain::StaffRule],
    l: &Load,
    p: usize,
    s: usize,
) -> bool {
    use crate::rules::{Count, DutyRef, fixed_duties, person};
    let hard: Vec<&touban_domain::StaffRule> = rules
        .iter()
        .copied()
        .filter(|r| r.weight.is_none() && !r.limit.is_lower())
        .collect();
    if hard.is_empty() {
        return true;
    }
    let mut duties: Vec<(DutyRef, f64)> = l
        .shifts
        .iter()
        .map(|&o| (DutyRef::of_shift(&inst.shifts[o]), 1.0))
        .collect();
    duties
        .extend(fixed_duties(history, &inst.staff[p].id).map(|d| (DutyRef::of_past(inst, d), 1.0)));
    let amount = |duties: &[(DutyRef, f64)]| {
        let mut c = Count::default();
        person(&mut c, inst, &hard, duties);
        c.found.iter().map(|b| b.amount).sum::<f64>()
    };
    let before = amount(&duties);
    duties.push((DutyRef::of_shift(&inst.shifts[s]), 1.0));
    amount(&duties) <= before + 1e-9
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
    busy.extend(info.dates().into_iter().filter(|d| inst.contains(*d)));
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
