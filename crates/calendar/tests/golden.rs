//! Every date of 2000–2060 against the golden list made by Python jpholiday
//! (`scripts/gen_holidays.py`).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use touban_calendar::{Calendar, is_year_end, national_holiday};
use touban_domain::DayClass;

fn golden() -> BTreeMap<NaiveDate, String> {
    include_str!("data/jpholiday_2000_2060.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (d, name) = l.split_once('\t').expect("tab-separated");
            (d.parse().expect("ISO date"), name.to_string())
        })
        .collect()
}

#[test]
fn national_holidays_match_jpholiday_for_every_date_2000_to_2060() {
    let golden = golden();
    assert!(golden.len() > 1000, "golden list looks truncated");
    let mut mismatches = Vec::new();
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    for date in start.iter_days().take_while(|d| d.year() <= 2060) {
        let ours = national_holiday(date);
        let theirs = golden.get(&date);
        if ours.is_some() != theirs.is_some() {
            mismatches.push(format!("{date}: yasumi {ours:?}, jpholiday {theirs:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn substitute_and_citizens_holidays_are_present() {
    let golden = golden();
    let subs = golden.values().filter(|n| n.contains("振替休日")).count();
    let citizens = golden.values().filter(|n| n.contains("国民の休日")).count();
    assert!(subs > 30 && citizens > 3, "{subs} {citizens}");
    for (d, name) in &golden {
        if name.contains("振替休日") || name.contains("国民の休日") {
            assert!(national_holiday(*d).is_some(), "{d} {name}");
        }
    }
}

/// What `touban calendar YEAR` must print for each date: year-end first,
/// then national holidays, then Sundays.
#[test]
fn day_classes_follow_jpholiday_plus_year_end_for_every_date() {
    let golden = golden();
    let cal = Calendar::japan();
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    for date in start.iter_days().take_while(|d| d.year() <= 2060) {
        let expected = if is_year_end(date) {
            DayClass::YearEnd
        } else if golden.contains_key(&date) || date.weekday() == Weekday::Sun {
            DayClass::Holiday
        } else if date.weekday() == Weekday::Sat {
            DayClass::Saturday
        } else {
            DayClass::Weekday
        };
        assert_eq!(cal.day_class(date), expected, "{date}");
        if let Some(name) = golden.get(&date) {
            assert_eq!(&cal.day_off(date).unwrap().name, name, "{date}");
        }
    }
}
