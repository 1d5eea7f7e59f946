//! Each person's load in a version against their fair share: duties,
//! nights, holidays, year-end duties and counted hours, with the fair band
//! of each fairness category (the CLI's table, the web app's fairness page,
//! a cell's candidates and a person's page all show these).

use std::collections::HashMap;

use serde::Serialize;
use touban_domain::{Assignment, RequestKind};
use touban_solver::soft::{CATEGORIES, fair_band, pools};
use touban_solver::{History, Instance};

/// A fair band: anyone with a count inside it is treated fairly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    /// The target was lowered to the days the person can work (fewer than
    /// an equal share); the others share the rest.
    pub capped: bool,
}

impl Band {
    /// `3` or `2〜3`, with `*` when capped.
    pub fn label(&self) -> String {
        let mark = if self.capped { "*" } else { "" };
        if self.lo == self.hi {
            format!("{}{mark}", self.lo)
        } else {
            format!("{}〜{}{mark}", self.lo, self.hi)
        }
    }

    /// Whether `n` is inside the band.
    pub fn holds(&self, n: f64) -> bool {
        n >= self.lo - 1e-9 && n <= self.hi + 1e-9
    }

    /// `above` or `below` when `n` is outside the band.
    pub fn off(&self, n: f64) -> Option<&'static str> {
        if self.holds(n) {
            None
        } else if n > self.hi {
            Some("above")
        } else {
            Some("below")
        }
    }
}

/// One person's load in a version.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    /// Index in the instance's staff.
    #[serde(skip)]
    pub index: usize,
    pub staff: String,
    pub name: String,
    pub fte: f64,
    /// Counts in the fairness categories' order: nights, holidays,
    /// year-end, all duties.
    pub counts: [f64; CATEGORIES],
    /// Hours that count as working time.
    pub hours: f64,
    pub bands: [Option<Band>; CATEGORIES],
    /// Requests of the month met and not met.
    pub requests_met: usize,
    pub requests_unmet: usize,
}

impl Load {
    pub fn duties(&self) -> f64 {
        self.counts[3]
    }
}

/// Each pool member's fair band per category, by index in the instance.
fn bands_by_index(
    inst: &Instance<'_>,
    history: &History,
) -> HashMap<usize, [Option<Band>; CATEGORIES]> {
    let mut bands: HashMap<usize, [Option<Band>; CATEGORIES]> = HashMap::new();
    for pool in pools(inst) {
        for &(p, share) in &pool.members {
            let carry = history
                .carry
                .get(&inst.staff[p].id)
                .map_or(0.0, |c| c[pool.category]);
            let (lo, hi) = fair_band(share, pool.total, carry);
            bands.entry(p).or_default()[pool.category] = Some(Band {
                lo,
                hi,
                capped: pool.capped.contains(&p),
            });
        }
    }
    bands
}

/// Each person's fair band per category (nights, holidays, year-end, all
/// duties), by staff id. The bands depend on the network and the months
/// before, not on the version, so a caller may keep them while neither
/// changes.
pub fn bands(
    inst: &Instance<'_>,
    history: &History,
) -> HashMap<String, [Option<Band>; CATEGORIES]> {
    bands_by_index(inst, history)
        .into_iter()
        .map(|(p, b)| (inst.staff[p].id.to_string(), b))
        .collect()
}

/// Everyone's load: people with a duty or a fair share, in the network's
/// order.
pub fn loads(inst: &Instance<'_>, assignments: &[Assignment], history: &History) -> Vec<Load> {
    let mut counts: HashMap<usize, ([f64; CATEGORIES], f64)> = HashMap::new();
    let mut works: HashMap<(usize, chrono::NaiveDate), Vec<usize>> = HashMap::new();
    for a in assignments {
        let (Some(&si), Some(&p)) = (
            inst.shift_index.get(&a.shift),
            inst.staff_index.get(&a.staff),
        ) else {
            continue;
        };
        let info = &inst.shifts[si];
        let e = counts.entry(p).or_default();
        for (c, n) in e.0.iter_mut().enumerate() {
            *n += f64::from(u8::from(touban_solver::soft::in_category(info, c)));
        }
        if info.counts {
            e.1 += info.hours();
        }
        works.entry((p, info.shift.date)).or_default().push(si);
    }
    let bands = bands_by_index(inst, history);
    let mut met: HashMap<usize, (usize, usize)> = HashMap::new();
    for r in &inst.net.requests {
        let Some(&p) = inst.staff_index.get(&r.staff) else {
            continue;
        };
        if !inst.month.contains(r.date) {
            continue;
        }
        let working = works.get(&(p, r.date)).is_some_and(|ss| {
            ss.iter().any(|&s| {
                r.service
                    .as_ref()
                    .is_none_or(|sv| &inst.shifts[s].shift.service == sv)
            })
        });
        let ok = match r.kind {
            RequestKind::Off => !working,
            RequestKind::On => working,
        };
        let e = met.entry(p).or_default();
        if ok {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    inst.staff
        .iter()
        .enumerate()
        .filter(|(p, _)| counts.contains_key(p) || bands.contains_key(p))
        .map(|(p, person)| {
            let (c, hours) = counts.get(&p).copied().unwrap_or_default();
            let (requests_met, requests_unmet) = met.get(&p).copied().unwrap_or_default();
            Load {
                index: p,
                staff: person.id.to_string(),
                name: person.name.clone(),
                fte: person.fte.get(),
                counts: c,
                hours,
                bands: bands.get(&p).copied().unwrap_or_default(),
                requests_met,
                requests_unmet,
            }
        })
        .collect()
}
