//! Clock times, day classes and time bands: the vocabulary of Japanese duty
//! rotas. Concrete instants are made by the calendar crate, which knows the
//! region's time zone and holidays.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ParseError;

/// A wall-clock time of day, `HH:MM`, 00:00–23:59.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn from_hm(h: u16, m: u16) -> Result<Self, ParseError> {
        if h > 23 || m > 59 {
            return Err(ParseError::new(
                format!("{h:02}:{m:02} is not a time of day"),
                format!("{h:02}:{m:02} は時刻ではありません"),
            ));
        }
        Ok(Self(h * 60 + m))
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = || {
            ParseError::new(
                format!("\"{s}\" is not a time of day (expected HH:MM, e.g. 08:30)"),
                format!("「{s}」は時刻ではありません（例：08:30）"),
            )
        };
        let (h, m) = s.trim().split_once(':').ok_or_else(err)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(err());
        }
        let h: u16 = h.parse().map_err(|_| err())?;
        let m: u16 = m.parse().map_err(|_| err())?;
        if h == 24 && m == 0 {
            return Err(ParseError::new(
                format!("\"{s}\": write midnight as 00:00 with `end_day = 1`"),
                format!("「{s}」：深夜0時は 00:00 と書き、`end_day = 1` にしてください"),
            ));
        }
        Self::from_hm(h, m)
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
    pub fn hour(self) -> u32 {
        u32::from(self.0 / 60)
    }
    pub fn minute(self) -> u32 {
        u32::from(self.0 % 60)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The class of a date for duty purposes. A template applies to some classes.
/// Year-end (12/29–1/3) is its own class because it is paid, counted and
/// shared out separately from ordinary holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayClass {
    Weekday,
    Saturday,
    /// Sunday, national holiday (incl. 振替休日, 国民の休日) or a regional closure.
    Holiday,
    /// The year-end closure 12/29–1/3.
    YearEnd,
}

impl DayClass {
    pub const ALL: [DayClass; 4] = [Self::Weekday, Self::Saturday, Self::Holiday, Self::YearEnd];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekday => "weekday",
            Self::Saturday => "saturday",
            Self::Holiday => "holiday",
            Self::YearEnd => "year_end",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(
                    format!("\"{s}\" is not a day class (weekday, saturday, holiday, year_end)"),
                    format!(
                        "「{s}」は日の区分ではありません（weekday, saturday, holiday, year_end）"
                    ),
                )
            })
    }

    /// Japanese label for printed rotas.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Weekday => "平日",
            Self::Saturday => "土曜",
            Self::Holiday => "休日",
            Self::YearEnd => "年末年始",
        }
    }

    /// Holidays and the year-end closure count as "holiday duty" for fairness.
    pub fn is_holiday_like(self) -> bool {
        matches!(self, Self::Holiday | Self::YearEnd)
    }
}

impl fmt::Display for DayClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Time bands of Japanese practice: 日中 06–18, 夜間 18–22, 深夜 22–06.
/// Night and late-night allowances are paid by band, and a shift touching
/// 深夜 counts as a night for fairness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBand {
    Daytime,
    Evening,
    LateNight,
}

impl TimeBand {
    /// The band a wall-clock minute of the day belongs to.
    pub fn of_minute(minute_of_day: u16) -> Self {
        match minute_of_day {
            360..1080 => Self::Daytime,
            1080..1320 => Self::Evening,
            _ => Self::LateNight,
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Daytime => "日中",
            Self::Evening => "夜間",
            Self::LateNight => "深夜",
        }
    }
}

/// Minutes of a wall-clock window in each band, `[daytime, evening, late_night]`.
/// `start` is minutes since midnight of day 0, `end` may run past 1440 (next day).
pub fn band_minutes(start: u32, end: u32) -> [u32; 3] {
    let mut out = [0u32; 3];
    // Walk boundary to boundary rather than minute by minute.
    let bounds = [0u32, 360, 1080, 1320, 1440];
    let mut t = start;
    while t < end {
        let day_off = t - t % 1440;
        let m = t % 1440;
        let next_bound = bounds.iter().copied().find(|b| *b > m).unwrap_or(1440) + day_off;
        let stop = next_bound.min(end);
        let band = TimeBand::of_minute(u16::try_from(m).unwrap_or(0));
        let idx = match band {
            TimeBand::Daytime => 0,
            TimeBand::Evening => 1,
            TimeBand::LateNight => 2,
        };
        out[idx] += stop - t;
        t = stop;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clock_parse() {
        assert_eq!(ClockTime::parse("08:30").unwrap().minutes(), 510);
        assert_eq!(ClockTime::parse("8:30").unwrap().to_string(), "08:30");
        for bad in ["24:00", "08:60", "0830", "8", "aa:bb", "08:3"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bands() {
        assert_eq!(TimeBand::of_minute(17 * 60 + 59), TimeBand::Daytime);
        assert_eq!(TimeBand::of_minute(18 * 60), TimeBand::Evening);
        assert_eq!(TimeBand::of_minute(22 * 60), TimeBand::LateNight);
        assert_eq!(TimeBand::of_minute(5 * 60 + 59), TimeBand::LateNight);
        // 17:30 → 08:30 next day.
        assert_eq!(band_minutes(1050, 1440 + 510), [30 + 150, 240, 480]);
        // 24 h from 08:30.
        assert_eq!(band_minutes(510, 1440 + 510), [720, 240, 480]);
    }

    proptest! {
        #[test]
        fn band_minutes_sum_to_length(start in 0u32..1440, len in 0u32..2880) {
            let b = band_minutes(start, start + len);
            prop_assert_eq!(b[0] + b[1] + b[2], len);
        }
        #[test]
        fn clock_round_trip(h in 0u16..24, m in 0u16..60) {
            let c = ClockTime::from_hm(h, m).unwrap();
            prop_assert_eq!(ClockTime::parse(&c.to_string()).unwrap(), c);
        }
    }
}
