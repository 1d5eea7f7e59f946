//! An independent evaluation of a Curtois roster: every hard rule and the
//! benchmark's own objective, computed from the roster alone.

use super::{Problem, Roster};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub objective: i64,
    pub violations: Vec<String>,
}

/// Lengths of maximal runs of `on` days, with whether each touches the
/// horizon's first or last day (such blocks are exempt from minimums).
fn runs(work: &[bool], on: bool) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut d = 0;
    while d < work.len() {
        if work[d] != on {
            d += 1;
            continue;
        }
        let start = d;
        while d < work.len() && work[d] == on {
            d += 1;
        }
        out.push((d - start, start == 0 || d == work.len()));
    }
    out
}

pub fn evaluate(p: &Problem, roster: &Roster) -> Evaluation {
    let mut v = Vec::new();
    let mut objective = 0;
    for (ei, e) in p.staff.iter().enumerate() {
        let row = &roster[ei];
        let work: Vec<bool> = row.iter().map(Option::is_some).collect();
        for d in &e.days_off {
            if row.get(*d).copied().flatten().is_some() {
                v.push(format!("{}: works on day off {d}", e.id));
            }
        }
        for d in 1..p.days {
            if let (Some(a), Some(b)) = (row[d - 1], row[d])
                && p.shifts[a].not_followed_by.contains(&b)
            {
                v.push(format!(
                    "{}: {} followed by {} on day {d}",
                    e.id, p.shifts[a].id, p.shifts[b].id
                ));
            }
        }
        for (t, max) in e.max_shifts.iter().enumerate() {
            let n = row.iter().filter(|x| **x == Some(t)).count() as i64;
            if n > *max {
                v.push(format!(
                    "{}: {n} shifts of {} > {max}",
                    e.id, p.shifts[t].id
                ));
            }
        }
        let minutes: i64 = row.iter().flatten().map(|t| p.shifts[*t].minutes).sum();
        if minutes > e.max_minutes || minutes < e.min_minutes {
            v.push(format!(
                "{}: {minutes} minutes outside {}..{}",
                e.id, e.min_minutes, e.max_minutes
            ));
        }
        for (len, edge) in runs(&work, true) {
            if len > e.max_consecutive {
                v.push(format!(
                    "{}: {len} consecutive shifts > {}",
                    e.id, e.max_consecutive
                ));
            }
            if len < e.min_consecutive && !edge {
                v.push(format!(
                    "{}: {len} consecutive shifts < {}",
                    e.id, e.min_consecutive
                ));
            }
        }
        for (len, edge) in runs(&work, false) {
            if len < e.min_days_off && !edge {
                v.push(format!(
                    "{}: {len} consecutive days off < {}",
                    e.id, e.min_days_off
                ));
            }
        }
        let weekends = (0..p.days / 7)
            .filter(|w| work[w * 7 + 5] || work[w * 7 + 6])
            .count() as i64;
        if weekends > e.max_weekends {
            v.push(format!(
                "{}: {weekends} weekends > {}",
                e.id, e.max_weekends
            ));
        }
    }
    for r in &p.on {
        if roster[r.employee][r.day] != Some(r.shift) {
            objective += r.weight;
        }
    }
    for r in &p.off {
        if roster[r.employee][r.day] == Some(r.shift) {
            objective += r.weight;
        }
    }
    for c in &p.cover {
        let n = roster
            .iter()
            .filter(|row| row[c.day] == Some(c.shift))
            .count() as i64;
        objective += (c.requirement - n).max(0) * c.under + (n - c.requirement).max(0) * c.over;
    }
    Evaluation {
        objective,
        violations: v,
    }
}
