//! The rules coordinators set on people's duties (`[[rules]]` of the network
//! file: counts, hours, weekends, consecutive days, 当直明け, forbidden
//! successions) and pinned duties.
//!
//! Each family is one function, written once over a [`Sink`]: the checker
//! runs it on numbers (a duty is 1, a day worked is the largest of its
//! duties) and records each breach; the model runs the same function on
//! linear expressions (a duty is its variable, a day worked an auxiliary
//! binary between its duties' largest and their sum) and each breach
//! becomes a slack variable: priced at the rule's weight when the rule is
//! soft, and at [`HARD_COST`] when it is hard. Every rule is therefore met
//! by the model exactly as the checker counts it, and the model stays
//! feasible whatever the month (a hard rule that cannot be kept is reported
//! by the checker, like an unfilled place, instead of making the month
//! unsolvable).

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use touban_domain::{DayClass, Duties, Limit, Period, ShiftKey, StaffRule, rules_for};

use crate::instance::{History, Instance, PastDuty, ShiftInfo};

mod succession;
use succession::{Matches, grouped_successions};

fn week(d: NaiveDate) -> (i32, u32) {
    let w = d.iso_week();
    (w.year(), w.week())
}

/// What one unit of a hard rule's breach costs in the model: the same as
/// a place short of its minimum, far above any soft cost.
pub const HARD_COST: f64 = crate::model::UNDER_COST;

/// A pinned duty dropped counts as this many hard breaches: a pin is kept
/// before any place is filled.
pub const PIN_WEIGHT: f64 = 4.0;

/// A duty as the rules see it.
#[derive(Debug, Clone)]
pub struct DutyRef {
    pub date: NaiveDate,
    pub night: bool,
    pub hours: f64,
    pub day_class: DayClass,
    /// The rota's shift, when it is one (a duty of the month before has
    /// its own key; accepted cover has none and counts only for the
    /// sequence rules).
    pub key: Option<ShiftKey>,
}

impl DutyRef {
    pub fn of_shift(info: &ShiftInfo) -> Self {
        Self {
            date: info.shift.date,
            night: info.night,
            hours: info.hours(),
            day_class: info.shift.day_class,
            key: Some(info.shift.key()),
        }
    }

    pub fn of_past(inst: &Instance<'_>, d: &PastDuty) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let hours = (d.end - d.start).num_minutes() as f64 / 60.0;
        Self {
            date: d.date,
            night: d.night,
            hours,
            day_class: inst.cal.day_class(d.date),
            key: d.key.clone(),
        }
    }

    fn weekend(&self) -> bool {
        matches!(self.date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    pub fn is(&self, d: &Duties) -> bool {
        match d {
            Duties::All => true,
            Duties::Nights => self.night,
            Duties::Holidays => self.day_class.is_holiday_like(),
            Duties::Weekends => self.weekend(),
            Duties::WeekendsHolidays => self.weekend() || self.day_class != DayClass::Weekday,
            Duties::YearEnd => self.day_class == DayClass::YearEnd,
            Duties::Service { service, template } => self.key.as_ref().is_some_and(|k| {
                &k.service == service && template.as_ref().is_none_or(|t| &k.template == t)
            }),
        }
    }
}

/// Where a breach is, for messages.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub date: Option<NaiveDate>,
    pub shift: Option<ShiftKey>,
}

/// What the family functions compute on: numbers for the checker, linear
/// expressions for the model.
pub trait Sink<'r> {
    type E: Clone;
    fn constant(&self, c: f64) -> Self::E;
    /// `a + k·b`.
    fn plus(&self, a: &Self::E, k: f64, b: &Self::E) -> Self::E;
    /// `Σ k·e`. The model builds it at once (adding term by term would copy
    /// the growing sum each time: quadratic in a half year's duties).
    fn sum(&self, terms: Vec<(f64, Self::E)>) -> Self::E {
        terms
            .into_iter()
            .fold(self.constant(0.0), |acc, (k, e)| self.plus(&acc, k, &e))
    }
    /// 1 when any of these 0/1 terms is 1.
    fn any(&mut self, terms: Vec<Self::E>) -> Self::E;
    /// The rule is broken by `e` when `e > 0`.
    fn breach(&mut self, rule: &'r StaffRule, e: Self::E, at: Place);
    /// Whether this sink can tell duties the person can take at most one
    /// of ([`Sink::exclusive`]); the checker cannot, and counts forbidden
    /// successions pair by pair.
    const KNOWS_CLASHES: bool = false;
    /// These duties (indices into the duties given to [`person`]) split
    /// into sets of which the person can take at most one each.
    fn exclusive(&mut self, duties: &[usize]) -> Vec<Vec<usize>> {
        duties.iter().map(|&d| vec![d]).collect()
    }
}

/// Applies every rule in force for one person to their duties.
pub fn person<'r, S: Sink<'r>>(
    s: &mut S,
    inst: &Instance<'_>,
    rules: &[&'r StaffRule],
    duties: &[(DutyRef, S::E)],
) {
    if rules.is_empty() {
        return;
    }
    let (first, last) = (inst.first, inst.last);
    let in_rota = |d: &DutyRef| d.key.is_some() && inst.contains(d.date);
    // A day worked: a duty starts on it.
    let mut by_day: BTreeMap<NaiveDate, Vec<S::E>> = BTreeMap::new();
    for (d, e) in duties {
        by_day.entry(d.date).or_default().push(e.clone());
    }
    let days: BTreeMap<NaiveDate, S::E> = by_day.into_iter().map(|(d, t)| (d, s.any(t))).collect();
    let day = |d: NaiveDate| days.get(&d);
    let one = Duration::days(1);
    // Duties by date (indices), for successions.
    let mut on: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for (i, (d, _)) in duties.iter().enumerate() {
        on.entry(d.date).or_default().push(i);
    }
    let mut matches = Matches::new();
    let mut left = grouped_successions(s, inst, rules, duties, &on, &mut matches);
    for (r, &rule) in rules.iter().enumerate() {
        match &rule.limit {
            Limit::MaxDuties { .. }
            | Limit::MinDuties { .. }
            | Limit::MaxHours { .. }
            | Limit::MinHours { .. } => {
                // A sum per period against a bound: duties of a kind, or
                // hours of every duty.
                let (bound, of, per, hours) = match &rule.limit {
                    Limit::MaxDuties { n, of, per } | Limit::MinDuties { n, of, per } => {
                        (f64::from(*n), of, *per, false)
                    }
                    Limit::MaxHours { hours, per } | Limit::MinHours { hours, per } => {
                        (*hours, &Duties::All, *per, true)
                    }
                    _ => unreachable!("matched above"),
                };
                let lower = rule.limit.is_lower();
                let mut buckets: Buckets<S::E> = BTreeMap::new();
                let mi = matches.index(of, duties);
                let mine = duties
                    .iter()
                    .enumerate()
                    .filter(|(i, (d, _))| in_rota(d) && matches.of[mi][*i]);
                for (_, (d, e)) in mine {
                    buckets
                        .entry(bucket(per, d.date))
                        .or_default()
                        .push((if hours { d.hours } else { 1.0 }, e.clone()));
                }
                for (b, terms) in periods(per, first, last, lower, buckets) {
                    let total = s.sum(terms);
                    let e = if lower {
                        s.plus(&s.constant(bound), -1.0, &total)
                    } else {
                        s.plus(&total, 1.0, &s.constant(-bound))
                    };
                    s.breach(rule, e, place_of(b, per));
                }
            }
            Limit::MaxWeekends { n } => {
                let mut weekends: BTreeMap<(i32, u32), Vec<S::E>> = BTreeMap::new();
                for (d, e) in duties.iter().filter(|(d, _)| in_rota(d) && d.weekend()) {
                    weekends.entry(week(d.date)).or_default().push(e.clone());
                }
                let worked: Vec<(f64, S::E)> =
                    weekends.into_values().map(|t| (1.0, s.any(t))).collect();
                if !worked.is_empty() {
                    let total = s.sum(worked);
                    let e = s.plus(&total, 1.0, &s.constant(-f64::from(*n)));
                    s.breach(rule, e, Place::default());
                }
            }
            Limit::MaxConsecutiveDays { n } => {
                // Every window of n+1 days that ends in the month.
                let n = i64::from(*n);
                let mut start = first - Duration::days(n);
                while start + Duration::days(n) <= last {
                    let terms: Vec<(f64, S::E)> = (0..=n)
                        .filter_map(|k| day(start + Duration::days(k)).map(|e| (1.0, e.clone())))
                        .collect();
                    if terms.len() as i64 > n {
                        let total = s.sum(terms);
                        #[allow(clippy::cast_precision_loss)]
                        let e = s.plus(&total, 1.0, &s.constant(-(n as f64)));
                        s.breach(
                            rule,
                            e,
                            Place {
                                date: Some(start + Duration::days(n)),
                                ..Place::default()
                            },
                        );
                    }
                    start += one;
                }
            }
            Limit::MinConsecutiveDays { n } => {
                // A block starting on d (worked, d−1 not) goes on for n days,
                // unless the month ends first: each day missing is a breach.
                // A block on the first day may go on from the month before.
                for (&d, w) in days.range(first + one..=last) {
                    for j in 1..i64::from(*n) {
                        let next = d + Duration::days(j);
                        if next > last {
                            break;
                        }
                        let mut e = w.clone();
                        if let Some(prev) = day(d - one) {
                            e = s.plus(&e, -1.0, prev);
                        }
                        if let Some(nx) = day(next) {
                            e = s.plus(&e, -1.0, nx);
                        }
                        s.breach(
                            rule,
                            e,
                            Place {
                                date: Some(d),
                                ..Place::default()
                            },
                        );
                    }
                }
            }
            Limit::MinConsecutiveDaysOff { n } => {
                // Days off starting on d (d−1 worked, d not) go on for n
                // days; days off from the first day may go on from the
                // month before.
                for d in (first + one).iter_days().take_while(|d| *d <= last) {
                    let Some(prev) = day(d - one) else { continue };
                    for j in 1..i64::from(*n) {
                        let next = d + Duration::days(j);
                        if next > last {
                            break;
                        }
                        let Some(nx) = day(next) else { continue };
                        let mut e = s.plus(prev, 1.0, nx);
                        e = s.plus(&e, 1.0, &s.constant(-1.0));
                        if let Some(w) = day(d) {
                            e = s.plus(&e, -1.0, w);
                        }
                        s.breach(
                            rule,
                            e,
                            Place {
                                date: Some(d),
                                ..Place::default()
                            },
                        );
                    }
                }
            }
            Limit::DayOffAfterNight => {
                for (d, e) in duties.iter().filter(|(d, _)| d.night) {
                    let next = d.date + one;
                    if !(first..=last).contains(&next) {
                        continue;
                    }
                    let Some(w) = day(next) else { continue };
                    let b = s.plus(e, 1.0, w);
                    let b = s.plus(&b, 1.0, &s.constant(-1.0));
                    s.breach(
                        rule,
                        b,
                        Place {
                            date: Some(next),
                            shift: d.key.clone(),
                        },
                    );
                }
            }
            Limit::ForbiddenSuccession { first: a, then: b } => {
                let pairs: Vec<(usize, usize)> = match &mut left {
                    Some(left) => std::mem::take(&mut left[r]),
                    None => {
                        let (ma, mb) = (matches.index(a, duties), matches.index(b, duties));
                        let mut pairs = Vec::new();
                        for (ia, (da, _)) in duties.iter().enumerate() {
                            let next = da.date + one;
                            if !matches.of[ma][ia] || !(first..=last).contains(&next) {
                                continue;
                            }
                            for &ib in on.get(&next).into_iter().flatten() {
                                if matches.of[mb][ib] {
                                    pairs.push((ia, ib));
                                }
                            }
                        }
                        pairs
                    }
                };
                for (ia, ib) in pairs {
                    let (db, eb) = &duties[ib];
                    let e = s.plus(&duties[ia].1, 1.0, eb);
                    let e = s.plus(&e, 1.0, &s.constant(-1.0));
                    s.breach(
                        rule,
                        e,
                        Place {
                            date: Some(db.date),
                            shift: db.key.clone(),
                        },
                    );
                }
            }
        }
    }
}

/// A period: (0, 0) for the month, (ISO year, week) for a week.
type Bucket = (i32, u32);
/// Weighted terms of a sum.
type Terms<E> = Vec<(f64, E)>;
type Buckets<E> = BTreeMap<Bucket, Terms<E>>;

fn bucket(per: Period, d: NaiveDate) -> (i32, u32) {
    match per {
        Period::Month => (0, 0),
        Period::Week => week(d),
    }
}

fn place_of(b: (i32, u32), per: Period) -> Place {
    match per {
        Period::Month => Place::default(),
        Period::Week => Place {
            date: NaiveDate::from_isoywd_opt(b.0, b.1, Weekday::Mon),
            ..Place::default()
        },
    }
}

/// The periods a count is taken over, with their terms. Upper limits: only
/// periods with duties matter. Lower limits: every period of the month
/// (every whole week, for weekly ones: a week cut by the month's edge is
/// not asked to reach a weekly minimum).
fn periods<E>(
    per: Period,
    first: NaiveDate,
    last: NaiveDate,
    lower: bool,
    mut buckets: Buckets<E>,
) -> Vec<(Bucket, Terms<E>)> {
    if !lower {
        return buckets.into_iter().collect();
    }
    let mut keys: Vec<(i32, u32)> = Vec::new();
    match per {
        Period::Month => keys.push((0, 0)),
        Period::Week => {
            for d in first.iter_days().take_while(|d| *d <= last) {
                let whole = d.weekday() == Weekday::Mon && d + Duration::days(6) <= last;
                if whole {
                    keys.push(week(d));
                }
            }
        }
    }
    keys.into_iter()
        .map(|k| (k, buckets.remove(&k).unwrap_or_default()))
        .collect()
}

/// The rules in force for each person of the instance (index by person).
pub fn in_force<'n>(inst: &Instance<'n>) -> Vec<Vec<&'n StaffRule>> {
    inst.staff
        .iter()
        .map(|p| rules_for(&inst.net.rules, p))
        .collect()
}

/// A person's duties outside the rota's variables: the month before,
/// accepted cover, and (repair) shifts already under way.
pub fn fixed_duties<'h>(
    history: &'h History,
    id: &'h touban_domain::StaffId,
) -> impl Iterator<Item = &'h PastDuty> {
    history.before.iter().filter(move |d| &d.staff == id)
}

/// A breach the checker found.
#[derive(Debug, Clone)]
pub struct Breach<'r> {
    pub rule: &'r StaffRule,
    pub amount: f64,
    pub at: Place,
}

/// The checker's side: numbers. Collects every breach of the rules.
#[derive(Debug, Default)]
pub struct Count<'r> {
    pub found: Vec<Breach<'r>>,
}

impl<'r> Sink<'r> for Count<'r> {
    type E = f64;
    fn constant(&self, c: f64) -> f64 {
        c
    }
    fn plus(&self, a: &f64, k: f64, b: &f64) -> f64 {
        a + k * b
    }
    fn any(&mut self, terms: Vec<f64>) -> f64 {
        terms.into_iter().fold(0.0, f64::max)
    }
    fn breach(&mut self, rule: &'r StaffRule, e: f64, at: Place) {
        if e > 1e-6 {
            self.found.push(Breach {
                rule,
                amount: e,
                at,
            });
        }
    }
}

/// Every breach of the coordinators' rules in a rota, by person (index).
/// With `only`, that person's alone.
pub fn breaches<'n>(
    inst: &Instance<'n>,
    assignments: &[touban_domain::Assignment],
    history: &History,
    only: Option<&touban_domain::StaffId>,
) -> Vec<(usize, Breach<'n>)> {
    let net: &'n touban_domain::Network = inst.net;
    if net.rules.is_empty() {
        return Vec::new();
    }
    let mut duties: Vec<Vec<(DutyRef, f64)>> = vec![Vec::new(); inst.staff.len()];
    for a in assignments {
        if only.is_some_and(|o| *o != a.staff) {
            continue;
        }
        if let (Some(&s), Some(&p)) = (
            inst.shift_index.get(&a.shift),
            inst.staff_index.get(&a.staff),
        ) {
            duties[p].push((DutyRef::of_shift(&inst.shifts[s]), 1.0));
        }
    }
    for d in &history.before {
        if let Some(&p) = inst.staff_index.get(&d.staff) {
            duties[p].push((DutyRef::of_past(inst, d), 1.0));
        }
    }
    let mut out = Vec::new();
    for (p, person_duties) in duties.iter().enumerate() {
        let staff = inst.staff[p];
        if only.is_some_and(|o| *o != staff.id) {
            continue;
        }
        let mine = rules_for(&net.rules, staff);
        let mut count = Count::default();
        person(&mut count, inst, &mine, person_duties);
        out.extend(count.found.into_iter().map(|b| (p, b)));
    }
    out
}

/// A breach in words, for the checker's message.
pub fn describe(b: &Breach<'_>) -> crate::instance::Reason {
    let (ja, en) = b.rule.describe();
    let amount = if (b.amount - b.amount.round()).abs() < 1e-6 {
        format!("{}", b.amount.round())
    } else {
        format!("{:.1}", b.amount)
    };
    let (unit_ja, unit_en) = match b.rule.limit {
        Limit::MaxHours { .. } | Limit::MinHours { .. } => ("時間", " h"),
        Limit::MaxConsecutiveDays { .. }
        | Limit::MinConsecutiveDays { .. }
        | Limit::MinConsecutiveDaysOff { .. } => ("日", " day(s)"),
        Limit::MaxWeekends { .. } => ("回", " weekend(s)"),
        _ => ("回", ""),
    };
    let (over_ja, over_en) =
        if b.rule.limit.is_lower() || matches!(b.rule.limit, Limit::MinConsecutiveDaysOff { .. }) {
            ("不足", "short")
        } else {
            ("超過", "over")
        };
    let when_ja =
        b.at.date
            .map(|d| format!("{}：", d.format("%m-%d")))
            .unwrap_or_default();
    let when_en =
        b.at.date
            .map(|d| format!(" ({})", d.format("%m-%d")))
            .unwrap_or_default();
    let (body_ja, body_en) = match b.rule.limit {
        Limit::DayOffAfterNight | Limit::ForbiddenSuccession { .. } => {
            (format!("{when_ja}{ja}"), format!("{en}{when_en}"))
        }
        _ => (
            format!("{when_ja}{ja}、{amount}{unit_ja}{over_ja}"),
            format!("{en}: {amount}{unit_en} {over_en}{when_en}"),
        ),
    };
    crate::instance::Reason::new(body_ja, body_en)
}

/// Pinned duties the rota does not keep, with the reason when the person
/// cannot take the shift at all.
pub fn missing_pins(
    inst: &Instance<'_>,
    assignments: &[touban_domain::Assignment],
    only: Option<&touban_domain::StaffId>,
) -> Vec<crate::check::Violation> {
    let mut out = Vec::new();
    for pin in &inst.net.pinned {
        if only.is_some_and(|o| *o != pin.staff) {
            continue;
        }
        let Some(&s) = inst.shift_index.get(&pin.shift) else {
            continue; // another month
        };
        if assignments
            .iter()
            .any(|a| a.shift == pin.shift && a.staff == pin.staff)
        {
            continue;
        }
        let why = inst.staff_index.get(&pin.staff).and_then(|&p| {
            crate::instance::static_block(inst.net, inst.service(s), &inst.shifts[s], inst.staff[p])
        });
        let reason = match why {
            Some((_, r)) => crate::instance::Reason::new(
                format!("固定した当番を外しました：{}", r.ja),
                format!("the pinned duty was dropped: {}", r.en),
            ),
            None => crate::instance::Reason::new(
                "固定した当番が入っていません",
                "the pinned duty is not kept",
            ),
        };
        out.push(crate::check::Violation::new(
            crate::instance::Rule::Pinned,
            Some(pin.staff.clone()),
            Some(pin.shift.clone()),
            reason,
        ));
    }
    out
}
