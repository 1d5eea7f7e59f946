//! The annealer's moves: each scored from the cover counts and request
//! costs, applied only when accepted and its rows stay feasible.

use super::Annealer;
use crate::curtois::Roster;

impl Annealer<'_> {
    /// Proposes the cells `self.cells` (distinct days) for employee `e`;
    /// applies them when `accept` takes the delta and the row stays
    /// feasible.
    fn try_row(&mut self, e: usize, accept: &mut impl FnMut(i64) -> bool) -> Option<i64> {
        let mut delta = 0;
        let mut same = true;
        for &(d, x) in &self.cells {
            let old = self.roster[e][d];
            if old == x {
                continue;
            }
            if x.is_some() && self.day_off[e * self.p.days + d] {
                return None;
            }
            same = false;
            delta += self.request_cost(e, d, x) - self.request_cost(e, d, old)
                + self.cover_delta(d, old, x);
        }
        if same || !accept(delta) {
            return None;
        }
        let mut cells = std::mem::take(&mut self.cells);
        for (d, x) in &mut cells {
            let old = self.roster[e][*d];
            self.set(e, *d, *x);
            *x = old;
        }
        let ok = self.row_ok(e);
        if !ok {
            for &(d, old) in &cells {
                self.set(e, d, old);
            }
        }
        self.cells = cells;
        if ok {
            self.objective += delta;
            Some(delta)
        } else {
            None
        }
    }

    /// Proposes `(employee, day, value)` changes over several rows, applied
    /// in order (so their effects on the cover add up), and undone unless
    /// `accept` takes the total and every row stays feasible.
    fn try_multi(
        &mut self,
        changes: &[(usize, usize, Option<usize>)],
        accept: &mut impl FnMut(i64) -> bool,
    ) -> Option<i64> {
        let mut delta = 0;
        let mut undo: Vec<(usize, usize, Option<usize>)> = Vec::with_capacity(changes.len());
        let mut ok = true;
        for &(e, d, x) in changes {
            if x.is_some() && self.day_off[e * self.p.days + d] {
                ok = false;
                break;
            }
            let old = self.roster[e][d];
            delta += self.request_cost(e, d, x) - self.request_cost(e, d, old)
                + self.cover_delta(d, old, x);
            self.set(e, d, x);
            undo.push((e, d, old));
        }
        ok = ok && accept(delta);
        if ok {
            for i in 0..changes.len() {
                let e = changes[i].0;
                if changes[..i].iter().all(|c| c.0 != e) && !self.row_ok(e) {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            self.objective += delta;
            return Some(delta);
        }
        for &(e, d, old) in undo.iter().rev() {
            self.set(e, d, old);
        }
        None
    }

    /// Proposes setting `e`'s days `a..b` to `x`.
    fn try_block(
        &mut self,
        e: usize,
        a: usize,
        b: usize,
        x: Option<usize>,
        accept: &mut impl FnMut(i64) -> bool,
    ) -> Option<i64> {
        self.cells.clear();
        self.cells.extend((a..b).map(|d| (d, x)));
        self.try_row(e, accept)
    }

    /// Proposes that `e1` and `e2` exchange their cells on the days in
    /// `self.swap_days` (the cover stays the same).
    fn try_swap(
        &mut self,
        e1: usize,
        e2: usize,
        accept: &mut impl FnMut(i64) -> bool,
    ) -> Option<i64> {
        let mut delta = 0;
        let mut same = true;
        for &d in &self.swap_days {
            let (x1, x2) = (self.roster[e1][d], self.roster[e2][d]);
            if x1 == x2 {
                continue;
            }
            same = false;
            delta += self.request_cost(e1, d, x2) + self.request_cost(e2, d, x1)
                - self.request_cost(e1, d, x1)
                - self.request_cost(e2, d, x2);
        }
        if same || !accept(delta) {
            return None;
        }
        let swap = |r: &mut Roster, days: &[usize]| {
            for &d in days {
                let x = r[e1][d];
                r[e1][d] = r[e2][d];
                r[e2][d] = x;
            }
        };
        swap(&mut self.roster, &self.swap_days);
        if self.row_ok(e1) && self.row_ok(e2) {
            self.objective += delta;
            Some(delta)
        } else {
            swap(&mut self.roster, &self.swap_days);
            None
        }
    }

    /// A random day on which `e` works a shift of `minutes` minutes, if one
    /// is found in a few tries.
    fn worked_day(&self, rng: &mut fastrand::Rng, e: usize, minutes: Option<i64>) -> Option<usize> {
        for _ in 0..8 {
            let d = rng.usize(0..self.p.days);
            if let Some(s) = self.roster[e][d]
                && minutes.is_none_or(|m| self.p.shifts[s].minutes == m)
            {
                return Some(d);
            }
        }
        None
    }

    /// One random move; `accept` decides on its delta.
    pub(super) fn step(
        &mut self,
        rng: &mut fastrand::Rng,
        accept: &mut impl FnMut(i64) -> bool,
    ) -> Option<i64> {
        let p = self.p;
        let days = p.days;
        let staff = p.staff.len();
        match rng.u8(0..12) {
            0..=4 if !self.slots.is_empty() => {
                // Aimed at a cover slot that is short or over.
                let i = self.slots[rng.usize(0..self.slots.len())];
                let (d, t) = (i / self.types, i % self.types);
                if self.count[i] < self.need[i] {
                    let who = &self.can[t];
                    if who.is_empty() {
                        return None;
                    }
                    let e = who[rng.usize(0..who.len())];
                    match rng.u8(0..3) {
                        0 => {
                            // A block around the day.
                            let len = rng.usize(1..=self.block[e]);
                            let a = d.saturating_sub(rng.usize(0..len));
                            self.try_block(e, a, (a + len).min(days), Some(t), accept)
                        }
                        1 => {
                            // Take it, giving up a shift of the same length
                            // on another day (the minutes stay the same).
                            let d2 = self.worked_day(rng, e, Some(p.shifts[t].minutes))?;
                            if d2 == d {
                                return None;
                            }
                            self.cells.clear();
                            self.cells.extend([(d, Some(t)), (d2, None)]);
                            self.try_row(e, accept)
                        }
                        _ => {
                            // Take it, handing a shift on another day to
                            // someone off that day (the cover there stays).
                            let d2 = self.worked_day(rng, e, None)?;
                            let s2 = self.roster[e][d2]?;
                            let who = &self.can[s2];
                            let o = who[rng.usize(0..who.len())];
                            if o == e || d2 == d || self.roster[o][d2].is_some() {
                                return None;
                            }
                            let changes = [(e, d, Some(t)), (e, d2, None), (o, d2, Some(s2))];
                            self.try_multi(&changes, accept)
                        }
                    }
                } else if self.count[i] > self.need[i] {
                    // Someone working it goes off or to another type.
                    let start = rng.usize(0..staff);
                    let e = (0..staff)
                        .map(|k| (start + k) % staff)
                        .find(|&e| self.roster[e][d] == Some(t))?;
                    let x = if rng.bool() {
                        None
                    } else {
                        let al = &self.allowed[e];
                        Some(al[rng.usize(0..al.len())])
                    };
                    let len = rng.usize(1..=self.block[e]);
                    let a = d.saturating_sub(rng.usize(0..len));
                    self.try_block(e, a, (a + len).min(days), x, accept)
                } else {
                    None
                }
            }
            0..=6 => {
                let e = rng.usize(0..staff);
                let al = &self.allowed[e];
                let x = if al.is_empty() || rng.u8(0..5) < 2 {
                    None
                } else {
                    Some(al[rng.usize(0..al.len())])
                };
                let len = rng.usize(1..=self.block[e]);
                let a = rng.usize(0..days);
                self.try_block(e, a, (a + len).min(days), x, accept)
            }
            7 => {
                // Two days of one row exchange their cells.
                let e = rng.usize(0..staff);
                let (d1, d2) = (rng.usize(0..days), rng.usize(0..days));
                let (x1, x2) = (self.roster[e][d1], self.roster[e][d2]);
                self.cells.clear();
                self.cells.extend([(d1, x2), (d2, x1)]);
                self.try_row(e, accept)
            }
            _ => {
                let e1 = rng.usize(0..staff);
                let e2 = rng.usize(0..staff);
                if e1 == e2 {
                    return None;
                }
                self.swap_days.clear();
                if rng.u8(0..3) == 0 {
                    // Two separate days.
                    let (d1, d2) = (rng.usize(0..days), rng.usize(0..days));
                    self.swap_days.push(d1);
                    if d2 != d1 {
                        self.swap_days.push(d2);
                    }
                } else {
                    let len = if rng.bool() { 1 } else { rng.usize(2..=7) };
                    let a = rng.usize(0..days);
                    self.swap_days.extend(a..(a + len).min(days));
                }
                self.try_swap(e1, e2, accept)
            }
        }
    }
}
