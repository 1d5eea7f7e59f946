//! Reading staff members.

use toml::Table;
use touban_domain::{
    Email, Fte, InstitutionId, Labour, LabourRegime, ParseError, Phone, Profession, RestPolicy,
    Skill, StaffId, StaffMember,
};

use crate::fields::{Ctx, Entry};
use crate::problem::msg;
use crate::read_org::{at, read_location};

fn rest_policy(s: &str) -> Result<RestPolicy, ParseError> {
    match s {
        "enforced" => Ok(RestPolicy::Enforced),
        "off" => Ok(RestPolicy::Off),
        _ => Err(ParseError::new(
            format!("\"{s}\" is not a rest policy (enforced, off)"),
            format!("「{s}」は休息の扱いではありません（enforced, off）"),
        )),
    }
}

/// `retired_from`: a date (bare TOML date or a string), the first day the
/// person no longer works.
fn retired_from(ctx: &mut Ctx<'_>, e: &mut Entry<'_>) -> Option<chrono::NaiveDate> {
    let text = match e.opt_value("retired_from")? {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => {
            e.report(
                ctx,
                Some("retired_from"),
                msg(
                    "expected a date such as 2027-04-01",
                    "日付を書いてください（例：2027-04-01）",
                ),
            );
            return None;
        }
    };
    let parsed = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        ParseError::new(
            format!("\"{text}\" is not a date (expected 2027-04-01)"),
            format!("「{text}」は日付ではありません（例：2027-04-01）"),
        )
    });
    e.check(ctx, "retired_from", parsed)
}

pub fn read_staff(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<StaffMember> {
    let mut e = Entry::new(t, at("staff", i), format!("staff[{}]", i + 1));
    let id = e.id(ctx, "staff", StaffId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let profession = e.req(ctx, "profession", Profession::parse);
    let skills = e
        .str_list(ctx, "skills", Skill::parse)
        .into_iter()
        .collect();
    let home = e.req(ctx, "institution", InstitutionId::parse);
    let others = e
        .str_list(ctx, "also_at", InstitutionId::parse)
        .into_iter()
        .collect();
    let email = e.req(ctx, "email", Email::parse);
    let phone = e.opt(ctx, "phone", Phone::parse);
    let fte = match e.opt_float(ctx, "fte") {
        Some(v) => e.check(ctx, "fte", Fte::new(v)),
        None => Some(Fte::default()),
    };
    let regime = e
        .opt(ctx, "regime", LabourRegime::parse)
        .unwrap_or(LabourRegime::A);
    let rest = e
        .opt(ctx, "rest", rest_policy)
        .unwrap_or(RestPolicy::Enforced);
    let contract = e
        .opt_float(ctx, "contract_hours_per_week")
        .unwrap_or_else(|| 40.0 * fte.map_or(1.0, Fte::get));
    let labour = e.check(ctx, "rest", Labour::new(regime, rest, contract));
    let elsewhere = e.opt_float(ctx, "hours_elsewhere_this_year");
    if elsewhere.is_some_and(|h| !(0.0..=4000.0).contains(&h)) {
        e.report(
            ctx,
            Some("hours_elsewhere_this_year"),
            msg(
                "must be between 0 and 4000 hours",
                "0〜4000 時間にしてください",
            ),
        );
    }
    let interview = e.opt_bool(ctx, "interview_recorded").unwrap_or(false);
    let min_days_off = e.opt_int_in(ctx, "min_days_off", 0, 31);
    let max_nights = e.opt_int_in(ctx, "max_nights_per_month", 0, 31);
    let base = read_location(ctx, &mut e);
    let reminders = e.opt_bool(ctx, "reminders").unwrap_or(true);
    let retired_from = retired_from(ctx, &mut e);
    e.finish(ctx);
    let mut labour = labour?;
    labour.hours_elsewhere_this_year = elsewhere.unwrap_or(0.0);
    labour.interview_recorded = interview;
    if let Some(d) = min_days_off {
        labour.min_days_off_per_month = u8::try_from(d).unwrap_or(4);
    }
    labour.max_nights_per_month = max_nights.and_then(|n| u8::try_from(n).ok());
    Some(StaffMember {
        id: id?,
        name: name?,
        name_en,
        profession: profession?,
        skills,
        home_institution: home?,
        other_institutions: others,
        email: email?,
        phone,
        fte: fte?,
        labour,
        base,
        reminders,
        retired_from,
    })
}
