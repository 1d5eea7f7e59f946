//! The MILP: binary x[p,s] only for eligible (person, shift) pairs; one
//! function per constraint family, hard and soft apart (the soft ones in
//! `model_soft.rs`, the coordinators' rules in `model_rules.rs`). Every hard rule but
//! coverage is met by assigning nobody, and coverage has a slack with a very
//! high cost, so the model is always feasible: an impossible month still
//! yields the best rota, with its shortfalls to explain.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use touban_domain::RestPolicy;

use crate::instance::{History, Instance, touched_dates};
use crate::lin::{Columns, Lin, Rows, Var};

/// Cost of one person missing from a shift's minimum: far above any sum of
/// soft costs, so coverage always comes first.
pub const UNDER_COST: f64 = 10_000.0;

/// The objective split by family, so that repairs can optimise them in order
/// and reports can show each.
#[derive(Debug, Default, Clone)]
pub struct Objective {
    /// Person-slots below the minimum (rule 1).
    pub under: Lin,
    /// Assignments of the previous version dropped (repair only).
    pub changes: Lin,
    /// Every other soft rule, weighted.
    pub soft: Lin,
    /// Units by which hard lower limits set by coordinators are broken
    /// (and pinned duties dropped, `PIN_WEIGHT` each): priced like unfilled
    /// places, reported by the checker. Hard upper limits are constraints.
    pub breach: Lin,
}

pub struct Model<'i, 'n> {
    pub inst: &'i Instance<'n>,
    pub vars: Columns,
    /// x[s] = (person, column) for each candidate of shift s.
    pub x: Vec<Vec<(usize, Var)>>,
    /// For each person, (shift, column).
    pub by_person: Vec<Vec<(usize, Var)>>,
    pub under: Vec<Var>,
    /// Which shifts this model covers.
    pub in_part: Vec<bool>,
    /// Every row: the constraints and the definitions.
    pub rows: Rows,
    /// Every auxiliary column with the rows that define it (`e - v ≤ -c`,
    /// v first, for `v ≥ e + c` with e in columns defined earlier; see
    /// [`Model::definition`]): its least feasible value is the largest of
    /// those lower bounds and 0. This is what turns an assignment into a
    /// complete MIP start; least values meet these rows by construction.
    pub defs: Vec<(Var, usize)>,
    /// The slack of each hard lower limit of a person's own rules, and
    /// that person: what is still broken in a rota, and whose it is.
    pub shortfalls: Vec<(Var, usize)>,
    pub objective: Objective,
}

impl std::fmt::Debug for Model<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("variables", &self.x.iter().map(Vec::len).sum::<usize>())
            .field("rows", &self.rows.len())
            .field("nonzeros", &self.rows.nonzeros())
            .finish_non_exhaustive()
    }
}

impl<'i, 'n> Model<'i, 'n> {
    /// Builds the model for the shifts in `part` (all shifts when solving the
    /// month in one piece).
    /// `first` marks the part that also carries costs of people who can take
    /// no shift at all (an "on" request of someone absent all month).
    pub fn build(inst: &'i Instance<'n>, history: &History, part: &[usize], first: bool) -> Self {
        let mut vars = Columns::default();
        let mut x = vec![Vec::new(); inst.shifts.len()];
        let mut by_person = vec![Vec::new(); inst.staff.len()];
        for &s in part {
            for &p in &inst.candidates[s] {
                let v = vars.binary();
                x[s].push((p, v));
                by_person[p].push((s, v));
            }
        }
        let under = part.iter().map(|_| vars.slack()).collect();
        let mut in_part = vec![false; inst.shifts.len()];
        for &s in part {
            in_part[s] = true;
        }
        let mut m = Self {
            inst,
            vars,
            x,
            by_person,
            under,
            in_part,
            rows: Rows::default(),
            shortfalls: Vec::new(),
            defs: Vec::new(),
            objective: Objective::default(),
        };
        m.hard_coverage(part);
        m.hard_clashes();
        m.hard_rest(history);
        m.hard_hours(history);
        m.hard_consecutive_nights(history);
        m.hard_days_off(history);
        m.hard_attending_pairs();
        m.soft_ideal_headcount(part);
        m.soft_fairness(part, history);
        m.soft_requests(first);
        m.soft_distance();
        m.soft_backup_hospital_limits();
        m.soft_max_nights();
        m.soft_stability(history);
        m.staff_rules(history, first);
        m.pinned();
        m
    }

    /// `v ≥ e`, recorded as part of v's definition.
    pub(crate) fn at_least(&mut self, v: Var, e: Lin) {
        // Written `e - v ≤ 0`, as HiGHS got it through good_lp before (its
        // search on the demo month is faster this way round).
        let row = self
            .rows
            .push_led(Some((v, -1.0)), e, f64::NEG_INFINITY, 0.0);
        self.defs.push((v, row));
    }

    /// Definition `k` as `v ≥ c + Σ terms`: (v, c, terms).
    pub fn definition(&self, k: usize) -> (Var, f64, impl Iterator<Item = (usize, f64)> + '_) {
        let (v, row) = self.defs[k];
        (v, -self.rows.upper[row], self.rows.row(row).skip(1))
    }

    /// `e ≤ rhs`.
    pub(crate) fn le(&mut self, e: Lin, rhs: f64) {
        self.rows.le(e, rhs);
    }

    /// A complete start vector for HiGHS from an assignment (every
    /// column's value): x as given, each auxiliary column at its least
    /// feasible value.
    pub fn start(&self, placed: &BTreeMap<usize, Vec<usize>>) -> Vec<f64> {
        let mut vals = vec![0.0; self.vars.len()];
        for (s, cands) in self.x.iter().enumerate() {
            for &(p, v) in cands {
                if placed.get(&s).is_some_and(|ps| ps.contains(&p)) {
                    vals[v.col()] = 1.0;
                }
            }
        }
        // Definitions come after those of the columns they use (a day
        // worked before the rule on days worked), so one pass in order
        // gives every auxiliary column its least value.
        for k in 0..self.defs.len() {
            let (v, c, terms) = self.definition(k);
            let lb = c + terms.map(|(i, a)| a * vals[i]).sum::<f64>();
            vals[v.col()] = vals[v.col()].max(lb);
        }
        vals
    }

    /// The value of `e` at an assignment, each auxiliary column at its
    /// least feasible value (what the solver's optimum gives it).
    pub fn least_value(&self, e: &Lin, placed: &BTreeMap<usize, Vec<usize>>) -> f64 {
        e.eval(&self.start(placed))
    }

    pub(crate) fn sum(vars: impl IntoIterator<Item = Var>) -> Lin {
        Lin::sum(vars)
    }

    // ── Hard rules ────────────────────────────────────────────────────

    /// Rule 1: at least `min` (or a costed shortfall) and at most `max`.
    fn hard_coverage(&mut self, part: &[usize]) {
        for (k, &s) in part.iter().enumerate() {
            let info = &self.inst.shifts[s];
            let n = Self::sum(self.x[s].iter().map(|e| e.1));
            let (min, max, under) = (f64::from(info.min), f64::from(info.max), self.under[k]);
            self.at_least(under, min - n.clone());
            self.le(n, max);
            self.objective.under += under;
        }
    }

    /// Rules 3 and 4 between candidate shifts: at most one of each clique
    /// of clashing shifts (see [`crate::clashes`]).
    fn hard_clashes(&mut self) {
        let inst = self.inst;
        for (p, mine) in self.by_person.iter().enumerate() {
            let rest = inst.staff[p].labour.rest == RestPolicy::Enforced;
            for clique in crate::clashes::cliques(inst, mine, rest) {
                self.rows.le(Lin::sum(clique), 1.0);
            }
        }
    }

    /// Rules 3 and 4 against duty done just before the month (between
    /// candidate shifts: [`Model::hard_clashes`]): overlap binds everyone,
    /// 9 h rest (18 h after a night) before the next duty that counts or is
    /// on site binds those it is enforced for.
    fn hard_rest(&mut self, history: &History) {
        let inst = self.inst;
        for (p, mine) in self.by_person.iter().enumerate() {
            let rest = inst.staff[p].labour.rest == RestPolicy::Enforced;
            for d in history
                .before
                .iter()
                .filter(|d| d.staff == inst.staff[p].id)
            {
                for &(s, v) in mine {
                    if d.blocks(&inst.shifts[s], rest) {
                        self.rows.le(Lin::from(v), 0.0);
                    }
                }
            }
        }
    }

    /// Rule 5: monthly and annual overtime caps on counted hours.
    fn hard_hours(&mut self, history: &History) {
        for (p, mine) in self.by_person.iter().enumerate() {
            let person = self.inst.staff[p];
            let mut hours = Lin::default();
            for &(s, v) in mine.iter().filter(|(s, _)| self.inst.shifts[*s].counts) {
                hours.add_mul(self.inst.shifts[s].hours(), v);
            }
            if let Some(cap) = person.labour.monthly_cap_hours() {
                let left = (f64::from(cap) - history.extra(person)).max(0.0);
                self.rows.le(hours.clone(), left);
            }
            if let Some(cap) = person.labour.regime.annual_overtime_cap_hours() {
                let left = (f64::from(cap) - history.hours_before(person)).max(0.0);
                self.rows.le(hours, left);
            }
        }
    }

    /// Rule 6: at most two visiting-nurse nights in a row, counting nights
    /// just before the month.
    fn hard_consecutive_nights(&mut self, history: &History) {
        let first = self.inst.first;
        for (p, mine) in self.by_person.iter().enumerate() {
            let mut by_date: BTreeMap<NaiveDate, Vec<Var>> = BTreeMap::new();
            for &(s, v) in mine
                .iter()
                .filter(|(s, _)| self.inst.shifts[*s].nurse_night)
            {
                by_date
                    .entry(self.inst.shifts[s].shift.date)
                    .or_default()
                    .push(v);
            }
            if by_date.is_empty() {
                continue;
            }
            let id = &self.inst.staff[p].id;
            let past: Vec<NaiveDate> = history
                .before
                .iter()
                .filter(|d| &d.staff == id && d.nurse_night)
                .map(|d| d.date)
                .collect();
            for start in (first - Duration::days(2))
                .iter_days()
                .take_while(|d| self.inst.contains(*d) || *d < first)
            {
                let window = [start, start + Duration::days(1), start + Duration::days(2)];
                let vars: Vec<Var> = window
                    .iter()
                    .flat_map(|d| by_date.get(d).cloned().unwrap_or_default())
                    .collect();
                if vars.is_empty() {
                    continue;
                }
                #[allow(clippy::cast_precision_loss)]
                let fixed = past.iter().filter(|d| window.contains(d)).count() as f64;
                self.rows.le(Lin::sum(vars), (2.0 - fixed).max(0.0));
            }
        }
    }

    /// Minimum days off: a day is busy if any duty touches it.
    fn hard_days_off(&mut self, history: &History) {
        let days = self.inst.days().count();
        for (p, mine) in self.by_person.iter().enumerate() {
            let person = self.inst.staff[p];
            let need = usize::from(person.labour.min_days_off_per_month).min(days);
            // Per day, the shifts touching it, grouped by the instant of
            // the person's shifts at which they run (each group a clique:
            // the day is worked iff one of them is taken, and one row per
            // group says so instead of one per shift).
            let mut touched: BTreeMap<NaiveDate, Vec<Vec<Var>>> = BTreeMap::new();
            for (_, at) in crate::clashes::running(self.inst, mine) {
                let mut per_day: BTreeMap<NaiveDate, Vec<Var>> = BTreeMap::new();
                for &(s, v) in &at {
                    for d in self.inst.shifts[s]
                        .dates()
                        .into_iter()
                        .filter(|d| self.inst.contains(*d))
                    {
                        per_day.entry(d).or_default().push(v);
                    }
                }
                for (d, mut group) in per_day {
                    group.sort_unstable();
                    touched.entry(d).or_default().push(group);
                }
            }
            if touched.len() + need <= days {
                continue; // cannot bind
            }
            let busy_before: std::collections::BTreeSet<NaiveDate> = history
                .before
                .iter()
                .filter(|d| d.staff == person.id)
                .flat_map(|d| touched_dates(d.start, d.end))
                .filter(|d| self.inst.contains(*d))
                .collect();
            let mut busy = Lin::default();
            for (d, vs) in touched {
                if busy_before.contains(&d) {
                    continue;
                }
                let y = self.vars.binary();
                for group in crate::clashes::undominated(vs) {
                    // at_least(), inlined: self.by_person is borrowed here.
                    let row = self.rows.push_led(
                        Some((y, -1.0)),
                        Lin::sum(group),
                        f64::NEG_INFINITY,
                        0.0,
                    );
                    self.defs.push((y, row));
                }
                busy += y;
            }
            #[allow(clippy::cast_precision_loss)]
            let limit = days as f64 - need as f64 - busy_before.len() as f64;
            self.rows.le(busy, limit.max(0.0));
        }
    }

    /// Rule 7: an attending pair is never unavailable at once: neither takes
    /// on-site duty while the other is absent or on site.
    fn hard_attending_pairs(&mut self) {
        let inst = self.inst;
        for pair in &inst.net.attending_pairs {
            let (Some(&a), Some(&b)) = (
                inst.staff_index.get(&pair.primary),
                inst.staff_index.get(&pair.backup),
            ) else {
                continue;
            };
            for (me, other) in [(a, b), (b, a)] {
                let other_id = &inst.staff[other].id;
                for &(s, v) in self.by_person[me]
                    .iter()
                    .filter(|(s, _)| inst.shifts[*s].on_site)
                {
                    let sh = &inst.shifts[s].shift;
                    if inst
                        .net
                        .absences
                        .iter()
                        .any(|x| &x.staff == other_id && x.overlaps(sh.start, sh.end))
                    {
                        self.rows.le(Lin::from(v), 0.0);
                    }
                }
            }
            for &(s1, v1) in self.by_person[a]
                .iter()
                .filter(|(s, _)| inst.shifts[*s].on_site)
            {
                for &(s2, v2) in self.by_person[b]
                    .iter()
                    .filter(|(s, _)| inst.shifts[*s].on_site)
                {
                    if inst.shifts[s1].shift.overlaps(&inst.shifts[s2].shift) {
                        self.rows.le(Lin::sum([v1, v2]), 1.0);
                    }
                }
            }
        }
    }

    // ── Soft rules ────────────────────────────────────────────────────

    pub(crate) fn slack(&mut self) -> Var {
        self.vars.slack()
    }
}
