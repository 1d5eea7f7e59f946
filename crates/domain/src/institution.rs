//! Regions, municipalities and institutions.

use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{ClockTime, Email, InstitutionId, LatLon, MunicipalityId, ParseError, Phone, RegionId};

/// A closure the region adds to the national calendar, e.g. Obon 8/13–8/16.
/// Given as month-day ranges so that it recurs every year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionalClosure {
    pub name: String,
    /// (month, day), inclusive.
    pub from: (u32, u32),
    /// (month, day), inclusive; may be earlier than `from` to wrap the year end.
    pub to: (u32, u32),
}

impl RegionalClosure {
    pub fn new(name: String, from: (u32, u32), to: (u32, u32)) -> Result<Self, ParseError> {
        for (m, d) in [from, to] {
            if chrono::NaiveDate::from_ymd_opt(2024, m, d).is_none() {
                return Err(ParseError::new(
                    format!("{m:02}-{d:02} is not a month and day"),
                    format!("{m:02}-{d:02} は月日ではありません"),
                ));
            }
        }
        Ok(Self { name, from, to })
    }

    pub fn contains(&self, month: u32, day: u32) -> bool {
        let k = (month, day);
        if self.from <= self.to {
            self.from <= k && k <= self.to
        } else {
            k >= self.from || k <= self.to
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub id: RegionId,
    pub name: String,
    pub name_en: Option<String>,
    pub time_zone: Tz,
    pub closures: Vec<RegionalClosure>,
    /// The month (1–12) the overtime year starts in for the annual cap
    /// (rule 5): many 36協定 years start in April. January by default.
    #[serde(default = "january")]
    pub overtime_year_starts: u32,
    /// The number patients are told to call for a slot nobody holds yet
    /// (未定), unless its service names its own: the network office, say.
    #[serde(default)]
    pub fallback_phone: Option<crate::Phone>,
}

fn january() -> u32 {
    1
}

impl Region {
    /// The first month of the overtime year that `month` belongs to.
    pub fn overtime_year_of(&self, month: crate::Month) -> crate::Month {
        let start = self.overtime_year_starts.clamp(1, 12);
        let year = if month.month >= start {
            month.year
        } else {
            month.year - 1
        };
        crate::Month::new(year, start).unwrap_or(month)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Municipality {
    pub id: MunicipalityId,
    pub name: String,
    pub name_en: Option<String>,
    pub location: Option<LatLon>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    Hospital,
    Clinic,
    /// へき地診療所
    RuralClinic,
    DentalClinic,
    Pharmacy,
    VisitingNurseStation,
    CareFacility,
    /// 社会福祉協議会
    WelfareCouncil,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 8] = [
        Self::Hospital,
        Self::Clinic,
        Self::RuralClinic,
        Self::DentalClinic,
        Self::Pharmacy,
        Self::VisitingNurseStation,
        Self::CareFacility,
        Self::WelfareCouncil,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::Clinic => "clinic",
            Self::RuralClinic => "rural_clinic",
            Self::DentalClinic => "dental_clinic",
            Self::Pharmacy => "pharmacy",
            Self::VisitingNurseStation => "visiting_nurse_station",
            Self::CareFacility => "care_facility",
            Self::WelfareCouncil => "welfare_council",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Hospital => "病院",
            Self::Clinic => "診療所",
            Self::RuralClinic => "へき地診療所",
            Self::DentalClinic => "歯科診療所",
            Self::Pharmacy => "保険薬局",
            Self::VisitingNurseStation => "訪問看護ステーション",
            Self::CareFacility => "介護施設",
            Self::WelfareCouncil => "社会福祉協議会",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                ParseError::new(
                    format!("\"{s}\" is not an institution kind ({})", all.join(", ")),
                    format!("「{s}」は施設の種類ではありません（{}）", all.join(", ")),
                )
            })
    }
}

impl fmt::Display for InstitutionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Days an opening-hours line applies to. `holiday` covers Sundays, national
/// holidays and regional closures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenDay {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Holiday,
}

impl OpenDay {
    pub const ALL: [OpenDay; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Holiday,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Holiday => "holiday",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(
                    format!("\"{s}\" is not a day (mon, tue, wed, thu, fri, sat, holiday)"),
                    format!("「{s}」は曜日ではありません（mon, tue, wed, thu, fri, sat, holiday）"),
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    pub days: Vec<OpenDay>,
    pub open: ClockTime,
    pub close: ClockTime,
}

impl OpeningHours {
    pub fn new(days: Vec<OpenDay>, open: ClockTime, close: ClockTime) -> Result<Self, ParseError> {
        if close <= open {
            return Err(ParseError::new(
                format!("closes at {close}, not after it opens at {open}"),
                format!("終了 {close} が開始 {open} より後ではありません"),
            ));
        }
        if days.is_empty() {
            return Err(ParseError::new(
                "an opening-hours line needs at least one day",
                "診療時間の行には曜日が一つ以上必要です",
            ));
        }
        Ok(Self { days, open, close })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Institution {
    pub id: InstitutionId,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: InstitutionKind,
    pub municipality: MunicipalityId,
    pub location: Option<LatLon>,
    pub address: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    /// Regular opening hours; outside them the institution is closed. An
    /// empty list means "no regular hours recorded".
    pub hours: Vec<OpeningHours>,
    /// 後方支援病院: takes home-care patients in and runs backup night duty.
    pub backup_hospital: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obon_and_wrapping_closures() {
        let obon = RegionalClosure::new("お盆".into(), (8, 13), (8, 16)).unwrap();
        assert!(obon.contains(8, 13) && obon.contains(8, 16) && !obon.contains(8, 17));
        let wrap = RegionalClosure::new("x".into(), (12, 30), (1, 2)).unwrap();
        assert!(wrap.contains(12, 31) && wrap.contains(1, 1) && !wrap.contains(1, 3));
        assert!(RegionalClosure::new("bad".into(), (2, 30), (3, 1)).is_err());
    }

    #[test]
    fn hours_must_close_after_opening() {
        let t = |s| ClockTime::parse(s).unwrap();
        assert!(OpeningHours::new(vec![OpenDay::Mon], t("17:00"), t("08:30")).is_err());
        assert!(OpeningHours::new(vec![], t("08:30"), t("17:00")).is_err());
    }
}
