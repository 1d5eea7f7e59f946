//! One person's duties over the whole horizon, chosen at once by dynamic
//! programming: the annealer's row move ([`super::anneal`]).
//!
//! Given everyone else's duties, each shift the person could take has a
//! cost of its own: what their taking it changes in the headcount's costs
//! (a place filled, a place above its ideal), their requests, and the
//! column's own cost (distance). The person's hard rules that shape a row
//! — most and fewest days worked in a row, fewest days off in a row, most
//! weekends, least and most hours over the rota, most duties of a kind,
//! 当直明け and forbidden successions — are kept by the DP. Whatever it
//! does not follow (weekly limits, counts of weekend or holiday duties,
//! fairness, the labour law's rules, soft rules) is scored, like every
//! move, by the part's own model, which keeps or undoes the row: the DP
//! only proposes.
//!
//! A row works the shifts of one *palette*: kinds of one length that may
//! follow one another in any order. The state after a day is (working or
//! off, the length of the current run, whether its minimum is met) and,
//! when the hours or counts bound it, the number of days worked so far.
//! Runs touching the first or the last day are exempt from minimums, as
//! the rules count them. The weekend limit is met by closing the least
//! useful weekends. The days worked are then given the palette's kinds,
//! the day with most to lose first, each its cheapest kind within the
//! limits on counts.

use chrono::{Datelike, Duration, Weekday};
use touban_domain::{Duties, Limit, Period, RequestKind, ServiceId, rules_for};

use crate::instance::Instance;
use crate::model::{Model, UNDER_COST};
use crate::rules::DutyRef;

mod runs;
use runs::days_worked;

/// Palettes tried per row beyond the first that gives one: the most
/// promising first (the largest gain from their cheapest days).
const PALETTES: usize = 4;

/// A day's requests of one person: (service, cost of working a matching
/// shift).
type DayRequests = Vec<(Option<ServiceId>, f64)>;
/// Per kind of a palette, per day: its cost, if open.
type Costs = Vec<Vec<Option<f64>>>;

/// A part shift's headcount costs.
#[derive(Debug, Clone, Copy)]
struct Cover {
    min: usize,
    ideal: usize,
    max: usize,
    under: f64,
    over: f64,
}

/// What one person's row must keep, as far as the DP follows it.
#[derive(Debug, Clone, Default)]
struct Spec {
    max_run: Option<usize>,
    min_run: usize,
    min_off: usize,
    max_weekends: Option<usize>,
    /// Least and most hours over the rota.
    hours: (f64, f64),
    /// Upper limits on counts: the kinds counted, and the limit.
    caps: Vec<(Vec<bool>, usize)>,
    /// `forbid[a][b]`: kind a on one day may not be followed by b.
    forbid: Vec<Vec<bool>>,
}

/// What row moves need beyond the annealer's board.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    cover: Vec<Cover>,
    /// Per kind: its hours and its service.
    hours: Vec<f64>,
    service: Vec<ServiceId>,
    specs: Vec<Spec>,
    /// Per person of the part, per day: their requests.
    requests: Vec<Vec<DayRequests>>,
    /// The days of each weekend (Saturday, Sunday) in the horizon.
    weekends: Vec<Vec<usize>>,
    /// Shortfall columns of hard lower limits, with their person.
    pub shortfalls: Vec<(usize, usize)>,
}

/// The board's view of a part that [`Rows::new`] needs.
pub(crate) struct Shape<'a> {
    pub part: &'a [usize],
    /// Per kind, a part shift of it.
    pub kind_shift: &'a [usize],
    /// Global person of each person of the part.
    pub person: &'a [usize],
    pub days: usize,
}

impl Rows {
    pub fn new(inst: &Instance<'_>, m: &Model<'_, '_>, sh: &Shape<'_>) -> Self {
        let default = inst.net.weights.ideal_headcount;
        let cover = sh
            .part
            .iter()
            .map(|&s| {
                let i = &inst.shifts[s];
                Cover {
                    min: usize::from(i.min),
                    ideal: usize::from(i.ideal),
                    max: usize::from(i.max),
                    under: i.under_weight.unwrap_or(default),
                    over: i.over_weight,
                }
            })
            .collect();
        let reps: Vec<DutyRef> = sh
            .kind_shift
            .iter()
            .map(|&k| DutyRef::of_shift(&inst.shifts[sh.part[k]]))
            .collect();
        let hours = sh
            .kind_shift
            .iter()
            .map(|&k| inst.shifts[sh.part[k]].hours())
            .collect();
        let service = sh
            .kind_shift
            .iter()
            .map(|&k| inst.shifts[sh.part[k]].shift.service.clone())
            .collect();
        let specs = sh.person.iter().map(|&p| spec(inst, p, &reps)).collect();
        let mut lp_of = std::collections::HashMap::new();
        for (lp, &p) in sh.person.iter().enumerate() {
            lp_of.insert(p, lp);
        }
        let mut requests = vec![vec![Vec::new(); sh.days]; sh.person.len()];
        let w = inst.net.weights.requests;
        for r in &inst.net.requests {
            let (Some(p), Ok(d)) = (
                inst.staff_index.get(&r.staff),
                usize::try_from((r.date - inst.first).num_days()),
            ) else {
                continue;
            };
            if let Some(&lp) = lp_of.get(p)
                && d < sh.days
            {
                let cost = w * f64::from(r.weight);
                let signed = match r.kind {
                    RequestKind::Off => cost,
                    RequestKind::On => -cost,
                };
                requests[lp][d].push((r.service.clone(), signed));
            }
        }
        let mut weekends: Vec<Vec<usize>> = Vec::new();
        let mut last_week = None;
        for d in 0..sh.days {
            let date = inst.first + Duration::days(i64::try_from(d).unwrap_or(0));
            if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                let wk = date.iso_week();
                if last_week != Some(wk) {
                    weekends.push(Vec::new());
                    last_week = Some(wk);
                }
                if let Some(w) = weekends.last_mut() {
                    w.push(d);
                }
            }
        }
        let shortfalls = m
            .shortfalls
            .iter()
            .filter_map(|(v, p)| lp_of.get(p).map(|&lp| (v.col(), lp)))
            .collect();
        Self {
            cover,
            hours,
            service,
            specs,
            requests,
            weekends,
            shortfalls,
        }
    }

    /// Whether part shift `k` is full with `others` holding it.
    pub fn full(&self, k: usize, others: usize) -> bool {
        others >= self.cover[k].max
    }

    /// What person `lp` taking part shift `k` of kind `t` on day `d`
    /// costs, with `others` holding it already and the column's own cost
    /// `own`. A full shift is taken from one of its holders (the headcount
    /// stays): priced like one person below its ideal, so that a free
    /// place comes first; what the holder loses is the model's to score.
    pub fn cost(&self, lp: usize, k: usize, t: usize, d: usize, others: usize, own: f64) -> f64 {
        let c = &self.cover[k];
        let mut v = own;
        if self.full(k, others) {
            v += c.under.max(c.over).max(1.0);
        } else {
            if others < c.min {
                v -= UNDER_COST;
            }
            if others < c.ideal {
                v -= c.under;
            } else {
                v += c.over;
            }
        }
        for (s, w) in &self.requests[lp][d] {
            if s.as_ref().is_none_or(|s| *s == self.service[t]) {
                v += w;
            }
        }
        v
    }

    /// The best row for person `lp` among `kinds` (theirs), where
    /// `cost(t, d)` is what kind t on day d costs (`None`: not open to
    /// them): a kind or a day off per day, and its cost.
    pub fn best(
        &self,
        lp: usize,
        kinds: &[usize],
        days: usize,
        cost: impl Fn(usize, usize) -> Option<f64>,
    ) -> Option<(Vec<Option<usize>>, f64)> {
        let spec = &self.specs[lp];
        let mut best: Option<(Vec<Option<usize>>, f64)> = None;
        let mut cands: Vec<(Vec<usize>, Costs, f64)> = self
            .palettes(spec, kinds)
            .into_iter()
            .map(|pal| {
                let c: Costs = pal
                    .iter()
                    .map(|&t| (0..days).map(|d| cost(t, d)).collect())
                    .collect();
                let gain = (0..days)
                    .map(|d| cheapest(&c, d).unwrap_or(0.0).min(0.0))
                    .sum();
                (pal, c, gain)
            })
            .collect();
        cands.sort_by(|a, b| a.2.total_cmp(&b.2));
        for (i, (pal, c, _)) in cands.into_iter().enumerate() {
            if i >= PALETTES && best.is_some() {
                break;
            }
            if let Some(row) = self.palette_row(spec, &pal, &c, days)
                && best.as_ref().is_none_or(|b| row.1 < b.1)
            {
                best = Some(row);
            }
        }
        best
    }

    /// Kinds of one length that may follow one another and themselves,
    /// grouped greedily, the kinds with most room first.
    fn palettes(&self, spec: &Spec, kinds: &[usize]) -> Vec<Vec<usize>> {
        let room = |t: usize| {
            spec.caps
                .iter()
                .filter(|(of, _)| of[t])
                .map(|c| c.1)
                .min()
                .unwrap_or(usize::MAX)
        };
        let mut left: Vec<usize> = kinds
            .iter()
            .copied()
            .filter(|&t| !spec.forbid[t][t] && room(t) > 0)
            .collect();
        left.sort_by_key(|&t| std::cmp::Reverse(room(t)));
        let mut out = Vec::new();
        while let Some(&first) = left.first() {
            let mut pal = vec![first];
            for &t in &left[1..] {
                if (self.hours[t] - self.hours[first]).abs() < 1e-9
                    && pal
                        .iter()
                        .all(|&u| !spec.forbid[u][t] && !spec.forbid[t][u])
                {
                    pal.push(t);
                }
            }
            left.retain(|t| !pal.contains(t));
            out.push(pal);
        }
        out
    }

    fn palette_row(
        &self,
        spec: &Spec,
        pal: &[usize],
        cost: &[Vec<Option<f64>>],
        days: usize,
    ) -> Option<(Vec<Option<usize>>, f64)> {
        let len = self.hours[pal[0]];
        // Most days: the counts' limits over the palette's kinds.
        let mut cap = days;
        let mut per_kind = 0usize;
        for &t in pal {
            let r = spec
                .caps
                .iter()
                .filter(|(of, _)| of[t])
                .map(|c| c.1)
                .min()
                .unwrap_or(days);
            per_kind = per_kind.saturating_add(r);
        }
        cap = cap.min(per_kind);
        for (of, n) in &spec.caps {
            if pal.iter().all(|&t| of[t]) {
                cap = cap.min(*n);
            }
        }
        let (lo, hi) = if len > 0.0 {
            let lo = (spec.hours.0 / len - 1e-9).ceil().max(0.0);
            let hi = (spec.hours.1 / len + 1e-9).floor();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (lo as usize, (hi.min(cap as f64)) as usize)
        } else {
            (0, cap)
        };
        if lo > hi {
            return None;
        }
        let mut open: Vec<bool> = (0..days).map(|d| cheapest(cost, d).is_some()).collect();
        let day_cost: Vec<f64> = (0..days)
            .map(|d| cheapest(cost, d).unwrap_or(0.0))
            .collect();
        if let Some(n) = spec.max_weekends
            && n < self.weekends.len()
        {
            let mut ws: Vec<(usize, f64)> = self
                .weekends
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let g = w
                        .iter()
                        .filter(|&&d| open[d])
                        .map(|&d| day_cost[d].min(0.0))
                        .sum();
                    (i, g)
                })
                .collect();
            ws.sort_by(|a, b| a.1.total_cmp(&b.1));
            for &(i, _) in &ws[n..] {
                for &d in &self.weekends[i] {
                    open[d] = false;
                }
            }
        }
        let worked = days_worked(spec, days, lo, hi, &open, &day_cost)?;
        // Each day worked its kind: the days with most to lose first.
        let mut room: Vec<usize> = spec.caps.iter().map(|c| c.1).collect();
        let mut order: Vec<usize> = (0..days).filter(|&d| worked[d]).collect();
        let regret = |d: usize| {
            let mut v: Vec<f64> = cost.iter().filter_map(|c| c[d]).collect();
            v.sort_by(f64::total_cmp);
            v.get(1).map_or(0.0, |s| s - v[0])
        };
        order.sort_by(|&a, &b| regret(b).total_cmp(&regret(a)));
        let mut row = vec![None; days];
        let mut total = 0.0;
        for d in order {
            let (i, c) = (0..pal.len())
                .filter_map(|i| cost[i][d].map(|c| (i, c)))
                .filter(|&(i, _)| {
                    spec.caps
                        .iter()
                        .zip(&room)
                        .all(|((of, _), r)| !of[pal[i]] || *r > 0)
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            for ((of, _), r) in spec.caps.iter().zip(room.iter_mut()) {
                if of[pal[i]] {
                    *r -= 1;
                }
            }
            total += c;
            row[d] = Some(pal[i]);
        }
        Some((row, total))
    }
}

/// The cheapest of the palette's kinds on day `d`, if any is open.
fn cheapest(cost: &[Vec<Option<f64>>], d: usize) -> Option<f64> {
    cost.iter().filter_map(|c| c[d]).reduce(f64::min)
}

/// The hard rules of person `p` that shape a row, over the board's kinds
/// (each seen through a shift of it).
fn spec(inst: &Instance<'_>, p: usize, reps: &[DutyRef]) -> Spec {
    let n = reps.len();
    let mut s = Spec {
        min_run: 1,
        min_off: 1,
        hours: (0.0, f64::INFINITY),
        forbid: vec![vec![false; n]; n],
        ..Spec::default()
    };
    // Counts of these kinds mean the same on any date.
    let dateless =
        |of: &Duties| matches!(of, Duties::All | Duties::Nights | Duties::Service { .. });
    for rule in rules_for(&inst.net.rules, inst.staff[p]) {
        if rule.weight.is_some() {
            continue;
        }
        match &rule.limit {
            Limit::MaxConsecutiveDays { n } => {
                let n = usize::from(*n);
                s.max_run = Some(s.max_run.map_or(n, |m| m.min(n)));
            }
            Limit::MinConsecutiveDays { n } => s.min_run = s.min_run.max(usize::from(*n)),
            Limit::MinConsecutiveDaysOff { n } => s.min_off = s.min_off.max(usize::from(*n)),
            Limit::MaxWeekends { n } => {
                let n = usize::from(*n);
                s.max_weekends = Some(s.max_weekends.map_or(n, |m| m.min(n)));
            }
            Limit::MinHours {
                hours,
                per: Period::Month,
            } => s.hours.0 = s.hours.0.max(*hours),
            Limit::MaxHours {
                hours,
                per: Period::Month,
            } => s.hours.1 = s.hours.1.min(*hours),
            Limit::MaxDuties {
                n,
                of,
                per: Period::Month,
            } if dateless(of) => {
                s.caps
                    .push((reps.iter().map(|r| r.is(of)).collect(), usize::from(*n)));
            }
            Limit::DayOffAfterNight => {
                for (a, ra) in reps.iter().enumerate() {
                    if ra.night {
                        s.forbid[a].iter_mut().for_each(|f| *f = true);
                    }
                }
            }
            Limit::ForbiddenSuccession { first, then } => {
                for (a, ra) in reps.iter().enumerate() {
                    if ra.is(first) {
                        for (b, rb) in reps.iter().enumerate() {
                            s.forbid[a][b] |= rb.is(then);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    s
}
