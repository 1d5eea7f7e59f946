//! The annealer against the independent evaluator.

use super::*;
use crate::curtois::evaluate;

fn instance(name: &str) -> Problem {
    let path = format!(
        "{}/../../../shared/bench/curtois/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    Problem::parse(&std::fs::read_to_string(path).expect("instance")).expect("parse")
}

#[test]
fn incremental_objective_matches_the_evaluator_and_rows_stay_feasible() {
    let p = instance("Instance2");
    // An empty roster breaks the minimum minutes: start from the
    // construction the search uses.
    let start = crate::curtois::search::construct_for_tests(&p);
    let ev = evaluate(&p, &start);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    let mut a = Annealer::new(&p, start);
    assert_eq!(a.objective, ev.objective);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut moved = 0;
    for _ in 0..20_000 {
        let mut accept = |_| true;
        if a.step(&mut rng, &mut accept).is_some() {
            moved += 1;
            let ev = evaluate(&p, &a.roster);
            assert!(ev.violations.is_empty(), "{:?}", ev.violations);
            assert_eq!(a.objective, ev.objective);
        }
    }
    assert!(moved > 100, "only {moved} moves were feasible");
}

#[test]
fn annealing_never_worsens_and_finds_better() {
    let p = instance("Instance5");
    let start = crate::curtois::search::construct_for_tests(&p);
    let before = evaluate(&p, &start).objective;
    let until = Instant::now() + std::time::Duration::from_secs(1);
    let (roster, obj, stats) = anneal(&p, start, until, &AtomicBool::new(false), 3);
    let ev = evaluate(&p, &roster);
    assert!(ev.violations.is_empty(), "{:?}", ev.violations);
    assert_eq!(ev.objective, obj);
    assert!(obj < before, "{obj} not below {before} after {stats:?}");
}

/// The annealer's row check agrees with the independent evaluator on
/// random rows (most of them breaking some rule, some not).
#[test]
fn row_check_agrees_with_the_evaluator() {
    for name in ["Instance1", "Instance4", "Instance8"] {
        let p = instance(name);
        let base = crate::curtois::search::construct_for_tests(&p);
        let mut a = Annealer::new(&p, base.clone());
        let mut rng = fastrand::Rng::with_seed(11);
        let (mut ok, mut broken) = (0, 0);
        for _ in 0..3_000 {
            let e = rng.usize(0..p.staff.len());
            // Mostly small edits of a feasible row, sometimes a random one.
            let edits = if rng.u8(0..4) == 0 {
                p.days
            } else {
                rng.usize(1..4)
            };
            for _ in 0..edits {
                let d = rng.usize(0..p.days);
                let al = &a.allowed[e];
                let x = (!al.is_empty() && rng.bool()).then(|| al[rng.usize(0..al.len())]);
                a.set(e, d, x);
            }
            let id = format!("{}:", p.staff[e].id);
            let want = !evaluate(&p, &a.roster)
                .violations
                .iter()
                .any(|v| v.starts_with(&id));
            assert_eq!(a.row_ok(e), want, "{name}, employee {id} {:?}", a.roster[e]);
            if want {
                ok += 1;
            } else {
                broken += 1;
                for (d, x) in base[e].iter().enumerate() {
                    a.set(e, d, *x);
                }
            }
        }
        assert!(
            ok > 50 && broken > 50,
            "{name}: {ok} feasible, {broken} broken"
        );
    }
}
