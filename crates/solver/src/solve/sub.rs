//! A neighbourhood as a model of its own: only the columns it frees and the
//! rows they touch go to HiGHS, everything held folded into the rows'
//! bounds.
//!
//! Setting bounds on the whole part's model and letting HiGHS's presolve
//! remove the held columns costs a pass over the whole part for every
//! neighbourhood: seconds on a half-year of 100 people, most of a
//! neighbourhood's time. The sub-model costs what the rows it keeps cost.
//!
//! Which columns are free: the assignment columns the neighbourhood frees,
//! and, closed under "shares a row with a free column", every auxiliary
//! column (a day worked, a run of days, a shortfall, a headcount's
//! deviation…): an auxiliary column held at its value while the duties
//! beneath it change could forbid the very change that pays. Held
//! assignment columns are constants. So every row of the sub-model is a
//! row of the part with the held columns' contributions moved to its
//! bounds, and its solutions are the part's solutions that agree with the
//! rota on every held duty.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use touban_highs_callback::Reply;

use crate::model::Model;

/// The part's matrix by column: the rows each column is in.
pub(super) struct ByColumn {
    start: Vec<u32>,
    rows: Vec<u32>,
}

impl ByColumn {
    pub fn new(m: &Model<'_, '_>) -> Self {
        let n = m.vars.len();
        let mut count = vec![0u32; n + 1];
        for r in 0..m.rows.len() {
            for (c, _) in m.rows.row(r) {
                count[c + 1] += 1;
            }
        }
        for c in 0..n {
            count[c + 1] += count[c];
        }
        let mut next = count.clone();
        let mut rows = vec![0u32; count[n] as usize];
        for r in 0..m.rows.len() {
            for (c, _) in m.rows.row(r) {
                rows[next[c] as usize] = u32::try_from(r).unwrap_or(u32::MAX);
                next[c] += 1;
            }
        }
        Self { start: count, rows }
    }

    fn of(&self, col: usize) -> impl Iterator<Item = usize> + '_ {
        let (a, b) = (self.start[col] as usize, self.start[col + 1] as usize);
        self.rows[a..b].iter().map(|&r| r as usize)
    }
}

/// How a neighbourhood's solve ended.
pub(super) struct Outcome {
    /// The assignment columns at 1 in the best solution found, the held
    /// ones with them; None when HiGHS found none.
    pub on: Option<Vec<usize>>,
    /// HiGHS proved the neighbourhood's optimum.
    pub optimal: bool,
    /// Columns and rows of the sub-model.
    pub size: (usize, usize),
}

/// Re-solves the rota whose every column's value is `values` with the
/// assignment columns `free` free and every other assignment column held,
/// until `until` or `stop()`. `cost` is each column's cost; the first `nx`
/// columns are the assignment columns.
#[allow(clippy::too_many_arguments)]
pub(super) fn solve(
    m: &Model<'_, '_>,
    by_col: &ByColumn,
    cost: &[f64],
    nx: usize,
    values: &[f64],
    free: &[usize],
    until: Instant,
    stop: impl Fn() -> bool,
) -> Outcome {
    // Free columns (sub-model index by part column) and the rows they touch.
    let mut index: HashMap<usize, usize> = HashMap::with_capacity(free.len() * 2);
    let mut cols: Vec<usize> = Vec::with_capacity(free.len() * 2);
    for &c in free {
        if c < nx && !index.contains_key(&c) {
            index.insert(c, cols.len());
            cols.push(c);
        }
    }
    let mut seen: HashSet<usize> = HashSet::new();
    let mut rows: Vec<usize> = Vec::new();
    let mut k = 0;
    while k < cols.len() {
        for r in by_col.of(cols[k]) {
            if seen.insert(r) {
                rows.push(r);
                for (c, _) in m.rows.row(r) {
                    if c >= nx && !index.contains_key(&c) {
                        index.insert(c, cols.len());
                        cols.push(c);
                    }
                }
            }
        }
        k += 1;
    }
    let size = (cols.len(), rows.len());
    // Each kept row with the held columns' contributions in its bounds.
    let (mut start, mut idx, mut val) = (vec![0u32], Vec::new(), Vec::new());
    let (mut lower, mut upper) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for &r in &rows {
        let mut held = 0.0;
        for (c, a) in m.rows.row(r) {
            match index.get(&c) {
                Some(&j) => {
                    idx.push(u32::try_from(j).unwrap_or(u32::MAX));
                    val.push(a);
                }
                None => held += a * values[c],
            }
        }
        start.push(u32::try_from(idx.len()).unwrap_or(u32::MAX));
        lower.push(m.rows.lower[r] - held);
        upper.push(m.rows.upper[r] - held);
    }
    let integral: Vec<bool> = cols.iter().map(|&c| m.vars.is_binary(c)).collect();
    let col_upper: Vec<f64> = integral
        .iter()
        .map(|&b| if b { 1.0 } else { f64::INFINITY })
        .collect();
    let sub_cost: Vec<f64> = cols.iter().map(|&c| cost[c]).collect();
    let none = Outcome {
        on: None,
        optimal: false,
        size,
    };
    let Ok(mut model) = touban_highs_callback::pass_mip(&touban_highs_callback::Mip {
        cost: &sub_cost,
        col_lower: &vec![0.0; cols.len()],
        col_upper: &col_upper,
        integral: &integral,
        row_lower: &lower,
        row_upper: &upper,
        start: &start,
        index: &idx,
        value: &val,
    }) else {
        return none;
    };
    model.make_quiet();
    model.set_option("threads", 1);
    model.set_option("mip_rel_gap", 0.0);
    model.set_option(
        "time_limit",
        until
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
            .max(0.05),
    );
    let at: Vec<f64> = cols.iter().map(|&c| values[c]).collect();
    model.set_solution(Some(&at), None, None, None);
    let Ok(solved) = touban_highs_callback::solve(model, |_| {
        if stop() || Instant::now() >= until {
            Reply::Interrupt
        } else {
            Reply::Continue
        }
    }) else {
        return none;
    };
    if solved.primal_solution_status() != highs::HighsSolutionStatus::Feasible {
        return none;
    }
    let optimal = solved.status() == highs::HighsModelStatus::Optimal;
    let got = solved.get_solution();
    let got = got.columns();
    let mut on: Vec<usize> = (0..nx)
        .filter(|c| !index.contains_key(c) && values[*c] > 0.5)
        .collect();
    on.extend(
        cols.iter()
            .zip(got)
            .filter(|&(&c, &v)| c < nx && v > 0.5)
            .map(|(&c, _)| c),
    );
    on.sort_unstable();
    Outcome {
        on: Some(on),
        optimal,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::super::hybrid::{dense, on_of};
    use super::super::local::State;
    use super::super::{SolveOptions, highs_model, with_small_start};
    use super::*;

    /// A neighbourhood solved as a model of its own reaches the same
    /// optimum as the whole part's model with the same duties held (each
    /// held column fixed by its bounds), and its rota keeps every held
    /// duty.
    #[test]
    fn a_sub_model_agrees_with_the_whole_part_held() {
        with_small_start(|inst, part, m, obj, c, on| {
            let values = dense(m, &on);
            let nx: usize = m.x.iter().map(Vec::len).sum();
            // Free: the duties of the part's first three days.
            let mut dates: Vec<_> = part.iter().map(|&s| inst.shifts[s].shift.date).collect();
            dates.sort_unstable();
            dates.dedup();
            let mut free = Vec::new();
            for &s in part {
                if dates[..3].contains(&inst.shifts[s].shift.date) {
                    free.extend(m.x[s].iter().map(|(_, v)| v.col()));
                }
            }
            let until = Instant::now() + std::time::Duration::from_secs(60);
            let cost = crate::solve::costs(m, obj);
            let by_col = ByColumn::new(m);
            let got = solve(m, &by_col, &cost, nx, &values, &free, until, || false);
            assert!(got.optimal);
            assert!(got.size.0 > free.len() && got.size.1 > 0, "{:?}", got.size);
            let sub_on = got.on.expect("a rota");
            let free: HashSet<usize> = free.into_iter().collect();
            for &col in &on {
                if !free.contains(&col) {
                    assert!(sub_on.binary_search(&col).is_ok(), "held duty {col} kept");
                }
            }
            let sub = State::new(c, sub_on.iter().copied());

            // The whole part, held columns fixed by their bounds.
            let opts = SolveOptions {
                time_limit: 60.0,
                mip_gap: 0.0,
                threads: 1,
                progress: false,
            };
            let mut whole = highs_model(m, obj, 60.0, &opts).unwrap();
            whole.set_option("mip_rel_gap", 0.0);
            let (mut lower, mut upper) = (vec![0.0; nx], vec![0.0; nx]);
            for col in 0..nx {
                if free.contains(&col) {
                    upper[col] = 1.0;
                } else if values[col] > 0.5 {
                    (lower[col], upper[col]) = (1.0, 1.0);
                }
            }
            touban_highs_callback::set_column_bounds(&mut whole, &lower, &upper).unwrap();
            let solved = whole.solve();
            assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
            let whole_on = on_of(solved.get_solution().columns(), nx);
            let whole = State::new(c, whole_on.iter().copied());
            assert!(sub.excess <= 1e-6 && whole.excess <= 1e-6);
            assert!(
                (sub.objective - whole.objective).abs() <= 1e-6 * whole.objective.abs().max(1.0),
                "sub-model {} against the whole part {}",
                sub.objective,
                whole.objective
            );
            let start = State::new(c, on.iter().copied());
            assert!(sub.objective <= start.objective + 1e-9);
        });
    }
}
