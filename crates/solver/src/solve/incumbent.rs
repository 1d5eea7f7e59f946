//! The best rota either core of a part has found, and the best bound
//! proven, shared between them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The best rota either core has found, and the best bound proven.
#[derive(Debug)]
pub(crate) struct Incumbent {
    best: Mutex<(f64, Vec<usize>)>,
    best_bits: AtomicU64,
    version: AtomicU64,
    bound: AtomicU64,
    stop: AtomicBool,
    /// The relative gap at which the part is done.
    gap: f64,
    /// When the part began (for the log of better rotas).
    born: Instant,
    /// `TOUBAN_HIGHS_LOG` is set: each better rota is logged on stderr.
    log: bool,
}

impl Incumbent {
    pub fn new(gap: f64) -> Self {
        Self {
            best: Mutex::new((f64::INFINITY, Vec::new())),
            best_bits: AtomicU64::new(f64::INFINITY.to_bits()),
            version: AtomicU64::new(0),
            bound: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
            stop: AtomicBool::new(false),
            gap,
            born: Instant::now(),
            log: std::env::var_os("TOUBAN_HIGHS_LOG").is_some(),
        }
    }

    /// Keeps `on` (the assignment columns at 1 of a rota without hard
    /// violations) if it is better; returns the version now held.
    pub fn offer(&self, objective: f64, on: &[usize]) -> u64 {
        let mut b = self
            .best
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if objective < b.0 - 1e-9 {
            *b = (objective, on.to_vec());
            self.best_bits.store(objective.to_bits(), Ordering::Relaxed);
            self.version.fetch_add(1, Ordering::AcqRel);
            if self.log {
                eprintln!(
                    "best rota: {objective:.1} at {:.2} s",
                    self.born.elapsed().as_secs_f64()
                );
            }
        }
        self.version.load(Ordering::Acquire)
    }

    /// The best rota, if it is newer than version `seen`.
    pub fn newer(&self, seen: u64) -> Option<(f64, Vec<usize>, u64)> {
        if self.version.load(Ordering::Acquire) <= seen {
            return None;
        }
        let b = self
            .best
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some((b.0, b.1.clone(), self.version.load(Ordering::Acquire)))
    }

    pub fn best(&self) -> f64 {
        f64::from_bits(self.best_bits.load(Ordering::Relaxed))
    }

    pub fn proved(&self, bound: f64) {
        let mut cur = self.bound.load(Ordering::Relaxed);
        while bound > f64::from_bits(cur) {
            match self.bound.compare_exchange_weak(
                cur,
                bound.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
    }

    pub fn bound(&self) -> f64 {
        f64::from_bits(self.bound.load(Ordering::Relaxed))
    }

    pub fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Told to stop, or the best rota is within the gap of the bound.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || relative_gap(self.best(), self.bound()) <= self.gap + 1e-9
    }
}

/// `(objective − bound) / |objective|`, in [0, 1]; 1 when the bound is
/// unknown; 0 within 10⁻⁷ (rounding: a bound from prices is a sum over
/// every row and column, taken a hair low).
pub(crate) fn relative_gap(objective: f64, bound: f64) -> f64 {
    if bound.is_finite() && objective.is_finite() {
        if objective - bound <= 1e-7 * objective.abs().max(1.0) {
            return 0.0;
        }
        ((objective - bound) / objective.abs().max(1e-9)).clamp(0.0, 1.0)
    } else {
        1.0
    }
}
