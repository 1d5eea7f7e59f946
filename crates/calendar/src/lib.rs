//! The calendar: which days are holidays in Japan, how each date is classed
//! for duty, and where a shift template on a date lands in absolute time.
//!
//! National holidays (国民の祝日, with 振替休日 and 国民の休日) come from the
//! `yasumi` crate; its answers for 2000–2060 are checked date by date against a
//! golden list made with Python's `jpholiday` (see `tests/golden.rs`).
#![forbid(unsafe_code)]

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone,
    Weekday,
};
use chrono_tz::Tz;
use touban_domain::{
    CoverageService, DayClass, Month, Region, RegionalClosure, Shift, ShiftTemplate,
};

/// Why a date is not an ordinary working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayOff {
    pub date: NaiveDate,
    pub class: DayClass,
    /// Japanese name: the holiday's name, 日曜日, 年末年始休暇 or the closure's name.
    pub name: String,
}

/// A region's calendar: the national calendar plus the region's own closures,
/// in the region's time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    closures: Vec<RegionalClosure>,
}

/// The name of the national holiday on `date`, if it is one.
pub fn national_holiday(date: NaiveDate) -> Option<String> {
    yasumi::holiday_name(date)
}

/// 12/29–1/3, the year-end closure observed by Japanese institutions.
pub fn is_year_end(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (12, 29..=31) | (1, 1..=3))
}

impl Calendar {
    pub fn new(tz: Tz, closures: Vec<RegionalClosure>) -> Self {
        Self { tz, closures }
    }

    /// The national calendar alone, in Japan Standard Time.
    pub fn japan() -> Self {
        Self::new(chrono_tz::Asia::Tokyo, Vec::new())
    }

    pub fn for_region(region: &Region) -> Self {
        Self::new(region.time_zone, region.closures.clone())
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The day class of a date. Year-end wins over everything, then national
    /// holidays, Sundays and regional closures, then Saturday.
    pub fn day_class(&self, date: NaiveDate) -> DayClass {
        self.day_off(date).map_or_else(
            || {
                if date.weekday() == Weekday::Sat {
                    DayClass::Saturday
                } else {
                    DayClass::Weekday
                }
            },
            |d| d.class,
        )
    }

    /// Why `date` is a day off, or `None` for a working day (Saturdays are
    /// working days of their own class).
    pub fn day_off(&self, date: NaiveDate) -> Option<DayOff> {
        let holiday = national_holiday(date);
        if is_year_end(date) {
            let name = holiday.unwrap_or_else(|| "年末年始休暇".to_string());
            return Some(DayOff {
                date,
                class: DayClass::YearEnd,
                name,
            });
        }
        if let Some(name) = holiday {
            return Some(DayOff {
                date,
                class: DayClass::Holiday,
                name,
            });
        }
        if let Some(c) = self
            .closures
            .iter()
            .find(|c| c.contains(date.month(), date.day()))
        {
            return Some(DayOff {
                date,
                class: DayClass::Holiday,
                name: c.name.clone(),
            });
        }
        if date.weekday() == Weekday::Sun {
            return Some(DayOff {
                date,
                class: DayClass::Holiday,
                name: "日曜日".to_string(),
            });
        }
        None
    }

    /// Every day off in a year, in date order.
    pub fn days_off(&self, year: i32) -> Vec<DayOff> {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter_map(|d| self.day_off(d))
            .collect()
    }

    /// The instant a wall-clock time on a date happens in this zone. In a
    /// spring-forward gap the time does not exist: the first instant after the
    /// gap is used. In a fall-back overlap the earlier instant is used.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<FixedOffset> {
        let mut t = local;
        for _ in 0..(4 * 60) {
            match self.tz.from_local_datetime(&t) {
                LocalResult::Single(dt) => return dt.fixed_offset(),
                LocalResult::Ambiguous(early, _) => return early.fixed_offset(),
                LocalResult::None => t += Duration::minutes(1),
            }
        }
        // No zone has a gap of four hours; fall back to UTC rather than panic.
        self.tz.from_utc_datetime(&local).fixed_offset()
    }

    /// A template on a date as concrete start/end instants (end exclusive).
    /// The elapsed length may differ from the nominal one on DST change days.
    pub fn window(
        &self,
        date: NaiveDate,
        template: &ShiftTemplate,
    ) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        let start = date
            .and_hms_opt(template.start.hour(), template.start.minute(), 0)
            .expect("valid clock time");
        let end_date = date + Duration::days(i64::from(template.end_day));
        let end = end_date
            .and_hms_opt(template.end.hour(), template.end.minute(), 0)
            .expect("valid clock time");
        (self.instant(start), self.instant(end))
    }

    /// Every shift of a service that starts in `month`.
    pub fn shifts(&self, service: &CoverageService, month: Month) -> Vec<Shift> {
        let mut out = Vec::new();
        for date in month.days() {
            let class = self.day_class(date);
            for t in service.templates.iter().filter(|t| t.applies_to(class)) {
                let (start, end) = self.window(date, t);
                out.push(Shift {
                    service: service.id.clone(),
                    template: t.id.clone(),
                    date,
                    day_class: class,
                    start,
                    end,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touban_domain::{ClockTime, Headcount, TemplateId};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn template(start: &str, end: &str, end_day: u8) -> ShiftTemplate {
        ShiftTemplate {
            id: TemplateId::parse("t").unwrap(),
            name: "t".into(),
            name_en: None,
            day_classes: DayClass::ALL.into_iter().collect(),
            start: ClockTime::parse(start).unwrap(),
            end: ClockTime::parse(end).unwrap(),
            end_day,
            headcount: Headcount::new(1, 1, 1).unwrap(),
        }
    }

    #[test]
    fn classes() {
        let c = Calendar::japan();
        assert_eq!(c.day_class(d(2027, 1, 1)), DayClass::YearEnd);
        assert_eq!(c.day_class(d(2026, 12, 29)), DayClass::YearEnd);
        assert_eq!(c.day_class(d(2027, 1, 4)), DayClass::Weekday);
        assert_eq!(c.day_class(d(2027, 1, 9)), DayClass::Saturday);
        assert_eq!(c.day_class(d(2027, 1, 10)), DayClass::Holiday);
        assert_eq!(c.day_class(d(2027, 1, 11)), DayClass::Holiday); // 成人の日
        assert_eq!(c.day_class(d(2027, 3, 22)), DayClass::Holiday); // 振替休日
        // A national holiday on a Saturday is a holiday, not a Saturday.
        assert_eq!(c.day_class(d(2026, 10, 10)), DayClass::Saturday);
        assert_eq!(c.day_class(d(2027, 7, 17)), DayClass::Saturday);
        assert_eq!(c.day_class(d(2032, 7, 3)), DayClass::Saturday);
        assert_eq!(c.day_class(d(2026, 11, 3)), DayClass::Holiday);
        assert_eq!(c.day_off(d(2027, 1, 1)).unwrap().name, "元日");
        assert_eq!(c.day_off(d(2027, 12, 30)).unwrap().name, "年末年始休暇");
    }

    #[test]
    fn obon_closure_is_holiday() {
        let c = Calendar::new(
            chrono_tz::Asia::Tokyo,
            vec![RegionalClosure::new("お盆".into(), (8, 13), (8, 16)).unwrap()],
        );
        assert_eq!(c.day_class(d(2027, 8, 13)), DayClass::Holiday);
        assert_eq!(c.day_off(d(2027, 8, 16)).unwrap().name, "お盆");
        assert_eq!(c.day_class(d(2027, 8, 17)), DayClass::Weekday);
        assert_eq!(
            Calendar::japan().day_class(d(2027, 8, 13)),
            DayClass::Weekday
        );
    }

    #[test]
    fn night_crosses_midnight_in_tokyo() {
        let c = Calendar::japan();
        let (s, e) = c.window(d(2027, 1, 31), &template("17:30", "08:30", 1));
        assert_eq!(s.to_rfc3339(), "2027-01-31T17:30:00+09:00");
        assert_eq!(e.to_rfc3339(), "2027-02-01T08:30:00+09:00");
        assert_eq!((e - s).num_minutes(), 15 * 60);
    }

    #[test]
    fn dst_days_in_a_zone_that_has_them() {
        let c = Calendar::new(chrono_tz::America::New_York, Vec::new());
        // 2027-03-14: clocks jump 02:00 → 03:00. A 24 h template loses an hour.
        let (s, e) = c.window(d(2027, 3, 13), &template("08:30", "08:30", 1));
        assert_eq!(s.to_rfc3339(), "2027-03-13T08:30:00-05:00");
        assert_eq!(e.to_rfc3339(), "2027-03-14T08:30:00-04:00");
        assert_eq!((e - s).num_minutes(), 23 * 60);
        // A start inside the gap moves to the first real instant after it.
        let (s, _) = c.window(d(2027, 3, 14), &template("02:30", "06:00", 0));
        assert_eq!(s.to_rfc3339(), "2027-03-14T03:00:00-04:00");
        // 2027-11-07: clocks fall back; the night is an hour longer.
        let (s, e) = c.window(d(2027, 11, 6), &template("17:30", "08:30", 1));
        assert_eq!((e - s).num_minutes(), 16 * 60);
        // An ambiguous time takes the earlier instant.
        let (s, _) = c.window(d(2027, 11, 7), &template("01:30", "05:00", 0));
        assert_eq!(s.to_rfc3339(), "2027-11-07T01:30:00-04:00");
    }
}
