//! The part as the annealer's moves see it: its shifts, people, kinds
//! and columns.

use super::super::row::{Rows, Shape};
use crate::instance::Instance;
use crate::model::Model;

/// The part's shifts, people and columns, as the moves need them.
#[derive(Debug)]
pub(crate) struct Board {
    /// Per part shift k: its day in the horizon and its kind.
    pub(super) day: Vec<usize>,
    pub(super) kind: Vec<usize>,
    /// The wanted headcount of each part shift.
    pub(super) ideal: Vec<usize>,
    /// Per part shift, its candidates: (person, column).
    pub(super) cands: Vec<Vec<(usize, usize)>>,
    /// Per person of the part, per day: (part shift, column) of each shift
    /// starting that day the person may take.
    pub(super) duty: Vec<Vec<Vec<(usize, usize)>>>,
    /// Per person of the part, the kinds they may take.
    pub(super) kinds_of: Vec<Vec<usize>>,
    /// Per kind, per day: the part shift of that kind on that day.
    pub(super) at: Vec<Vec<Option<usize>>>,
    /// Per assignment column: (part shift, person of the part).
    pub(super) of_col: Vec<(usize, usize)>,
    pub(super) days: usize,
    /// What row moves need ([`super::row`]).
    pub(super) rows: Rows,
}

impl Board {
    pub fn new(inst: &Instance<'_>, m: &Model<'_, '_>, part: &[usize]) -> Self {
        let days = inst.days().count().max(1);
        let mut people: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let mut kinds: std::collections::HashMap<(usize, &str), usize> =
            std::collections::HashMap::new();
        let nx: usize = m.x.iter().map(Vec::len).sum();
        let mut b = Self {
            day: Vec::with_capacity(part.len()),
            kind: Vec::with_capacity(part.len()),
            ideal: Vec::with_capacity(part.len()),
            cands: Vec::with_capacity(part.len()),
            duty: Vec::new(),
            kinds_of: Vec::new(),
            at: Vec::new(),
            of_col: vec![(0, 0); nx],
            days,
            rows: Rows::default(),
        };
        let (mut kind_shift, mut person) = (Vec::new(), Vec::new());
        for (k, &s) in part.iter().enumerate() {
            let info = &inst.shifts[s];
            let day = usize::try_from((info.shift.date - inst.first).num_days())
                .unwrap_or(0)
                .min(days - 1);
            let next = kinds.len();
            let kind = *kinds
                .entry((info.service, info.shift.template.as_str()))
                .or_insert(next);
            if kind == b.at.len() {
                b.at.push(vec![None; days]);
                kind_shift.push(k);
            }
            b.at[kind][day] = Some(k);
            b.day.push(day);
            b.kind.push(kind);
            b.ideal.push(usize::from(info.ideal.max(info.min)));
            let mut cands = Vec::with_capacity(m.x[s].len());
            for (p, v) in &m.x[s] {
                let col = v.col();
                let next = people.len();
                let lp = *people.entry(*p).or_insert(next);
                if lp == b.duty.len() {
                    person.push(*p);
                    b.duty.push(vec![Vec::new(); days]);
                    b.kinds_of.push(Vec::new());
                }
                b.duty[lp][day].push((k, col));
                if !b.kinds_of[lp].contains(&kind) {
                    b.kinds_of[lp].push(kind);
                }
                assert!(col < nx, "assignment columns come first");
                b.of_col[col] = (k, lp);
                cands.push((lp, col));
            }
            b.cands.push(cands);
        }
        let shape = Shape {
            part,
            kind_shift: &kind_shift,
            person: &person,
            days,
        };
        b.rows = Rows::new(inst, m, &shape);
        b
    }

    /// The column of person `lp` on part shift `k`, if a candidate.
    pub(super) fn col(&self, lp: usize, k: usize) -> Option<usize> {
        self.duty[lp][self.day[k]]
            .iter()
            .find(|(k2, _)| *k2 == k)
            .map(|e| e.1)
    }

    /// Every assignment column.
    pub fn columns(&self) -> usize {
        self.of_col.len()
    }
}
