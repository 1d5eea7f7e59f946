//! The bound proven from the relaxation's row prices
//! ([`super::hybrid::priced_bound`]) on a real part's model: never above
//! the relaxation's exact optimum, close to it when the prices are good,
//! and the auxiliary columns' upper bounds hold at every assignment.

use std::collections::BTreeMap;

use super::{SolveOptions, highs_model, objectives, with_small_part};

#[test]
fn prices_prove_the_relaxation_and_column_bounds_hold() {
    with_small_part(|inst, _, _, m| {
        let obj = objectives(m, inst, false).pop().expect("one objective");
        let opts = SolveOptions::default();
        let relaxation = |solver: &str| {
            let mut lp = highs_model(m, &obj, 60.0, &opts).expect("the model");
            lp.set_option("solve_relaxation", true);
            lp.set_option("solver", solver);
            lp.set_option("presolve", "off");
            lp.try_solve().expect("solved")
        };
        let exact = relaxation("ipm");
        assert_eq!(exact.status(), highs::HighsModelStatus::Optimal);
        let optimum = exact.objective_value() + obj.constant;
        // The exact dual proves the optimum itself; a first-order
        // method's approximate one a little less, never more.
        for solver in ["ipm", "pdlp"] {
            let solved = if solver == "ipm" {
                &exact
            } else {
                &relaxation(solver)
            };
            let b = super::hybrid::priced_bound(m, &obj, solved).expect("prices");
            assert!(
                b <= optimum + 1e-6 * optimum.abs().max(1.0),
                "{solver}: {b} above the optimum {optimum}"
            );
            assert!(
                b >= optimum - 0.01 * optimum.abs().max(1.0),
                "{solver}: {b} far below the optimum {optimum}"
            );
        }

        // Every continuous auxiliary column's least value stays within its
        // bound, at random assignments (up to three people on each shift,
        // so that the bound's sums are reached; a binary auxiliary column
        // such as a day worked exceeds 1 only where such an assignment
        // breaks a hard rule, and is bounded by 1 in the model itself).
        let upper = m.column_upper();
        let mut seed = 11u64;
        for _ in 0..50 {
            let mut placed: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (s, cands) in m.x.iter().enumerate() {
                for &(p, _) in cands {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    if (seed >> 60) < 3 {
                        placed.entry(s).or_default().push(p);
                    }
                }
            }
            let values = m.start(&placed);
            for (c, (v, u)) in values.iter().zip(&upper).enumerate() {
                if m.vars.is_binary(c) {
                    continue;
                }
                assert!(*v <= u + 1e-9, "column {c}: {v} above its bound {u}");
            }
        }
    });
}
