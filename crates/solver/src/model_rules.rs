//! The coordinators' rules and pinned duties in the model: the family
//! functions of [`crate::rules`] run on linear expressions.

use touban_domain::StaffRule;

use crate::instance::History;
use crate::lin::{self, Var};
use crate::model::Model;
use crate::rules::{DutyRef, Place, Sink, fixed_duties, in_force, person};

/// A linear expression, knowing whether it has variables (and its value
/// when it has none).
#[derive(Clone)]
pub struct Lin {
    e: lin::Lin,
    var: bool,
    c: f64,
}

impl Lin {
    fn var(v: Var) -> Self {
        Self {
            e: lin::Lin::from(v),
            var: true,
            c: 0.0,
        }
    }
}

struct ModelSink<'a, 'i, 'n> {
    m: &'a mut Model<'i, 'n>,
    /// Whose rules these are.
    person: usize,
}

impl<'r> Sink<'r> for ModelSink<'_, '_, '_> {
    type E = Lin;
    fn constant(&self, c: f64) -> Lin {
        Lin {
            e: lin::Lin::constant(c),
            var: false,
            c,
        }
    }
    fn plus(&self, a: &Lin, k: f64, b: &Lin) -> Lin {
        let mut e = a.e.clone();
        e.add_mul(k, b.e.clone());
        Lin {
            e,
            var: a.var || b.var,
            c: a.c + k * b.c,
        }
    }
    fn any(&mut self, terms: Vec<Lin>) -> Lin {
        if terms.iter().any(|t| !t.var && t.c >= 1.0 - 1e-9) {
            return self.constant(1.0);
        }
        let mut vars: Vec<Lin> = terms.into_iter().filter(|t| t.var).collect();
        match vars.len() {
            0 => self.constant(0.0),
            1 => vars.pop().expect("one"),
            _ => {
                let m = &mut *self.m;
                let y = m.vars.binary();
                let mut total = lin::Lin::default();
                for t in &vars {
                    m.at_least(y, t.e.clone());
                    total += t.e.clone();
                }
                // Exactly the largest: rules that count days off need a day
                // worked to be 0 when no duty starts on it.
                m.le(lin::Lin::from(y) + -total, 0.0);
                Lin::var(y)
            }
        }
    }
    fn breach(&mut self, rule: &'r StaffRule, e: Lin, _at: Place) {
        let m = &mut *self.m;
        if !e.var {
            if e.c > 1e-9 {
                match rule.weight {
                    Some(w) => m.objective.soft += w * e.c,
                    None => m.objective.breach += e.c,
                }
            }
            return;
        }
        // A hard upper limit is a constraint: it is met by assigning
        // nobody, so it can always be kept (but for what fixed duties
        // already break, e.c when nothing is assigned). It is never traded
        // for a filled place.
        if rule.weight.is_none() && !rule.limit.is_lower() {
            let bound = e.c.max(0.0);
            m.le(e.e, bound);
            return;
        }
        let z = m.slack();
        m.at_least(z, e.e);
        match rule.weight {
            Some(w) => m.objective.soft.add_mul(w, z),
            None => {
                m.objective.breach += z;
                m.shortfalls.push((z, self.person));
            }
        }
    }
}

impl Model<'_, '_> {
    /// Every rule set in `[[rules]]`, for each person of the part (and, in
    /// the first part, for people who can take no shift at all, whose
    /// lower limits are broken whatever the rota).
    pub(crate) fn staff_rules(&mut self, history: &History, first: bool) {
        let inst = self.inst;
        if inst.net.rules.is_empty() {
            return;
        }
        let rules = in_force(inst);
        let mut anywhere = vec![false; inst.staff.len()];
        for c in &inst.candidates {
            for &p in c {
                anywhere[p] = true;
            }
        }
        for (p, mine) in rules.iter().enumerate() {
            if mine.is_empty() || (self.by_person[p].is_empty() && (anywhere[p] || !first)) {
                continue;
            }
            let mut duties: Vec<(DutyRef, Lin)> = self.by_person[p]
                .iter()
                .map(|&(s, v)| (DutyRef::of_shift(&inst.shifts[s]), Lin::var(v)))
                .collect();
            for d in fixed_duties(history, &inst.staff[p].id) {
                duties.push((
                    DutyRef::of_past(inst, d),
                    Lin {
                        e: lin::Lin::constant(1.0),
                        var: false,
                        c: 1.0,
                    },
                ));
            }
            let mut sink = ModelSink { m: self, person: p };
            person(&mut sink, inst, mine, &duties);
        }
    }

    /// Pinned duties: each one missing costs like a hard rule broken. A pin
    /// the person cannot take at all (absent, not eligible) has no variable:
    /// the checker reports it.
    pub(crate) fn pinned(&mut self) {
        let inst = self.inst;
        for pin in &inst.net.pinned {
            let (Some(&s), Some(&p)) = (
                inst.shift_index.get(&pin.shift),
                inst.staff_index.get(&pin.staff),
            ) else {
                continue;
            };
            if !self.in_part[s] {
                continue;
            }
            if let Some(&(_, v)) = self.x[s].iter().find(|e| e.0 == p) {
                let z = self.slack();
                self.at_least(z, 1.0 - lin::Lin::from(v));
                self.objective.breach.add_mul(crate::rules::PIN_WEIGHT, z);
            }
        }
    }
}
