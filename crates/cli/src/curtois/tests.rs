//! The benchmark's reader and evaluator, and its translation solved by the
//! product's own engine. The instances are read from ../shared (they are
//! not copied into this repository: their licence is undecided, see
//! shared/bench/curtois/BEST_KNOWN.md).

use std::path::PathBuf;

use super::translate::{generate, solve};
use super::{Problem, evaluate};

fn instance(n: u32) -> Problem {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../../shared/bench/curtois/Instance{n}.txt"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared folder must sit beside the repository)",
            p.display()
        )
    });
    Problem::parse(&text).unwrap()
}

/// Instance 1 through the product: its proven optimum, 607, proven, with
/// the product's own objective equal to the evaluator's.
#[test]
fn instance1_through_the_product_is_solved_to_its_proven_optimum() {
    let p = instance(1);
    assert_eq!((p.days, p.staff.len(), p.shifts.len()), (14, 8, 1));
    let out = solve(&p, 60.0, 1, 0.0).unwrap();
    let ev = evaluate(&p, &out.roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    assert_eq!(ev.objective, 607);
    assert!(out.optimal);
    #[allow(clippy::cast_precision_loss)]
    let evaluated = ev.objective as f64;
    assert!((out.objective - evaluated).abs() < 1e-6);
    let text = p.write_roster(&out.roster);
    assert_eq!(text.lines().count(), 8);
    assert!(text.lines().all(|l| l.split('\t').count() == 15), "{text}");
}

/// A generated shape (35 days, three shift types) the public instances do
/// not have: the product's rota breaks no hard rule of the benchmark, and
/// its own objective is exactly the evaluator's (the translation is exact),
/// also when it stops at the time limit.
#[test]
fn a_generated_shape_is_translated_exactly() {
    let p = Problem::parse(&generate(35, 12, 3, 5)).unwrap();
    assert_eq!((p.days, p.staff.len(), p.shifts.len()), (35, 12, 3));
    let out = solve(&p, 8.0, 1, 0.0).unwrap();
    let ev = evaluate(&p, &out.roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    #[allow(clippy::cast_precision_loss)]
    let evaluated = ev.objective as f64;
    assert!(
        (out.objective - evaluated).abs() < 1e-6,
        "product {} vs evaluator {evaluated}",
        out.objective
    );
}

#[test]
fn the_evaluator_finds_broken_rules() {
    let p = instance(1);
    // Nobody works: every employee is under their minimum minutes, and every
    // cover requirement is missed.
    let empty = vec![vec![None; p.days]; p.staff.len()];
    let ev = evaluate(&p, &empty);
    assert_eq!(
        ev.violations
            .iter()
            .filter(|v| v.contains("minutes outside"))
            .count(),
        8
    );
    let under: i64 = p.cover.iter().map(|c| c.requirement * c.under).sum();
    let on: i64 = p.on.iter().map(|r| r.weight).sum();
    assert_eq!(ev.objective, under + on);
    // Everyone works every day: too many in a row, days off and weekends broken.
    let full = vec![vec![Some(0); p.days]; p.staff.len()];
    let ev = evaluate(&p, &full);
    for needle in [
        "works on day off",
        "consecutive shifts >",
        "weekends >",
        "minutes outside",
    ] {
        assert!(
            ev.violations.iter().any(|v| v.contains(needle)),
            "{needle}: {:?}",
            ev.violations
        );
    }
    // A lone working day between days off breaks the minimum of 2 in a row.
    let mut one = vec![vec![None; p.days]; p.staff.len()];
    one[0][4] = Some(0);
    assert!(
        evaluate(&p, &one)
            .violations
            .iter()
            .any(|v| v.starts_with("A: 1 consecutive shifts < 2"))
    );
}

#[test]
fn parse_errors_name_the_line() {
    let e = Problem::parse(
        "SECTION_HORIZON\n14\nSECTION_SHIFTS\nD,480,\nSECTION_STAFF\nA,X=3,1,1,1,1,1,1\n",
    )
    .unwrap_err();
    assert_eq!(e, "line 6: unknown shift type \"X\"");
    let e = Problem::parse("SECTION_HORIZON\nfourteen\n").unwrap_err();
    assert!(e.starts_with("line 2: field 1:"), "{e}");
}
