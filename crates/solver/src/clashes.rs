//! One person's clashing candidate shifts (rules 3 and 4) as cliques: sets
//! of shifts of which the person can take at most one.
//!
//! Two shifts overlap iff the later one's start lies in both, so the shifts
//! running at each distinct start instant are a clique, and these cliques
//! cover every overlapping pair. With rest enforced, a shift that owes rest
//! (it counts as work) blocks, for the rest it owes after its end, any duty
//! that counts or is on site; the shifts owing rest at an instant `t`
//! together with the bound (counting or on-site) shifts running at `t` are
//! a clique too (any two of them overlap, or one starts inside the other's
//! rest), and taken at every start instant they cover every pair rule 4
//! forbids. One row per clique replaces a row per pair: on the
//! 5,000-staff network the pairs (and the same clique repeated for every
//! shift starting at an instant) were 42 of the model's 53 million
//! nonzeros; cliques are also the tighter relaxation.

use chrono::{DateTime, Duration, FixedOffset};

use crate::check::rest_needed;
use crate::instance::Instance;
use crate::lin::Var;

type Instant = DateTime<FixedOffset>;

/// The shifts running at each distinct start instant, in time order:
/// (instant, [(shift, column)]).
pub(crate) fn running(
    inst: &Instance<'_>,
    mine: &[(usize, Var)],
) -> Vec<(Instant, Vec<(usize, Var)>)> {
    let mut by_start: Vec<(Instant, Instant, usize, Var)> = mine
        .iter()
        .map(|&(s, v)| {
            let sh = &inst.shifts[s].shift;
            (sh.start, sh.end, s, v)
        })
        .collect();
    by_start.sort_by_key(|e| (e.0, e.3));
    let longest = by_start
        .iter()
        .map(|e| e.1 - e.0)
        .max()
        .unwrap_or_else(Duration::zero);
    let mut starts: Vec<Instant> = by_start.iter().map(|e| e.0).collect();
    starts.dedup();
    starts
        .into_iter()
        .map(|t| {
            let lo = by_start.partition_point(|e| e.0 < t - longest);
            let hi = by_start.partition_point(|e| e.0 <= t);
            let at = by_start[lo..hi]
                .iter()
                .filter(|e| t < e.1)
                .map(|e| (e.2, e.3))
                .collect();
            (t, at)
        })
        .collect()
}

/// Every clique of one person's candidate shifts that rules 3 and 4 (the
/// latter when `rest` is enforced for them) need, none contained in
/// another listed next to it, each of at least two columns.
pub(crate) fn cliques(inst: &Instance<'_>, mine: &[(usize, Var)], rest: bool) -> Vec<Vec<Var>> {
    let bound = |s: usize| inst.shifts[s].counts || inst.shifts[s].on_site;
    // Shifts that owe rest, by end: (end, rest owed, column).
    let mut owing: Vec<(Instant, Duration, Var)> = if rest {
        mine.iter()
            .filter_map(|&(s, v)| {
                let i = &inst.shifts[s];
                rest_needed(i.counts, i.night).map(|n| (i.shift.end, n, v))
            })
            .collect()
    } else {
        Vec::new()
    };
    owing.sort_by_key(|e| (e.0, e.2));
    let longest_rest = owing
        .iter()
        .map(|e| e.1)
        .max()
        .unwrap_or_else(Duration::zero);
    let mut out: Vec<Vec<Var>> = Vec::new();
    for (t, at) in running(inst, mine) {
        let mut overlap: Vec<Var> = at.iter().map(|e| e.1).collect();
        overlap.sort_unstable();
        if !rest {
            out.push(overlap);
            continue;
        }
        let lo = owing.partition_point(|e| e.0 < t - longest_rest);
        let hi = owing.partition_point(|e| e.0 <= t);
        let mut k: Vec<Var> = owing[lo..hi]
            .iter()
            .filter(|e| t < e.0 + e.1)
            .map(|e| e.2)
            .chain(at.iter().filter(|e| bound(e.0)).map(|e| e.1))
            .collect();
        k.sort_unstable();
        k.dedup();
        // Shifts neither counting nor on site clash only by overlapping.
        let all_bound = at.iter().all(|e| bound(e.0));
        out.push(k);
        if !all_bound {
            out.push(overlap);
        }
    }
    out.retain(|c| c.len() > 1);
    undominated(out)
}

/// `a ⊆ b`, both sorted.
fn subset(a: &[Var], b: &[Var]) -> bool {
    let mut j = 0;
    for x in a {
        while j < b.len() && b[j] < *x {
            j += 1;
        }
        if j == b.len() || b[j] != *x {
            return false;
        }
        j += 1;
    }
    true
}

/// Drops each clique (sorted) contained in the next one, then each kept
/// one strictly contained in the one kept before it: what is dropped is
/// implied by what is kept (containment is transitive along the list).
pub(crate) fn undominated(cliques: Vec<Vec<Var>>) -> Vec<Vec<Var>> {
    let n = cliques.len();
    let keep: Vec<bool> = (0..n)
        .map(|i| i + 1 == n || !subset(&cliques[i], &cliques[i + 1]))
        .collect();
    let kept: Vec<Vec<Var>> = cliques
        .into_iter()
        .zip(keep)
        .filter(|e| e.1)
        .map(|e| e.0)
        .collect();
    let mut out: Vec<Vec<Var>> = Vec::with_capacity(kept.len());
    let mut prev: Option<usize> = None;
    for (i, c) in kept.iter().enumerate() {
        let dominated = prev.is_some_and(|p| kept[p].len() > c.len() && subset(c, &kept[p]));
        prev = Some(i);
        if !dominated {
            out.push(c.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::Columns;

    /// On a generated network, with rest enforced or not, the pairs inside
    /// the cliques are exactly the pairs rules 3 and 4 forbid, as the
    /// model stated them one row per pair before.
    #[test]
    fn cliques_forbid_exactly_the_clashing_pairs() {
        use std::collections::BTreeSet;
        let month = touban_domain::Month::new(2027, 1).unwrap();
        let net = crate::synth::network(60, 6, month.first_day(), 10, 5);
        let mut inst = Instance::new(&net, month);
        inst.keep_days(10);
        let mut cols = Columns::default();
        let mut by_person = vec![Vec::new(); inst.staff.len()];
        for (s, cands) in inst.candidates.iter().enumerate() {
            for &p in cands {
                by_person[p].push((s, cols.binary()));
            }
        }
        let mut checked = 0;
        for rest in [false, true] {
            for mine in by_person.iter().filter(|m| m.len() > 1) {
                let mut expected = BTreeSet::new();
                for &(s1, v1) in mine {
                    for &(s2, v2) in mine {
                        let (a, b) = (&inst.shifts[s1], &inst.shifts[s2]);
                        let overlap = v1 != v2
                            && (a.shift.start, v1) <= (b.shift.start, v2)
                            && b.shift.start < a.shift.end
                            && b.shift.start < b.shift.end;
                        let rested = rest
                            && (b.counts || b.on_site)
                            && rest_needed(a.counts, a.night).is_some_and(|n| {
                                b.shift.start >= a.shift.end && b.shift.start < a.shift.end + n
                            });
                        if overlap || rested {
                            expected.insert((v1.min(v2), v1.max(v2)));
                        }
                    }
                }
                let mut got = BTreeSet::new();
                for c in cliques(&inst, mine, rest) {
                    for (i, a) in c.iter().enumerate() {
                        for b in &c[i + 1..] {
                            got.insert((*a.min(b), *a.max(b)));
                        }
                    }
                }
                assert_eq!(got, expected);
                checked += expected.len();
            }
        }
        assert!(checked > 100, "the network has clashing pairs: {checked}");
    }

    #[test]
    fn dominated_cliques_are_dropped_and_the_rest_kept() {
        let mut cols = Columns::default();
        let v: Vec<Var> = (0..5).map(|_| cols.binary()).collect();
        let cl = |ix: &[usize]| ix.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let out = undominated(vec![
            cl(&[0, 1]),
            cl(&[0, 1, 2]),
            cl(&[1, 2]),
            cl(&[3, 4]),
            cl(&[3, 4]),
        ]);
        assert_eq!(out, vec![cl(&[0, 1, 2]), cl(&[3, 4])]);
        assert!(subset(&cl(&[1, 3]), &cl(&[0, 1, 2, 3])));
        assert!(!subset(&cl(&[1, 4]), &cl(&[0, 1, 2, 3])));
    }
}
