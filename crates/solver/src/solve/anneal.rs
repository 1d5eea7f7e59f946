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
//! is always judged at the true prices; after a restart everything is at
//! its true price.
//!
//! The temperature falls geometrically from a fifth of the median cost of
//! a worsening move to half the smallest one, both measured on the part
//! itself (moves priced like an unfilled place or a broken hard rule left
//! out). The schedule (temperatures and the price of unfilled places and
//! broken hard rules) spans the whole time, and starts again hot from the
//! best rota when the search is stuck ([`RESTART_UNIT`]).

use std::time::Instant;

use super::hybrid::Incumbent;
use super::local::State;

mod board;
mod cycle;
use crate::model::UNDER_COST;
pub(crate) use board::Board;
use cycle::Cycle;

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
/// The schedule (temperatures falling, unfilled places and broken hard
/// rules rising to their price) first spans the whole time; when the
/// search has gone without a better rota for as long as it took to find
/// its last one, and at least this share of the time, it starts again hot
/// from the best rota, everything at its true price, over a cycle of this
/// share doubled at each restart (or twice what the cycle before took to
/// its best, if more). `TOUBAN_RESTART=0` never restarts (for measuring).
const RESTART_UNIT: f64 = 1.0 / 15.0;

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
    /// Cycles begun after the first (each hot again from the best rota).
    pub cycles: u64,
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
    /// `TOUBAN_ROW_SHARE` when set to a share in [0, 1] (for measuring
    /// with and without; any other value is said on stderr and ignored).
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
            row_share: super::knobs::number("TOUBAN_ROW_SHARE", ROW_SHARE, 0.0, 1.0),
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
    /// finds none or it is the row they have. (Re-planning two or three
    /// rows at once was measured and not kept: docs/BENCHMARKS.md.)
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
        let (mut hot, mut cold) = self.temperatures();
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
        // One cycle over the whole time, restarted when it is stuck.
        let restart = super::knobs::number("TOUBAN_RESTART", 1.0, 0.0, 1.0) > 0.0;
        let unit = span * RESTART_UNIT;
        let mut cycle = Cycle { start: 0.0, span };
        let mut better_at = 0.0;
        loop {
            if stats.tried % 1024 == 0 {
                let now = Instant::now();
                if now >= until || inc.stopped() {
                    break;
                }
                self.elapsed = now.duration_since(start).as_secs_f64();
                if restart
                    && cycle.over(self.elapsed, better_at, unit)
                    && span - self.elapsed > unit
                {
                    // A new cycle, hot again, from the best rota.
                    if !best_saved {
                        best = self.on();
                        best_saved = true;
                    }
                    if best_obj.is_finite() && self.objective() > best_obj + 1e-9 {
                        self.load(&best);
                    }
                    let found = cycle.found(better_at);
                    cycle = Cycle::next(self.elapsed, stats.cycles as u32, found, unit, span);
                    better_at = self.elapsed;
                    (hot, cold) = self.temperatures();
                    ramped = false;
                    stats.cycles += 1;
                }
                let f = (self.elapsed - cycle.start) / cycle.span;
                t = hot * (cold / hot).powf(f.clamp(0.0, 1.0));
                price = if f >= HARD_RAMP || stats.cycles > 0 {
                    UNDER_COST
                } else {
                    hard_from * (UNDER_COST / hard_from).powf(f.max(0.0) / HARD_RAMP)
                };
                if f >= HARD_RAMP && !ramped {
                    // Everything at its true price from here (and, in a
                    // cycle after a restart, cool): go on from the best
                    // rota, not from wherever the hot phase left.
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
                    better_at = self.elapsed;
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
                better_at = self.elapsed;
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
mod tests;
