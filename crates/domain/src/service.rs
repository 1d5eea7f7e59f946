//! Coverage services and their shift templates.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{
    ClockTime, DayClass, InstitutionId, MunicipalityId, ParseError, Profession, ServiceId, Skill,
    TemplateId, band_minutes,
};

/// On-site duty (当直: the person stays at the institution) or on call from home
/// (オンコール・宅直: reachable by phone, travels when called).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    OnSite,
    OnCall,
}

/// Whose number patients are given for a service's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientContact {
    /// The person on duty and their phone (home-care on call).
    Person,
    /// The institution where the duty is done: the service's host, else the
    /// person's home institution (a holiday duty clinic, a pharmacy on
    /// call), with its address and phone, not a personal mobile.
    Institution,
}

impl PatientContact {
    pub fn parse(s: &str) -> Result<Self, crate::ParseError> {
        match s {
            "person" => Ok(Self::Person),
            "institution" => Ok(Self::Institution),
            _ => Err(crate::ParseError::new(
                format!("\"{s}\" is not a patient contact (person, institution)"),
                format!("「{s}」は患者さんの連絡先ではありません（person, institution）"),
            )),
        }
    }
}

/// Whether duty time counts as working time (rule 5) or falls under a
/// 宿日直許可 (duty permit), in which case it is not counted and the long
/// rest after non-permitted night duty (rule 4) does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyKind {
    CountsAsWork,
    PermittedDuty,
}

/// How many people a shift needs: at least `min`, ideally `ideal`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headcount {
    pub min: u8,
    pub ideal: u8,
    pub max: u8,
}

impl Headcount {
    pub fn new(min: u8, ideal: u8, max: u8) -> Result<Self, ParseError> {
        if !(min <= ideal && ideal <= max) {
            return Err(ParseError::new(
                format!(
                    "headcount must satisfy min ≤ ideal ≤ max, got min {min}, ideal {ideal}, max {max}"
                ),
                format!(
                    "人数は 最少 ≤ 理想 ≤ 最多 にしてください（最少 {min}、理想 {ideal}、最多 {max}）"
                ),
            ));
        }
        if max == 0 {
            return Err(ParseError::new(
                "headcount max is 0: a shift nobody may take",
                "最多人数が 0 です：誰も入れない枠になります",
            ));
        }
        Ok(Self { min, ideal, max })
    }
}

/// A named time window by day class, e.g. "weekday night 17:30–08:30 (next day)".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftTemplate {
    pub id: TemplateId,
    pub name: String,
    pub name_en: Option<String>,
    pub day_classes: BTreeSet<DayClass>,
    pub start: ClockTime,
    pub end: ClockTime,
    /// 0: ends the same day; 1: ends the next day (crosses midnight).
    pub end_day: u8,
    pub headcount: Headcount,
}

impl ShiftTemplate {
    /// Checks the window: a template that ends before it starts, or runs over
    /// 24 h, is refused with a message that says how to write it.
    pub fn check_window(start: ClockTime, end: ClockTime, end_day: u8) -> Result<(), ParseError> {
        match end_day {
            0 if end <= start => Err(ParseError::new(
                format!(
                    "ends at {end}, not after it starts at {start}; if it runs past midnight set end_day = 1"
                ),
                format!(
                    "終了 {end} が開始 {start} より後ではありません：日付をまたぐなら end_day = 1 にしてください"
                ),
            )),
            1 if end > start => Err(ParseError::new(
                format!("runs from {start} to {end} the next day, which is longer than 24 hours"),
                format!("{start} から翌日 {end} までで、24 時間を超えます"),
            )),
            0 | 1 => Ok(()),
            n => Err(ParseError::new(
                format!("end_day is {n}; it must be 0 (same day) or 1 (next day)"),
                format!("end_day が {n} です：0（同じ日）か 1（翌日）にしてください"),
            )),
        }
    }

    /// Wall-clock start and end in minutes from the start day's midnight.
    pub fn window_minutes(&self) -> (u32, u32) {
        let s = u32::from(self.start.minutes());
        let e = u32::from(self.end.minutes()) + 1440 * u32::from(self.end_day);
        (s, e)
    }

    pub fn nominal_minutes(&self) -> u32 {
        let (s, e) = self.window_minutes();
        e - s
    }

    /// A night duty: at least three hours in the 深夜 band (22–06).
    pub fn is_night(&self) -> bool {
        let (s, e) = self.window_minutes();
        band_minutes(s, e)[2] >= 180
    }

    pub fn applies_to(&self, class: DayClass) -> bool {
        self.day_classes.contains(&class)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageService {
    pub id: ServiceId,
    pub name: String,
    pub name_en: Option<String>,
    pub profession: Profession,
    pub skills: BTreeSet<Skill>,
    /// Municipalities the service covers.
    pub area: BTreeSet<MunicipalityId>,
    /// Institutions whose staff may take this duty. Empty: anyone whose home
    /// or other institution lies in the area.
    pub institutions: BTreeSet<InstitutionId>,
    /// The institution where on-site duty is done (e.g. the backup hospital).
    pub host: Option<InstitutionId>,
    pub mode: ServiceMode,
    pub duty: DutyKind,
    /// 24/365: no minute of any day may be left uncovered.
    pub continuous: bool,
    /// Soft distance rule: the responder's base within this many minutes' drive.
    pub max_travel_minutes: Option<u32>,
    pub templates: Vec<ShiftTemplate>,
    /// The number patients are told to call for a slot nobody holds yet
    /// (未定); the region's fallback when absent.
    #[serde(default)]
    pub fallback_phone: Option<crate::Phone>,
    /// Whose number patients are given; `None`: the default by mode (see
    /// [`CoverageService::patient_contact`]).
    #[serde(default)]
    pub patient_contact: Option<PatientContact>,
    /// Headcounts for particular dates (a festival, an exam day).
    #[serde(default)]
    pub overrides: Vec<crate::DateOverride>,
}

/// A stretch of a day left uncovered by a continuous service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageGap {
    pub previous_day: DayClass,
    pub day: DayClass,
    pub from_minute: u32,
    pub to_minute: u32,
}

impl std::fmt::Display for CoverageGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(
            f,
            "{}–{} is not covered on a {} that follows a {}",
            hm(self.from_minute),
            hm(self.to_minute),
            self.day,
            self.previous_day
        )
    }
}

impl CoverageGap {
    /// The gap said in Japanese.
    pub fn to_string_ja(&self) -> String {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        format!(
            "{}の翌日の{}、{}〜{} が空いています",
            self.previous_day.label_ja(),
            self.day.label_ja(),
            hm(self.from_minute),
            hm(self.to_minute)
        )
    }
}

impl CoverageService {
    /// Whose number patients get: as the network file says, else the
    /// institution for duty done at one (on site, or a pharmacy's), the
    /// person for on call from home.
    pub fn patient_contact(&self) -> PatientContact {
        self.patient_contact.unwrap_or(
            if self.mode == ServiceMode::OnSite || self.profession == Profession::Pharmacist {
                PatientContact::Institution
            } else {
                PatientContact::Person
            },
        )
    }

    pub fn template(&self, id: &TemplateId) -> Option<&ShiftTemplate> {
        self.templates.iter().find(|t| &t.id == id)
    }

    /// For a continuous (24/365) service, the gaps its templates leave. A day's
    /// minutes are covered by that day's templates and by overnight templates
    /// of the day before, whose class may be any class, so every pair of
    /// classes is checked. Templates with `min = 0` do not count as cover.
    pub fn coverage_gaps(&self) -> Vec<CoverageGap> {
        let mut gaps = Vec::new();
        for prev in DayClass::ALL {
            for day in DayClass::ALL {
                let mut covered = vec![false; 1440];
                for t in self.templates.iter().filter(|t| t.headcount.min > 0) {
                    let (s, e) = t.window_minutes();
                    if t.applies_to(day) {
                        for m in s..e.min(1440) {
                            covered[m as usize] = true;
                        }
                    }
                    if t.applies_to(prev) && e > 1440 {
                        for m in 0..(e - 1440) {
                            covered[m as usize] = true;
                        }
                    }
                }
                let mut m = 0;
                while m < 1440 {
                    if covered[m as usize] {
                        m += 1;
                        continue;
                    }
                    let from = m;
                    while m < 1440 && !covered[m as usize] {
                        m += 1;
                    }
                    gaps.push(CoverageGap {
                        previous_day: prev,
                        day,
                        from_minute: from,
                        to_minute: m,
                    });
                }
            }
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, classes: &[DayClass], start: &str, end: &str, end_day: u8) -> ShiftTemplate {
        ShiftTemplate {
            id: TemplateId::parse(id).unwrap(),
            name: id.into(),
            name_en: None,
            day_classes: classes.iter().copied().collect(),
            start: ClockTime::parse(start).unwrap(),
            end: ClockTime::parse(end).unwrap(),
            end_day,
            headcount: Headcount::new(1, 1, 1).unwrap(),
        }
    }

    fn service(templates: Vec<ShiftTemplate>) -> CoverageService {
        CoverageService {
            id: ServiceId::parse("s").unwrap(),
            name: "s".into(),
            name_en: None,
            profession: Profession::Physician,
            skills: BTreeSet::new(),
            area: BTreeSet::new(),
            institutions: BTreeSet::new(),
            host: None,
            mode: ServiceMode::OnCall,
            duty: DutyKind::CountsAsWork,
            continuous: true,
            max_travel_minutes: None,
            templates,
            fallback_phone: None,
            patient_contact: None,
            overrides: Vec::new(),
        }
    }

    #[test]
    fn window_checks() {
        let c = |s| ClockTime::parse(s).unwrap();
        assert!(ShiftTemplate::check_window(c("17:30"), c("08:30"), 0).is_err());
        assert!(ShiftTemplate::check_window(c("17:30"), c("08:30"), 1).is_ok());
        assert!(ShiftTemplate::check_window(c("08:30"), c("08:30"), 1).is_ok());
        assert!(ShiftTemplate::check_window(c("08:30"), c("09:30"), 1).is_err());
        assert!(ShiftTemplate::check_window(c("08:30"), c("09:30"), 2).is_err());
    }

    #[test]
    fn night_detection() {
        assert!(t("n", &[DayClass::Weekday], "17:30", "08:30", 1).is_night());
        assert!(!t("d", &[DayClass::Holiday], "08:30", "17:30", 0).is_night());
        assert!(t("h", &[DayClass::Holiday], "08:30", "08:30", 1).is_night());
    }

    #[test]
    fn day_and_night_templates_tile_every_day() {
        use DayClass::*;
        let s = service(vec![
            t("wd-day", &[Weekday, Saturday], "08:30", "17:30", 0),
            t(
                "night",
                &[Weekday, Saturday, Holiday, YearEnd],
                "17:30",
                "08:30",
                1,
            ),
            t("hol-day", &[Holiday, YearEnd], "08:30", "17:30", 0),
        ]);
        assert!(s.coverage_gaps().is_empty(), "{:?}", s.coverage_gaps());
    }

    #[test]
    fn missing_saturday_day_is_a_gap() {
        use DayClass::*;
        let s = service(vec![
            t("wd-day", &[Weekday], "08:30", "17:30", 0),
            t(
                "night",
                &[Weekday, Saturday, Holiday, YearEnd],
                "17:30",
                "08:30",
                1,
            ),
            t("hol-day", &[Holiday, YearEnd], "08:30", "17:30", 0),
        ]);
        let gaps = s.coverage_gaps();
        assert!(!gaps.is_empty());
        assert!(
            gaps.iter()
                .all(|g| g.day == Saturday && g.from_minute == 510 && g.to_minute == 1050)
        );
        assert_eq!(
            gaps[0].to_string(),
            "08:30–17:30 is not covered on a saturday that follows a weekday"
        );
    }
}
