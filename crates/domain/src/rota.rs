//! Shifts, assignments and rota versions.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DayClass, ParseError, RegionId, ServiceId, StaffId, TemplateId};

/// One occurrence of a template: service × date × template, with its concrete
/// start and end instants (end exclusive) in the region's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shift {
    pub service: ServiceId,
    pub template: TemplateId,
    /// The date the shift starts on (local).
    pub date: NaiveDate,
    pub day_class: DayClass,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

impl Shift {
    pub fn key(&self) -> ShiftKey {
        ShiftKey {
            service: self.service.clone(),
            template: self.template.clone(),
            date: self.date,
        }
    }
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
    pub fn overlaps(&self, other: &Shift) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Identifies a shift within a rota.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ShiftKey {
    pub service: ServiceId,
    pub template: TemplateId,
    pub date: NaiveDate,
}

impl fmt::Display for ShiftKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.service, self.date, self.template)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Primary,
    Backup,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Backup => "backup",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "primary" => Ok(Self::Primary),
            "backup" => Ok(Self::Backup),
            _ => Err(ParseError::new(
                format!("\"{s}\" is not a role (primary, backup)"),
                format!("「{s}」は役割ではありません（primary, backup）"),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Assignment {
    pub shift: ShiftKey,
    pub staff: StaffId,
    pub role: Role,
}

/// A calendar month, the normal rota period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Result<Self, ParseError> {
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) {
            return Err(ParseError::new(
                format!("{year:04}-{month:02} is not a month"),
                format!("{year:04}-{month:02} は年月ではありません"),
            ));
        }
        Ok(Self { year, month })
    }
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = || {
            ParseError::new(
                format!("\"{s}\" is not a month (expected YYYY-MM, e.g. 2027-01)"),
                format!("「{s}」は年月ではありません（例：2027-01）"),
            )
        };
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(err());
        }
        Self::new(y.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?).map_err(|_| err())
    }
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated month")
    }
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        let first = self.first_day();
        let next = self.next().first_day();
        first.iter_days().take_while(move |d| *d < next)
    }
    /// The month a date is in.
    pub fn of(d: NaiveDate) -> Self {
        use chrono::Datelike;
        Self {
            year: d.year(),
            month: d.month(),
        }
    }
    pub fn contains(self, d: NaiveDate) -> bool {
        use chrono::Datelike;
        d.year() == self.year && d.month() == self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotaStatus {
    Draft,
    Published,
    /// An earlier published version replaced by a later one.
    Superseded,
}

impl RotaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Superseded => "superseded",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            "superseded" => Ok(Self::Superseded),
            _ => Err(ParseError::new(
                format!("\"{s}\" is not a rota status"),
                format!("「{s}」は当番表の状態ではありません"),
            )),
        }
    }
}

/// The assignments of one region for one month, as a numbered version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rota {
    pub region: RegionId,
    pub month: Month,
    pub version: u32,
    pub status: RotaStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub note: Option<String>,
    pub assignments: Vec<Assignment>,
}

/// A rota about to be stored; the store gives it its version number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRota {
    pub region: RegionId,
    pub month: Month,
    pub created_by: String,
    pub note: Option<String>,
    /// The version this one was derived from (repair, manual edit).
    pub based_on: Option<u32>,
    pub assignments: Vec<Assignment>,
    /// Hard-rule violations a coordinator accepted on record when making
    /// this version (a manual edit with an override reason); a publish does
    /// not refuse the version for these.
    #[serde(default)]
    pub overridden: Vec<String>,
}

/// One entry in a rota's change history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotaChange {
    pub region: RegionId,
    pub month: Month,
    pub version: u32,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let m = Month::parse("2027-01").unwrap();
        assert_eq!(m.days().count(), 31);
        assert_eq!(Month::parse("2028-02").unwrap().days().count(), 29);
        assert_eq!(m.prev().to_string(), "2026-12");
        assert_eq!(
            Month::parse("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        for bad in ["2027-13", "2027-1", "27-01", "2027/01", ""] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }
}
