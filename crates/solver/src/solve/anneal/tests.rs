use super::super::hybrid::Incumbent;
use super::super::local::placed_of_columns;
use super::super::with_small_start;
use super::*;
use crate::instance::Instance;
use crate::model::Model;

/// From an empty rota, each person's row by the DP (taking a full
/// shift from its holder where need be) keeps their hard upper limits
/// (no constraint exceeded) and their hard lower one (no shortfall of
/// theirs left) on a month with 当直明け, at most 3 days in a row, days
/// off in twos and at least 24 hours; and the rota fills places.
#[test]
fn row_moves_keep_a_persons_hard_rules() {
    use touban_domain::{Limit, Period, RuleScope, StaffRule};
    let month = touban_domain::Month::new(2027, 1).expect("a month");
    let mut net = crate::synth::network(60, 4, month.first_day(), 31, 5);
    for limit in [
        Limit::DayOffAfterNight,
        Limit::MaxConsecutiveDays { n: 3 },
        Limit::MinConsecutiveDaysOff { n: 2 },
        Limit::MinHours {
            hours: 24.0,
            per: Period::Month,
        },
    ] {
        net.rules.push(StaffRule {
            label: None,
            scope: RuleScope::Network,
            limit,
            weight: None,
        });
    }
    let inst = Instance::new(&net, month);
    let history = crate::instance::History::default();
    let part = super::super::parts(&inst).pop().expect("a part");
    let m = Model::build(&inst, &history, &part, true);
    let obj = super::super::objectives(&m, &inst, false).remove(0);
    let hard = m.objective.under.clone() + m.objective.breach.clone();
    let c = super::super::local::Compiled::new(&m, &obj, &hard);
    let board = Board::new(&inst, &m, &part);
    let mut search = Search::new(&board, State::new(&c, []), 1);
    let before = search.state.hard;
    for lp in 0..board.duty.len() {
        assert!(search.row_move(lp), "a row for person {lp}");
        search.apply();
        assert!(
            search.state.excess <= 1e-9,
            "person {lp}'s row exceeds a constraint"
        );
        let short: Vec<_> = board
            .rows
            .shortfalls
            .iter()
            .filter(|(col, p)| *p == lp && search.state.value(*col) > 1e-9)
            .collect();
        assert!(short.is_empty(), "person {lp} short: {short:?}");
        search.keep();
    }
    assert!(
        search.state.hard < before - 1.0,
        "{} → {}",
        before,
        search.state.hard
    );
}

/// From the construction, the annealer alone lowers the objective,
/// never breaks a hard rule, offers what it holds, and holds what the
/// model itself scores.
#[test]
fn annealing_improves_and_stays_feasible() {
    with_small_start(|inst, part, m, obj, c, on| {
        let start = State::new(c, on.iter().copied());
        assert!(start.excess <= 1e-9, "the construction breaks no hard rule");
        let before = start.objective;
        let board = Board::new(inst, m, part);
        let inc = Incumbent::new(0.0);
        let mut search = Search::new(&board, start, 3);
        let stats = search.run(Instant::now() + std::time::Duration::from_secs(2), &inc);
        assert!(stats.improved > 0, "{stats:?}");
        assert!(search.objective() < before - 1e-6);
        assert!(search.state.excess <= 1e-9);
        assert!((inc.best() - search.objective()).abs() < 1e-6);
        let held = search.on();
        let fresh = State::new(c, held.iter().copied());
        assert!((fresh.objective - search.objective()).abs() < 1e-6);
        let placed = placed_of_columns(m, &held);
        assert!((m.least_value(obj, &placed) - search.objective()).abs() < 1e-6);
    });
}

/// A cycle gives way at its end, or once cool when it has gone without a
/// better rota for as long as it took to find its last one (and at least
/// the unit); the next is the unit doubled at each restart, or twice what the
/// one before took to its best, and runs to the end when a cycle after it
/// would not fit.
#[test]
fn cycles_restart_when_stuck_and_grow() {
    let whole = Cycle {
        start: 0.0,
        span: 60.0,
    };
    // Best at 1.8 s: not stuck while hot (before 70 % of the cycle, 42 s),
    // stuck once cool.
    assert!(!whole.over(41.0, 1.8, 4.0));
    assert!(whole.over(42.1, 1.8, 4.0));
    // Still finding better rotas: a search improving at 40 s goes on until
    // it has been stuck as long as it took, or to the end.
    assert!(!whole.over(50.0, 40.0, 4.0));
    assert!(whole.over(60.0, 59.0, 4.0));
    // A short cycle with no better rota gives way once cool and stuck.
    let short = Cycle {
        start: 10.0,
        span: 8.0,
    };
    assert!(!short.over(15.0, 10.0, 4.0));
    assert!(short.over(15.7, 10.0, 4.0));
    let second = Cycle::next(5.9, 0, 1.8, 4.0, 60.0);
    assert_eq!((second.start, second.span), (5.9, 4.0));
    let third = Cycle::next(9.9, 1, 0.5, 4.0, 60.0);
    assert_eq!(third.span, 8.0);
    // Twice what the cycle before took to its best, when more.
    assert_eq!(Cycle::next(20.0, 1, 6.0, 4.0, 60.0).span, 12.0);
    // The last runs to the end.
    let last = Cycle::next(45.0, 2, 1.0, 4.0, 60.0);
    assert!((last.span - 15.0).abs() < 1e-9, "{last:?}");
}
