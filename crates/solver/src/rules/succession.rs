//! Forbidden successions written by first duty (see
//! [`grouped_successions`]), and the selectors' matches every family uses.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate};
use touban_domain::{Duties, Limit, StaffRule};

use super::{DutyRef, Place, Sink};
use crate::instance::Instance;

/// Which of a person's duties each selector of their rules matches,
/// worked out once per selector (a half year's duties against hundreds of
/// successions would otherwise compare service names billions of times).
pub(super) struct Matches<'a> {
    keys: Vec<&'a Duties>,
    pub(super) of: Vec<Vec<bool>>,
}

impl<'a> Matches<'a> {
    pub(super) fn new() -> Self {
        Self {
            keys: Vec::new(),
            of: Vec::new(),
        }
    }

    /// The selector's index, its matches worked out on first use.
    pub(super) fn index<E>(&mut self, sel: &'a Duties, duties: &[(DutyRef, E)]) -> usize {
        if let Some(i) = self.keys.iter().position(|k| *k == sel) {
            return i;
        }
        self.keys.push(sel);
        self.of
            .push(duties.iter().map(|(d, _)| d.is(sel)).collect());
        self.keys.len() - 1
    }
}

/// Forbidden successions written as one breach per first duty over all
/// the next day's duties that may not follow it, where the person can take
/// at most one of those: `a + Σ b − 1` then counts exactly the pairs
/// broken (`a · Σ b`), as the rows pair by pair would, with one row where
/// there were as many as duties forbidden after `a` (on Curtois Instance
/// 24, 32 shift types, about fifteen times fewer rows). Pairs are grouped
/// across rules of the same weight (hard with hard); a duty forbidden by
/// two rules of a group stays pair by pair, so that each rule still counts.
/// Returns, by rule, the (first duty, next duty) pairs left to write one
/// by one; none when the sink cannot tell clashing duties.
pub(super) fn grouped_successions<'r, S: Sink<'r>>(
    s: &mut S,
    inst: &Instance<'_>,
    rules: &[&'r StaffRule],
    duties: &[(DutyRef, S::E)],
    on: &BTreeMap<NaiveDate, Vec<usize>>,
    matches: &mut Matches<'r>,
) -> Option<Vec<Pairs>> {
    if !S::KNOWS_CLASHES {
        return None;
    }
    let mut left: Vec<Pairs> = vec![Vec::new(); rules.len()];
    // The rules by their first selector: (selector, [(rule, then selector)]).
    let mut by_first: Vec<(usize, Pairs)> = Vec::new();
    for (r, &rule) in rules.iter().enumerate() {
        let Limit::ForbiddenSuccession { first, then } = &rule.limit else {
            continue;
        };
        let (f, t) = (matches.index(first, duties), matches.index(then, duties));
        match by_first.iter_mut().find(|e| e.0 == f) {
            Some(e) => e.1.push((r, t)),
            None => by_first.push((f, vec![(r, t)])),
        }
    }
    if by_first.is_empty() {
        return None;
    }
    for (a, (da, ea)) in duties.iter().enumerate() {
        let next = da.date + Duration::days(1);
        if !(inst.first..=inst.last).contains(&next) {
            continue;
        }
        let Some(later) = on.get(&next) else { continue };
        // (rule, next duty) pairs by the rules' weight.
        let mut groups: Vec<(Option<u64>, Pairs)> = Vec::new();
        for (f, then) in &by_first {
            if !matches.of[*f][a] {
                continue;
            }
            for &(r, t) in then {
                let key = rules[r].weight.map(f64::to_bits);
                for &b in later.iter().filter(|&&b| matches.of[t][b]) {
                    match groups.iter_mut().find(|g| g.0 == key) {
                        Some(g) => g.1.push((r, b)),
                        None => groups.push((key, vec![(r, b)])),
                    }
                }
            }
        }
        for (_, pairs) in groups {
            let bs: Vec<usize> = pairs.iter().map(|p| p.1).collect();
            let distinct: HashSet<usize> = bs.iter().copied().collect();
            let rule_of = |b: usize| pairs.iter().find(|p| p.1 == b).expect("listed").0;
            if bs.len() < 2 || distinct.len() != bs.len() {
                for &(r, b) in &pairs {
                    left[r].push((a, b));
                }
                continue;
            }
            for set in s.exclusive(&bs) {
                if let [b] = set[..] {
                    left[rule_of(b)].push((a, b));
                    continue;
                }
                let mut terms = vec![(1.0, ea.clone()), (1.0, s.constant(-1.0))];
                terms.extend(set.iter().map(|&b| (1.0, duties[b].1.clone())));
                let e = s.sum(terms);
                s.breach(
                    rules[rule_of(set[0])],
                    e,
                    Place {
                        date: Some(next),
                        shift: None,
                    },
                );
            }
        }
    }
    Some(left)
}

/// Pairs of indices (duties, or rule and selector).
pub(super) type Pairs = Vec<(usize, usize)>;
