//! Explanations: for each shift left below its minimum, who could in
//! principle have taken it and the rule that stopped each of them. A reason
//! comes from the checker: the person is added to the rota hypothetically and
//! the first new violation that concerns them is the reason.

use std::collections::HashSet;

use serde::Serialize;
use touban_domain::{Assignment, Role, ShiftKey, StaffId};

use crate::check::hard_violations;
use crate::instance::{History, Instance, Reason, Rule, static_block};

#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    pub staff: StaffId,
    pub name: String,
    pub rule: Option<Rule>,
    pub reason: String,
    /// The same in Japanese.
    pub reason_ja: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unfilled {
    pub shift: ShiftKey,
    pub start: String,
    pub end: String,
    pub assigned: usize,
    pub min: u8,
    pub candidates: Vec<Blocked>,
}

impl std::fmt::Display for Unfilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} ({} – {}): {} of at least {} assigned",
            self.shift, self.start, self.end, self.assigned, self.min
        )?;
        if self.candidates.is_empty() {
            writeln!(
                f,
                "    このサービスの職種の人がネットワークにいない / nobody in the network has the profession this service needs"
            )?;
        }
        for c in &self.candidates {
            let rule = c
                .rule
                .map(|r| format!("規則{} / rule {}: ", r.number(), r.number()))
                .unwrap_or_default();
            writeln!(
                f,
                "    {} {}: {rule}{} / {}",
                c.staff, c.name, c.reason_ja, c.reason
            )?;
        }
        Ok(())
    }
}

/// Every shift of `assignments` below its minimum, with a reason for every
/// person of the service's profession.
pub fn explain(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
) -> Vec<Unfilled> {
    explain_first(inst, assignments, history, usize::MAX)
}

/// The same for at most `limit` shifts (explaining costs a checker run per
/// candidate, which adds up on large networks).
pub fn explain_first(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
    limit: usize,
) -> Vec<Unfilled> {
    let mut out = Vec::new();
    for (s, info) in inst.shifts.iter().enumerate() {
        if out.len() >= limit {
            break;
        }
        let key = info.shift.key();
        let on: Vec<&Assignment> = assignments.iter().filter(|a| a.shift == key).collect();
        if on.len() >= usize::from(info.min) {
            continue;
        }
        let svc = inst.service(s);
        let already: HashSet<&StaffId> = on.iter().map(|a| &a.staff).collect();
        let mut candidates = Vec::new();
        for p in inst
            .staff
            .iter()
            .filter(|p| p.profession == svc.profession && !already.contains(&p.id))
        {
            candidates.push(blocked(inst, assignments, history, s, p));
        }
        out.push(Unfilled {
            shift: key,
            start: info.shift.start.format("%Y-%m-%d %H:%M").to_string(),
            end: info.shift.end.format("%Y-%m-%d %H:%M").to_string(),
            assigned: on.len(),
            min: info.min,
            candidates,
        });
    }
    out
}

/// Everyone of the service's profession who is not on `shift`, each with
/// what would stop them taking it in place of `replacing` (or beside the
/// people on it): `rule` None means no hard rule does. Those who may take it
/// come first. What a coordinator sees when choosing who fills a cell.
pub fn candidates(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
    shift: &ShiftKey,
    replacing: Option<&StaffId>,
) -> Vec<Blocked> {
    let Some(&s) = inst.shift_index.get(shift) else {
        return Vec::new();
    };
    let rest: Vec<Assignment> = assignments
        .iter()
        .filter(|a| !(a.shift == *shift && Some(&a.staff) == replacing))
        .cloned()
        .collect();
    let svc = inst.service(s);
    let on: HashSet<&StaffId> = assignments
        .iter()
        .filter(|a| a.shift == *shift)
        .map(|a| &a.staff)
        .collect();
    let mut out: Vec<Blocked> = inst
        .staff
        .iter()
        .filter(|p| p.profession == svc.profession && !on.contains(&p.id))
        .map(|p| blocked(inst, &rest, history, s, p))
        .collect();
    out.sort_by_key(|b| b.rule.is_some());
    out
}

/// What stops person `p` taking shift `s` beside `assignments`: a rule of
/// the person and the shift alone, else the first violation placing them
/// adds. Only their own duties and the attending pairs can change when one
/// person is added, so only those are checked
/// ([`hard_violations`] with `only`), not the whole month.
fn blocked(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
    s: usize,
    p: &touban_domain::StaffMember,
) -> Blocked {
    let (rule, reason) = match static_block(inst.net, inst.service(s), &inst.shifts[s], p) {
        Some((r, why)) => (Some(r), why),
        None => dynamic_block(
            inst,
            assignments,
            history,
            &inst.shifts[s].shift.key(),
            &p.id,
        ),
    };
    Blocked {
        staff: p.id.clone(),
        name: p.name.clone(),
        rule,
        reason: reason.en,
        reason_ja: reason.ja,
    }
}

fn dynamic_block(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
    shift: &ShiftKey,
    staff: &StaffId,
) -> (Option<Rule>, Reason) {
    let base = hard_violations(inst, assignments, history, Some(staff));
    // A violation concerns the candidate if it names them, or (rule 7) it
    // names the pair whose backup they are: the pair's violation is
    // recorded under the primary, whichever member of it is placed.
    let mine = |v: &crate::check::Violation| {
        v.rule != Rule::Coverage
            && (v.staff.as_ref() == Some(staff)
                || (v.rule == Rule::AttendingPair
                    && inst
                        .net
                        .attending_pairs
                        .iter()
                        .any(|p| Some(&p.primary) == v.staff.as_ref() && &p.backup == staff)))
    };
    let before: Vec<String> = base
        .iter()
        .filter(|v| mine(v))
        .map(ToString::to_string)
        .collect();
    let mut with = assignments.to_vec();
    with.push(Assignment {
        shift: shift.clone(),
        staff: staff.clone(),
        role: Role::Primary,
    });
    let after = hard_violations(inst, &with, history, Some(staff));
    if let Some(v) = after
        .iter()
        .filter(|v| mine(v))
        .find(|v| !before.contains(&v.to_string()))
    {
        return (
            Some(v.rule),
            Reason::new(v.message_ja.clone(), v.message.clone()),
        );
    }
    // Nothing about them: placing them may still break a rule for someone
    // else (a colleague's pair, say). That is the reason then.
    let all_before: Vec<String> = base.iter().map(ToString::to_string).collect();
    if let Some(v) = after
        .iter()
        .filter(|v| v.rule != Rule::Coverage)
        .find(|v| !all_before.contains(&v.to_string()))
    {
        let ja = v.bilingual();
        return (
            Some(v.rule),
            Reason::new(
                format!("入れると別の規則に反する: {ja}"),
                format!("placing them would break: {v}"),
            ),
        );
    }
    (
        None,
        Reason::new(
            "妨げる規則はない: この人を入れられる（計算が時間切れで止まると、こうした枠が残ることがある。--time-limit を延ばしてください）",
            "no hard rule blocks them: they could take it (a run that stopped at its time limit leaves such places; raise --time-limit)",
        ),
    )
}
