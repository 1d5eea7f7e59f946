//! Absences, on/off requests, attending pairs and cover requests.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{InstitutionId, ParseError, Profession, ServiceId, Skill, StaffId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    Leave,
    Conference,
    Sickness,
    /// 急な不在: reported after the rota was published.
    Sudden,
    Other,
}

impl AbsenceKind {
    pub const ALL: [AbsenceKind; 5] = [
        Self::Leave,
        Self::Conference,
        Self::Sickness,
        Self::Sudden,
        Self::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::Conference => "conference",
            Self::Sickness => "sickness",
            Self::Sudden => "sudden",
            Self::Other => "other",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Leave => "休暇",
            Self::Conference => "学会・研修",
            Self::Sickness => "病気",
            Self::Sudden => "急な不在",
            Self::Other => "その他",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "\"{s}\" is not an absence kind (leave, conference, sickness, sudden, other)"
                ), format!("「{s}」は不在の種類ではありません（leave, conference, sickness, sudden, other）"))
            })
    }
}

/// A staff member unavailable over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub staff: StaffId,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub kind: AbsenceKind,
    pub reason: Option<String>,
}

impl Absence {
    pub fn new(
        staff: StaffId,
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
        kind: AbsenceKind,
        reason: Option<String>,
    ) -> Result<Self, ParseError> {
        if end <= start {
            return Err(ParseError::new(
                format!("absence ends at {end}, not after it starts at {start}"),
                format!("不在の終わり {end} が始まり {start} より後ではありません"),
            ));
        }
        check_sane(start, end, "absence")?;
        Ok(Self {
            staff,
            start,
            end,
            kind,
            reason,
        })
    }
    pub fn overlaps(&self, start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> bool {
        self.start < end && start < self.end
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Wants to work that day.
    On,
    /// Wants that day free.
    Off,
}

/// A wish to work or not work on a date, optionally for one service, with a
/// weight 1–10 (how much it matters to the person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub staff: StaffId,
    pub date: NaiveDate,
    pub kind: RequestKind,
    pub service: Option<ServiceId>,
    pub weight: u8,
}

impl Request {
    pub fn check_weight(w: i64) -> Result<u8, ParseError> {
        if (1..=10).contains(&w) {
            Ok(u8::try_from(w).expect("in range"))
        } else {
            Err(ParseError::new(
                format!("weight {w} must be between 1 and 10"),
                format!("重み {w} は 1〜10 にしてください"),
            ))
        }
    }
}

/// 主治医・副主治医: the backup covers the primary's home-care patients, so
/// the two must never be unavailable at the same time (rule 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendingPair {
    pub primary: StaffId,
    pub backup: StaffId,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferMode {
    /// Offer to all ranked candidates at once; the first acceptance wins.
    Broadcast,
    /// Offer to one candidate at a time, in rank order.
    OneByOne,
}

/// 代診・応援要請: an institution asks for a replacement over an interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverRequest {
    pub institution: InstitutionId,
    pub profession: Profession,
    pub skills: BTreeSet<Skill>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub note: Option<String>,
    pub mode: OfferMode,
}

impl CoverRequest {
    pub fn check_interval(
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
    ) -> Result<(), ParseError> {
        if end <= start {
            return Err(ParseError::new(
                format!("cover ends at {end}, not after it starts at {start}"),
                format!("応援の終わり {end} が始まり {start} より後ではありません"),
            ));
        }
        check_sane(start, end, "cover")
    }
}

/// The Japanese word for what `check_sane` checks.
fn what_ja(what: &str) -> &str {
    match what {
        "absence" => "不在",
        "cover" => "応援",
        other => other,
    }
}

/// The one range check of intervals people enter (absences from the CLI,
/// the API and the network file; cover requests): within 2000–2100, so
/// that every date prints as RFC 3339, and at most three years long.
pub fn check_sane(
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    what: &str,
) -> Result<(), ParseError> {
    use chrono::Datelike;
    for (t, edge) in [(start, "starts"), (end, "ends")] {
        if !(2000..=2100).contains(&t.year()) {
            return Err(ParseError::new(
                format!(
                    "{what} {edge} in the year {}: dates must lie between 2000 and 2100",
                    t.year()
                ),
                format!(
                    "{}の{}が {} 年です：日付は 2000〜2100 年にしてください",
                    what_ja(what),
                    if edge == "starts" {
                        "始まり"
                    } else {
                        "終わり"
                    },
                    t.year()
                ),
            ));
        }
    }
    if end - start > chrono::Duration::days(3 * 366) {
        return Err(ParseError::new(
            format!(
                "{what} from {} to {} is longer than three years: record a leave that long as leaving the network",
                start.date_naive(),
                end.date_naive()
            ),
            format!(
                "{}（{}〜{}）が3年を超えています：それほど長い休みは退職として記録してください",
                what_ja(what),
                start.date_naive(),
                end.date_naive()
            ),
        ));
    }
    Ok(())
}
