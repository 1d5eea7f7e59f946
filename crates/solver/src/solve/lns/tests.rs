//! Tests of the large-neighbourhood search.

use super::super::SolveOptions;
use super::super::hybrid::relative_gap;
use super::super::{hybrid::hybrid, objectives, parts, solve_part, with_small_part};
use super::*;
use crate::instance::History;
use touban_domain::Month;

/// A group's others are those who could take most of the seed's
/// shifts: one sharing two shifts before one sharing one, whatever the
/// random weights; someone sharing none only when no one else is left.
#[test]
fn groups_gather_people_who_could_take_the_same_shifts() {
    let candidates = vec![vec![0, 1, 2], vec![0, 1], vec![3, 4], vec![2, 3]];
    let mut could: HashMap<usize, Vec<usize>> = HashMap::new();
    for (s, c) in candidates.iter().enumerate() {
        for &p in c {
            could.entry(p).or_default().push(s);
        }
    }
    let people = [4, 3, 2, 1, 0];
    let mut rng = fastrand::Rng::with_seed(1);
    for _ in 0..50 {
        let none = HashSet::new();
        assert_eq!(
            related(0, 1, &people, &could, &candidates, &none, &mut rng),
            [1]
        );
        assert_eq!(
            related(0, 2, &people, &could, &candidates, &none, &mut rng),
            [1, 2]
        );
        let g = related(0, 4, &people, &could, &candidates, &none, &mut rng);
        assert_eq!(&g[..2], [1, 2]);
        assert!(!g.contains(&0));
        let taken = HashSet::from([1]);
        assert_eq!(
            related(0, 1, &people, &could, &candidates, &taken, &mut rng),
            [2]
        );
    }
}

/// On a small generated network: the two-core solve returns a rota no
/// better than the proven optimum, with a gap measured against a bound
/// no higher than it (a real gap, never an optimistic one), and reaches
/// the asked gap.
#[test]
fn the_two_core_gap_is_honest() {
    with_small_part(|inst, history, part, m| {
        let phases = objectives(m, inst, false);
        let exact_opts = SolveOptions {
            time_limit: 60.0,
            mip_gap: 0.0,
            threads: 1,
            progress: false,
        };
        let exact = solve_part(m, &phases, &[], 60.0, &exact_opts).unwrap();
        assert!(exact.optimal, "the small part is solved to optimality");

        let placed = crate::greedy::construct(inst, history, part);
        let opts = SolveOptions {
            mip_gap: 0.02,
            ..exact_opts
        };
        let s = hybrid(inst, part, m, &phases[0], &placed, 20.0, &opts).unwrap();
        assert!(s.objective >= exact.objective - 1e-6);
        assert!(s.bound <= exact.objective + 1e-6);
        assert!((s.gap - relative_gap(s.objective, s.bound)).abs() < 1e-12);
        assert!(s.optimal, "within 2 % in 20 s: gap {}", s.gap);
        assert!(s.gap <= 0.02);
    });
}

/// A rota in which some people are short of a hard lower limit on
/// their month (at least so many duties) is repaired by re-planning
/// those people's months: the search ends with no broken rule and a
/// lower objective, never a worse one.
#[test]
fn neighbourhoods_repair_a_persons_lower_limit() {
    use super::super::local::columns_of;
    use touban_domain::{Duties, Limit, Period, RuleScope, StaffRule};
    let month = Month::new(2027, 1).unwrap();
    let mut net = crate::synth::network(90, 8, month.first_day(), 10, 7);
    let mut inst = Instance::new(&net, month);
    inst.keep_days(10);
    let history = History::default();
    // Each of the five people with the most candidate shifts of the
    // last part must hold at least four duties in the month.
    let part = parts(&inst).pop().unwrap();
    let mut count = vec![0usize; inst.staff.len()];
    for &s in &part {
        for &p in &inst.candidates[s] {
            count[p] += 1;
        }
    }
    let mut order: Vec<usize> = (0..count.len()).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(count[p]));
    let chosen: Vec<_> = order[..5]
        .iter()
        .map(|&p| inst.staff[p].id.clone())
        .collect();
    net.rules.push(StaffRule {
        label: None,
        scope: RuleScope::Staff(chosen),
        limit: Limit::MinDuties {
            n: 4,
            of: Duties::All,
            per: Period::Month,
        },
        weight: None,
    });
    inst = Instance::new(&net, month);
    inst.keep_days(10);
    let m = Model::build(&inst, &history, &part, true);
    let obj = objectives(&m, &inst, false).remove(0);
    let hard = m.objective.under.clone() + m.objective.breach.clone();
    let c = Compiled::new(&m, &obj, &hard);
    // A start with every chosen person's duties taken away.
    let mut placed = crate::greedy::construct(&inst, &history, &part);
    for held in placed.values_mut() {
        held.retain(|p| !order[..5].contains(p));
    }
    let on = columns_of(&m, &placed);
    let start = State::new(&c, on.iter().copied());
    assert!(start.excess <= 1e-9);
    assert!(
        start.hard >= 5.0,
        "the start breaks the rule: {}",
        start.hard
    );
    let inc = Incumbent::new(0.0);
    inc.offer(start.objective, &on);
    let done = search(
        &inst,
        &part,
        &m,
        &obj,
        &c,
        &inc,
        Instant::now() + Duration::from_secs(30),
    );
    assert!(done.better > 0, "{done:?}");
    let (_, best, _) = inc.newer(0).unwrap();
    let end = State::new(&c, best.iter().copied());
    assert!(end.excess <= 1e-9);
    assert!(end.hard < 1e-9, "units still broken: {}", end.hard);
    assert!(end.objective < start.objective - 1.0);
}

#[test]
fn relative_gap_is_one_without_a_bound() {
    assert_eq!(relative_gap(10.0, f64::NEG_INFINITY), 1.0);
    assert!((relative_gap(10.0, 9.0) - 0.1).abs() < 1e-12);
    assert_eq!(relative_gap(10.0, 11.0), 0.0);
    let s = Incumbent::new(0.05);
    assert!(!s.stopped());
    s.offer(100.0, &[1]);
    s.proved(90.0);
    assert!(!s.stopped());
    s.proved(80.0);
    assert_eq!(
        s.bound(),
        90.0,
        "a weaker bound never replaces a stronger one"
    );
    s.offer(94.0, &[2]);
    assert!(s.stopped());
    assert_eq!(s.offer(99.0, &[3]), 2, "a worse rota is not kept");
}
