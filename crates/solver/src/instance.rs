//! The month to schedule, in the form both the model and the explainer use:
//! every shift with its properties, and for each shift who may take it, or why
//! not.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use touban_calendar::Calendar;
use touban_domain::{
    Assignment, CoverageService, DayClass, DutyKind, Month, Network, ServiceMode, Shift, ShiftKey,
    StaffId, StaffMember,
};

/// A shift of the month with what the rules need to know about it.
#[derive(Debug, Clone)]
pub struct ShiftInfo {
    pub shift: Shift,
    pub service: usize,
    pub min: u8,
    pub ideal: u8,
    pub max: u8,
    pub night: bool,
    /// Counts as working time (rule 5) and triggers rest intervals (rule 4).
    pub counts: bool,
    pub on_site: bool,
    /// A visiting-nurse night on call (rule 6: at most 2 in a row).
    pub nurse_night: bool,
    /// 宿直 / 日直 at a backup hospital (soft: one a week / one a month).
    pub backup_night: bool,
    pub backup_day: bool,
    /// Points per person below the ideal, when a per-date override sets
    /// them (else the network's `ideal_headcount` weight).
    pub under_weight: Option<f64>,
    /// Points per person above the ideal (per-date overrides; else none).
    pub over_weight: f64,
}

impl ShiftInfo {
    pub fn hours(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let m = self.shift.minutes() as f64;
        m / 60.0
    }
    pub fn holiday_like(&self) -> bool {
        self.shift.day_class.is_holiday_like()
    }
    pub fn year_end(&self) -> bool {
        self.shift.day_class == DayClass::YearEnd
    }
    /// Calendar dates the shift touches (a night touches the next morning).
    pub fn dates(&self) -> Vec<NaiveDate> {
        touched_dates(self.shift.start, self.shift.end).collect()
    }
}

/// Calendar dates an interval `[start, end)` touches.
pub fn touched_dates(
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
) -> impl Iterator<Item = NaiveDate> {
    let last = (end - Duration::seconds(1)).date_naive();
    start
        .date_naive()
        .iter_days()
        .take_while(move |d| *d <= last)
}

/// Duty done before the month starts that still binds its first days.
#[derive(Debug, Clone, PartialEq)]
pub struct PastDuty {
    pub staff: StaffId,
    pub date: NaiveDate,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub counts: bool,
    pub night: bool,
    pub nurse_night: bool,
    pub on_site: bool,
    /// The shift, when the duty was one of a rota (the coordinators'
    /// rules on services and templates read it).
    pub key: Option<touban_domain::ShiftKey>,
}

impl History {
    /// Hours a person has already worked this year before this month: from
    /// stored rotas, plus what they declared from elsewhere.
    pub fn hours_before(&self, person: &StaffMember) -> f64 {
        self.hours_this_year.get(&person.id).copied().unwrap_or(0.0)
            + person.labour.hours_elsewhere_this_year
            + self.extra(person)
    }

    /// Counted hours this month outside the rota (accepted cover).
    pub fn extra(&self, person: &StaffMember) -> f64 {
        self.extra_hours.get(&person.id).copied().unwrap_or(0.0)
    }
}

impl PastDuty {
    /// A person's duty on a shift, as later months see it.
    pub fn of(staff: StaffId, info: &ShiftInfo) -> Self {
        Self {
            staff,
            date: info.shift.date,
            start: info.shift.start,
            end: info.shift.end,
            counts: info.counts,
            night: info.night,
            nurse_night: info.nurse_night,
            on_site: info.on_site,
            key: Some(info.shift.key()),
        }
    }

    /// Whether this fixed duty rules out `info` for the same person: they
    /// overlap, or (with rest enforced) the later of the two starts inside
    /// the rest owed after the earlier.
    pub fn blocks(&self, info: &ShiftInfo, rest: bool) -> bool {
        let shift = Self::of(self.staff.clone(), info);
        if shift.start >= self.start {
            self.clash(&shift, rest).is_some()
        } else {
            // A duty fixed later in the month (accepted cover): the shift
            // must leave its rest before it.
            shift.clash(self, rest).is_some()
        }
    }

    /// Whether a later duty of the same person clashes with this one: they
    /// overlap (rule 3), or (with rest enforced) it is work or on-site duty
    /// that starts inside the rest owed after this one (rule 4). The one
    /// reading of rules 3 and 4 for pairs of duties, shared by the checker,
    /// the model, the heuristic and the ranking of cover candidates.
    pub fn clash(&self, later: &PastDuty, rest: bool) -> Option<Rule> {
        if later.start < self.end && self.start < later.end {
            return Some(Rule::Overlap);
        }
        let too_soon = rest
            && (later.counts || later.on_site)
            && later.start >= self.end
            && crate::check::rest_needed(self.counts, self.night)
                .is_some_and(|need| later.start < self.end + need);
        too_soon.then_some(Rule::Rest)
    }
}

/// What earlier months leave behind: duty just before this month, hours
/// already worked this year, fairness carried over, and (for a repair) the
/// version being repaired.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Duty outside this month's rota that binds it: the end of the month
    /// before, and cover people accepted (a duty for every rule).
    pub before: Vec<PastDuty>,
    pub hours_this_year: HashMap<StaffId, f64>,
    /// Counted hours this month outside the rota (accepted cover), toward
    /// the monthly and annual caps.
    pub extra_hours: HashMap<StaffId, f64>,
    /// Repair: shifts that started before this instant keep the previous
    /// version's people (the part already worked stays with whoever worked
    /// it; a repair never rewrites the past). A person reported absent
    /// from the middle of such a shift stays on it, and the checker reports
    /// the rest of the shift, for cover to be arranged.
    pub frozen_before: Option<DateTime<FixedOffset>>,
    /// Per person, nights / holidays / year-end / all duties above (+) or below (−)
    /// their fair share in earlier months.
    pub carry: HashMap<StaffId, [f64; crate::soft::CATEGORIES]>,
    pub previous: Option<Vec<Assignment>>,
}

/// Which rule of DOMAIN.md a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Rule {
    /// 1: coverage.
    Coverage,
    /// 2: profession, skills, institution.
    Eligibility,
    /// 3: absent.
    Absent,
    /// 3: two overlapping assignments.
    Overlap,
    /// 4: rest intervals, continuous hours.
    Rest,
    /// 5: overtime caps.
    Hours,
    /// 6: visiting-nurse consecutive nights.
    ConsecutiveNights,
    /// Minimum days off in the month.
    DaysOff,
    /// 7: attending pair both unavailable.
    AttendingPair,
    /// A rule a coordinator set (`[[rules]]`: counts, hours, weekends,
    /// consecutive days, 当直明け, successions).
    Limit,
    /// A pinned duty not kept.
    Pinned,
}

impl Rule {
    pub fn number(self) -> &'static str {
        match self {
            Self::Coverage => "1",
            Self::Eligibility => "2",
            Self::Absent | Self::Overlap => "3",
            Self::Rest => "4",
            Self::Hours => "5",
            Self::ConsecutiveNights => "6",
            Self::AttendingPair => "7",
            Self::DaysOff => "days-off",
            Self::Limit => "limit",
            Self::Pinned => "pinned",
        }
    }
}

/// A reason in words, Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    pub ja: String,
    pub en: String,
}

impl Reason {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

/// Why a person cannot take a shift at all, whatever else they do.
pub fn static_block(
    net: &Network,
    svc: &CoverageService,
    info: &ShiftInfo,
    p: &StaffMember,
) -> Option<(Rule, Reason)> {
    service_block(net, svc, p)
        .or_else(|| shift_block(net.absences.iter().filter(|a| a.staff == p.id), info, p))
}

/// Why a person can take no shift of a service at all (profession, skills,
/// institution): the part of [`static_block`] that does not depend on the
/// shift.
pub fn service_block(
    net: &Network,
    svc: &CoverageService,
    p: &StaffMember,
) -> Option<(Rule, Reason)> {
    if p.profession != svc.profession {
        return Some((
            Rule::Eligibility,
            Reason::new(
                format!(
                    "{}で、このサービスには{}が必要",
                    p.profession.label_ja(),
                    svc.profession.label_ja()
                ),
                format!(
                    "is a {}, the service needs a {}",
                    p.profession, svc.profession
                ),
            ),
        ));
    }
    if let Some(missing) = svc.skills.iter().find(|s| !p.skills.contains(*s)) {
        return Some((
            Rule::Eligibility,
            Reason::new(
                format!("技能「{missing}」がない"),
                format!("lacks the skill {missing}"),
            ),
        ));
    }
    if !net.eligible(p, svc) {
        return Some((
            Rule::Eligibility,
            Reason::new(
                "このサービスが受け入れる施設に所属していない",
                "works for no institution the service accepts",
            ),
        ));
    }
    None
}

/// Why a person cannot take this shift whatever else they do, given their
/// absences (retired by then, absent, a shift too long for their rest
/// rules): the part of [`static_block`] that depends on the shift.
pub fn shift_block<'a>(
    mut absences: impl Iterator<Item = &'a touban_domain::Absence>,
    info: &ShiftInfo,
    p: &StaffMember,
) -> Option<(Rule, Reason)> {
    if let Some(d) = p.retired_from.filter(|_| p.retired_on(info.shift.date)) {
        return Some((
            Rule::Eligibility,
            Reason::new(
                format!("{}から退職", d.format("%Y-%m-%d")),
                format!("retired from {}", d.format("%Y-%m-%d")),
            ),
        ));
    }
    if let Some(a) = absences.find(|a| a.overlaps(info.shift.start, info.shift.end)) {
        let (from, to) = (a.start.format("%m-%d %H:%M"), a.end.format("%m-%d %H:%M"));
        return Some((
            Rule::Absent,
            Reason::new(
                format!("不在（{} {from}–{to}）", a.kind.label_ja()),
                format!("absent ({} {from}–{to})", a.kind.as_str()),
            ),
        ));
    }
    let rest_applies = p.labour.rest == touban_domain::RestPolicy::Enforced;
    if rest_applies && info.counts {
        let limit = if info.night { 28.0 } else { 15.0 };
        if info.hours() > limit {
            return Some((
                Rule::Rest,
                Reason::new(
                    format!(
                        "連続 {:.1} 時間の勤務で、上限 {limit} 時間を超える",
                        info.hours()
                    ),
                    format!(
                        "the shift is {:.1} h of continuous work, over the {limit} h limit",
                        info.hours()
                    ),
                ),
            ));
        }
    }
    None
}

/// The month's shifts and candidates.
#[derive(Debug)]
pub struct Instance<'n> {
    pub net: &'n Network,
    /// The month (for a longer horizon, the month it starts in).
    pub month: Month,
    /// The horizon's first and last day: the month's, unless built with
    /// [`Instance::span`].
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub cal: Calendar,
    pub shifts: Vec<ShiftInfo>,
    pub staff: Vec<&'n StaffMember>,
    pub staff_index: HashMap<&'n StaffId, usize>,
    /// For each shift, the staff (indices) who may take it.
    pub candidates: Vec<Vec<usize>>,
    pub shift_index: HashMap<ShiftKey, usize>,
}

impl<'n> Instance<'n> {
    pub fn new(net: &'n Network, month: Month) -> Self {
        Self::with_candidates(net, month, |_| true)
    }

    /// An instance over `days` days from `first`, across months (the
    /// benchmark's horizons of 2 to 52 weeks).
    pub fn span(net: &'n Network, first: NaiveDate, days: u32) -> Self {
        let last = first + Duration::days(i64::from(days.max(1)) - 1);
        Self::build(net, Month::of(first), (first, last), |_| true)
    }

    /// Whether a date is inside the horizon.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.first <= d && d <= self.last
    }

    /// The horizon's days.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let last = self.last;
        self.first.iter_days().take_while(move |d| *d <= last)
    }

    /// [`Instance::new`] with candidates only for the shifts of one
    /// profession's services (the others have none): enough for that
    /// profession's fair shares (`soft::pools`), at a fraction of the
    /// checks on a large network.
    pub fn for_profession(
        net: &'n Network,
        month: Month,
        profession: touban_domain::Profession,
    ) -> Self {
        Self::with_candidates(net, month, |p| p == profession)
    }

    /// The shifts, with the candidates of those whose service's profession
    /// `keep` accepts (a person of another profession is never one).
    fn with_candidates(
        net: &'n Network,
        month: Month,
        keep: impl Fn(touban_domain::Profession) -> bool,
    ) -> Self {
        let last = month.days().last().unwrap_or(month.first_day());
        Self::build(net, month, (month.first_day(), last), keep)
    }

    fn build(
        net: &'n Network,
        month: Month,
        (first, last): (NaiveDate, NaiveDate),
        keep: impl Fn(touban_domain::Profession) -> bool,
    ) -> Self {
        let mut inst = Self::shifts_over(net, month, (first, last));
        // What does not depend on the shift is decided once per service and
        // person, and each person's absences are looked up by person: the
        // same answers as `static_block`, without its per-pair scans.
        let pools: Vec<Vec<usize>> = net
            .services
            .iter()
            .map(|svc| {
                if !keep(svc.profession) {
                    return Vec::new();
                }
                inst.staff
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.profession == svc.profession && service_block(net, svc, p).is_none()
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        let mut absences: Vec<Vec<&touban_domain::Absence>> = vec![Vec::new(); inst.staff.len()];
        for a in &net.absences {
            if let Some(&i) = inst.staff_index.get(&a.staff) {
                absences[i].push(a);
            }
        }
        let candidates = inst
            .shifts
            .iter()
            .map(|info| {
                pools[info.service]
                    .iter()
                    .copied()
                    .filter(|&i| {
                        shift_block(absences[i].iter().copied(), info, inst.staff[i]).is_none()
                    })
                    .collect()
            })
            .collect();
        inst.candidates = candidates;
        inst
    }

    /// The month's shifts without the candidates of each (which take a
    /// check per person and shift): enough to draw, print or look up the
    /// month, not to solve or check it.
    pub fn shifts_only(net: &'n Network, month: Month) -> Self {
        let last = month.days().last().unwrap_or(month.first_day());
        Self::shifts_over(net, month, (month.first_day(), last))
    }

    fn shifts_over(net: &'n Network, month: Month, (first, last): (NaiveDate, NaiveDate)) -> Self {
        let cal = Calendar::for_region(&net.region);
        let staff: Vec<&StaffMember> = net.staff.iter().collect();
        let staff_index = staff.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let mut shifts = Vec::new();
        for (si, svc) in net.services.iter().enumerate() {
            let backup_host = svc
                .host
                .as_ref()
                .and_then(|h| net.institution(h))
                .is_some_and(|i| i.backup_hospital);
            let mut months = vec![Month::of(first)];
            while let Some(&m) = months.last()
                && m < Month::of(last)
            {
                months.push(m.next());
            }
            let all = months
                .into_iter()
                .flat_map(|m| cal.shifts(svc, m))
                .filter(|s| first <= s.date && s.date <= last);
            for shift in all {
                let t = svc
                    .template(&shift.template)
                    .expect("shift of a known template");
                let night = t.is_night();
                // A per-date override (the last one written that applies).
                let ov = svc
                    .overrides
                    .iter()
                    .rev()
                    .find(|o| o.applies(shift.date, &shift.template));
                let (min, ideal, max) = ov
                    .map_or((t.headcount.min, t.headcount.ideal, t.headcount.max), |o| {
                        o.headcount(t.headcount)
                    });
                shifts.push(ShiftInfo {
                    service: si,
                    min,
                    ideal,
                    max,
                    under_weight: ov.and_then(|o| o.under_weight),
                    over_weight: ov.and_then(|o| o.over_weight).unwrap_or(0.0),
                    night,
                    counts: svc.duty == DutyKind::CountsAsWork,
                    on_site: svc.mode == ServiceMode::OnSite,
                    nurse_night: night && svc.profession == touban_domain::Profession::Nurse,
                    backup_night: backup_host && svc.mode == ServiceMode::OnSite && night,
                    backup_day: backup_host && svc.mode == ServiceMode::OnSite && !night,
                    shift,
                });
            }
        }
        shifts.sort_by(|a, b| {
            a.shift
                .start
                .cmp(&b.shift.start)
                .then(a.service.cmp(&b.service))
        });
        let candidates = vec![Vec::new(); shifts.len()];
        let shift_index = shifts
            .iter()
            .enumerate()
            .map(|(i, s)| (s.shift.key(), i))
            .collect();
        Self {
            net,
            month,
            first,
            last,
            cal,
            shifts,
            staff,
            staff_index,
            candidates,
            shift_index,
        }
    }

    /// Keeps only the shifts of the month's first `days` days.
    pub fn keep_days(&mut self, days: u32) {
        let last = self.first + Duration::days(i64::from(days));
        self.last = self.last.min(last - Duration::days(1));
        let keep: Vec<bool> = self.shifts.iter().map(|s| s.shift.date < last).collect();
        let mut k = keep.iter();
        self.shifts.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        self.candidates.retain(|_| *k.next().unwrap_or(&false));
        self.shift_index = self
            .shifts
            .iter()
            .enumerate()
            .map(|(i, s)| (s.shift.key(), i))
            .collect();
    }

    pub fn service(&self, s: usize) -> &CoverageService {
        &self.net.services[self.shifts[s].service]
    }
}
