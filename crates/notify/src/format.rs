//! How dates and times read in messages: `1月10日(日)` / `Sun 10 Jan`, and
//! shifts past midnight as `17:00–翌09:00` / `17:00–09:00 (+1 day)`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use touban_domain::Month;

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

pub fn date_ja(d: NaiveDate) -> String {
    format!(
        "{}月{}日({})",
        d.month(),
        d.day(),
        WEEKDAYS_JA[d.weekday().num_days_from_monday() as usize]
    )
}

pub fn date_en(d: NaiveDate) -> String {
    d.format("%a %-d %b").to_string()
}

/// `09:00–17:00`, or `17:00–翌09:00` / `17:00–09:00 (+1 day)` past midnight.
pub fn times(start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> (String, String) {
    let days = (end.date_naive() - start.date_naive()).num_days();
    let s = start.format("%H:%M");
    let e = end.format("%H:%M");
    match days {
        0 => (format!("{s}–{e}"), format!("{s}–{e}")),
        1 => (format!("{s}–翌{e}"), format!("{s}–{e} (+1 day)")),
        n => (format!("{s}–{}日後{e}", n), format!("{s}–{e} (+{n} days)")),
    }
}

pub fn when(start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> (String, String) {
    let (tj, te) = times(start, end);
    (
        format!("{} {tj}", date_ja(start.date_naive())),
        format!("{} {te}", date_en(start.date_naive())),
    )
}

pub fn month_ja(m: Month) -> String {
    format!("{}年{}月", m.year, m.month)
}

pub fn month_en(m: Month) -> String {
    m.first_day().format("%B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_and_english_dates_and_night_shifts() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
        assert_eq!(date_ja(d), "1月10日(日)");
        assert_eq!(date_en(d), "Sun 10 Jan");
        let s = DateTime::parse_from_rfc3339("2027-01-10T17:00:00+09:00").unwrap();
        let e = DateTime::parse_from_rfc3339("2027-01-11T09:00:00+09:00").unwrap();
        assert_eq!(
            times(s, e),
            ("17:00–翌09:00".into(), "17:00–09:00 (+1 day)".into())
        );
        assert_eq!(month_ja(Month::new(2027, 1).unwrap()), "2027年1月");
        assert_eq!(month_en(Month::new(2027, 1).unwrap()), "January 2027");
    }
}
