//! Reading coverage services and their shift templates.

use std::collections::BTreeSet;

use toml::Table;
use touban_domain::{
    ClockTime, CoverageService, DayClass, DutyKind, Headcount, InstitutionId, MunicipalityId,
    ParseError, Profession, ServiceId, ServiceMode, ShiftTemplate, Skill, TemplateId,
};

use crate::fields::{Ctx, Entry};
use crate::problem::msg;
use crate::read_org::at;
use crate::source::EntryPath;

fn mode(s: &str) -> Result<ServiceMode, ParseError> {
    match s {
        "on_site" => Ok(ServiceMode::OnSite),
        "on_call" => Ok(ServiceMode::OnCall),
        _ => Err(ParseError::new(
            format!("\"{s}\" is not a mode (on_site, on_call)"),
            format!("「{s}」は勤務形態ではありません（on_site, on_call）"),
        )),
    }
}

fn duty(s: &str) -> Result<DutyKind, ParseError> {
    match s {
        "counts_as_work" => Ok(DutyKind::CountsAsWork),
        "permitted_duty" => Ok(DutyKind::PermittedDuty),
        _ => Err(ParseError::new(
            format!("\"{s}\" is not a duty kind (counts_as_work, permitted_duty)"),
            format!("「{s}」は勤務の扱いではありません（counts_as_work, permitted_duty）"),
        )),
    }
}

fn read_template(
    ctx: &mut Ctx<'_>,
    service: usize,
    service_name: &str,
    i: usize,
    t: &Table,
) -> Option<ShiftTemplate> {
    let at = EntryPath {
        path: "services.templates",
        index: i,
        parent_index: Some(service),
    };
    let mut e = Entry::new(t, at, format!("{service_name}, templates[{}]", i + 1));
    let id = e.id(ctx, &format!("{service_name}, template"), TemplateId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let day_classes: BTreeSet<DayClass> = e
        .str_list(ctx, "days", DayClass::parse)
        .into_iter()
        .collect();
    if day_classes.is_empty() && t.contains_key("days") {
        e.report(
            ctx,
            Some("days"),
            msg(
                "lists no day class; the template would never apply",
                "日の区分がなく、この枠は一度も使われません",
            ),
        );
    } else if !t.contains_key("days") {
        e.report(
            ctx,
            None,
            msg(
                "`days` is missing (e.g. days = [\"weekday\", \"saturday\"])",
                "`days` がありません（例：days = [\"weekday\", \"saturday\"]）",
            ),
        );
    }
    let start = e.req(ctx, "start", ClockTime::parse);
    let end = e.req(ctx, "end", ClockTime::parse);
    let end_day = e
        .opt_int_in(ctx, "end_day", 0, 1)
        .map_or(0, |v| u8::try_from(v).unwrap_or(0));
    if let (Some(s), Some(en)) = (start, end)
        && let Err(err) = ShiftTemplate::check_window(s, en, end_day)
    {
        e.report(ctx, Some("end"), err);
    }
    let count = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>, k: &str, default: i64| {
        u8::try_from(e.opt_int_in(ctx, k, 0, 50).unwrap_or(default)).unwrap_or(0)
    };
    let min = count(&mut e, ctx, "min", 1);
    let ideal = count(&mut e, ctx, "ideal", i64::from(min));
    let max = count(&mut e, ctx, "max", i64::from(ideal));
    let headcount = e.check(ctx, "max", Headcount::new(min, ideal, max));
    e.finish(ctx);
    let (start, end) = (start?, end?);
    ShiftTemplate::check_window(start, end, end_day).ok()?;
    Some(ShiftTemplate {
        id: id?,
        name: name?,
        name_en,
        day_classes,
        start,
        end,
        end_day,
        headcount: headcount?,
    })
}

/// Reads a service. A template with mistakes is reported and left out; the
/// returned flag says so, and the service is still returned so that its other
/// checks run.
pub fn read_service(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<(CoverageService, bool)> {
    let mut e = Entry::new(t, at("services", i), format!("services[{}]", i + 1));
    let id = e.id(ctx, "service", ServiceId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let profession = e.req(ctx, "profession", Profession::parse);
    let skills = e
        .str_list(ctx, "skills", Skill::parse)
        .into_iter()
        .collect();
    let area = e
        .str_list(ctx, "area", MunicipalityId::parse)
        .into_iter()
        .collect();
    let institutions = e
        .str_list(ctx, "institutions", InstitutionId::parse)
        .into_iter()
        .collect();
    let host = e.opt(ctx, "host", InstitutionId::parse);
    let mode = e.opt(ctx, "mode", mode).unwrap_or(ServiceMode::OnCall);
    let duty = e.opt(ctx, "duty", duty).unwrap_or(DutyKind::CountsAsWork);
    let continuous = e.opt_bool(ctx, "continuous").unwrap_or(false);
    let max_travel = e
        .opt_int_in(ctx, "max_travel_minutes", 1, 600)
        .and_then(|v| u32::try_from(v).ok());
    let fallback_phone = e.opt(ctx, "fallback_phone", touban_domain::Phone::parse);
    let patient_contact = e.opt(ctx, "patient_contact", touban_domain::PatientContact::parse);
    let mut templates = Vec::new();
    let mut template_ok = true;
    let service_name = e.name.clone();
    let raw_templates = e.tables(ctx, "templates");
    if raw_templates.is_empty() {
        e.report(
            ctx,
            None,
            msg(
                "has no shift templates (add [[services.templates]] below it)",
                "枠がありません（下に [[services.templates]] を加えてください）",
            ),
        );
    }
    for (ti, tt) in raw_templates.into_iter().enumerate() {
        match read_template(ctx, i, &service_name, ti, tt) {
            Some(t) => templates.push(t),
            None => template_ok = false,
        }
    }
    let overrides = e
        .tables(ctx, "overrides")
        .into_iter()
        .enumerate()
        .filter_map(|(oi, ot)| crate::read_rules::read_override(ctx, i, &service_name, oi, ot))
        .collect();
    e.finish(ctx);
    let svc = CoverageService {
        id: id?,
        name: name?,
        name_en,
        profession: profession?,
        skills,
        area,
        institutions,
        host,
        mode,
        duty,
        continuous,
        max_travel_minutes: max_travel,
        templates,
        fallback_phone,
        patient_contact,
        overrides,
    };
    Some((svc, template_ok))
}
