//! The MILP: binary x[p,s] only for eligible (person, shift) pairs; one
//! function per constraint family, hard and soft apart. Every hard rule but
//! coverage is met by assigning nobody, and coverage has a slack with a very
//! high cost, so the model is always feasible: an impossible month still
//! yields the best rota, with its shortfalls to explain.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use good_lp::{Constraint, Expression, ProblemVariables, Variable, constraint, variable};
use touban_domain::{RequestKind, RestPolicy};

use crate::check::rest_needed;
use crate::instance::{History, Instance, touched_dates};
use crate::soft::{fair_band, pools, travel_excess};

/// Cost of one person missing from a shift's minimum: far above any sum of
/// soft costs, so coverage always comes first.
pub const UNDER_COST: f64 = 10_000.0;

/// The objective split by family, so that repairs can optimise them in order
/// and reports can show each.
#[derive(Debug, Default, Clone)]
pub struct Objective {
    /// Person-slots below the minimum (rule 1).
    pub under: Expression,
    /// Assignments of the previous version dropped (repair only).
    pub changes: Expression,
    /// Every other soft rule, weighted.
    pub soft: Expression,
    /// Units by which hard lower limits set by coordinators are broken
    /// (and pinned duties dropped, `PIN_WEIGHT` each): priced like unfilled
    /// places, reported by the checker. Hard upper limits are constraints.
    pub breach: Expression,
}

/// Variable values, for evaluating expressions.
struct Vals(HashMap<Variable, f64>);

impl good_lp::Solution for Vals {
    fn status(&self) -> good_lp::SolutionStatus {
        good_lp::SolutionStatus::Optimal
    }
    fn value(&self, v: Variable) -> f64 {
        self.0.get(&v).copied().unwrap_or(0.0)
    }
}

pub struct Model<'i, 'n> {
    pub inst: &'i Instance<'n>,
    pub vars: ProblemVariables,
    /// x[s] = (person, variable) for each candidate of shift s.
    pub x: Vec<Vec<(usize, Variable)>>,
    /// For each person, (shift, variable).
    pub by_person: Vec<Vec<(usize, Variable)>>,
    pub under: Vec<Variable>,
    /// Which shifts this model covers.
    pub in_part: Vec<bool>,
    pub constraints: Vec<Constraint>,
    /// Every auxiliary variable with the affine lower bounds (in x alone)
    /// that define it: its least feasible value is the largest of them and 0.
    /// This is what turns an assignment into a complete MIP start.
    pub defs: Vec<(Variable, Expression)>,
    /// Indices in `constraints` of the rows that are definitions (`v ≥ e`
    /// of `defs`): least values meet them by construction.
    pub definitions: Vec<usize>,
    /// The slack of each hard lower limit of a person's own rules, and
    /// that person: what is still broken in a rota, and whose it is.
    pub shortfalls: Vec<(Variable, usize)>,
    /// Each variable's column in the HiGHS model (creation order).
    pub column: HashMap<Variable, usize>,
    pub objective: Objective,
}

/// Adds a variable, recording its column: good_lp numbers columns in the
/// order variables are created, but does not expose the number.
pub(crate) fn add(
    vars: &mut ProblemVariables,
    column: &mut HashMap<Variable, usize>,
    def: good_lp::VariableDefinition,
) -> Variable {
    let index = vars.len();
    let v = vars.add(def);
    column.insert(v, index);
    v
}

impl std::fmt::Debug for Model<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("variables", &self.x.iter().map(Vec::len).sum::<usize>())
            .field("constraints", &self.constraints.len())
            .finish_non_exhaustive()
    }
}

impl<'i, 'n> Model<'i, 'n> {
    /// Builds the model for the shifts in `part` (all shifts when solving the
    /// month in one piece).
    /// `first` marks the part that also carries costs of people who can take
    /// no shift at all (an "on" request of someone absent all month).
    pub fn build(inst: &'i Instance<'n>, history: &History, part: &[usize], first: bool) -> Self {
        let mut vars = ProblemVariables::new();
        let mut column = HashMap::new();
        let mut x = vec![Vec::new(); inst.shifts.len()];
        let mut by_person = vec![Vec::new(); inst.staff.len()];
        for &s in part {
            for &p in &inst.candidates[s] {
                let v = add(&mut vars, &mut column, variable().binary());
                x[s].push((p, v));
                by_person[p].push((s, v));
            }
        }
        let under = part
            .iter()
            .map(|_| add(&mut vars, &mut column, variable().min(0)))
            .collect();
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
            constraints: Vec::new(),
            definitions: Vec::new(),
            shortfalls: Vec::new(),
            defs: Vec::new(),
            column,
            objective: Objective::default(),
        };
        m.hard_coverage(part);
        m.hard_no_overlap();
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
    pub(crate) fn at_least(&mut self, v: Variable, e: Expression) {
        self.definitions.push(self.constraints.len());
        self.constraints.push(constraint!(v >= e.clone()));
        self.defs.push((v, e));
    }

    /// A complete start vector for HiGHS from an assignment: x as given, each
    /// auxiliary variable at its least feasible value.
    pub fn start(
        &self,
        placed: &std::collections::BTreeMap<usize, Vec<usize>>,
    ) -> Vec<(Variable, f64)> {
        let mut vals = HashMap::new();
        for (s, cands) in self.x.iter().enumerate() {
            for &(p, v) in cands {
                let on = placed.get(&s).is_some_and(|ps| ps.contains(&p));
                vals.insert(v, if on { 1.0 } else { 0.0 });
            }
        }
        // Definitions come after those of the variables they use (a day
        // worked before the rule on days worked), so one pass in order
        // gives every auxiliary variable its least value.
        let mut all = Vals(vals);
        for (v, e) in &self.defs {
            let lb = e.eval_with(&all).max(0.0);
            let entry = all.0.entry(*v).or_insert(0.0);
            *entry = entry.max(lb);
        }
        all.0.into_iter().collect()
    }

    /// The value of `e` at an assignment, each auxiliary variable at its
    /// least feasible value (what the solver's optimum gives it).
    pub fn least_value(&self, e: &Expression, placed: &BTreeMap<usize, Vec<usize>>) -> f64 {
        e.eval_with(&Vals(self.start(placed).into_iter().collect()))
    }

    pub(crate) fn sum(vars: impl IntoIterator<Item = Variable>) -> Expression {
        vars.into_iter().map(Expression::from).sum()
    }

    // ── Hard rules ────────────────────────────────────────────────────

    /// Rule 1: at least `min` (or a costed shortfall) and at most `max`.
    fn hard_coverage(&mut self, part: &[usize]) {
        for (k, &s) in part.iter().enumerate() {
            let info = &self.inst.shifts[s];
            let n = Self::sum(self.x[s].iter().map(|e| e.1));
            let (min, max, under) = (f64::from(info.min), f64::from(info.max), self.under[k]);
            self.at_least(under, min - n.clone());
            self.constraints.push(constraint!(n <= max));
            self.objective.under += under;
        }
    }

    /// Rule 3: nobody on two overlapping shifts. Two intervals overlap iff the
    /// later one's start lies in both, so one clique per start instant.
    fn hard_no_overlap(&mut self) {
        for mine in &self.by_person {
            for &(s, _) in mine {
                let t = self.inst.shifts[s].shift.start;
                let clique: Vec<Variable> = mine
                    .iter()
                    .filter(|(o, _)| {
                        let sh = &self.inst.shifts[*o].shift;
                        sh.start <= t && t < sh.end
                    })
                    .map(|e| e.1)
                    .collect();
                if clique.len() > 1 {
                    self.constraints.push(constraint!(Self::sum(clique) <= 1));
                }
            }
        }
    }

    /// Rule 4: after duty that counts as work, 9 h rest (18 h after a night)
    /// before the next duty that counts or is on site. Also against duty done
    /// just before the month.
    fn hard_rest(&mut self, history: &History) {
        let inst = self.inst;
        for (p, mine) in self.by_person.iter().enumerate() {
            let rest = inst.staff[p].labour.rest == RestPolicy::Enforced;
            // Duty at the end of the previous month: overlap binds everyone,
            // rest only those it is enforced for.
            for d in history
                .before
                .iter()
                .filter(|d| d.staff == inst.staff[p].id)
            {
                for &(s, v) in mine {
                    if d.blocks(&inst.shifts[s], rest) {
                        self.constraints.push(constraint!(v <= 0));
                    }
                }
            }
            if !rest {
                continue;
            }
            for &(s1, v1) in mine {
                let a = &inst.shifts[s1];
                let Some(need) = rest_needed(a.counts, a.night) else {
                    continue;
                };
                for &(s2, v2) in mine {
                    let b = &inst.shifts[s2];
                    if (b.counts || b.on_site)
                        && b.shift.start >= a.shift.end
                        && b.shift.start < a.shift.end + need
                    {
                        self.constraints.push(constraint!(v1 + v2 <= 1));
                    }
                }
            }
        }
    }

    /// Rule 5: monthly and annual overtime caps on counted hours.
    fn hard_hours(&mut self, history: &History) {
        for (p, mine) in self.by_person.iter().enumerate() {
            let person = self.inst.staff[p];
            let mut hours = Expression::from(0);
            for &(s, v) in mine.iter().filter(|(s, _)| self.inst.shifts[*s].counts) {
                hours.add_mul(self.inst.shifts[s].hours(), v);
            }
            if let Some(cap) = person.labour.monthly_cap_hours() {
                let left = (f64::from(cap) - history.extra(person)).max(0.0);
                self.constraints.push(constraint!(hours.clone() <= left));
            }
            if let Some(cap) = person.labour.regime.annual_overtime_cap_hours() {
                let left = (f64::from(cap) - history.hours_before(person)).max(0.0);
                self.constraints.push(constraint!(hours <= left));
            }
        }
    }

    /// Rule 6: at most two visiting-nurse nights in a row, counting nights
    /// just before the month.
    fn hard_consecutive_nights(&mut self, history: &History) {
        let first = self.inst.first;
        for (p, mine) in self.by_person.iter().enumerate() {
            let mut by_date: BTreeMap<NaiveDate, Vec<Variable>> = BTreeMap::new();
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
                let vars: Vec<Variable> = window
                    .iter()
                    .flat_map(|d| by_date.get(d).cloned().unwrap_or_default())
                    .collect();
                if vars.is_empty() {
                    continue;
                }
                #[allow(clippy::cast_precision_loss)]
                let fixed = past.iter().filter(|d| window.contains(d)).count() as f64;
                self.constraints
                    .push(constraint!(Self::sum(vars) <= (2.0 - fixed).max(0.0)));
            }
        }
    }

    /// Minimum days off: a day is busy if any duty touches it.
    fn hard_days_off(&mut self, history: &History) {
        let days = self.inst.days().count();
        for (p, mine) in self.by_person.iter().enumerate() {
            let person = self.inst.staff[p];
            let need = usize::from(person.labour.min_days_off_per_month).min(days);
            let mut touched: BTreeMap<NaiveDate, Vec<Variable>> = BTreeMap::new();
            for &(s, v) in mine {
                for d in self.inst.shifts[s]
                    .dates()
                    .into_iter()
                    .filter(|d| self.inst.contains(*d))
                {
                    touched.entry(d).or_default().push(v);
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
            let mut busy = Expression::from(0);
            for (d, vs) in touched {
                if busy_before.contains(&d) {
                    continue;
                }
                let y = add(&mut self.vars, &mut self.column, variable().binary());
                for v in vs {
                    // at_least(), inlined: self.by_person is borrowed here.
                    self.definitions.push(self.constraints.len());
                    self.constraints.push(constraint!(y >= v));
                    self.defs.push((y, Expression::from(v)));
                }
                busy += y;
            }
            #[allow(clippy::cast_precision_loss)]
            let limit = days as f64 - need as f64 - busy_before.len() as f64;
            self.constraints.push(constraint!(busy <= limit.max(0.0)));
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
                        self.constraints.push(constraint!(v <= 0));
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
                        self.constraints.push(constraint!(v1 + v2 <= 1));
                    }
                }
            }
        }
    }

    // ── Soft rules ────────────────────────────────────────────────────

    pub(crate) fn slack(&mut self) -> Variable {
        add(&mut self.vars, &mut self.column, variable().min(0))
    }

    /// Per person below a shift's ideal (and, where a per-date override
    /// prices it, per person above).
    fn soft_ideal_headcount(&mut self, part: &[usize]) {
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
    fn soft_fairness(&mut self, part: &[usize], history: &History) {
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
            let mut count: HashMap<usize, Expression> = HashMap::new();
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

    fn soft_requests(&mut self, first: bool) {
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
            let matching: Vec<Variable> = self.by_person[p]
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
                        self.at_least(z, Expression::from(v));
                    }
                }
                RequestKind::On => self.at_least(z, 1 - Self::sum(matching)),
            }
            self.objective.soft.add_mul(cost, z);
        }
    }

    fn soft_distance(&mut self) {
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
    fn soft_backup_hospital_limits(&mut self) {
        let w = self.inst.net.weights.backup_hospital_limits;
        for p in 0..self.by_person.len() {
            let mine = self.by_person[p].clone();
            let mut weeks: BTreeMap<(i32, u32), Vec<Variable>> = BTreeMap::new();
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
                self.at_least(over, Self::sum(group) - 1);
                self.objective.soft.add_mul(w, over);
            }
        }
    }

    fn soft_max_nights(&mut self) {
        let w = self.inst.net.weights.max_nights;
        for p in 0..self.by_person.len() {
            let Some(max) = self.inst.staff[p].labour.max_nights_per_month else {
                continue;
            };
            let nights: Vec<Variable> = self.by_person[p]
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

    /// Repair: each assignment of the previous version that is dropped is a change.
    fn soft_stability(&mut self, history: &History) {
        let Some(prev) = &history.previous else {
            return;
        };
        for a in prev {
            let (Some(&s), Some(&p)) = (
                self.inst.shift_index.get(&a.shift),
                self.inst.staff_index.get(&a.staff),
            ) else {
                continue;
            };
            if !self.in_part[s] {
                continue;
            }
            match self.x[s].iter().find(|e| e.0 == p) {
                Some(&(_, v)) => self.objective.changes += 1 - Expression::from(v),
                None => self.objective.changes += 1,
            }
        }
    }
}
