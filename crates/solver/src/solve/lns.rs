//! Large parts on two cores: large-neighbourhood search (LNS) on one, and
//! on the other the part's bound, first from its LP relaxation and then,
//! if LNS is not yet within the gap of it, from HiGHS on the whole part.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use good_lp::{Expression, Solution, SolutionStatus};

use super::{
    LNS_WINDOW_DAYS, SolveError, SolveOptions, Solved, highs_model, objectives, placed_of,
    solve_part, values_of,
};
use crate::instance::{History, Instance};
use crate::model::Model;

/// A lower bound on `obj` over the part: the optimum of the LP relaxation
/// (every assignment variable in [0, 1]), solved by the interior-point
/// method. On the largest parts it comes long before HiGHS's MIP gets past
/// its root, and with the soft rules' convex penalties it is close to the
/// integer optimum. `None` when the LP is not solved within `time`.
fn relaxation_bound(
    m: &Model<'_, '_>,
    obj: &Expression,
    time: f64,
    opts: &SolveOptions,
) -> Result<Option<f64>, SolveError> {
    let mut model = highs_model(m, obj, &[], time, opts)?;
    model.set_option("solve_relaxation", true);
    model.set_option("solver", "ipm");
    let solved = model
        .try_solve()
        .map_err(|e| SolveError::Solver(format!("{e:?}")))?;
    Ok((solved.status() == highs::HighsModelStatus::Optimal)
        .then(|| solved.objective_value())
        .filter(|b| b.is_finite()))
}

/// What the two threads of [`lns_with_bound`] tell each other: the best
/// objective LNS has, and the best bound proven so far (f64 bits).
struct Shared {
    best: AtomicU64,
    bound: AtomicU64,
    /// The relative gap at which the part is done.
    gap: f64,
}

impl Shared {
    fn new(gap: f64) -> Self {
        Self {
            best: AtomicU64::new(f64::INFINITY.to_bits()),
            bound: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
            gap,
        }
    }
    fn found(&self, objective: f64) {
        self.best.store(objective.to_bits(), Ordering::Relaxed);
    }
    /// Only the bound thread proves bounds, so a plain store keeps the best.
    fn proved(&self, bound: f64) {
        if bound > self.bound() {
            self.bound.store(bound.to_bits(), Ordering::Relaxed);
        }
    }
    fn bound(&self) -> f64 {
        f64::from_bits(self.bound.load(Ordering::Relaxed))
    }
    /// The best solution is within the gap of the bound: nothing left to do.
    fn within_gap(&self) -> bool {
        let best = f64::from_bits(self.best.load(Ordering::Relaxed));
        relative_gap(best, self.bound()) <= self.gap + 1e-9
    }
}

/// `(objective − bound) / |objective|`, in [0, 1]; 1 when the bound is unknown.
fn relative_gap(objective: f64, bound: f64) -> f64 {
    if bound.is_finite() && objective.is_finite() {
        ((objective - bound) / objective.abs().max(1e-9)).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Large-neighbourhood search: re-solve windows of days with everything
/// outside held, keeping each improvement, until the deadline.
#[allow(clippy::too_many_arguments)]
fn improve(
    inst: &Instance<'_>,
    history: &History,
    part: &[usize],
    first: bool,
    m: &Model<'_, '_>,
    mut best: Solved,
    deadline: Instant,
    shared: &Shared,
    opts: &SolveOptions,
) -> Solved {
    let mut dates: Vec<chrono::NaiveDate> =
        part.iter().map(|&s| inst.shifts[s].shift.date).collect();
    dates.sort_unstable();
    dates.dedup();
    let (from, windows) = (
        best.objective,
        dates.len().div_ceil(LNS_WINDOW_DAYS / 2 + 1).max(1),
    );
    let mut tried = 0;
    let quiet = SolveOptions {
        mip_gap: 0.0,
        progress: false,
        ..opts.clone()
    };
    shared.found(best.objective);
    while deadline.saturating_duration_since(Instant::now()) > Duration::from_secs(2)
        && !shared.within_gap()
    {
        let offset = (tried * (LNS_WINDOW_DAYS / 2 + 1)) % dates.len().max(1);
        tried += 1;
        let window: std::collections::HashSet<chrono::NaiveDate> = (0..LNS_WINDOW_DAYS)
            .map(|k| dates[(offset + k) % dates.len()])
            .collect();
        let current = placed_of(m, &best.values);
        let mut fixed = HashMap::new();
        for &s in part
            .iter()
            .filter(|&&s| !window.contains(&inst.shifts[s].shift.date))
        {
            for (p, _) in &m.x[s] {
                fixed.insert((s, *p), current.get(&s).is_some_and(|v| v.contains(p)));
            }
        }
        let sub = Model::build_fixed(inst, history, part, first, &fixed);
        let start = sub.start(&current);
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        let limit = left.min((left / 4.0).max(3.0));
        if let Ok(s) = solve_part(&sub, &objectives(&sub, inst, false), &start, limit, &quiet)
            && s.objective < best.objective - 1e-6
        {
            best = Solved {
                values: s.values,
                optimal: false,
                objective: s.objective,
                gap: 1.0,
                bound: f64::NEG_INFINITY,
            };
            shared.found(best.objective);
        }
    }
    if opts.progress {
        eprintln!(
            "    large-neighbourhood search: {tried} windows of {LNS_WINDOW_DAYS} days (a sweep is {windows}), objective {from:.1} → {:.1}",
            best.objective
        );
    }
    best
}

/// An objective's value at a start vector.
fn eval_at(obj: &Expression, start: &[(good_lp::Variable, f64)]) -> f64 {
    struct At(HashMap<good_lp::Variable, f64>);
    impl Solution for At {
        fn status(&self) -> SolutionStatus {
            SolutionStatus::Optimal
        }
        fn value(&self, v: good_lp::Variable) -> f64 {
            self.0.get(&v).copied().unwrap_or(0.0)
        }
    }
    obj.eval_with(&At(start.iter().copied().collect()))
}

/// A large part on two cores: large-neighbourhood search from the
/// construction on one, and on the other HiGHS on the whole part from the
/// same start, for its lower bound (and any better solution it finds). The
/// better of the two solutions is kept, and the gap is measured against
/// HiGHS's proven bound, so it is a real gap.
#[allow(clippy::too_many_arguments)]
pub(super) fn lns_with_bound(
    inst: &Instance<'_>,
    history: &History,
    part: &[usize],
    first: bool,
    m: &Model<'_, '_>,
    phases: &[Expression],
    placed: &BTreeMap<usize, Vec<usize>>,
    share: f64,
    opts: &SolveOptions,
) -> Result<Solved, SolveError> {
    let started = Instant::now();
    let start = m.start(placed);
    let initial = Solved {
        values: values_of(m, placed),
        optimal: false,
        objective: eval_at(&phases[0], &start),
        gap: 1.0,
        bound: f64::NEG_INFINITY,
    };
    // Any rota will do (a first rota): the construction is one.
    if opts.mip_gap >= 1.0 {
        return Ok(Solved {
            optimal: true,
            ..initial
        });
    }
    let one = SolveOptions {
        threads: 1,
        ..opts.clone()
    };
    let deadline = started + Duration::from_secs_f64((share - 0.5).max(1.0));
    // The other core first solves the LP relaxation (a bound in seconds),
    // then, unless LNS is already within the gap of it, the whole part as a
    // MIP for a better bound or solution. When the gap is reached LNS stops
    // and the time left goes to the next parts.
    let shared = Shared::new(f64::from(opts.mip_gap));
    let (improved, whole) = std::thread::scope(|sc| {
        let whole = sc.spawn(|| {
            let left = || (share - 0.5 - started.elapsed().as_secs_f64()).max(1.0);
            if let Some(b) = relaxation_bound(m, &phases[0], left(), &one)? {
                shared.proved(b);
                if opts.progress {
                    eprintln!(
                        "    LP relaxation bound {b:.1} at {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            if shared.within_gap() {
                return Ok(None);
            }
            let r = solve_part(m, phases, &start, left(), &one)?;
            shared.proved(r.bound);
            if r.optimal {
                shared.proved(r.objective);
            }
            Ok(Some(r))
        });
        let improved = improve(
            inst, history, part, first, m, initial, deadline, &shared, &one,
        );
        (improved, whole.join())
    });
    let whole: Option<Solved> =
        match whole.map_err(|_| SolveError::Solver("the bound thread panicked".into()))? {
            Ok(w) => w,
            Err(SolveError::NoSolution) => None,
            Err(e) => return Err(e),
        };
    // The LNS objective, measured on the whole part's model.
    let lns_objective = eval_at(&phases[0], &m.start(&placed_of(m, &improved.values)));
    let (values, objective) = match whole {
        Some(w) if w.objective <= lns_objective => (w.values, w.objective),
        _ => (improved.values, lns_objective),
    };
    let bound = shared.bound();
    let gap = relative_gap(objective, bound);
    if opts.progress {
        eprintln!(
            "    best of LNS ({lns_objective:.1}) and the whole-part solve: {objective:.1}, HiGHS's bound {bound:.1}, gap {:.2} %",
            100.0 * gap
        );
    }
    Ok(Solved {
        values,
        optimal: gap <= f64::from(opts.mip_gap) + 1e-9,
        objective,
        gap,
        bound,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parts;
    use super::*;
    use touban_domain::Month;

    /// On a small generated network: the LP bound lies below the proven
    /// optimum, and the LNS-plus-bound path returns a solution no better
    /// than the optimum with a gap measured against a bound no higher than
    /// it (a real gap, never an optimistic one).
    #[test]
    fn lp_bound_and_lns_gap_are_honest() {
        let month = Month::new(2027, 1).unwrap();
        let net = crate::synth::network(90, 8, month.first_day(), 10, 7);
        let mut inst = Instance::new(&net, month);
        inst.keep_days(10);
        let history = History::default();
        let all = parts(&inst);
        let part = all.last().unwrap();
        let m = Model::build(&inst, &history, part, true);
        let phases = objectives(&m, &inst, false);
        let exact_opts = SolveOptions {
            time_limit: 60.0,
            mip_gap: 0.0,
            threads: 1,
            progress: false,
        };
        let exact = solve_part(&m, &phases, &[], 60.0, &exact_opts).unwrap();
        assert!(exact.optimal, "the small part is solved to optimality");
        let lp = relaxation_bound(&m, &phases[0], 60.0, &exact_opts)
            .unwrap()
            .expect("the LP relaxation is solved");
        assert!(
            lp <= exact.objective + 1e-6,
            "LP {lp} > optimum {}",
            exact.objective
        );
        assert!(lp > 0.0, "the bound says something: {lp}");

        let placed = crate::greedy::construct(&inst, &history, part);
        let opts = SolveOptions {
            mip_gap: 0.02,
            ..exact_opts
        };
        let s = lns_with_bound(
            &inst, &history, part, true, &m, &phases, &placed, 20.0, &opts,
        )
        .unwrap();
        assert!(s.objective >= exact.objective - 1e-6);
        assert!(s.bound <= exact.objective + 1e-6);
        assert!((s.gap - relative_gap(s.objective, s.bound)).abs() < 1e-12);
        assert!(s.optimal, "within 2 % in 20 s: gap {}", s.gap);
        assert!(s.gap <= 0.02);
    }

    #[test]
    fn relative_gap_is_one_without_a_bound() {
        assert_eq!(relative_gap(10.0, f64::NEG_INFINITY), 1.0);
        assert!((relative_gap(10.0, 9.0) - 0.1).abs() < 1e-12);
        assert_eq!(relative_gap(10.0, 11.0), 0.0);
        let s = Shared::new(0.05);
        assert!(!s.within_gap());
        s.found(100.0);
        s.proved(90.0);
        assert!(!s.within_gap());
        s.proved(80.0);
        assert_eq!(
            s.bound(),
            90.0,
            "a weaker bound never replaces a stronger one"
        );
        s.found(94.0);
        assert!(s.within_gap());
    }
}
