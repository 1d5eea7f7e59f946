//! A month split into parts that can be solved apart.

use crate::instance::Instance;
use crate::soft::pools;

/// Union-find over staff: people who share a shift, a fairness pool or an
/// attending pair must be scheduled together.
pub(super) fn parts(inst: &Instance<'_>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..inst.staff.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        let mut j = i;
        while p[j] != r {
            let n = p[j];
            p[j] = r;
            j = n;
        }
        r
    }
    let union = |p: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            p[ra] = rb;
        }
    };
    for c in &inst.candidates {
        for w in c.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
    }
    for pool in pools(inst) {
        for w in pool.members.windows(2) {
            union(&mut parent, w[0].0, w[1].0);
        }
    }
    for pair in &inst.net.attending_pairs {
        if let (Some(&a), Some(&b)) = (
            inst.staff_index.get(&pair.primary),
            inst.staff_index.get(&pair.backup),
        ) {
            union(&mut parent, a, b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    let mut orphans = Vec::new();
    for (s, c) in inst.candidates.iter().enumerate() {
        match c.first() {
            Some(&p) => groups.entry(find(&mut parent, p)).or_default().push(s),
            None => orphans.push(s),
        }
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    if !orphans.is_empty() {
        out.push(orphans);
    }
    // Smallest first: time a small part does not use goes to the larger ones.
    out.sort_by_key(Vec::len);
    out
}
