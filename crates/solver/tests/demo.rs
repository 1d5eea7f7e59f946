//! The solver on the demo network: a full month the checker finds free of
//! hard violations, and a model whose objective matches the checker's cost.

use std::path::PathBuf;

use touban_domain::Month;
use touban_solver::{History, Instance, Quality, SolveOptions, check, generate};

fn demo() -> touban_domain::Network {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/networks/southern-shimoina.toml");
    touban_netfile::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn demo_month_is_complete_and_clean() {
    let net = demo();
    let inst = Instance::new(&net, Month::new(2027, 1).unwrap());
    let opts = SolveOptions {
        time_limit: 60.0,
        progress: true,
        ..SolveOptions::default()
    };
    let out = generate(&inst, &History::default(), &opts).unwrap();
    let report = check(&inst, &out.assignments, &History::default());
    for v in &report.violations {
        eprintln!("{v}");
    }
    for c in &report.soft {
        eprintln!("{:<24} {:>8.1} ({})", c.family, c.cost, c.count);
    }
    eprintln!(
        "parts {} elapsed {:?} objective {:.2} checker {:.2}",
        out.parts,
        out.elapsed,
        out.objective,
        report.soft_total()
    );
    assert!(
        report.is_feasible(),
        "{} violations",
        report.violations.len()
    );
    assert_eq!(out.quality, Quality::Optimal);
    assert!(
        (out.objective - report.soft_total()).abs() < 1e-3 * out.objective.max(1.0),
        "model {} vs checker {}",
        out.objective,
        report.soft_total()
    );
}
