//! Large-neighbourhood search: parts of the best rota re-solved exactly by
//! HiGHS, everything else held. The HiGHS core turns to it when the MIP on
//! the whole part has stalled (see [`super::hybrid`]).
//!
//! Two kinds of neighbourhood take turns:
//! - **a window of days**: every duty of [`LNS_WINDOW_DAYS`] days to begin
//!   with (windows overlap by half), everyone's;
//! - **a group of people**: every duty of a few people over the whole part.
//!   The group is as large as a window is long relative to the part (a
//!   window frees about `LNS_WINDOW_DAYS / days` of the columns; a group of
//!   `people × LNS_WINDOW_DAYS / days` people frees as many), at least one.
//!   Rules that bind a person across the whole month (lower limits of
//!   duties, hours or blocks, weekends) are only repaired by re-planning
//!   that person's month, which no window of days can do: people short of
//!   one of their own hard lower limits in the best rota are taken first
//!   (the most short first). The rest of a group is *related*: a person in
//!   turn and those who could take most of the same shifts, in a randomly
//!   weighted order, so groups differ from sweep to sweep.
//!
//! - **a tile**, on horizons of at least two months (`2 × TILE_DAYS`):
//!   a few people over a month (`TILE_DAYS`), as many columns as a first
//!   window. Over a long horizon a person's whole schedule is too hard a
//!   MIP to solve in seconds (a group shrinks to one person, out of time)
//!   and a window holds everyone else's duties outside it, so a rule
//!   broken by one person between two weeks (a block too short, hours
//!   short) can only be repaired by exchanging days with a few others
//!   around it. People short of a hard lower limit go first, as in a
//!   group; the month moves on by half a month each time.
//!
//! Each kind is then sized by what HiGHS does with it: proven optimal in
//! under a tenth of its time, the next of its kind is 25 % larger; out of
//! time, 30 % smaller. Each neighbourhood is a model of its own
//! ([`super::sub`]).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::lin::Lin;

use super::hybrid::{Incumbent, dense};
use super::local::{Compiled, State};
use super::sub::ByColumn;
use super::{LNS_WINDOW_DAYS, costs};
use crate::instance::Instance;
use crate::model::Model;

/// The days of a tile: about a month.
const TILE_DAYS: usize = 4 * LNS_WINDOW_DAYS;

/// What one neighbourhood frees.
enum Hood {
    Days(HashSet<chrono::NaiveDate>),
    People(HashSet<usize>),
    Tile(HashSet<usize>, HashSet<chrono::NaiveDate>),
}

impl Hood {
    fn frees(&self, inst: &Instance<'_>, s: usize, p: usize) -> bool {
        match self {
            Self::Days(d) => d.contains(&inst.shifts[s].shift.date),
            Self::People(g) => g.contains(&p),
            Self::Tile(g, d) => g.contains(&p) && d.contains(&inst.shifts[s].shift.date),
        }
    }
}

/// The kinds of neighbourhood, in turn.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Days,
    People,
    Tile,
}

/// What the search did: neighbourhoods solved, and how many gave a better
/// rota.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Done {
    pub solved: usize,
    pub better: usize,
}

/// Re-solves neighbourhoods of the incumbent, windows of days and groups of
/// people, until `deadline`, a stop, or as many neighbourhoods in a row
/// without a better rota as it takes to free every column once each way,
/// offering each better rota. Each neighbourhood goes to HiGHS as a model
/// of its own ([`super::sub`]), started from the incumbent.
#[allow(clippy::too_many_arguments)]
pub(super) fn search(
    inst: &Instance<'_>,
    part: &[usize],
    m: &Model<'_, '_>,
    obj: &Lin,
    c: &Compiled,
    inc: &Incumbent,
    deadline: Instant,
) -> Done {
    let mut done = Done::default();
    let mut dates: Vec<chrono::NaiveDate> =
        part.iter().map(|&s| inst.shifts[s].shift.date).collect();
    dates.sort_unstable();
    dates.dedup();
    if dates.is_empty() {
        return done;
    }
    // For each of the part's people, the shifts they could take: a group
    // is a person and those who could take most of the same shifts (people
    // who cannot take each other's duties gain nothing from being
    // re-planned together).
    let mut could: HashMap<usize, Vec<usize>> = HashMap::new();
    for &s in part {
        for &p in &inst.candidates[s] {
            could.entry(p).or_default().push(s);
        }
    }
    // The part's people, in an order of their own (a fixed seed: runs
    // repeat), taken in turn.
    let mut people: Vec<usize> = could.keys().copied().collect();
    people.sort_unstable();
    let mut rng = fastrand::Rng::with_seed(people.len() as u64);
    rng.shuffle(&mut people);
    let base_group = (people.len() * LNS_WINDOW_DAYS) as f64 / dates.len() as f64;
    let nx: usize = m.x.iter().map(Vec::len).sum();
    let by_col = ByColumn::new(m);
    let cost = costs(m, obj);
    // How large windows and groups are, relative to their first size:
    // grown while HiGHS proves them quickly, shrunk when one runs out of
    // time, each kind apart (one may be easy for HiGHS where the other is
    // hard).
    let (mut day_scale, mut people_scale, mut tile_scale) = (1.0_f64, 1.0_f64, 1.0_f64);
    let (mut next_day, mut next_person, mut next_tile_day) = (0, 0, 0);
    // Tiles: a month of a few people, on horizons of two months or more,
    // freeing as many columns as a first window; only while someone is
    // short of a hard lower limit (they are that rule's repair: on an
    // 84-day instance with none broken they took time the windows and
    // groups used better, 6,506 against 6,122 on Curtois Instance 18).
    let tiles = dates.len() >= 2 * TILE_DAYS && people.len() > 1;
    let base_tile = (people.len() * LNS_WINDOW_DAYS) as f64 / TILE_DAYS as f64;
    let mut since_better = 0;
    let mut turn = 0;
    let mut values: (u64, Vec<f64>) = (0, Vec::new());
    // The people short of a hard lower limit in the rota of `values`.
    let mut short: Vec<usize> = Vec::new();
    loop {
        let Some((objective, on, version)) = inc.newer(0) else {
            return done;
        };
        if values.0 != version {
            values = (version, dense(m, &on));
            short = short_people(m, c, &on);
        }
        let kinds: &[Kind] = if people.is_empty() {
            &[Kind::Days]
        } else if tiles && !short.is_empty() {
            &[Kind::Days, Kind::People, Kind::Tile]
        } else {
            &[Kind::Days, Kind::People]
        };
        let days = ((LNS_WINDOW_DAYS as f64 * day_scale).round() as usize).clamp(1, dates.len());
        let size =
            |base: f64, scale: f64| ((base * scale).round() as usize).clamp(1, people.len().max(1));
        let (group, tile) = (size(base_group, people_scale), size(base_tile, tile_scale));
        // A sweep: as many neighbourhoods as it takes to free every
        // column once each way.
        let mut sweep = dates.len().div_ceil(days.div_ceil(2)) + people.len().div_ceil(group);
        if kinds.contains(&Kind::Tile) {
            sweep += dates.len().div_ceil(TILE_DAYS / 2) * people.len().div_ceil(tile);
        }
        if since_better >= sweep
            || deadline.saturating_duration_since(Instant::now()) <= Duration::from_secs(1)
            || inc.stopped()
        {
            break;
        }
        let kind = kinds[turn % kinds.len()];
        turn += 1;
        // People short of one of their own hard lower limits first, the
        // most short first; then a person in turn and, with them, those
        // who could take most of the same shifts, in an order shuffled by
        // weighing each one's share by a random factor in [1, 2) (so that
        // the same group does not come back every sweep).
        let mut choose = |n: usize| {
            let mut chosen: HashSet<usize> = short.iter().take(n).copied().collect();
            if chosen.len() < n {
                let seed = people[next_person % people.len()];
                next_person = (next_person + 1) % people.len();
                chosen.insert(seed);
                let more = related(
                    seed,
                    n - chosen.len(),
                    &people,
                    &could,
                    &inst.candidates,
                    &chosen,
                    &mut rng,
                );
                chosen.extend(more);
            }
            chosen
        };
        let window = |offset: usize, len: usize| -> HashSet<chrono::NaiveDate> {
            (0..len)
                .map(|k| dates[(offset + k) % dates.len()])
                .collect()
        };
        let hood = match kind {
            Kind::People => Hood::People(choose(group)),
            Kind::Tile => {
                let chosen = choose(tile);
                let offset = next_tile_day % dates.len();
                next_tile_day += TILE_DAYS / 2;
                Hood::Tile(chosen, window(offset, TILE_DAYS))
            }
            Kind::Days => {
                let offset = next_day % dates.len();
                next_day += days.div_ceil(2);
                Hood::Days(window(offset, days))
            }
        };
        done.solved += 1;
        let mut free = Vec::new();
        for &s in part {
            for (p, v) in &m.x[s] {
                if hood.frees(inst, s, *p) {
                    free.push(v.col());
                }
            }
        }
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        let limit = left.min((left / 4.0).max(3.0));
        let began = Instant::now();
        let until = began + Duration::from_secs_f64(limit);
        let got = super::sub::solve(m, &by_col, &cost, nx, &values.1, &free, until, || {
            inc.stopped()
        });
        let took = began.elapsed().as_secs_f64();
        if std::env::var_os("TOUBAN_HIGHS_LOG").is_some() {
            eprintln!(
                "neighbourhood {} ({}): {} free duties, sub-model {} columns × {} rows, {took:.2} s{}",
                done.solved,
                match kind {
                    Kind::Days => "days",
                    Kind::People => "people",
                    Kind::Tile => "tile",
                },
                free.len(),
                got.size.0,
                got.size.1,
                if got.optimal { ", optimal" } else { "" }
            );
        }
        let scale = match kind {
            Kind::Days => &mut day_scale,
            Kind::People => &mut people_scale,
            Kind::Tile => &mut tile_scale,
        };
        if got.optimal && took < limit / 10.0 {
            *scale *= 1.25;
        } else if !got.optimal {
            *scale = (*scale * 0.7).max(0.05);
        }
        since_better += 1;
        let Some(better) = got.on else {
            continue;
        };
        let st = State::new(c, better.iter().copied());
        if st.excess <= 1e-6 && st.objective < objective - 1e-6 {
            inc.offer(st.objective, &better);
            since_better = 0;
            done.better += 1;
        }
    }
    done
}

/// Up to `n` of `people` (none of `taken`) who could take most of the
/// shifts `seed` could (`could`: each person's shifts; `candidates`: each
/// shift's people), most first, each one's count weighed by a random
/// factor in [1, 2).
fn related(
    seed: usize,
    n: usize,
    people: &[usize],
    could: &HashMap<usize, Vec<usize>>,
    candidates: &[Vec<usize>],
    taken: &HashSet<usize>,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let mut shared: HashMap<usize, usize> = HashMap::new();
    for &s in could.get(&seed).map_or(&[][..], Vec::as_slice) {
        for &q in &candidates[s] {
            *shared.entry(q).or_default() += 1;
        }
    }
    let mut ranked: Vec<(f64, usize)> = people
        .iter()
        .filter(|q| **q != seed && !taken.contains(q))
        .map(|&q| {
            let k = shared.get(&q).copied().unwrap_or(0) as f64;
            (k * (1.0 + rng.f64()), q)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().take(n).map(|r| r.1).collect()
}

/// The people short of one of their own hard lower limits in the rota
/// `on` (the model keeps each such rule's slack with its person), the
/// most short first.
fn short_people(m: &Model<'_, '_>, c: &Compiled, on: &[usize]) -> Vec<usize> {
    let st = State::new(c, on.iter().copied());
    let mut short: HashMap<usize, f64> = HashMap::new();
    for (z, p) in &m.shortfalls {
        let v = st.value(z.col());
        if v > 1e-6 {
            *short.entry(*p).or_default() += v;
        }
    }
    let mut short: Vec<(usize, f64)> = short.into_iter().collect();
    short.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    short.into_iter().map(|e| e.0).collect()
}

#[cfg(test)]
mod tests {
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
}
