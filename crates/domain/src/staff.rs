//! Staff members and the labour rules that bind them.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Email, InstitutionId, LatLon, ParseError, Phone, Skill, StaffId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Physician,
    Dentist,
    Nurse,
    Pharmacist,
    CareWorker,
    Other,
}

impl Profession {
    pub const ALL: [Profession; 6] = [
        Self::Physician,
        Self::Dentist,
        Self::Nurse,
        Self::Pharmacist,
        Self::CareWorker,
        Self::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Physician => "physician",
            Self::Dentist => "dentist",
            Self::Nurse => "nurse",
            Self::Pharmacist => "pharmacist",
            Self::CareWorker => "care_worker",
            Self::Other => "other",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Physician => "医師",
            Self::Dentist => "歯科医師",
            Self::Nurse => "看護師",
            Self::Pharmacist => "薬剤師",
            Self::CareWorker => "介護職",
            Self::Other => "その他",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            ParseError::new(format!(
                "\"{s}\" is not a profession (physician, dentist, nurse, pharmacist, care_worker, other)"
            ), format!("「{s}」は職種ではありません（physician, dentist, nurse, pharmacist, care_worker, other）"))
        })
    }
}

impl fmt::Display for Profession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Labour regime of the 2024 physician work-style reform (医師の働き方改革).
/// Only physicians have A/B/連携B/C levels; other employees fall under the
/// general rules, which we model as level A's caps. A clinic owner is not an
/// employee (`not_employed`): no overtime cap applies, rest is still advised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabourRegime {
    A,
    B,
    /// 連携B水準: B-level hours reached only by adding up several employers.
    ConnectedB,
    C,
    NotEmployed,
}

impl LabourRegime {
    pub const ALL: [LabourRegime; 5] = [
        Self::A,
        Self::B,
        Self::ConnectedB,
        Self::C,
        Self::NotEmployed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "a",
            Self::B => "b",
            Self::ConnectedB => "connected_b",
            Self::C => "c",
            Self::NotEmployed => "not_employed",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "\"{s}\" is not a labour regime (a, b, connected_b, c, not_employed)"
                ), format!("「{s}」は時間外労働の水準ではありません（a, b, connected_b, c, not_employed）"))
            })
    }
    /// Rule 5: the annual overtime cap in hours, if any.
    pub fn annual_overtime_cap_hours(self) -> Option<u32> {
        match self {
            Self::A => Some(960),
            Self::B | Self::ConnectedB | Self::C => Some(1860),
            Self::NotEmployed => None,
        }
    }
    /// Rule 5: overtime in one month must stay below 100 h unless a
    /// face-to-face interview (面接指導) has been recorded.
    pub fn monthly_overtime_cap_hours(self) -> Option<u32> {
        match self {
            Self::NotEmployed => None,
            _ => Some(99),
        }
    }
    /// Rule 4: rest intervals are mandatory for B, 連携B and C.
    pub fn rest_mandatory(self) -> bool {
        matches!(self, Self::B | Self::ConnectedB | Self::C)
    }
}

/// Full-time equivalent, 0 < fte ≤ 1. Fairness targets scale with it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Fte(f64);

impl Fte {
    pub fn new(v: f64) -> Result<Self, ParseError> {
        if v.is_nan() || v <= 0.0 || v > 1.0 {
            return Err(ParseError::new(
                format!("FTE {v} must be greater than 0 and at most 1"),
                format!("常勤換算 {v} は 0 より大きく 1 以下にしてください"),
            ));
        }
        Ok(Self(v))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Fte {
    type Error = ParseError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}
impl From<Fte> for f64 {
    fn from(f: Fte) -> f64 {
        f.0
    }
}
impl Default for Fte {
    fn default() -> Self {
        Self(1.0)
    }
}

/// How the rest-interval rule (rule 4) applies to one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestPolicy {
    /// Enforced as a hard rule.
    Enforced,
    /// Not enforced (allowed only outside B/連携B/C).
    Off,
}

/// Labour settings of one staff member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labour {
    pub regime: LabourRegime,
    pub rest: RestPolicy,
    /// Hours already worked elsewhere this year (other employers, before Touban).
    #[serde(default)]
    pub hours_elsewhere_this_year: f64,
    /// Regular contracted hours per week, to tell overtime from ordinary work.
    pub contract_hours_per_week: f64,
    /// A 面接指導 is recorded: the < 100 h/month limit may be passed.
    #[serde(default)]
    pub interview_recorded: bool,
    /// Minimum days entirely free of duty in a month.
    pub min_days_off_per_month: u8,
    /// At most this many night duties a month (soft, "at most N nights").
    pub max_nights_per_month: Option<u8>,
}

impl Labour {
    /// The monthly cap that binds this person: none when their regime has
    /// none, or when a 面接指導 interview has been recorded (rule 5).
    pub fn monthly_cap_hours(&self) -> Option<u32> {
        if self.interview_recorded {
            None
        } else {
            self.regime.monthly_overtime_cap_hours()
        }
    }

    pub fn new(
        regime: LabourRegime,
        rest: RestPolicy,
        contract_hours_per_week: f64,
    ) -> Result<Self, ParseError> {
        if regime.rest_mandatory() && rest == RestPolicy::Off {
            return Err(ParseError::new(
                format!(
                    "rest intervals are mandatory for labour regime {} and cannot be switched off",
                    regime.as_str()
                ),
                format!(
                    "水準 {} では勤務間インターバルが義務で、外せません",
                    regime.as_str()
                ),
            ));
        }
        if !(0.0..=80.0).contains(&contract_hours_per_week) {
            return Err(ParseError::new(
                format!(
                    "contract hours {contract_hours_per_week} per week must be between 0 and 80"
                ),
                format!("週の契約時間 {contract_hours_per_week} は 0〜80 にしてください"),
            ));
        }
        Ok(Self {
            regime,
            rest,
            hours_elsewhere_this_year: 0.0,
            contract_hours_per_week,
            interview_recorded: false,
            min_days_off_per_month: 4,
            max_nights_per_month: None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: StaffId,
    /// Full name in Japanese, as printed for patients.
    pub name: String,
    /// Romanised name for the English parts of messages.
    pub name_en: Option<String>,
    pub profession: Profession,
    pub skills: BTreeSet<Skill>,
    pub home_institution: InstitutionId,
    /// Other institutions this person may work for (staff exchange, 人事交流).
    pub other_institutions: BTreeSet<InstitutionId>,
    pub email: Email,
    pub phone: Option<Phone>,
    pub fte: Fte,
    pub labour: Labour,
    /// Where the person starts from when called out; defaults to the home
    /// institution's location.
    pub base: Option<LatLon>,
    /// Whether the person wants a reminder the day before a duty.
    pub reminders: bool,
    /// Retired (退職) from this date on: no duty on or after it, offered no
    /// cover; kept in the network so that past rotas still name them.
    #[serde(default)]
    pub retired_from: Option<chrono::NaiveDate>,
}

impl StaffMember {
    pub fn has_skills(&self, needed: &BTreeSet<Skill>) -> bool {
        needed.is_subset(&self.skills)
    }
    pub fn may_work_for(&self, inst: &InstitutionId) -> bool {
        &self.home_institution == inst || self.other_institutions.contains(inst)
    }
    /// Whether the person has retired by `date` (a duty on it is not theirs).
    pub fn retired_on(&self, date: chrono::NaiveDate) -> bool {
        self.retired_from.is_some_and(|d| date >= d)
    }
    pub fn institutions(&self) -> impl Iterator<Item = &InstitutionId> {
        std::iter::once(&self.home_institution).chain(self.other_institutions.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_cannot_be_off_for_b() {
        assert!(Labour::new(LabourRegime::B, RestPolicy::Off, 40.0).is_err());
        assert!(Labour::new(LabourRegime::ConnectedB, RestPolicy::Off, 40.0).is_err());
        assert!(Labour::new(LabourRegime::A, RestPolicy::Off, 40.0).is_ok());
    }

    #[test]
    fn caps() {
        assert_eq!(LabourRegime::A.annual_overtime_cap_hours(), Some(960));
        assert_eq!(LabourRegime::C.annual_overtime_cap_hours(), Some(1860));
        assert_eq!(LabourRegime::NotEmployed.annual_overtime_cap_hours(), None);
    }

    #[test]
    fn fte_range() {
        assert!(Fte::new(0.0).is_err());
        assert!(Fte::new(1.2).is_err());
        assert!(Fte::new(0.5).is_ok());
    }
}
