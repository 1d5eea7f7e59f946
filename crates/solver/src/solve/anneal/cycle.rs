//! The annealer's schedule in cycles: when one gives way to the next, and
//! how long the next lasts ([`super::RESTART_UNIT`]).

use super::HARD_RAMP;

/// One cycle of the schedule: when it began and how long it lasts
/// (seconds from the start of the search).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cycle {
    pub start: f64,
    pub span: f64,
}

impl Cycle {
    /// Whether a cycle should give way to a new one at `now`, its last
    /// better rota found at `better` (its start when none): at its end, or,
    /// once it is cool (past [`HARD_RAMP`] of its span: a hot search finds
    /// no better rota while it wanders, and is not stuck), when it has gone
    /// without a better rota for as long as it took to find its last one,
    /// and at least `unit`.
    pub fn over(self, now: f64, better: f64, unit: f64) -> bool {
        let quiet = now - better.max(self.start);
        now >= self.start + self.span
            || (now >= self.start + HARD_RAMP * self.span && quiet >= self.found(better).max(unit))
    }

    /// How long into the cycle its last better rota, found at `better`,
    /// came (0 when none came in it).
    pub fn found(self, better: f64) -> f64 {
        (better - self.start).max(0.0)
    }

    /// The cycle that begins at `now` after `restarts` earlier ones, the
    /// one before having found its last better rota `found` seconds in:
    /// `unit` doubled at each restart, or twice what the last one needed
    /// if more; to the end of `total` when what would be left is less
    /// than twice its length.
    pub fn next(now: f64, restarts: u32, found: f64, unit: f64, total: f64) -> Self {
        let span = (unit * 2f64.powi(restarts.min(30) as i32)).max(2.0 * found);
        let left = (total - now).max(1e-3);
        Self {
            start: now,
            span: if span * 3.0 > left { left } else { span },
        }
    }
}
