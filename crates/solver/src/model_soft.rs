//! The soft families of the model (each a cost in the objective, never a
//! refusal): ideal headcount, fairness, requests, distance, the backup
//! hospitals' limits, nights beyond a person's wish, and stability.

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use touban_domain::RequestKind;

use crate::instance::History;
use crate::lin::{Lin, Var};
use crate::model::Model;
use crate::soft::{fair_band, pools, travel_excess};

impl Model<'_, '_> {
    /// Per person below a shift's ideal (and, where a per-date override
    /// prices it, per person above).
    pub(crate) fn soft_ideal_headcount(&mut self, part: &[usize]) {
        let default = self.inst.net.weights.ideal_headcount;
        for &s in part {
            let info = &self.inst.shifts[s];
            let (ideal, w, over_w) = (
                f64::from(info.ideal),
                info.under_weight.unwrap_or(default),
                info.over_weight,
            );
            let n = Self::sum(self.x[s].iter().map(|e| e.1));
            let short = self.slack();
            self.at_least(short, ideal - n.clone());
            self.objective.soft.add_mul(w, short);
            if over_w > 0.0 && self.x[s].len() > usize::from(info.ideal) {
                let over = self.slack();
                self.at_least(over, n - ideal);
                self.objective.soft.add_mul(over_w, over);
            }
        }
    }

    /// Nights, holidays and year-end duty in proportion to FTE × availability
    /// within each profession, after what earlier months carried over.
    pub(crate) fn soft_fairness(&mut self, part: &[usize], history: &History) {
        let w = &self.inst.net.weights;
        let weights = [
            w.fairness_nights,
            w.fairness_holidays,
            w.fairness_year_end,
            w.fairness_shifts,
        ];
        let in_part: std::collections::HashSet<usize> = part.iter().copied().collect();
        for pool in pools(self.inst) {
            // A pool belongs to the part its members are in (parts are
            // groups of people who share shifts); a part of shifts nobody
            // can take carries no fairness cost, or the parts' objectives
            // would not add up to the checker's.
            if !pool.shifts.iter().any(|s| in_part.contains(s))
                || !pool
                    .members
                    .iter()
                    .any(|(p, _)| !self.by_person[*p].is_empty())
            {
                continue;
            }
            let mut count: HashMap<usize, Lin> = HashMap::new();
            for &s in &pool.shifts {
                for &(p, v) in &self.x[s] {
                    *count.entry(p).or_default() += v;
                }
            }
            for &(p, share) in &pool.members {
                let carry = history
                    .carry
                    .get(&self.inst.staff[p].id)
                    .map_or(0.0, |c| c[pool.category]);
                let (lo, hi) = fair_band(share, pool.total, carry);
                let mine = count.get(&p).cloned().unwrap_or_default();
                let dev = self.slack();
                self.at_least(dev, mine.clone() - hi);
                self.at_least(dev, lo - mine);
                self.objective.soft.add_mul(weights[pool.category], dev);
            }
        }
    }

    pub(crate) fn soft_requests(&mut self, first: bool) {
        let inst = self.inst;
        let w = inst.net.weights.requests;
        for r in inst.net.requests.iter().filter(|r| inst.contains(r.date)) {
            let Some(&p) = inst.staff_index.get(&r.staff) else {
                continue;
            };
            // Each person belongs to exactly one part; their requests too.
            let placed_anywhere = inst.candidates.iter().any(|c| c.contains(&p));
            if self.by_person[p].is_empty() && (placed_anywhere || !first) {
                continue;
            }
            let matching: Vec<Var> = self.by_person[p]
                .iter()
                .filter(|(s, _)| {
                    let sh = &inst.shifts[*s].shift;
                    sh.date == r.date && r.service.as_ref().is_none_or(|sv| &sh.service == sv)
                })
                .map(|e| e.1)
                .collect();
            let cost = w * f64::from(r.weight);
            let z = self.slack();
            match r.kind {
                RequestKind::Off => {
                    for v in matching {
                        self.at_least(z, Lin::from(v));
                    }
                }
                RequestKind::On => self.at_least(z, 1.0 - Self::sum(matching)),
            }
            self.objective.soft.add_mul(cost, z);
        }
    }

    pub(crate) fn soft_distance(&mut self) {
        let w = self.inst.net.weights.distance / 10.0;
        for (s, cands) in self.x.iter().enumerate() {
            for &(p, v) in cands {
                let e = travel_excess(self.inst, p, s);
                if e > 0.0 {
                    self.objective.soft.add_mul(w * e, v);
                }
            }
        }
    }

    /// At most one 宿直 a week and one 日直 a month at a backup hospital.
    pub(crate) fn soft_backup_hospital_limits(&mut self) {
        let w = self.inst.net.weights.backup_hospital_limits;
        for p in 0..self.by_person.len() {
            let mine = self.by_person[p].clone();
            let mut weeks: BTreeMap<(i32, u32), Vec<Var>> = BTreeMap::new();
            let mut days = Vec::new();
            for (s, v) in mine {
                let info = &self.inst.shifts[s];
                if info.backup_night {
                    let wk = info.shift.date.iso_week();
                    weeks.entry((wk.year(), wk.week())).or_default().push(v);
                } else if info.backup_day {
                    days.push(v);
                }
            }
            for group in weeks
                .into_values()
                .chain(std::iter::once(days))
                .filter(|g| g.len() > 1)
            {
                let over = self.slack();
                self.at_least(over, Self::sum(group) - 1.0);
                self.objective.soft.add_mul(w, over);
            }
        }
    }

    pub(crate) fn soft_max_nights(&mut self) {
        let w = self.inst.net.weights.max_nights;
        for p in 0..self.by_person.len() {
            let Some(max) = self.inst.staff[p].labour.max_nights_per_month else {
                continue;
            };
            let nights: Vec<Var> = self.by_person[p]
                .iter()
                .filter(|(s, _)| self.inst.shifts[*s].night)
                .map(|e| e.1)
                .collect();
            if nights.len() <= usize::from(max) {
                continue;
            }
            let over = self.slack();
            self.at_least(over, Self::sum(nights) - f64::from(max));
            self.objective.soft.add_mul(w, over);
        }
    }

    /// Repair: each assignment of the previous version that is dropped is
    /// a change, and so is each person added to a shift, except on a shift
    /// that lost someone who can no longer take it (absent, retired, no
    /// longer eligible): filling that gap is what the repair is for. Adding
    /// a second person to an untouched night only because the ideal
    /// headcount prices it would surprise both that person and the
    /// coordinator.
    pub(crate) fn soft_stability(&mut self, history: &History) {
        let Some(prev) = &history.previous else {
            return;
        };
        let mut kept = std::collections::HashSet::new();
        let mut lost = vec![false; self.inst.shifts.len()];
        for a in prev {
            let Some(&s) = self.inst.shift_index.get(&a.shift) else {
                continue;
            };
            if !self.in_part[s] {
                continue;
            }
            let here = self
                .inst
                .staff_index
                .get(&a.staff)
                .and_then(|&p| self.x[s].iter().find(|e| e.0 == p).map(|e| (p, e.1)));
            match here {
                Some((p, v)) => {
                    self.objective.changes += 1.0 - Lin::from(v);
                    kept.insert((s, p));
                }
                None => {
                    self.objective.changes += 1.0;
                    lost[s] = true;
                }
            }
        }
        for (s, cands) in self.x.iter().enumerate() {
            if !self.in_part[s] || lost[s] {
                continue;
            }
            for &(p, v) in cands {
                if !kept.contains(&(s, p)) {
                    self.objective.changes += v;
                }
            }
        }
    }
}
