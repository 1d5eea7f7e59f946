//! The Curtois & Qu benchmark model on Instance 1 (proven optimum 607), read
//! from ../shared (the instances are not copied into this repository: their
//! licence is undecided, see shared/bench/curtois/BEST_KNOWN.md).

use std::path::PathBuf;

use touban_solver::curtois::{CurtoisOptions, Problem, evaluate, solve, solve_with};

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

#[test]
fn instance1_is_solved_to_its_proven_optimum() {
    let p = instance(1);
    assert_eq!((p.days, p.staff.len(), p.shifts.len()), (14, 8, 1));
    let out = solve(&p, 60.0, 1).unwrap();
    let roster = out.roster.expect("a roster");
    let ev = evaluate(&p, &roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    assert_eq!(ev.objective, 607);
    assert!(out.optimal);
    let text = p.write_roster(&roster);
    assert_eq!(text.lines().count(), 8);
    assert!(text.lines().all(|l| l.split('\t').count() == 15), "{text}");
}

/// Instance 20 (182 days, 50 staff) is one where HiGHS alone found no roster
/// in a minute. The construction places every employee, and the search only
/// ever keeps rosters the independent evaluator finds free of hard
/// violations, each better than the last.
#[test]
fn a_long_instance_gets_a_roster_better_than_its_construction() {
    let p = instance(20);
    let out = solve_with(
        &p,
        &CurtoisOptions {
            time_limit: 8.0,
            ..CurtoisOptions::default()
        },
    )
    .unwrap();
    let roster = out.roster.expect("a roster");
    let ev = evaluate(&p, &roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    let constructed = out.constructed.expect("built by the construction");
    assert!(
        ev.objective < constructed,
        "{} not below the construction's {constructed}",
        ev.objective
    );
    assert!(!out.optimal);
    assert_eq!(p.write_roster(&roster).lines().count(), 50);
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
