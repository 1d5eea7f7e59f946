//! The benchmark's reader and evaluator, and its translation solved by the
//! product's own engine. The instances are read from ../shared (they are
//! not copied into this repository: their licence is undecided, see
//! shared/bench/curtois/BEST_KNOWN.md).

use std::path::PathBuf;

use super::shapes::{generate, planted};
use super::translate::solve;
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
    let p = Problem::parse(&generate(35, 12, 3, 5, false)).unwrap();
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

/// The tight shape is feasible by construction: the roster it was drawn
/// around breaks no hard rule of the evaluator, on several shapes and
/// seeds (horizons not a whole number of weeks too). People take only some
/// types. The product's rota of one breaks no hard rule either, its
/// objective is the evaluator's, and written as a roster file and read
/// back it is the same roster.
#[test]
fn a_tight_generated_shape_is_feasible_and_solved() {
    for (days, staff, types, seed) in [
        (28, 14, 3, 11),
        (35, 25, 1, 2),
        (61, 9, 5, 3),
        (182, 20, 4, 4),
    ] {
        let (text, plan) = planted(days, staff, types, seed);
        assert_eq!(text, generate(days, staff, types, seed, true));
        assert!(text.lines().next().unwrap().ends_with("--tight"));
        let p = Problem::parse(&text).unwrap();
        assert_eq!(
            (p.days, p.staff.len(), p.shifts.len()),
            (days, staff, types)
        );
        let ev = evaluate(&p, &plan);
        assert!(
            ev.violations.is_empty(),
            "{days}x{staff}x{types}: {:?}",
            ev.violations
        );
        if types > 1 {
            assert!(p.staff.iter().any(|e| e.max_shifts.contains(&0)));
        }
    }
    let p = Problem::parse(&generate(28, 14, 3, 11, true)).unwrap();
    let out = solve(&p, 8.0, 1, 0.0).unwrap();
    let ev = evaluate(&p, &out.roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    #[allow(clippy::cast_precision_loss)]
    let evaluated = ev.objective as f64;
    assert!((out.objective - evaluated).abs() < 1e-6);
    let back = p.parse_roster(&p.write_roster(&out.roster)).unwrap();
    assert_eq!(back, out.roster);
}

#[test]
fn roster_errors_name_the_line() {
    let p = instance(1);
    let good = p.write_roster(&vec![vec![None; p.days]; p.staff.len()]);
    let mut lines: Vec<&str> = good.lines().collect();
    let short = lines[2].rsplit_once('\t').unwrap().0.to_string();
    lines[2] = &short;
    let e = p.parse_roster(&lines.join("\n")).unwrap_err();
    assert_eq!(e, "line 3: employee \"C\" has 13 days, the horizon is 14");
    let e = p
        .parse_roster(&good.replacen("A\t-", "A\tX", 1))
        .unwrap_err();
    assert_eq!(e, "line 1: unknown shift type \"X\"");
    let e = p.parse_roster(&good.replacen("A\t", "Z\t", 1)).unwrap_err();
    assert_eq!(e, "line 1: unknown employee \"Z\"");
    let e = p
        .parse_roster(good.split_once('\n').unwrap().1)
        .unwrap_err();
    assert_eq!(e, "employee \"A\" is missing");
}
