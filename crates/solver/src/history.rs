//! Building a month's [`History`] from earlier rotas: duty in the last days
//! of the previous month (rest and consecutive nights cross the boundary),
//! hours already worked this year (overtime caps), and how far each person
//! was above or below their fair share of nights, holidays and year-end duty
//! (the fairness ledger, carried over).

use std::collections::HashMap;

use chrono::Duration;
use touban_domain::{Month, Network, Rota};

use crate::instance::{History, Instance, PastDuty};
use crate::soft::{CATEGORIES, in_category, pools};

impl History {
    /// `earlier` are the rotas of months before `month` (one version each,
    /// normally the published one), in any order.
    pub fn from_rotas(net: &Network, month: Month, earlier: &[Rota]) -> Self {
        let mut h = History::default();
        let first = month.first_day();
        let year_start = net.region.overtime_year_of(month);
        for rota in earlier.iter().filter(|r| r.month < month) {
            let inst = Instance::new(net, rota.month);
            let mut count: HashMap<(usize, usize), f64> = HashMap::new();
            for a in &rota.assignments {
                let (Some(&s), Some(&p)) = (
                    inst.shift_index.get(&a.shift),
                    inst.staff_index.get(&a.staff),
                ) else {
                    continue;
                };
                let info = &inst.shifts[s];
                if rota.month >= year_start && info.counts {
                    *h.hours_this_year.entry(a.staff.clone()).or_default() += info.hours();
                }
                if rota.month == month.prev() && info.shift.date >= first - Duration::days(3) {
                    h.before.push(PastDuty::of(a.staff.clone(), info));
                }
                for c in 0..CATEGORIES {
                    if in_category(info, c) {
                        *count.entry((p, c)).or_default() += 1.0;
                    }
                }
            }
            // Only the last twelve months count towards fairness.
            if (month.year - rota.month.year) * 12 + i32::try_from(month.month).unwrap_or(0)
                - i32::try_from(rota.month.month).unwrap_or(0)
                > 12
            {
                continue;
            }
            for pool in pools(&inst) {
                let done: f64 = pool
                    .members
                    .iter()
                    .map(|(p, _)| count.get(&(*p, pool.category)).copied().unwrap_or(0.0))
                    .sum();
                for &(p, share) in &pool.members {
                    let mine = count.get(&(p, pool.category)).copied().unwrap_or(0.0);
                    h.carry
                        .entry(inst.staff[p].id.clone())
                        .or_insert([0.0; CATEGORIES])[pool.category] += mine - share * done;
                }
            }
        }
        h
    }
}
