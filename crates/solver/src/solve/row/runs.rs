//! The DP over runs: which days one person works ([`super::Rows`]).

use super::Spec;

/// Which days to work, at least `lo` and at most `hi` of them, on the days
/// `open`, each costing `cost[d]`: the DP over runs.
#[allow(clippy::too_many_lines)]
pub(super) fn days_worked(
    spec: &Spec,
    h: usize,
    lo: usize,
    hi: usize,
    open: &[bool],
    cost: &[f64],
) -> Option<Vec<bool>> {
    if h == 0 {
        return Some(Vec::new());
    }
    let minc = spec.min_run.max(1);
    // Work runs are counted up to the longest allowed, or (without one)
    // up to the minimum, past which a run's length no longer matters.
    let bounded = spec.max_run.is_some();
    let top = spec.max_run.unwrap_or(minc).clamp(1, h.max(1));
    let mino = spec.min_off.max(1);
    // Count the days worked only when a limit needs them.
    let track = lo > 0 || hi < h;
    let counts = if track { hi + 1 } else { 1 };
    let work = |r: usize, met: bool| (r - 1) * 2 + usize::from(met);
    let off = |r: usize| 2 * top + r - 1;
    let states = 2 * top + mino;
    let width = states * counts;
    let inf = f64::INFINITY;
    let ix = |s: usize, c: usize| s * counts + c;
    let step = |c: usize| if track { c + 1 } else { 0 };
    let room = |c: usize| !track || c < hi;
    let mut f = vec![inf; width];
    let mut back: Vec<u16> = vec![u16::MAX; h * width];
    // Runs from the first day are exempt from minimums.
    if open[0] && room(0) {
        f[ix(work(1, true), step(0))] = cost[0];
    }
    f[ix(off(mino), 0)] = 0.0;
    let mut g = vec![inf; width];
    for d in 1..h {
        g.iter_mut().for_each(|v| *v = inf);
        let bd = d * width;
        let mut relax = |g: &mut [f64], to: usize, v: f64, from: usize| {
            if v < g[to] {
                g[to] = v;
                back[bd + to] = u16::try_from(from).unwrap_or(u16::MAX);
            }
        };
        let reach = if track { d.min(hi) } else { 0 };
        for c in 0..=reach {
            for r in 1..=top {
                for met in [false, true] {
                    let s = work(r, met);
                    let v = f[ix(s, c)];
                    if !v.is_finite() {
                        continue;
                    }
                    if open[d] && room(c) && (r < top || !bounded) {
                        let r2 = (r + 1).min(top);
                        let m = met || r + 1 >= minc;
                        relax(&mut g, ix(work(r2, m), step(c)), v + cost[d], s);
                    }
                    if met {
                        relax(&mut g, ix(off(1), c), v, s);
                    }
                }
            }
            for r in 1..=mino {
                let s = off(r);
                let v = f[ix(s, c)];
                if !v.is_finite() {
                    continue;
                }
                relax(&mut g, ix(off((r + 1).min(mino)), c), v, s);
                if r >= mino && open[d] && room(c) {
                    relax(&mut g, ix(work(1, minc <= 1), step(c)), v + cost[d], s);
                }
            }
        }
        std::mem::swap(&mut f, &mut g);
    }
    // The last run is exempt from minimums: any state, a count in range.
    let mut end: Option<(usize, usize, f64)> = None;
    for s in 0..states {
        for c in if track { lo..=hi } else { 0..=0 } {
            let v = f[ix(s, c)];
            if v.is_finite() && end.is_none_or(|e| v < e.2) {
                end = Some((s, c, v));
            }
        }
    }
    let (mut s, mut c, _) = end?;
    let mut days = vec![false; h];
    for d in (0..h).rev() {
        let working = s < 2 * top;
        days[d] = working;
        if d == 0 {
            break;
        }
        let prev = usize::from(back[d * width + ix(s, c)]);
        if working && track {
            c -= 1;
        }
        s = prev;
    }
    Some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(max_run: Option<usize>, min_run: usize, min_off: usize) -> Spec {
        Spec {
            max_run,
            min_run,
            min_off,
            hours: (0.0, f64::INFINITY),
            ..Spec::default()
        }
    }

    /// Every run the DP gives keeps its limits: at most 3 days in a row,
    /// at least 2 (but at the edges), days off 2 at least, between 4 and 6
    /// days worked; and it takes the cheap days it can.
    #[test]
    fn rows_keep_the_run_limits() {
        let h = 14;
        let cost: Vec<f64> = (0..h)
            .map(|d| if d % 3 == 0 { -5.0 } else { -1.0 })
            .collect();
        let open = vec![true; h];
        let s = spec(Some(3), 2, 2);
        let days = days_worked(&s, h, 4, 6, &open, &cost).unwrap();
        let n = days.iter().filter(|x| **x).count();
        assert!((4..=6).contains(&n), "{days:?}");
        let mut runs: Vec<(bool, usize, usize)> = Vec::new();
        for (d, &w) in days.iter().enumerate() {
            match runs.last_mut() {
                Some(r) if r.0 == w => r.2 += 1,
                _ => runs.push((w, d, 1)),
            }
        }
        for &(w, start, len) in &runs {
            let edge = start == 0 || start + len == h;
            if w {
                assert!(len <= 3, "{days:?}");
                assert!(edge || len >= 2, "{days:?}");
            } else {
                assert!(edge || len >= 2, "{days:?}");
            }
        }
        // Unlimited: every day with a gain is worked.
        let free = spec(None, 1, 1);
        let all = days_worked(&free, h, 0, h, &open, &cost).unwrap();
        assert!(all.iter().all(|x| *x));
        // Closed days are never worked; too few open days for the minimum: none.
        let mut shut = vec![false; h];
        shut[3] = true;
        let one = days_worked(&free, h, 1, h, &shut, &cost).unwrap();
        assert_eq!(one.iter().filter(|x| **x).count(), 1);
        assert!(one[3]);
        assert!(days_worked(&free, h, 2, h, &shut, &cost).is_none());
    }
}
