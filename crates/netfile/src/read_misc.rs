//! Reading attending pairs, absences, requests and network settings.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::{Table, Value};
use touban_domain::{
    Absence, AbsenceKind, AttendingPair, ParseError, Policy, Request, RequestKind, ServiceId,
    SoftWeights, StaffId, TravelModel,
};

use crate::fields::{Ctx, Entry};
use crate::problem::msg;
use crate::read_org::at;

/// A point in time as written in the file: a date alone, a local date-time
/// (in the region's zone) or a date-time with an offset.
#[derive(Debug, Clone, Copy)]
pub enum When {
    Date(NaiveDate),
    Local(NaiveDateTime),
    Exact(DateTime<FixedOffset>),
}

pub fn parse_when(s: &str) -> Result<When, ParseError> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Date(d));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(When::Exact(t));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(When::Local(t));
        }
    }
    Err(ParseError::new(
        format!(
            "\"{s}\" is not a date or time (expected 2027-01-10, 2027-01-10T08:30 or 2027-01-10T08:30:00+09:00)"
        ),
        format!(
            "「{s}」は日付・日時ではありません（例：2027-01-10、2027-01-10T08:30、2027-01-10T08:30:00+09:00）"
        ),
    ))
}

fn when_value(e: &mut Entry<'_>, ctx: &mut Ctx<'_>, key: &str) -> Option<When> {
    let v = e.opt_value(key);
    let s = match v {
        None => {
            e.report(
                ctx,
                None,
                msg(
                    format!("`{key}` is missing"),
                    format!("`{key}` がありません"),
                ),
            );
            return None;
        }
        Some(Value::Datetime(dt)) => dt.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            e.report(
                ctx,
                Some(key),
                msg(
                    "expected a date such as 2027-01-10",
                    "日付を書いてください（例：2027-01-10）",
                ),
            );
            return None;
        }
    };
    e.check(ctx, key, parse_when(&s))
}

fn local(tz: Tz, t: NaiveDateTime) -> DateTime<FixedOffset> {
    touban_calendar::Calendar::new(tz, Vec::new()).instant(t)
}

/// Start of an interval: a date means its midnight.
pub fn start_instant(tz: Tz, w: When) -> DateTime<FixedOffset> {
    match w {
        When::Date(d) => local(tz, d.and_hms_opt(0, 0, 0).expect("midnight")),
        When::Local(t) => local(tz, t),
        When::Exact(t) => t,
    }
}

/// End of an interval: a date is inclusive, so it means the next midnight.
pub fn end_instant(tz: Tz, w: When) -> DateTime<FixedOffset> {
    match w {
        When::Date(d) => local(
            tz,
            (d + Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .expect("midnight"),
        ),
        When::Local(t) => local(tz, t),
        When::Exact(t) => t,
    }
}

pub fn read_pair(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<AttendingPair> {
    let mut e = Entry::new(
        t,
        at("attending_pairs", i),
        format!("attending_pairs[{}]", i + 1),
    );
    let primary = e.req(ctx, "primary", StaffId::parse);
    let backup = e.req(ctx, "backup", StaffId::parse);
    let note = e.opt_str(ctx, "note");
    e.finish(ctx);
    let (primary, backup) = (primary?, backup?);
    if primary == backup {
        e.report(
            ctx,
            Some("backup"),
            msg(
                format!("\"{backup}\" cannot be their own backup"),
                format!("「{backup}」を自分自身の副主治医にはできません"),
            ),
        );
        return None;
    }
    Some(AttendingPair {
        primary,
        backup,
        note,
    })
}

pub fn read_absence(ctx: &mut Ctx<'_>, tz: Tz, i: usize, t: &Table) -> Option<Absence> {
    let mut e = Entry::new(t, at("absences", i), format!("absences[{}]", i + 1));
    let staff = e.req(ctx, "staff", StaffId::parse);
    let from = when_value(&mut e, ctx, "from");
    let to = when_value(&mut e, ctx, "to");
    let kind = e
        .opt(ctx, "kind", AbsenceKind::parse)
        .unwrap_or(AbsenceKind::Leave);
    let reason = e.opt_str(ctx, "reason");
    // Name the entry as people know it: whose absence, from when to when.
    let written = |w: &When| match w {
        When::Date(d) => d.to_string(),
        When::Local(t) => t.format("%Y-%m-%dT%H:%M").to_string(),
        When::Exact(t) => t.to_rfc3339(),
    };
    if let (Some(s), Some(f), Some(t)) = (&staff, &from, &to) {
        e.name = format!("absence of \"{s}\" from {} to {}", written(f), written(t));
    }
    e.finish(ctx);
    let (from, to) = (from?, to?);
    let (start, end) = (start_instant(tz, from), end_instant(tz, to));
    if end <= start {
        // Quote what was written: `to` is inclusive for dates, so the
        // instants would read a day later than the user's `to`.
        e.report(
            ctx,
            Some("to"),
            msg(
                format!(
                    "to = {} is before from = {}: an absence ends on or after the day it starts (`to` is the last day away)",
                    written(&to),
                    written(&from)
                ),
                format!(
                    "to = {} が from = {} より前です：不在は始まりの日かそれより後に終わります（`to` は不在の最終日）",
                    written(&to),
                    written(&from)
                ),
            ),
        );
        return None;
    }
    e.check(ctx, "to", Absence::new(staff?, start, end, kind, reason))
}

pub fn read_request(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<Request> {
    let mut e = Entry::new(t, at("requests", i), format!("requests[{}]", i + 1));
    let staff = e.req(ctx, "staff", StaffId::parse);
    let date = match when_value(&mut e, ctx, "date") {
        Some(When::Date(d)) => Some(d),
        Some(_) => {
            e.report(
                ctx,
                Some("date"),
                msg(
                    "a request is for a whole date, e.g. 2027-01-10",
                    "希望は日付単位です（例：2027-01-10）",
                ),
            );
            None
        }
        None => None,
    };
    let kind = e.req(ctx, "kind", |s| match s {
        "on" => Ok(RequestKind::On),
        "off" => Ok(RequestKind::Off),
        _ => Err(ParseError::new(
            format!("\"{s}\" is not a request kind (on, off)"),
            format!("「{s}」は希望の種類ではありません（on, off）"),
        )),
    });
    let service = e.opt(ctx, "service", ServiceId::parse);
    let weight = match e.opt_int(ctx, "weight") {
        Some(w) => e.check(ctx, "weight", Request::check_weight(w)),
        None => Some(5),
    };
    e.finish(ctx);
    Some(Request {
        staff: staff?,
        date: date?,
        kind: kind?,
        service,
        weight: weight?,
    })
}

/// `[weights]`, `[policy]` and `[travel]`: plain settings read with serde,
/// whose error names the field.
pub fn read_settings<T: for<'de> Deserialize<'de> + Default>(
    ctx: &mut Ctx<'_>,
    root: &Table,
    key: &'static str,
) -> T {
    let Some(v) = root.get(key) else {
        return T::default();
    };
    match v.clone().try_into::<T>() {
        Ok(t) => t,
        Err(err) => {
            let text = err.to_string().replace('\n', " ").trim().to_string();
            let ja = format!("[{key}] の書き方が違います：{text}");
            ctx.report(&at(key, 0), &format!("[{key}]"), None, msg(text, ja));
            T::default()
        }
    }
}

pub fn read_weights(ctx: &mut Ctx<'_>, root: &Table) -> SoftWeights {
    let w: SoftWeights = read_settings(ctx, root, "weights");
    let fields = [
        ("ideal_headcount", w.ideal_headcount),
        ("fairness_nights", w.fairness_nights),
        ("fairness_holidays", w.fairness_holidays),
        ("fairness_year_end", w.fairness_year_end),
        ("fairness_shifts", w.fairness_shifts),
        ("requests", w.requests),
        ("distance", w.distance),
        ("backup_hospital_limits", w.backup_hospital_limits),
        ("max_nights", w.max_nights),
        ("stability", w.stability),
    ];
    for (name, v) in fields {
        if !(0.0..=10_000.0).contains(&v) {
            ctx.report(
                &at("weights", 0),
                "[weights]",
                Some(name),
                msg(
                    format!("weight {v} must be between 0 and 10000"),
                    format!("重み {v} は 0〜10000 にしてください"),
                ),
            );
        }
    }
    w
}

pub fn read_policy(ctx: &mut Ctx<'_>, root: &Table) -> Policy {
    let mut p: Policy = read_settings(ctx, root, "policy");
    if p.requests_close_day.is_some_and(|d| !(1..=31).contains(&d)) {
        ctx.report(
            &at("policy", 0),
            "[policy]",
            Some("requests_close_day"),
            msg(
                "must be a day of the month, 1 to 31",
                "月の日（1〜31）にしてください",
            ),
        );
        p.requests_close_day = None;
    }
    p
}

pub fn read_travel(ctx: &mut Ctx<'_>, root: &Table) -> TravelModel {
    let t: TravelModel = read_settings(ctx, root, "travel");
    if t.speed_kmh <= 0.0 || t.road_factor < 1.0 {
        ctx.report(
            &at("travel", 0),
            "[travel]",
            None,
            msg(
                "speed_kmh must be positive and road_factor at least 1",
                "speed_kmh は正の数、road_factor は 1 以上にしてください",
            ),
        );
        return TravelModel::default();
    }
    t
}
