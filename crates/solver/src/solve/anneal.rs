//! Simulated annealing over a part's own model ([`super::local`]): moves
//! change who holds which shifts, each scored exactly and incrementally; a
//! move that would break a hard rule (more than the rota already does) is
//! undone, so the search stays among rotas HiGHS would accept.
//!
//! Moves, all over the part's shifts and their candidates:
//! - **flip**: someone takes or gives up one shift; half aimed at a shift
//!   whose headcount is off its ideal;
//! - **replace**: one holder of a shift hands it to another candidate;
//! - **trade**: someone takes a shift short of its ideal and gives up one
//!   of their duties on another day (their days and hours stay), half the
//!   time handing it to someone free that day;
//! - **exchange**: two people exchange all their duties over a block of
//!   1–7 days (the headcounts stay the same);
//! - **block**: one person's days over a block of 1–7 days become one kind
//!   of shift (a service's template) or days off.
//!
//! Unfilled places and broken hard rules (both priced at `UNDER_COST` a
//! unit in the objective) are priced lower at first, like a typical
//! worsening, and their price rises geometrically to the true one over
//! the first 70 % of the time: the search may pass through a rota that
//! breaks one to reach a better one beyond (a block of days moved as a
//! whole), and ends where the objective is the model's own. The best rota
//! is always judged at the true prices.
//!
//! The temperature falls geometrically from a fifth of the median cost of
//! a worsening move to half the smallest one, both measured on the part
//! itself before the search starts (moves priced like an unfilled place
//! or a broken hard rule left out).

use std::time::Instant;

use super::hybrid::Incumbent;
use super::local::State;
use super::row::{Rows, Shape};
use crate::instance::Instance;
use crate::model::{Model, UNDER_COST};

/// The longest block of days a move changes at once (a week).
const BLOCK_DAYS: usize = 7;
/// Random moves measured to set the temperature.
const SAMPLE_MOVES: usize = 400;
/// The share of the search's time over which unfilled places and broken
/// hard rules rise from the price of a typical worsening to their own.
const HARD_RAMP: f64 = 0.7;
/// The share of the search's time given to row moves (one person's whole
/// row at once, [`super::row`]): each costs as much as thousands of small
/// moves.
const ROW_SHARE: f64 = 0.2;

/// The part's shifts, people and columns, as the moves need them.
#[derive(Debug)]
pub(crate) struct Board {
    /// Per part shift k: its day in the horizon and its kind.
    day: Vec<usize>,
    kind: Vec<usize>,
    /// The wanted headcount of each part shift.
    ideal: Vec<usize>,
    /// Per part shift, its candidates: (person, column).
    cands: Vec<Vec<(usize, usize)>>,
    /// Per person of the part, per day: (part shift, column) of each shift
    /// starting that day the person may take.
    duty: Vec<Vec<Vec<(usize, usize)>>>,
    /// Per person of the part, the kinds they may take.
    kinds_of: Vec<Vec<usize>>,
    /// Per kind, per day: the part shift of that kind on that day.
    at: Vec<Vec<Option<usize>>>,
    /// Per assignment column: (part shift, person of the part).
    of_col: Vec<(usize, usize)>,
    days: usize,
    /// What row moves need ([`super::row`]).
    rows: Rows,
}

impl Board {
    pub fn new(inst: &Instance<'_>, m: &Model<'_, '_>, part: &[usize]) -> Self {
        let days = inst.days().count().max(1);
        let mut people: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let mut kinds: std::collections::HashMap<(usize, &str), usize> =
            std::collections::HashMap::new();
        let nx: usize = m.x.iter().map(Vec::len).sum();
        let mut b = Self {
            day: Vec::with_capacity(part.len()),
            kind: Vec::with_capacity(part.len()),
            ideal: Vec::with_capacity(part.len()),
            cands: Vec::with_capacity(part.len()),
            duty: Vec::new(),
            kinds_of: Vec::new(),
            at: Vec::new(),
            of_col: vec![(0, 0); nx],
            days,
            rows: Rows::default(),
        };
        let (mut kind_shift, mut person) = (Vec::new(), Vec::new());
        for (k, &s) in part.iter().enumerate() {
            let info = &inst.shifts[s];
            let day = usize::try_from((info.shift.date - inst.first).num_days())
                .unwrap_or(0)
                .min(days - 1);
            let next = kinds.len();
            let kind = *kinds
                .entry((info.service, info.shift.template.as_str()))
                .or_insert(next);
            if kind == b.at.len() {
                b.at.push(vec![None; days]);
                kind_shift.push(k);
            }
            b.at[kind][day] = Some(k);
            b.day.push(day);
            b.kind.push(kind);
            b.ideal.push(usize::from(info.ideal.max(info.min)));
            let mut cands = Vec::with_capacity(m.x[s].len());
            for (p, v) in &m.x[s] {
                let col = v.col();
                let next = people.len();
                let lp = *people.entry(*p).or_insert(next);
                if lp == b.duty.len() {
                    person.push(*p);
                    b.duty.push(vec![Vec::new(); days]);
                    b.kinds_of.push(Vec::new());
                }
                b.duty[lp][day].push((k, col));
                if !b.kinds_of[lp].contains(&kind) {
                    b.kinds_of[lp].push(kind);
                }
                assert!(col < nx, "assignment columns come first");
                b.of_col[col] = (k, lp);
                cands.push((lp, col));
            }
            b.cands.push(cands);
        }
        let shape = Shape {
            part,
            kind_shift: &kind_shift,
            person: &person,
            days,
        };
        b.rows = Rows::new(inst, m, &shape);
        b
    }

    /// The column of person `lp` on part shift `k`, if a candidate.
    fn col(&self, lp: usize, k: usize) -> Option<usize> {
        self.duty[lp][self.day[k]]
            .iter()
            .find(|(k2, _)| *k2 == k)
            .map(|e| e.1)
    }

    /// Every assignment column.
    pub fn columns(&self) -> usize {
        self.of_col.len()
    }
}

/// What a search did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub tried: u64,
    pub accepted: u64,
    pub improved: u64,
    /// Better rotas taken over from the other thread.
    pub adopted: u64,
    /// Row moves proposed, and made.
    pub rows: u64,
    pub rows_made: u64,
}

pub(crate) struct Search<'b, 'c> {
    b: &'b Board,
    pub state: State<'c>,
    /// Per part shift, the columns of its holders.
    held: Vec<Vec<usize>>,
    rng: fastrand::Rng,
    changes: Vec<(usize, bool)>,
    /// Seconds spent proposing row moves, and searching.
    row_spent: f64,
    elapsed: f64,
    /// The share of the time for row moves: [`ROW_SHARE`], or
    /// `TOUBAN_ROW_SHARE` when set (for measuring with and without).
    row_share: f64,
}

impl<'b, 'c> Search<'b, 'c> {
    pub fn new(b: &'b Board, state: State<'c>, seed: u64) -> Self {
        let mut s = Self {
            b,
            state,
            held: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
            changes: Vec::new(),
            row_spent: 0.0,
            elapsed: 0.0,
            row_share: std::env::var("TOUBAN_ROW_SHARE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(ROW_SHARE),
        };
        s.index();
        s
    }

    fn index(&mut self) {
        self.held = self
            .b
            .cands
            .iter()
            .map(|c| {
                c.iter()
                    .map(|e| e.1)
                    .filter(|&col| self.state.on(col))
                    .collect()
            })
            .collect();
    }

    /// The assignment columns at 1.
    pub fn on(&self) -> Vec<usize> {
        self.held.iter().flatten().copied().collect()
    }

    /// Starts again from another rota.
    pub fn load(&mut self, on: &[usize]) {
        self.state.load(on.iter().copied());
        self.index();
    }

    /// Proposes a move into `self.changes`; false when none fits.
    fn propose(&mut self) -> bool {
        let b = self.b;
        self.changes.clear();
        let parts = b.cands.len();
        if parts == 0 {
            return false;
        }
        let rng = &mut self.rng;
        let mut k = rng.usize(..parts);
        match rng.u8(..12) {
            0..=2 => {
                // Flip, half the time aimed at a headcount off its ideal.
                if rng.bool() {
                    for _ in 0..8 {
                        if self.held[k].len() != b.ideal[k] {
                            break;
                        }
                        k = rng.usize(..parts);
                    }
                }
                let c = &b.cands[k];
                if c.is_empty() {
                    return false;
                }
                let col = c[rng.usize(..c.len())].1;
                self.changes.push((col, !self.state.on(col)));
            }
            3 => {
                let (h, c) = (&self.held[k], &b.cands[k]);
                if h.is_empty() || c.len() <= h.len() {
                    return false;
                }
                let out = h[rng.usize(..h.len())];
                let inn = c[rng.usize(..c.len())].1;
                if self.state.on(inn) {
                    return false;
                }
                self.changes.extend([(out, false), (inn, true)]);
            }
            4..=5 => return self.trade(k),
            6..=8 => {
                // Exchange a block around a held shift with another candidate.
                let h = &self.held[k];
                let c = &b.cands[k];
                if h.is_empty() || c.len() < 2 {
                    return false;
                }
                let p = b.of_col[h[rng.usize(..h.len())]].1;
                let q = c[rng.usize(..c.len())].0;
                if p == q {
                    return false;
                }
                let len = rng.usize(1..=BLOCK_DAYS.min(b.days));
                let from = b.day[k].saturating_sub(rng.usize(..len));
                for d in from..(from + len).min(b.days) {
                    for (a, z) in [(p, q), (q, p)] {
                        for &(k2, col) in &b.duty[a][d] {
                            if !self.state.on(col) {
                                continue;
                            }
                            let Some(other) = b.col(z, k2) else {
                                return false;
                            };
                            if !self.state.on(other) {
                                self.changes.extend([(col, false), (other, true)]);
                            }
                        }
                    }
                }
            }
            _ => {
                // A block of one person's days set to one kind, or off.
                let h = &self.held[k];
                let c = &b.cands[k];
                if c.is_empty() {
                    return false;
                }
                let p = if !h.is_empty() && rng.bool() {
                    b.of_col[h[rng.usize(..h.len())]].1
                } else {
                    c[rng.usize(..c.len())].0
                };
                let kinds = &b.kinds_of[p];
                let to = if rng.u8(..3) == 0 {
                    None
                } else {
                    Some(kinds[rng.usize(..kinds.len())])
                };
                let len = rng.usize(1..=BLOCK_DAYS.min(b.days));
                let from = b.day[k].saturating_sub(rng.usize(..len));
                for d in from..(from + len).min(b.days) {
                    let target = to.and_then(|t| b.at[t][d]);
                    for &(k2, col) in &b.duty[p][d] {
                        let want = Some(k2) == target;
                        if self.state.on(col) != want {
                            self.changes.push((col, want));
                        }
                    }
                }
            }
        }
        !self.changes.is_empty()
    }

    /// One person's whole row, the best given everyone else's
    /// ([`super::row`]): half the time someone short of a hard lower limit.
    fn propose_row(&mut self) -> bool {
        let b = self.b;
        self.changes.clear();
        if b.duty.is_empty() {
            return false;
        }
        let short = &b.rows.shortfalls;
        let mut lp = None;
        if !short.is_empty() && self.rng.bool() {
            for _ in 0..8 {
                let (col, p) = short[self.rng.usize(..short.len())];
                if self.state.value(col) > 1e-9 {
                    lp = Some(p);
                    break;
                }
            }
        }
        let lp = lp.unwrap_or_else(|| self.rng.usize(..b.duty.len()));
        self.row_move(lp)
    }

    /// Person `lp`'s best row as the proposed move; false when the DP
    /// finds none or it is the row they have.
    fn row_move(&mut self, lp: usize) -> bool {
        let b = self.b;
        self.changes.clear();
        let (held, state) = (&self.held, &self.state);
        let cost = |t: usize, d: usize| {
            let k = b.at[t][d]?;
            let col = b.col(lp, k)?;
            let others = held[k].len() - usize::from(state.on(col));
            Some(b.rows.cost(lp, k, t, d, others, state.cost(col)))
        };
        let Some((row, _)) = b.rows.best(lp, &b.kinds_of[lp], b.days, cost) else {
            return false;
        };
        for (d, t) in row.iter().enumerate() {
            let target = t.and_then(|t| b.at[t][d]);
            for &(k, col) in &b.duty[lp][d] {
                let want = Some(k) == target;
                if self.state.on(col) == want {
                    continue;
                }
                self.changes.push((col, want));
                // A full shift taken: one of its holders gives it up.
                if want && b.rows.full(k, self.held[k].len()) {
                    let h = &self.held[k];
                    self.changes.push((h[self.rng.usize(..h.len())], false));
                }
            }
        }
        !self.changes.is_empty()
    }

    /// A trade aimed at a shift short of its ideal (else at `k`): a
    /// candidate takes it, leaving whatever they held that day, and gives
    /// up one of their duties on another day (so that their days and hours
    /// stay the same), half the time handing it to someone free that day.
    fn trade(&mut self, mut k: usize) -> bool {
        let b = self.b;
        let rng = &mut self.rng;
        for _ in 0..8 {
            if self.held[k].len() < b.ideal[k] {
                break;
            }
            k = rng.usize(..b.cands.len());
        }
        let c = &b.cands[k];
        if c.is_empty() {
            return false;
        }
        let (p, col) = c[rng.usize(..c.len())];
        if self.state.on(col) {
            return false;
        }
        let day = b.day[k];
        let Some((k2, col2)) = (0..8).find_map(|_| {
            let d = rng.usize(..b.days);
            if d == day {
                return None;
            }
            b.duty[p][d].iter().copied().find(|e| self.state.on(e.1))
        }) else {
            return false;
        };
        self.changes.push((col, true));
        for &(_, other) in &b.duty[p][day] {
            if self.state.on(other) {
                self.changes.push((other, false));
            }
        }
        self.changes.push((col2, false));
        if rng.bool() {
            let c2 = &b.cands[k2];
            let q = c2[rng.usize(..c2.len())].0;
            let d2 = b.day[k2];
            if q != p
                && b.duty[q][d2].iter().all(|e| !self.state.on(e.1))
                && let Some(colq) = b.col(q, k2)
            {
                self.changes.push((colq, true));
            }
        }
        true
    }

    /// Applies the proposed move; returns the changes of the objective,
    /// of the excess over the constraints, and of the hard-priced units.
    fn apply(&mut self) -> (f64, f64, f64) {
        let (o, e, h) = (self.state.objective, self.state.excess, self.state.hard);
        self.state.begin();
        for &(col, on) in &self.changes {
            self.state.set(col, on);
        }
        (
            self.state.objective - o,
            self.state.excess - e,
            self.state.hard - h,
        )
    }

    fn keep(&mut self) {
        for &(col, on) in &self.changes {
            let k = self.b.of_col[col].0;
            if on {
                self.held[k].push(col);
            } else {
                self.held[k].retain(|&c| c != col);
            }
        }
    }

    /// The temperatures: from a fifth of the median worsening to half the
    /// smallest, over random moves from here (which are all undone).
    fn temperatures(&mut self) -> (f64, f64) {
        let mut ups = Vec::new();
        for _ in 0..SAMPLE_MOVES {
            if self.propose() {
                let (d, e, _) = self.apply();
                self.state.undo();
                if e <= 1e-9 && d > 1e-9 {
                    ups.push(d);
                }
            }
        }
        // Moves that leave a place unfilled or break a coordinator's hard
        // rule are priced far above any soft rule: they do not set the
        // temperature (unless nothing else is measured).
        let priced_hard = UNDER_COST.min(crate::rules::HARD_COST) / 2.0;
        if ups.iter().any(|d| *d < priced_hard) {
            ups.retain(|d| *d < priced_hard);
        }
        if ups.is_empty() {
            return (1.0, 0.01);
        }
        ups.sort_by(f64::total_cmp);
        let hot = ups[ups.len() / 2] / 5.0;
        let cold = (ups[0] / 2.0).clamp(hot * 1e-4, hot);
        (hot, cold)
    }

    /// Anneals until `until` or until the incumbent says stop; offers each
    /// new best rota to `inc` and takes over a better one found elsewhere.
    /// Leaves the best rota in the state.
    pub fn run(&mut self, until: Instant, inc: &Incumbent) -> Stats {
        let mut stats = Stats::default();
        let (hot, cold) = self.temperatures();
        let mut best = self.on();
        // A start that breaks a hard rule is no rota to offer: any
        // feasible one is better.
        let feasible = self.state.excess <= 1e-9;
        let mut best_obj = if feasible {
            self.objective()
        } else {
            f64::INFINITY
        };
        let mut best_saved = true;
        let mut seen = if feasible {
            inc.offer(best_obj, &best)
        } else {
            0
        };
        let start = Instant::now();
        let span = until
            .saturating_duration_since(start)
            .as_secs_f64()
            .max(1e-3);
        let mut t = hot;
        // Unfilled places and broken hard rules start priced like a
        // typical worsening, and rise to their true price.
        let hard_from = (hot * 5.0).min(UNDER_COST);
        let mut price = hard_from;
        let mut ramped = false;
        let mut last_offer = best_obj;
        loop {
            if stats.tried % 1024 == 0 {
                let now = Instant::now();
                if now >= until || inc.stopped() {
                    break;
                }
                self.elapsed = now.duration_since(start).as_secs_f64();
                let f = self.elapsed / span;
                t = hot * (cold / hot).powf(f.clamp(0.0, 1.0));
                price = if f >= HARD_RAMP {
                    UNDER_COST
                } else {
                    hard_from * (UNDER_COST / hard_from).powf(f.max(0.0) / HARD_RAMP)
                };
                if f >= HARD_RAMP && !ramped {
                    // Everything at its true price from here: go on from
                    // the best rota, not from wherever the cheap phase left.
                    ramped = true;
                    if best_saved && best_obj.is_finite() && self.objective() > best_obj + 1e-9 {
                        self.load(&best);
                    }
                }
                if !best_saved {
                    best = self.on();
                    best_saved = true;
                }
                if best_obj < last_offer - 1e-9 {
                    seen = inc.offer(best_obj, &best);
                    last_offer = best_obj;
                }
                if let Some((obj, on, v)) = inc.newer(seen)
                    && obj < best_obj - 1e-9
                {
                    seen = v;
                    self.load(&on);
                    best = on;
                    best_obj = self.objective();
                    last_offer = best_obj;
                    stats.adopted += 1;
                }
            }
            stats.tried += 1;
            let row = self.row_spent < self.row_share * self.elapsed;
            let proposed = if row {
                let t0 = Instant::now();
                let p = self.propose_row();
                self.row_spent += t0.elapsed().as_secs_f64();
                stats.rows += 1;
                p
            } else {
                self.propose()
            };
            if !proposed {
                continue;
            }
            let (d, e, h) = self.apply();
            let scored = d - (UNDER_COST - price) * h;
            let ok = if e > 1e-9 {
                false
            } else if e < -1e-9 || scored <= 0.0 {
                true
            } else {
                self.rng.f64() < (-scored / t).exp()
            };
            if !ok {
                self.state.undo();
                continue;
            }
            if d > 0.0 && !best_saved {
                // Leaving the best rota: keep a copy of it first.
                self.state.undo();
                best = self.on();
                best_saved = true;
                self.apply();
            }
            self.keep();
            stats.accepted += 1;
            stats.rows_made += u64::from(row);
            if self.objective() < best_obj - 1e-9 && self.state.excess <= 1e-9 {
                best_obj = self.objective();
                best_saved = false;
                stats.improved += 1;
            }
        }
        if best_saved {
            if self.objective() > best_obj + 1e-9 || self.state.excess > 1e-9 {
                self.load(&best);
            }
        } else {
            best = self.on();
        }
        if best_obj < last_offer - 1e-9 {
            inc.offer(best_obj, &best);
        }
        stats
    }

    pub fn objective(&self) -> f64 {
        self.state.objective
    }
}

#[cfg(test)]
mod tests {
    use super::super::hybrid::Incumbent;
    use super::super::local::placed_of_columns;
    use super::super::with_small_start;
    use super::*;

    /// From the construction, the annealer alone lowers the objective,
    /// never breaks a hard rule, offers what it holds, and holds what the
    /// model itself scores.
    /// From an empty rota, each person's row by the DP (taking a full
    /// shift from its holder where need be) keeps their hard upper limits
    /// (no constraint exceeded) and their hard lower one (no shortfall of
    /// theirs left) on a month with 当直明け, at most 3 days in a row, days
    /// off in twos and at least 24 hours; and the rota fills places.
    #[test]
    fn row_moves_keep_a_persons_hard_rules() {
        use touban_domain::{Limit, Period, RuleScope, StaffRule};
        let month = touban_domain::Month::new(2027, 1).expect("a month");
        let mut net = crate::synth::network(60, 4, month.first_day(), 31, 5);
        for limit in [
            Limit::DayOffAfterNight,
            Limit::MaxConsecutiveDays { n: 3 },
            Limit::MinConsecutiveDaysOff { n: 2 },
            Limit::MinHours {
                hours: 24.0,
                per: Period::Month,
            },
        ] {
            net.rules.push(StaffRule {
                label: None,
                scope: RuleScope::Network,
                limit,
                weight: None,
            });
        }
        let inst = Instance::new(&net, month);
        let history = crate::instance::History::default();
        let part = super::super::parts(&inst).pop().expect("a part");
        let m = Model::build(&inst, &history, &part, true);
        let obj = super::super::objectives(&m, &inst, false).remove(0);
        let hard = m.objective.under.clone() + m.objective.breach.clone();
        let c = super::super::local::Compiled::new(&m, &obj, &hard);
        let board = Board::new(&inst, &m, &part);
        let mut search = Search::new(&board, State::new(&c, []), 1);
        let before = search.state.hard;
        for lp in 0..board.duty.len() {
            assert!(search.row_move(lp), "a row for person {lp}");
            search.apply();
            assert!(
                search.state.excess <= 1e-9,
                "person {lp}'s row exceeds a constraint"
            );
            let short: Vec<_> = board
                .rows
                .shortfalls
                .iter()
                .filter(|(col, p)| *p == lp && search.state.value(*col) > 1e-9)
                .collect();
            assert!(short.is_empty(), "person {lp} short: {short:?}");
            search.keep();
        }
        assert!(
            search.state.hard < before - 1.0,
            "{} → {}",
            before,
            search.state.hard
        );
    }

    #[test]
    fn annealing_improves_and_stays_feasible() {
        with_small_start(|inst, part, m, obj, c, on| {
            let start = State::new(c, on.iter().copied());
            assert!(start.excess <= 1e-9, "the construction breaks no hard rule");
            let before = start.objective;
            let board = Board::new(inst, m, part);
            let inc = Incumbent::new(0.0);
            let mut search = Search::new(&board, start, 3);
            let stats = search.run(Instant::now() + std::time::Duration::from_secs(2), &inc);
            assert!(stats.improved > 0, "{stats:?}");
            assert!(search.objective() < before - 1e-6);
            assert!(search.state.excess <= 1e-9);
            assert!((inc.best() - search.objective()).abs() < 1e-6);
            let held = search.on();
            let fresh = State::new(c, held.iter().copied());
            assert!((fresh.objective - search.objective()).abs() < 1e-6);
            let placed = placed_of_columns(m, &held);
            assert!((m.least_value(obj, &placed) - search.objective()).abs() < 1e-6);
        });
    }
}
