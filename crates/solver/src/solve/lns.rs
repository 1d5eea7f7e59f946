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

/// A neighbourhood's time limit, at most, once one has been proven: this
/// many times the longest a proven one took.
const LIMIT_OVER_PROVEN: f64 = 5.0;

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
    // The longest a proven neighbourhood took, seconds.
    let mut slowest_proven = 0.0_f64;
    let capped = super::knobs::number("TOUBAN_HOOD_CAP", 1.0, 0.0, 1.0) > 0.0;
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
        // A quarter of the time left, at least 3 s; once HiGHS has proven
        // a neighbourhood, at most `LIMIT_OVER_PROVEN` times the longest
        // that took (a first neighbourhood of a kind that turns out hard
        // for HiGHS otherwise took a quarter of the minute before the
        // sizes could adapt). `TOUBAN_HOOD_CAP=0` leaves the cap out.
        let cap = if capped && slowest_proven > 0.0 {
            (LIMIT_OVER_PROVEN * slowest_proven).max(3.0)
        } else {
            f64::INFINITY
        };
        let limit = left.min((left / 4.0).max(3.0)).min(cap);
        let began = Instant::now();
        let until = began + Duration::from_secs_f64(limit);
        let got = super::sub::solve(m, &by_col, &cost, nx, &values.1, &free, until, || {
            inc.stopped()
        });
        let took = began.elapsed().as_secs_f64();
        // The neighbourhood's rota, when it is better than the best.
        let found = got.on.and_then(|on| {
            let st = State::new(c, on.iter().copied());
            (st.excess <= 1e-6 && st.objective < objective - 1e-6).then_some((st.objective, on))
        });
        if std::env::var_os("TOUBAN_HIGHS_LOG").is_some() {
            eprintln!(
                "neighbourhood {} ({}): {} free duties, sub-model {} columns × {} rows, {took:.2} s{}{}",
                done.solved,
                match kind {
                    Kind::Days => "days",
                    Kind::People => "people",
                    Kind::Tile => "tile",
                },
                free.len(),
                got.size.0,
                got.size.1,
                if got.optimal { ", optimal" } else { "" },
                found
                    .as_ref()
                    .map_or(String::new(), |f| format!(", better: {:.1}", f.0))
            );
        }
        let scale = match kind {
            Kind::Days => &mut day_scale,
            Kind::People => &mut people_scale,
            Kind::Tile => &mut tile_scale,
        };
        if got.optimal {
            slowest_proven = slowest_proven.max(took);
        }
        if got.optimal && took < limit / 10.0 {
            *scale *= 1.25;
        } else if !got.optimal {
            *scale = (*scale * 0.7).max(0.05);
        }
        since_better += 1;
        if let Some((better, on)) = found {
            inc.offer(better, &on);
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
mod tests;
