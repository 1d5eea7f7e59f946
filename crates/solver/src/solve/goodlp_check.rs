//! The model Touban passes to HiGHS in one call, from its own rows, is the
//! model good_lp (the modelling crate it was built with before) gives for
//! the same columns, rows and objective: both reach the same optimum.

use good_lp::{
    Expression, ProblemVariables, Solution, SolverModel, Variable, constraint,
    solvers::highs::highs, variable,
};
use touban_domain::{Duties, Limit, Month, Period, RuleScope, StaffRule};

use super::{objectives, parts, solve_part};
use crate::instance::{History, Instance};
use crate::model::Model;

/// The part's model rebuilt through good_lp and solved to optimality.
fn good_lp_optimum(m: &Model<'_, '_>, obj: &crate::lin::Lin) -> f64 {
    let mut vars = ProblemVariables::new();
    let cols: Vec<Variable> = (0..m.vars.len())
        .map(|c| {
            vars.add(if m.vars.is_binary(c) {
                variable().binary()
            } else {
                variable().min(0)
            })
        })
        .collect();
    let expr = |terms: &mut dyn Iterator<Item = (usize, f64)>| {
        let mut e = Expression::from(0);
        for (c, k) in terms {
            e.add_mul(k, cols[c]);
        }
        e
    };
    let objective = expr(&mut obj.terms.iter().map(|&(v, k)| (v.col(), k))) + obj.constant;
    let mut problem = vars.minimise(objective.clone()).using(highs);
    for r in 0..m.rows.len() {
        let e = expr(&mut m.rows.row(r));
        let (lo, hi) = (m.rows.lower[r], m.rows.upper[r]);
        if lo.is_finite() {
            problem = problem.with(constraint!(e.clone() >= lo));
        }
        if hi.is_finite() {
            problem = problem.with(constraint!(e <= hi));
        }
    }
    let solution = problem.solve().expect("good_lp solves the part");
    solution.eval(&objective)
}

/// A small network with coordinators' rules of several families, so that
/// every kind of row (definitions, ranges, rules' own columns) is in it.
#[test]
fn the_model_passed_directly_has_good_lps_optimum() {
    let month = Month::new(2027, 1).unwrap();
    let mut net = crate::synth::network(40, 4, month.first_day(), 7, 11);
    for (limit, weight) in [
        (Limit::MaxConsecutiveDays { n: 2 }, None),
        (
            Limit::MinDuties {
                n: 2,
                of: Duties::All,
                per: Period::Month,
            },
            Some(3.0),
        ),
        (Limit::MinConsecutiveDaysOff { n: 2 }, Some(1.0)),
        (Limit::DayOffAfterNight, None),
    ] {
        net.rules.push(StaffRule {
            label: None,
            scope: RuleScope::Network,
            limit,
            weight,
        });
    }
    let mut inst = Instance::new(&net, month);
    inst.keep_days(7);
    let history = History::default();
    let opts = super::SolveOptions {
        mip_gap: 0.0,
        ..super::SolveOptions::default()
    };
    let mut compared = 0;
    for part in parts(&inst) {
        let m = Model::build(&inst, &history, &part, compared == 0);
        if m.x.iter().all(Vec::is_empty) {
            continue;
        }
        let obj = objectives(&m, &inst, false).remove(0);
        let ours = solve_part(&m, std::slice::from_ref(&obj), &[], 60.0, &opts).unwrap();
        assert!(ours.optimal);
        let theirs = good_lp_optimum(&m, &obj);
        assert!(
            (ours.objective - theirs).abs() <= 1e-6 * theirs.abs().max(1.0),
            "part {compared}: {} here, {theirs} through good_lp",
            ours.objective
        );
        compared += 1;
    }
    assert!(compared > 0);
}
