//! Soft rules: their targets (fair shares, travel) and the checker's
//! evaluation of their cost. The model encodes the same costs as linear
//! terms; tests compare the two.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Datelike;
use serde::Serialize;
use touban_domain::{Assignment, Profession, RequestKind};

use crate::instance::{History, Instance, ShiftInfo};

/// The cost of one soft rule family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftCost {
    pub family: &'static str,
    pub label_ja: &'static str,
    pub cost: f64,
    /// How many times the rule was bent (people, shifts, requests…).
    pub count: usize,
}

pub const FAIRNESS: [(&str, &str); 4] = [
    ("fairness_nights", "夜間の公平"),
    ("fairness_holidays", "休日の公平"),
    ("fairness_year_end", "年末年始の公平"),
    ("fairness_shifts", "当番回数の公平"),
];

/// Fairness categories: nights, holidays, year-end, all duties.
pub const CATEGORIES: usize = FAIRNESS.len();

/// Which fairness categories a shift falls in: nights, holidays, year-end,
/// and every shift in the last.
pub fn in_category(info: &ShiftInfo, c: usize) -> bool {
    match c {
        0 => info.night,
        1 => info.holiday_like(),
        2 => info.year_end(),
        _ => true,
    }
}

/// A pool of comparable staff for one fairness category: people of one
/// profession who could take at least one shift of that category, each with
/// their share of the pool's duties.
///
/// Shares are equal per FTE, scaled by the part of the month a person is
/// available (days on which they could take a shift of the pool), and
/// lowered only for people who cannot take that many (water-filling): the
/// duties they cannot take are shared out among the others, again equally
/// per FTE. Someone who may work at two institutions is candidate for twice
/// the shifts but is not given twice the target.
#[derive(Debug, Clone)]
pub struct Pool {
    pub category: usize,
    pub profession: Profession,
    pub shifts: Vec<usize>,
    pub members: Vec<(usize, f64)>,
    /// Members whose share was lowered to what they can take (fewer days
    /// they could work than their equal share).
    pub capped: BTreeSet<usize>,
    /// Duties to share out: the sum of the shifts' ideal headcounts.
    pub total: f64,
}

/// Water-filling: targets `min(level × weight, cap)` that add up to `total`
/// (or every cap, if the caps add up to less). Returns the targets and who
/// was held at their cap.
#[allow(clippy::cast_precision_loss)]
pub fn water_fill(
    total: f64,
    people: &[(usize, f64, f64)],
) -> (HashMap<usize, f64>, BTreeSet<usize>) {
    let mut order: Vec<&(usize, f64, f64)> = people.iter().filter(|p| p.1 > 0.0).collect();
    order.sort_by(|a, b| (a.2 / a.1).total_cmp(&(b.2 / b.1)).then(a.0.cmp(&b.0)));
    let mut left = total;
    let mut weight: f64 = order.iter().map(|p| p.1).sum();
    let mut targets = HashMap::new();
    let mut capped = BTreeSet::new();
    let mut i = 0;
    while i < order.len() {
        let (p, w, cap) = *order[i];
        let level = if weight > 0.0 { left / weight } else { 0.0 };
        if cap <= level * w + 1e-9 {
            targets.insert(p, cap);
            capped.insert(p);
            left -= cap;
            weight -= w;
            i += 1;
        } else {
            for &&(q, wq, _) in &order[i..] {
                targets.insert(q, level * wq);
            }
            break;
        }
    }
    for p in people.iter().filter(|p| p.1 <= 0.0) {
        targets.insert(p.0, 0.0);
    }
    (targets, capped)
}

pub fn pools(inst: &Instance<'_>) -> Vec<Pool> {
    let mut out = Vec::new();
    for c in 0..CATEGORIES {
        let professions: BTreeSet<Profession> =
            inst.net.services.iter().map(|s| s.profession).collect();
        for prof in professions {
            let shifts: Vec<usize> = (0..inst.shifts.len())
                .filter(|&s| in_category(&inst.shifts[s], c) && inst.service(s).profession == prof)
                .collect();
            if shifts.is_empty() {
                continue;
            }
            // Per person: the days on which they could take a shift of the
            // pool (their availability), and how many duties they can take
            // (their capacity): one a day, but at a backup hospital one 宿直
            // a week and one 日直 a month, as the rules of that duty ask.
            let mut days: HashMap<usize, BTreeSet<chrono::NaiveDate>> = HashMap::new();
            let mut free_days: HashMap<usize, BTreeSet<chrono::NaiveDate>> = HashMap::new();
            let mut weeks: HashMap<usize, BTreeSet<(i32, u32)>> = HashMap::new();
            let mut backup_day: HashSet<usize> = HashSet::new();
            let mut all_days = BTreeSet::new();
            for &s in &shifts {
                let info = &inst.shifts[s];
                all_days.insert(info.shift.date);
                for &p in &inst.candidates[s] {
                    days.entry(p).or_default().insert(info.shift.date);
                    if info.backup_night {
                        let w = info.shift.date.iso_week();
                        weeks.entry(p).or_default().insert((w.year(), w.week()));
                    } else if info.backup_day {
                        backup_day.insert(p);
                    } else {
                        free_days.entry(p).or_default().insert(info.shift.date);
                    }
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let capacity = |p: usize, available: usize| {
                let n = free_days.get(&p).map_or(0, BTreeSet::len)
                    + weeks.get(&p).map_or(0, BTreeSet::len)
                    + usize::from(backup_day.contains(&p));
                n.min(available) as f64
            };
            let total: f64 = shifts
                .iter()
                .map(|&s| f64::from(inst.shifts[s].ideal))
                .sum();
            if days.is_empty() || total <= 0.0 {
                continue;
            }
            #[allow(clippy::cast_precision_loss)]
            let people: Vec<(usize, f64, f64)> = days
                .iter()
                .map(|(&p, d)| {
                    let avail = d.len() as f64 / all_days.len() as f64;
                    (p, inst.staff[p].fte.get() * avail, capacity(p, d.len()))
                })
                .collect();
            let (targets, capped) = water_fill(total, &people);
            let mut members: Vec<(usize, f64)> =
                targets.into_iter().map(|(p, t)| (p, t / total)).collect();
            members.sort_by_key(|m| m.0);
            out.push(Pool {
                category: c,
                profession: prof,
                shifts,
                members,
                capped,
                total,
            });
        }
    }
    out
}

/// Drive time in minutes beyond a service's limit for a person, or 0.
pub fn travel_excess(inst: &Instance<'_>, p: usize, s: usize) -> f64 {
    let net = inst.net;
    let svc = inst.service(s);
    let Some(limit) = svc.max_travel_minutes else {
        return 0.0;
    };
    let person = inst.staff[p];
    let base = person.base.or_else(|| {
        net.institution(&person.home_institution)
            .and_then(|i| i.location)
    });
    let Some(base) = base else { return 0.0 };
    // The farthest place the responder may have to reach: the host, or each
    // municipality of the area.
    let targets: Vec<_> = match svc
        .host
        .as_ref()
        .and_then(|h| net.institution(h))
        .and_then(|i| i.location)
    {
        Some(loc) => vec![loc],
        None => svc
            .area
            .iter()
            .filter_map(|m| net.municipality(m))
            .filter_map(|m| m.location)
            .collect(),
    };
    let worst = targets
        .iter()
        .map(|t| net.travel.minutes(&base, t))
        .fold(0.0, f64::max);
    (worst - f64::from(limit)).max(0.0)
}

/// The fair band of a pool member: their share of the pool's duties, less
/// what they did above their share in earlier months, rounded down and up.
/// Anyone inside the band is treated fairly; each duty outside it costs.
pub fn fair_band(share: f64, total: f64, carry: f64) -> (f64, f64) {
    // A target is never negative, whatever was carried over.
    let t = (share * total - carry).max(0.0);
    ((t + 1e-9).floor(), (t - 1e-9).ceil())
}

/// The checker's evaluation of every soft rule.
#[allow(clippy::cast_precision_loss)]
pub fn soft_costs(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
) -> Vec<SoftCost> {
    let w = &inst.net.weights;
    let assigned: Vec<(usize, usize)> = assignments
        .iter()
        .filter_map(|a| {
            Some((
                *inst.shift_index.get(&a.shift)?,
                *inst.staff_index.get(&a.staff)?,
            ))
        })
        .collect();
    let mut out = Vec::new();

    let mut per_shift = vec![0usize; inst.shifts.len()];
    for &(s, _) in &assigned {
        per_shift[s] += 1;
    }
    let (mut short, mut short_cost) = (0usize, 0.0);
    for (i, &n) in inst.shifts.iter().zip(&per_shift) {
        let under = usize::from(i.ideal).saturating_sub(n);
        let over = n.saturating_sub(usize::from(i.ideal));
        short += under;
        short_cost += i.under_weight.unwrap_or(w.ideal_headcount) * under as f64;
        if i.over_weight > 0.0 {
            short += over;
            short_cost += i.over_weight * over as f64;
        }
    }
    out.push(SoftCost {
        family: "ideal_headcount",
        label_ja: "理想人数との差",
        cost: short_cost,
        count: short,
    });

    let fairness_w = [
        w.fairness_nights,
        w.fairness_holidays,
        w.fairness_year_end,
        w.fairness_shifts,
    ];
    let mut fair = [(0.0, 0usize); CATEGORIES];
    for pool in pools(inst) {
        let in_pool: HashSet<usize> = pool.shifts.iter().copied().collect();
        let mut count: HashMap<usize, f64> = HashMap::new();
        for &(s, p) in &assigned {
            if in_pool.contains(&s) {
                *count.entry(p).or_default() += 1.0;
            }
        }
        for &(p, share) in &pool.members {
            let carry = history
                .carry
                .get(&inst.staff[p].id)
                .map_or(0.0, |c| c[pool.category]);
            let (lo, hi) = fair_band(share, pool.total, carry);
            let n = count.get(&p).copied().unwrap_or(0.0);
            let dev = (n - hi).max(lo - n).max(0.0);
            fair[pool.category].0 += fairness_w[pool.category] * dev;
            if dev >= 1.0 {
                fair[pool.category].1 += 1;
            }
        }
    }
    for (c, (family, label)) in FAIRNESS.iter().enumerate() {
        out.push(SoftCost {
            family,
            label_ja: label,
            cost: fair[c].0,
            count: fair[c].1,
        });
    }

    let (mut req_cost, mut req_n) = (0.0, 0);
    for r in &inst.net.requests {
        let Some(&p) = inst.staff_index.get(&r.staff) else {
            continue;
        };
        let works = assigned.iter().any(|&(s, q)| {
            q == p
                && inst.shifts[s].shift.date == r.date
                && r.service
                    .as_ref()
                    .is_none_or(|sv| &inst.shifts[s].shift.service == sv)
        });
        if !inst.contains(r.date) {
            continue;
        }
        let unmet = match r.kind {
            RequestKind::Off => works,
            RequestKind::On => !works,
        };
        if unmet {
            req_cost += w.requests * f64::from(r.weight);
            req_n += 1;
        }
    }
    out.push(SoftCost {
        family: "requests",
        label_ja: "希望の不一致",
        cost: req_cost,
        count: req_n,
    });

    let excess: Vec<f64> = assigned
        .iter()
        .map(|&(s, p)| travel_excess(inst, p, s))
        .filter(|e| *e > 0.0)
        .collect();
    out.push(SoftCost {
        family: "distance",
        label_ja: "移動距離",
        cost: w.distance * excess.iter().sum::<f64>() / 10.0,
        count: excess.len(),
    });

    let mut backup_over = 0usize;
    let mut nights_over = 0usize;
    for p in 0..inst.staff.len() {
        let mine: Vec<&ShiftInfo> = assigned
            .iter()
            .filter(|a| a.1 == p)
            .map(|a| &inst.shifts[a.0])
            .collect();
        let mut weeks: HashMap<(i32, u32), usize> = HashMap::new();
        for i in mine.iter().filter(|i| i.backup_night) {
            let wk = i.shift.date.iso_week();
            *weeks.entry((wk.year(), wk.week())).or_default() += 1;
        }
        backup_over += weeks.values().map(|n| n.saturating_sub(1)).sum::<usize>();
        backup_over += mine
            .iter()
            .filter(|i| i.backup_day)
            .count()
            .saturating_sub(1);
        if let Some(max) = inst.staff[p].labour.max_nights_per_month {
            nights_over += mine
                .iter()
                .filter(|i| i.night)
                .count()
                .saturating_sub(usize::from(max));
        }
    }
    out.push(SoftCost {
        family: "backup_hospital_limits",
        label_ja: "後方支援病院の宿日直回数",
        cost: w.backup_hospital_limits * backup_over as f64,
        count: backup_over,
    });
    out.push(SoftCost {
        family: "max_nights",
        label_ja: "夜間回数の上限超過",
        cost: w.max_nights * nights_over as f64,
        count: nights_over,
    });

    let (mut rules_cost, mut rules_n) = (0.0, 0);
    for (_, b) in crate::rules::breaches(inst, assignments, history, None) {
        if let Some(w) = b.rule.weight {
            rules_cost += w * b.amount;
            rules_n += 1;
        }
    }
    out.push(SoftCost {
        family: "staff_rules",
        label_ja: "勤務ルール",
        cost: rules_cost,
        count: rules_n,
    });

    // Changes after a repair: previous assignments dropped, and people
    // added to a shift that lost nobody who can no longer take it (the
    // model's `soft_stability`).
    let changed = history.previous.as_ref().map_or(0, |prev| {
        type Key<'a> = (&'a touban_domain::ShiftKey, &'a touban_domain::StaffId);
        let now: HashSet<Key<'_>> = assignments.iter().map(|a| (&a.shift, &a.staff)).collect();
        let before: HashSet<Key<'_>> = prev.iter().map(|a| (&a.shift, &a.staff)).collect();
        let lost: HashSet<&touban_domain::ShiftKey> = prev
            .iter()
            .filter(|a| {
                inst.shift_index.get(&a.shift).is_some_and(|&s| {
                    !inst
                        .staff_index
                        .get(&a.staff)
                        .is_some_and(|p| inst.candidates[s].contains(p))
                })
            })
            .map(|a| &a.shift)
            .collect();
        let dropped = prev
            .iter()
            .filter(|a| {
                inst.shift_index.contains_key(&a.shift) && !now.contains(&(&a.shift, &a.staff))
            })
            .count();
        let added = assignments
            .iter()
            .filter(|a| {
                inst.shift_index.contains_key(&a.shift)
                    && !before.contains(&(&a.shift, &a.staff))
                    && !lost.contains(&a.shift)
            })
            .count();
        dropped + added
    });
    out.push(SoftCost {
        family: "stability",
        label_ja: "変更数",
        cost: w.stability * changed as f64,
        count: changed,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_fill_is_equal_per_weight_and_lowers_only_the_capped() {
        // Three people of weight 1, 30 duties: 10 each.
        let (t, capped) = water_fill(30.0, &[(0, 1.0, 31.0), (1, 1.0, 31.0), (2, 1.0, 31.0)]);
        assert!((0..3).all(|p| (t[&p] - 10.0).abs() < 1e-9), "{t:?}");
        assert!(capped.is_empty());
        // One can take only 4: the other two share the rest equally.
        let (t, capped) = water_fill(30.0, &[(0, 1.0, 4.0), (1, 1.0, 31.0), (2, 1.0, 31.0)]);
        assert_eq!(t[&0], 4.0);
        assert!(
            (t[&1] - 13.0).abs() < 1e-9 && (t[&2] - 13.0).abs() < 1e-9,
            "{t:?}"
        );
        assert_eq!(capped.into_iter().collect::<Vec<_>>(), [0]);
        // Half time: half the target.
        let (t, _) = water_fill(30.0, &[(0, 0.5, 31.0), (1, 1.0, 31.0)]);
        assert!(
            (t[&0] - 10.0).abs() < 1e-9 && (t[&1] - 20.0).abs() < 1e-9,
            "{t:?}"
        );
        // Caps below the total: everyone at their cap.
        let (t, capped) = water_fill(30.0, &[(0, 1.0, 5.0), (1, 1.0, 6.0)]);
        assert_eq!((t[&0], t[&1]), (5.0, 6.0));
        assert_eq!(capped.len(), 2);
    }

    #[test]
    fn targets_are_never_negative() {
        assert_eq!(fair_band(0.1, 10.0, 5.0), (0.0, 0.0));
    }
}
