//! Rules coordinators set on people's duties, beyond the labour rules every
//! doctor carries: "当直は月4回まで", "土日祝の当番は月2回まで", "当直明けは休み",
//! "5連勤まで", "週末は月2回まで". Each rule is set for the whole network, a
//! profession, an institution or a list of people; for each person and kind
//! of rule the most specific setting wins (a person's own over a list's over
//! an institution's over a profession's over the network's).
//!
//! Pinned duties (a coordinator fixes who takes a shift) and per-date
//! headcounts (a festival, an exam day) live here too.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{InstitutionId, Profession, ServiceId, ShiftKey, StaffId, StaffMember, TemplateId};

/// Which duties a count (or a succession) is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duties {
    /// Every duty.
    All,
    /// Nights (at least 3 h in the 22–06 band).
    Nights,
    /// Duties on Sundays, holidays and the year-end days (day classes that
    /// are holiday-like).
    Holidays,
    /// Duties starting on a Saturday or a Sunday.
    Weekends,
    /// Duties on Saturdays, Sundays, holidays and the year-end days (土日祝).
    WeekendsHolidays,
    /// Duties in the year-end and New Year days.
    YearEnd,
    /// Duties of one service, or of one of its templates.
    Service {
        service: ServiceId,
        template: Option<TemplateId>,
    },
}

impl Duties {
    pub fn label_ja(&self) -> String {
        match self {
            Self::All => "当番".into(),
            Self::Nights => "夜間当番".into(),
            Self::Holidays => "休日当番".into(),
            Self::Weekends => "土日の当番".into(),
            Self::WeekendsHolidays => "土日祝の当番".into(),
            Self::YearEnd => "年末年始の当番".into(),
            Self::Service {
                service,
                template: None,
            } => format!("{service} の当番"),
            Self::Service {
                service,
                template: Some(t),
            } => format!("{service} {t}"),
        }
    }
    pub fn label_en(&self) -> String {
        match self {
            Self::All => "duties".into(),
            Self::Nights => "nights".into(),
            Self::Holidays => "holiday duties".into(),
            Self::Weekends => "weekend duties".into(),
            Self::WeekendsHolidays => "weekend and holiday duties".into(),
            Self::YearEnd => "year-end duties".into(),
            Self::Service {
                service,
                template: None,
            } => format!("duties of {service}"),
            Self::Service {
                service,
                template: Some(t),
            } => format!("{service} {t}"),
        }
    }
}

/// The period a count or an hour limit is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// The rota's month.
    Month,
    /// Each Monday-to-Sunday week, the part of it inside the month.
    Week,
}

impl Period {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Month => "月",
            Self::Week => "週",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "week",
        }
    }
}

/// What a rule limits. A duty day is a date on which a duty starts; a day off
/// is a date no duty touches (a night's morning is not a day off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Limit {
    /// At most `n` duties of a kind per period.
    MaxDuties { n: u16, of: Duties, per: Period },
    /// At least `n` duties of a kind per period.
    MinDuties { n: u16, of: Duties, per: Period },
    /// At most `n` duty days in a row.
    MaxConsecutiveDays { n: u8 },
    /// Duty days come in blocks of at least `n` (a block cut by the end of
    /// the month is not counted short).
    MinConsecutiveDays { n: u8 },
    /// Days off come in blocks of at least `n` (between two duty days).
    MinConsecutiveDaysOff { n: u8 },
    /// No duty starts on the day after a night (当直明け).
    DayOffAfterNight,
    /// A duty of `first` on one day is not followed by one of `then` the next.
    ForbiddenSuccession { first: Duties, then: Duties },
    /// At most `n` weekends (Saturday and Sunday) with any duty; a weekend
    /// counts once.
    MaxWeekends { n: u8 },
    /// At most `hours` hours of duty per period (every duty, counted as
    /// work or not).
    MaxHours { hours: f64, per: Period },
    /// At least `hours` hours of duty per period.
    MinHours { hours: f64, per: Period },
}

impl Limit {
    /// The family's name, as written in the network file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MaxDuties { .. } => "max_duties",
            Self::MinDuties { .. } => "min_duties",
            Self::MaxConsecutiveDays { .. } => "max_consecutive_days",
            Self::MinConsecutiveDays { .. } => "min_consecutive_days",
            Self::MinConsecutiveDaysOff { .. } => "min_consecutive_days_off",
            Self::DayOffAfterNight => "day_off_after_night",
            Self::ForbiddenSuccession { .. } => "forbidden_succession",
            Self::MaxWeekends { .. } => "max_weekends",
            Self::MaxHours { .. } => "max_hours",
            Self::MinHours { .. } => "min_hours",
        }
    }

    pub const NAMES: [&'static str; 10] = [
        "max_duties",
        "min_duties",
        "max_consecutive_days",
        "min_consecutive_days",
        "min_consecutive_days_off",
        "day_off_after_night",
        "forbidden_succession",
        "max_weekends",
        "max_hours",
        "min_hours",
    ];

    /// What makes two rules "the same rule" for precedence: the family and
    /// what it counts (a person's own 当直4回 replaces the network's
    /// 当直4回, not its 5連勤).
    pub fn identity(&self) -> String {
        match self {
            Self::MaxDuties { of, per, .. } | Self::MinDuties { of, per, .. } => {
                format!("{}:{of:?}:{per:?}", self.name())
            }
            Self::MaxHours { per, .. } | Self::MinHours { per, .. } => {
                format!("{}:{per:?}", self.name())
            }
            Self::ForbiddenSuccession { first, then } => {
                format!("{}:{first:?}:{then:?}", self.name())
            }
            _ => self.name().to_string(),
        }
    }

    /// A rule that asks for at least something (met only by assigning):
    /// when hard, it is priced like an unfilled place rather than forced,
    /// so that a month can always be solved.
    pub fn is_lower(&self) -> bool {
        matches!(
            self,
            Self::MinDuties { .. } | Self::MinHours { .. } | Self::MinConsecutiveDays { .. }
        )
    }

    /// The rule in words (Japanese, English).
    pub fn describe(&self) -> (String, String) {
        match self {
            Self::MaxDuties { n, of, per } => (
                format!("{}は{}{n}回まで", of.label_ja(), per.label_ja()),
                format!("at most {n} {} a {}", of.label_en(), per.label_en()),
            ),
            Self::MinDuties { n, of, per } => (
                format!("{}は{}{n}回以上", of.label_ja(), per.label_ja()),
                format!("at least {n} {} a {}", of.label_en(), per.label_en()),
            ),
            Self::MaxConsecutiveDays { n } => (
                format!("{n}連勤まで"),
                format!("at most {n} duty days in a row"),
            ),
            Self::MinConsecutiveDays { n } => (
                format!("当番は{n}日以上続けて"),
                format!("duty days in blocks of at least {n}"),
            ),
            Self::MinConsecutiveDaysOff { n } => (
                format!("休みは{n}日以上続けて"),
                format!("days off in blocks of at least {n}"),
            ),
            Self::DayOffAfterNight => (
                "当直明けは休み".into(),
                "no duty on the day after a night".into(),
            ),
            Self::ForbiddenSuccession { first, then } => (
                format!("{}の翌日に{}は入れない", first.label_ja(), then.label_ja()),
                format!("no {} the day after {}", then.label_en(), first.label_en()),
            ),
            Self::MaxWeekends { n } => (
                format!("週末の当番は月{n}回まで"),
                format!("duty on at most {n} weekends a month"),
            ),
            Self::MaxHours { hours, per } => (
                format!("当番は{}{hours}時間まで", per.label_ja()),
                format!("at most {hours} h of duty a {}", per.label_en()),
            ),
            Self::MinHours { hours, per } => (
                format!("当番は{}{hours}時間以上", per.label_ja()),
                format!("at least {hours} h of duty a {}", per.label_en()),
            ),
        }
    }
}

/// Whom a rule is set for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    Network,
    Profession(Profession),
    Institution(InstitutionId),
    /// A named list of people; a list of one is that person's own setting.
    Staff(Vec<StaffId>),
}

impl RuleScope {
    /// How specific the scope is for `p`, or None when it does not apply.
    pub fn rank(&self, p: &StaffMember) -> Option<u8> {
        match self {
            Self::Network => Some(0),
            Self::Profession(x) => (p.profession == *x).then_some(1),
            Self::Institution(i) => p.institutions().any(|x| x == i).then_some(2),
            Self::Staff(list) if list.contains(&p.id) => Some(if list.len() == 1 { 4 } else { 3 }),
            Self::Staff(_) => None,
        }
    }
}

/// One rule as a coordinator set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffRule {
    /// The coordinator's own words for it, shown in messages when given.
    #[serde(default)]
    pub label: Option<String>,
    pub scope: RuleScope,
    pub limit: Limit,
    /// None: a hard rule. Some(w): soft, w points per duty, day, weekend or
    /// hour beyond it.
    #[serde(default)]
    pub weight: Option<f64>,
}

impl StaffRule {
    /// The rule in words, the coordinator's label first when there is one.
    pub fn describe(&self) -> (String, String) {
        let (ja, en) = self.limit.describe();
        match &self.label {
            Some(l) if l != &ja => (format!("{l}（{ja}）"), format!("{l} ({en})")),
            _ => (ja, en),
        }
    }
}

/// The rules in force for one person: for each rule identity the most
/// specific setting; at the same level the one written last.
pub fn rules_for<'r>(rules: &'r [StaffRule], p: &StaffMember) -> Vec<&'r StaffRule> {
    let mut best: Vec<(String, u8, &StaffRule)> = Vec::new();
    for r in rules {
        let Some(rank) = r.scope.rank(p) else {
            continue;
        };
        let id = r.limit.identity();
        match best.iter_mut().find(|b| b.0 == id) {
            Some(b) if rank >= b.1 => *b = (id, rank, r),
            Some(_) => {}
            None => best.push((id, rank, r)),
        }
    }
    best.into_iter().map(|b| b.2).collect()
}

/// A duty a coordinator fixed: generate and repair keep it (unless the
/// person cannot take it at all, which the checker reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub staff: StaffId,
    pub shift: ShiftKey,
    #[serde(default)]
    pub note: Option<String>,
}

/// A headcount for one date, beside the day-class templates: a festival, an
/// exam day. Unset numbers keep the template's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateOverride {
    pub date: NaiveDate,
    /// One template of the service, or all of that date's.
    #[serde(default)]
    pub template: Option<TemplateId>,
    #[serde(default)]
    pub min: Option<u8>,
    #[serde(default)]
    pub ideal: Option<u8>,
    #[serde(default)]
    pub max: Option<u8>,
    /// Points per person below the ideal (the network's `ideal_headcount`
    /// weight when unset).
    #[serde(default)]
    pub under_weight: Option<f64>,
    /// Points per person above the ideal (none when unset).
    #[serde(default)]
    pub over_weight: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl DateOverride {
    pub fn applies(&self, date: NaiveDate, template: &TemplateId) -> bool {
        self.date == date && self.template.as_ref().is_none_or(|t| t == template)
    }

    /// The (min, ideal, max) this override gives a template's shift: unset
    /// numbers keep the template's, raised to stay in order (an ideal never
    /// below the new minimum, a maximum never below the new ideal).
    pub fn headcount(&self, h: crate::Headcount) -> (u8, u8, u8) {
        let min = self.min.unwrap_or(h.min);
        let ideal = self.ideal.unwrap_or_else(|| h.ideal.max(min));
        let max = self.max.unwrap_or_else(|| h.max.max(ideal));
        (min, ideal, max)
    }
}
