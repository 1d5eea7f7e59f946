//! A lower bound on a part's optimum from any row prices (a Lagrangian
//! bound), so that an approximate dual — a first-order method's, stopped
//! by its time limit — still proves something.
//!
//! For `min c·x` subject to `lower ≤ A x ≤ upper` and `0 ≤ x ≤ u`, and any
//! prices y, every feasible x has
//! `c·x = (c − Aᵀy)·x + y·(A x) ≥ Σ_j min(0, d_j·u_j) + Σ_r min(y_r·lower_r, y_r·upper_r)`
//! with d = c − Aᵀy. Nothing about y needs to be right for the bound to
//! hold; the better y, the closer it comes to the relaxation's optimum.
//! A price whose side of its row is unbounded is taken as 0, and a column
//! without an upper bound whose reduced cost is negative makes the bound
//! −∞: [`crate::model::Model::column_upper`] gives every auxiliary column
//! a finite one.

use crate::lin::Rows;
use crate::model::Model;

impl Model<'_, '_> {
    /// A finite upper bound for every column: 1 for the binary ones, for
    /// each auxiliary column the largest its definitions can make its least
    /// value with every column they use anywhere within its own bounds.
    /// Adding these bounds changes no optimum (costs of auxiliary columns
    /// are ≥ 0, and a solution's columns at their least values are feasible,
    /// as [`Model::start`] relies on), so a bound proven with them
    /// ([`crate::bound::lagrangian`]) holds for the model.
    #[must_use]
    pub fn column_upper(&self) -> Vec<f64> {
        let mut upper: Vec<f64> = (0..self.vars.len())
            .map(|c| {
                if self.vars.is_binary(c) {
                    1.0
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let mut defined = vec![false; upper.len()];
        for k in 0..self.defs.len() {
            let (v, c, terms) = self.definition(k);
            let most = c + terms.map(|(i, a)| (a * upper[i]).max(0.0)).sum::<f64>();
            let col = v.col();
            if self.vars.is_binary(col) {
                continue;
            }
            upper[col] = if defined[col] {
                upper[col].max(most.max(0.0))
            } else {
                most.max(0.0)
            };
            defined[col] = true;
        }
        upper
    }
}

/// The Lagrangian bound of `min cost·x`, `rows`, `0 ≤ x ≤ upper`, at
/// prices `y` (one per row), or −∞. Columns' lower bounds are 0.
#[must_use]
pub fn lagrangian(rows: &Rows, cost: &[f64], upper: &[f64], y: &[f64]) -> f64 {
    let (y, reduced) = reduced_costs(rows, cost, y);
    value(rows, &y, &reduced, upper)
}

/// Like [`lagrangian`], after scaling down the prices of the rows that
/// define an auxiliary column whose reduced cost they make negative
/// (`defs`: (column, row) in the model's order, each row using only
/// columns defined before). An approximate method's prices leave such
/// columns — a deviation, an excess, bounded by dozens — below zero, and
/// each costs its upper bound times that. For each, the factor in [0, 1]
/// for its rows' prices is the one that proves most (the bound along that
/// line is concave and piecewise linear: its best is at a point where some
/// reduced cost in those rows crosses 0). Then every row's price alone is
/// scaled within [0, 2] the same way (coordinate ascent). No step lowers
/// the bound.
#[must_use]
pub fn lagrangian_repaired(
    rows: &Rows,
    cost: &[f64],
    upper: &[f64],
    y: &[f64],
    defs: &[(usize, usize)],
) -> f64 {
    let (mut y, mut reduced) = reduced_costs(rows, cost, y);
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); cost.len()];
    let mut order = Vec::new();
    for &(v, r) in defs {
        if rows_of[v].is_empty() {
            order.push(v);
        }
        rows_of[v].push(r);
    }
    // Last defined first: a row changes only the reduced costs of its
    // own column and of columns defined before it.
    let mut shift: Vec<(usize, f64)> = Vec::new();
    for &v in order.iter().rev() {
        if reduced[v] >= 0.0 {
            continue;
        }
        // With the rows' prices scaled by f, column j's reduced cost is
        // reduced[j] + (1 − f)·s_j and the rows add f·sides.
        shift.clear();
        let mut sides = 0.0;
        for &r in &rows_of[v] {
            if y[r] == 0.0 {
                continue;
            }
            sides += y[r] * side(rows, r, y[r]);
            shift.extend(rows.row(r).map(|(c, a)| (c, y[r] * a)));
        }
        shift.sort_unstable_by_key(|t| t.0);
        shift.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += b.1;
                true
            } else {
                false
            }
        });
        let f = best_scale(&shift, sides, &reduced, upper, 1.0);
        if f < 1.0 {
            for &(c, s) in &shift {
                reduced[c] += (1.0 - f) * s;
            }
            for &r in &rows_of[v] {
                y[r] *= f;
            }
        }
    }
    // Then each row's price on its own, scaled within [0, 2] to what
    // proves most (coordinate ascent on the prices): what the first-order
    // method left over- or under-priced. Passes over every row until one
    // adds less than a ten-thousandth (at most `ASCENT_PASSES`).
    let mut bound = value(rows, &y, &reduced, upper);
    for _ in 0..ASCENT_PASSES {
        for (r, price) in y.iter_mut().enumerate() {
            if *price == 0.0 {
                continue;
            }
            let p = *price;
            shift.clear();
            shift.extend(rows.row(r).map(|(c, a)| (c, p * a)));
            let f = best_scale(&shift, p * side(rows, r, p), &reduced, upper, 2.0);
            if f != 1.0 {
                for &(c, s) in &shift {
                    reduced[c] += (1.0 - f) * s;
                }
                *price *= f;
            }
        }
        let next = value(rows, &y, &reduced, upper);
        let gained = next - bound;
        bound = next;
        if gained <= 1e-4 * bound.abs().max(1.0) {
            break;
        }
    }
    bound
}

/// Passes of coordinate ascent over the rows' prices at most.
const ASCENT_PASSES: usize = 4;

/// The factor f in [0, most] for prices whose rows add `sides` to the
/// bound and `s_j` to column j's `Aᵀy` (`shift`: (j, s_j), each column
/// once) that maximises
/// `g(f) = f·sides + Σ_j min(0, (reduced_j + (1 − f)·s_j)·u_j)`:
/// concave and piecewise linear, so a sweep over the points where a
/// reduced cost crosses 0 finds it. 1 (no change) unless something is
/// strictly better.
fn best_scale(
    shift: &[(usize, f64)],
    sides: f64,
    reduced: &[f64],
    upper: &[f64],
    most: f64,
) -> f64 {
    let at = |f: f64| -> f64 {
        f * sides
            + shift
                .iter()
                .map(|&(c, s)| ((reduced[c] + (1.0 - f) * s) * upper[c]).min(0.0))
                .sum::<f64>()
    };
    // Slope at f = 0 (just right of it) and the points where it changes.
    let mut slope = sides;
    let mut events: Vec<(f64, f64)> = Vec::with_capacity(shift.len());
    for &(c, s) in shift {
        if s == 0.0 || !upper[c].is_finite() {
            continue;
        }
        // t(f) = reduced + s − s·f, negative beyond (s > 0) or before
        // (s < 0) the point p.
        let p = (reduced[c] + s) / s;
        let change = -s * upper[c];
        if s > 0.0 {
            if p <= 0.0 {
                slope += change;
            } else if p < most {
                events.push((p, change));
            }
        } else if p > 0.0 {
            slope += change;
            if p < most {
                events.push((p, -change));
            }
        }
    }
    events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let (mut f, mut g) = (0.0, at(0.0));
    let mut best = (f, g);
    for (p, change) in events {
        g += slope * (p - f);
        f = p;
        slope += change;
        if g > best.1 {
            best = (f, g);
        }
    }
    g += slope * (most - f);
    if g > best.1 {
        best = (most, g);
    }
    let here = at(1.0);
    if best.1 > here + 1e-9 * here.abs().max(1.0) {
        best.0
    } else {
        1.0
    }
}

/// Row `r`'s bound on the side a price of this sign uses.
fn side(rows: &Rows, r: usize, price: f64) -> f64 {
    if price > 0.0 {
        rows.lower[r]
    } else {
        rows.upper[r]
    }
}

/// The prices with those on an unbounded side set to 0, and c − Aᵀy.
fn reduced_costs(rows: &Rows, cost: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut reduced = cost.to_vec();
    let mut prices = vec![0.0; rows.len()];
    for (r, &price) in y.iter().enumerate().take(rows.len()) {
        if price == 0.0 || !side(rows, r, price).is_finite() || !price.is_finite() {
            continue;
        }
        prices[r] = price;
        for (c, a) in rows.row(r) {
            reduced[c] -= price * a;
        }
    }
    (prices, reduced)
}

/// `Σ_r y_r·side_r + Σ_j min(0, d_j·u_j)`.
fn value(rows: &Rows, y: &[f64], reduced: &[f64], upper: &[f64]) -> f64 {
    let mut total = 0.0;
    for (r, &price) in y.iter().enumerate() {
        if price != 0.0 {
            total += price * side(rows, r, price);
        }
    }
    for (d, &u) in reduced.iter().zip(upper) {
        if *d < 0.0 {
            if !u.is_finite() {
                return f64::NEG_INFINITY;
            }
            total += d * u;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::{Columns, Lin};

    /// min 3a + 2b + c + 5s subject to a + b ≥ 1, b + c ≥ 1,
    /// s ≥ 1 − a − c, a + b + c ≤ 2; a, b, c binary, 0 ≤ s ≤ 1. The
    /// optimum is 3 (b and c), and so is the relaxation's: prices
    /// (2, 0, −1, 0) prove it.
    fn small() -> (Rows, Vec<f64>, Vec<f64>) {
        let mut cols = Columns::default();
        let (a, b, c, s) = (cols.binary(), cols.binary(), cols.binary(), cols.slack());
        let mut rows = Rows::default();
        rows.push(Lin::sum([a, b]), 1.0, f64::INFINITY);
        rows.push(Lin::sum([b, c]), 1.0, f64::INFINITY);
        // s's definition, as the model writes one: `1 − a − c − s ≤ 0`.
        rows.push_led(
            Some((s, -1.0)),
            1.0 - Lin::sum([a, c]),
            f64::NEG_INFINITY,
            0.0,
        );
        rows.le(Lin::sum([a, b, c]), 2.0);
        (rows, vec![3.0, 2.0, 1.0, 5.0], vec![1.0, 1.0, 1.0, 1.0])
    }

    fn optimum(rows: &Rows, cost: &[f64]) -> f64 {
        let mut best = f64::INFINITY;
        for bits in 0..8u32 {
            let mut x: Vec<f64> = (0..3).map(|i| f64::from((bits >> i) & 1)).collect();
            x.push((1.0 - x[0] - x[2]).max(0.0));
            let ok = (0..rows.len()).all(|r| {
                let v: f64 = rows.row(r).map(|(c, a)| a * x[c]).sum();
                v >= rows.lower[r] - 1e-9 && v <= rows.upper[r] + 1e-9
            });
            if ok {
                best = best.min(cost.iter().zip(&x).map(|(c, v)| c * v).sum());
            }
        }
        best
    }

    #[test]
    fn any_prices_bound_the_optimum_from_below() {
        let (rows, cost, upper) = small();
        let opt = optimum(&rows, &cost);
        assert!((opt - 3.0).abs() < 1e-9, "b and c: {opt}");
        // The relaxation's dual proves the optimum; zero prices give the
        // trivial 0; wrong signs and wild values never exceed it.
        let good = lagrangian(&rows, &cost, &upper, &[2.0, 0.0, -1.0, 0.0]);
        assert!((good - opt).abs() < 1e-9, "{good}");
        let rough = lagrangian(&rows, &cost, &upper, &[1.8, 0.1, -1.1, -0.1]);
        assert!(rough > 2.0 && rough < opt, "{rough}");
        assert!(lagrangian(&rows, &cost, &upper, &[0.0; 4]).abs() < 1e-12);
        let mut seed = 7u64;
        for _ in 0..2_000 {
            let y: Vec<f64> = (0..4)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    ((seed >> 33) as f64 / f64::from(1u32 << 31)) * 12.0 - 6.0
                })
                .collect();
            let plain = lagrangian(&rows, &cost, &upper, &y);
            let repaired = lagrangian_repaired(&rows, &cost, &upper, &y, &[(3, 2)]);
            assert!(plain <= opt + 1e-9 && repaired <= opt + 1e-9, "{y:?}");
            assert!(repaired >= plain, "{y:?}");
        }
    }

    #[test]
    fn repairing_an_auxiliary_columns_prices_recovers_the_bound() {
        // s is priced 5; a price of −9 on its definition leaves its reduced
        // cost at −4, which costs 4 × its bound. Repaired, the price is −5.
        let (rows, cost, mut upper) = small();
        upper[3] = 30.0;
        let y = [2.0, 0.0, -9.0, 0.0];
        let plain = lagrangian(&rows, &cost, &upper, &y);
        let repaired = lagrangian_repaired(&rows, &cost, &upper, &y, &[(3, 2)]);
        assert!(plain < -100.0, "{plain}");
        assert!(
            repaired > plain + 100.0 && repaired <= 3.0 + 1e-9,
            "{repaired}"
        );
    }

    #[test]
    fn an_unbounded_column_priced_below_zero_proves_nothing() {
        let (rows, cost, mut upper) = small();
        upper[3] = f64::INFINITY;
        // Price −6 on the row defining s makes s's reduced cost 5 − 6 < 0.
        let b = lagrangian(&rows, &cost, &upper, &[0.0, 0.0, -6.0, 0.0]);
        assert_eq!(b, f64::NEG_INFINITY);
    }
}
