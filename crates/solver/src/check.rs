//! The independent checker: given a network, a month and assignments, every
//! hard-rule violation and every soft cost, computed directly from the rules
//! and never from the model. Every solver test and benchmark runs it on the
//! solver's output; the API uses it for manual edits; the explainer uses it to
//! say why a candidate could not take a shift.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;
use touban_domain::{Assignment, RestPolicy, ShiftKey, StaffId, StaffMember};

use crate::instance::{History, Instance, PastDuty, Reason, Rule, static_block, touched_dates};
use crate::soft::{SoftCost, soft_costs};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: Rule,
    pub staff: Option<StaffId>,
    pub shift: Option<ShiftKey>,
    pub message: String,
    /// The same in Japanese (what coordinators read first).
    pub message_ja: String,
}

impl Violation {
    pub(crate) fn new(
        rule: Rule,
        staff: Option<StaffId>,
        shift: Option<ShiftKey>,
        r: Reason,
    ) -> Self {
        Self {
            rule,
            staff,
            shift,
            message: r.en,
            message_ja: r.ja,
        }
    }

    /// Japanese first, then English, as coordinators read it:
    /// `規則4 / rule 4: SHIFT: STAFF 日本語 / English`.
    pub fn bilingual(&self) -> String {
        let mut s = format!("規則{} / rule {}: ", self.rule.number(), self.rule.number());
        if let Some(k) = &self.shift {
            s.push_str(&format!("{k}: "));
        }
        if let Some(p) = &self.staff {
            s.push_str(&format!("{p} "));
        }
        s.push_str(&format!("{} / {}", self.message_ja, self.message));
        s
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {}: ", self.rule.number())?;
        if let Some(s) = &self.shift {
            write!(f, "{s}: ")?;
        }
        if let Some(p) = &self.staff {
            write!(f, "{p} ")?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub violations: Vec<Violation>,
    pub soft: Vec<SoftCost>,
}

impl CheckReport {
    pub fn soft_total(&self) -> f64 {
        self.soft.iter().map(|c| c.cost).sum()
    }
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// One duty of one person: from this month's rota (with its shift key) or
/// from just before it (without).
#[derive(Debug, Clone)]
struct Duty {
    key: Option<ShiftKey>,
    at: PastDuty,
}

impl std::ops::Deref for Duty {
    type Target = PastDuty;
    fn deref(&self) -> &PastDuty {
        &self.at
    }
}

fn hm(t: DateTime<FixedOffset>) -> String {
    t.format("%m-%d %H:%M").to_string()
}

/// Minimum rest after a duty that counts as work: 18 h after a night without
/// a duty permit, 9 h otherwise (rule 4). None when no rest is owed.
pub fn rest_needed(counts: bool, night: bool) -> Option<Duration> {
    counts.then(|| {
        if night {
            Duration::hours(18)
        } else {
            Duration::hours(9)
        }
    })
}

/// Checks one person's duties (sorted by start) against rules 3–6 and days off.
fn check_person(
    inst: &Instance<'_>,
    p: &StaffMember,
    duties: &[Duty],
    (hours_before, extra): (f64, f64),
    out: &mut Vec<Violation>,
) {
    let v = |rule, key: &Option<ShiftKey>, ja: String, en: String| {
        Violation::new(rule, Some(p.id.clone()), key.clone(), Reason::new(ja, en))
    };
    for (i, a) in duties.iter().enumerate() {
        for b in &duties[i + 1..] {
            if b.start >= a.end + Duration::hours(18) {
                break;
            }
            if b.start < a.end && a.key.is_some() | b.key.is_some() {
                out.push(v(
                    Rule::Overlap,
                    &b.key,
                    format!("{}–{} の当番と重なる", hm(a.start), hm(a.end)),
                    format!("overlaps their duty {}–{}", hm(a.start), hm(a.end)),
                ));
                continue;
            }
            if p.labour.rest != RestPolicy::Enforced || !(b.counts || b.on_site) {
                continue;
            }
            if let Some(need) = rest_needed(a.counts, a.night)
                && b.start < a.end + need
                && (a.key.is_some() || b.key.is_some())
            {
                let gap = (b.start - a.end).num_minutes();
                out.push(v(
                    Rule::Rest,
                    if b.key.is_some() { &b.key } else { &a.key },
                    format!(
                        "{} の{}の後の休息が {}時間{:02}分（{} 時間必要）",
                        a.date.format("%m-%d"),
                        if a.night { "夜間当番" } else { "当番" },
                        gap / 60,
                        gap % 60,
                        need.num_hours()
                    ),
                    format!(
                        "rest after the {} of {}: {}h{:02} before this duty, {} h required",
                        if a.night { "night" } else { "duty" },
                        a.date.format("%m-%d"),
                        gap / 60,
                        gap % 60,
                        need.num_hours()
                    ),
                ));
            }
        }
    }
    // Rule 6: at most two visiting-nurse nights in a row.
    let nights: Vec<NaiveDate> = duties
        .iter()
        .filter(|d| d.nurse_night)
        .map(|d| d.date)
        .collect();
    for w in nights.windows(3) {
        if w[2] - w[0] == Duration::days(2) {
            let key = duties
                .iter()
                .find(|d| d.nurse_night && d.date == w[2])
                .and_then(|d| d.key.clone());
            out.push(v(
                Rule::ConsecutiveNights,
                &key,
                format!("3夜連続のオンコール（{}）", w[2].format("%m-%d")),
                format!("third night on call in a row ({})", w[2].format("%m-%d")),
            ));
        }
    }
    // Rule 5: counted hours.
    let month_hours: f64 = duties
        .iter()
        .filter(|d| d.counts && d.key.is_some())
        .map(|d| (d.end - d.start).num_minutes() as f64 / 60.0)
        .sum::<f64>()
        + extra;
    if let Some(cap) = p.labour.monthly_cap_hours()
        && month_hours > f64::from(cap) + 1e-6
    {
        out.push(v(
            Rule::Hours,
            &None,
            format!("今月の当番 {month_hours:.1} 時間で、月の上限 {cap} 時間を超える"),
            format!("{month_hours:.1} h of duty this month, over the monthly cap of {cap} h"),
        ));
    }
    if let Some(cap) = p.labour.regime.annual_overtime_cap_hours() {
        // hours_before holds the extra hours already.
        let year = hours_before + month_hours - extra;
        if year > f64::from(cap) + 1e-6 {
            out.push(v(
                Rule::Hours,
                &None,
                format!("今年 {year:.1} 時間で、年の上限 {cap} 時間を超える"),
                format!("{year:.1} h this year, over the annual cap of {cap} h"),
            ));
        }
    }
    // Days entirely free of duty.
    let days: Vec<NaiveDate> = inst.days().collect();
    let busy: std::collections::BTreeSet<NaiveDate> = duties
        .iter()
        .flat_map(|d| touched_dates(d.start, d.end))
        .filter(|d| inst.contains(*d))
        .collect();
    let free = days.len() - busy.len();
    let need = usize::from(p.labour.min_days_off_per_month).min(days.len());
    if free < need {
        out.push(v(
            Rule::DaysOff,
            &None,
            format!("今月の休日 {free} 日（{need} 日必要）"),
            format!("{free} days off this month, {need} required"),
        ));
    }
}

/// Checks assignments for a month of a network.
pub fn check(inst: &Instance<'_>, assignments: &[Assignment], history: &History) -> CheckReport {
    CheckReport {
        violations: hard_violations(inst, assignments, history, None),
        soft: soft_costs(inst, assignments, history),
    }
}

/// The hard-rule violations; with `only`, those of that person's duties
/// (rules 2–6 and days off) and of every attending pair (rule 7), without
/// coverage: what changes when that person's duties change. A candidate
/// panel asks this once per person instead of checking the whole month.
pub fn hard_violations(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &History,
    only: Option<&StaffId>,
) -> Vec<Violation> {
    let net = inst.net;
    let mut out = Vec::new();
    let mut per_shift: HashMap<usize, usize> = HashMap::new();
    let mut per_person: BTreeMap<usize, Vec<Duty>> = BTreeMap::new();
    for a in assignments {
        if only.is_some_and(|o| *o != a.staff) {
            continue;
        }
        let Some(&si) = inst.shift_index.get(&a.shift) else {
            out.push(Violation::new(
                Rule::Coverage,
                Some(a.staff.clone()),
                Some(a.shift.clone()),
                Reason::new("今月のシフトではない", "is not a shift of this month"),
            ));
            continue;
        };
        let Some(&pi) = inst.staff_index.get(&a.staff) else {
            out.push(Violation::new(
                Rule::Eligibility,
                Some(a.staff.clone()),
                Some(a.shift.clone()),
                Reason::new(
                    "このネットワークの職員ではない",
                    "is not a staff member of this network",
                ),
            ));
            continue;
        };
        let info = &inst.shifts[si];
        *per_shift.entry(si).or_default() += 1;
        if let Some((rule, why)) = static_block(net, inst.service(si), info, inst.staff[pi]) {
            out.push(Violation::new(
                rule,
                Some(a.staff.clone()),
                Some(a.shift.clone()),
                why,
            ));
        }
        per_person.entry(pi).or_default().push(Duty {
            key: Some(a.shift.clone()),
            at: PastDuty::of(a.staff.clone(), info),
        });
    }
    for (si, info) in inst.shifts.iter().enumerate() {
        if only.is_some() {
            break;
        }
        let n = per_shift.get(&si).copied().unwrap_or(0);
        if n < usize::from(info.min) {
            out.push(Violation::new(
                Rule::Coverage,
                None,
                Some(info.shift.key()),
                Reason::new(
                    format!("{n} 人（最低 {} 人）", info.min),
                    format!("{n} of at least {} assigned", info.min),
                ),
            ));
        } else if n > usize::from(info.max) {
            out.push(Violation::new(
                Rule::Coverage,
                None,
                Some(info.shift.key()),
                Reason::new(
                    format!("{n} 人（最大 {} 人）", info.max),
                    format!("{n} assigned, at most {}", info.max),
                ),
            ));
        }
    }
    for (pi, p) in inst.staff.iter().enumerate() {
        if only.is_some_and(|o| *o != p.id) {
            continue;
        }
        let mut duties: Vec<Duty> = per_person.remove(&pi).unwrap_or_default();
        duties.extend(
            history
                .before
                .iter()
                .filter(|d| d.staff == p.id)
                .map(|d| Duty {
                    key: None,
                    at: d.clone(),
                }),
        );
        duties.sort_by_key(|d| d.start);
        check_person(
            inst,
            p,
            &duties,
            (history.hours_before(p), history.extra(p)),
            &mut out,
        );
    }
    check_pairs(inst, assignments, &mut out);
    for (p, b) in crate::rules::breaches(inst, assignments, history, only) {
        if b.rule.weight.is_none() {
            out.push(Violation::new(
                Rule::Limit,
                Some(inst.staff[p].id.clone()),
                b.at.shift.clone(),
                crate::rules::describe(&b),
            ));
        }
    }
    out.extend(crate::rules::missing_pins(inst, assignments, only));
    out
}

/// Rule 7: an attending pair is never unavailable at once. Unavailable means
/// absent, or on on-site duty.
fn check_pairs(inst: &Instance<'_>, assignments: &[Assignment], out: &mut Vec<Violation>) {
    let net = inst.net;
    let away = |id: &StaffId| -> Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>, Reason)> {
        let mut v: Vec<_> = net
            .absences
            .iter()
            .filter(|a| &a.staff == id)
            .map(|a| {
                (
                    a.start,
                    a.end,
                    Reason::new(
                        format!("不在 {}–{}", hm(a.start), hm(a.end)),
                        format!("absent {}–{}", hm(a.start), hm(a.end)),
                    ),
                )
            })
            .collect();
        for a in assignments.iter().filter(|a| &a.staff == id) {
            if let Some(&si) = inst.shift_index.get(&a.shift)
                && inst.shifts[si].on_site
            {
                let s = &inst.shifts[si].shift;
                v.push((
                    s.start,
                    s.end,
                    Reason::new(
                        format!("{} の現地当番 {}–{}", s.service, hm(s.start), hm(s.end)),
                        format!("on site for {} {}–{}", s.service, hm(s.start), hm(s.end)),
                    ),
                ));
            }
        }
        v
    };
    let (from, to) = (
        inst.shifts.first().map(|s| s.shift.start),
        inst.shifts.last().map(|s| s.shift.end),
    );
    let (Some(from), Some(to)) = (from, to) else {
        return;
    };
    for pair in &net.attending_pairs {
        for (s1, e1, w1) in away(&pair.primary) {
            for (s2, e2, w2) in away(&pair.backup) {
                if s1 < e2 && s2 < e1 && s1.max(s2) < to && e1.min(e2) > from {
                    out.push(Violation::new(
                        Rule::AttendingPair,
                        Some(pair.primary.clone()),
                        None,
                        Reason::new(
                            format!(
                                "とバックアップの {} が同時に不在（{}; {}）",
                                pair.backup, w1.ja, w2.ja
                            ),
                            format!(
                                "and their backup {} are both unavailable ({}; {})",
                                pair.backup, w1.en, w2.en
                            ),
                        ),
                    ));
                }
            }
        }
    }
}
