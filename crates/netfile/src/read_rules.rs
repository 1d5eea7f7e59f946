//! Reading `[[rules]]`, `[[pinned]]` and `[[services.overrides]]`.

use toml::{Table, Value};
use touban_domain::{
    DateOverride, Duties, InstitutionId, Limit, Period, Pin, Profession, RuleScope, ServiceId,
    ShiftKey, StaffId, StaffRule, TemplateId,
};

use crate::fields::{Ctx, Entry};
use crate::problem::msg;
use crate::read_misc::{When, parse_when};
use crate::read_org::at;
use crate::source::EntryPath;

const CATEGORIES: &str = "all, nights, holidays, weekends, weekends_holidays, year_end";

/// `of`, `first`, `then`: a category word, or `{ service = "…", template = "…" }`.
fn duties(e: &mut Entry<'_>, ctx: &mut Ctx<'_>, key: &str) -> Option<Duties> {
    let v = e.opt_value(key)?;
    match v {
        Value::String(s) => match s.as_str() {
            "all" => Some(Duties::All),
            "nights" => Some(Duties::Nights),
            "holidays" => Some(Duties::Holidays),
            "weekends" => Some(Duties::Weekends),
            "weekends_holidays" => Some(Duties::WeekendsHolidays),
            "year_end" => Some(Duties::YearEnd),
            other => {
                e.report(
                    ctx,
                    Some(key),
                    msg(
                        format!(
                            "\"{other}\" is not a kind of duty ({CATEGORIES}, or {{ service = \"…\", template = \"…\" }})"
                        ),
                        format!(
                            "「{other}」は当番の種類ではありません（{CATEGORIES}、または {{ service = \"…\", template = \"…\" }}）"
                        ),
                    ),
                );
                None
            }
        },
        Value::Table(t) => {
            let service = t
                .get("service")
                .and_then(Value::as_str)
                .map(ServiceId::parse);
            let template = t
                .get("template")
                .and_then(Value::as_str)
                .map(TemplateId::parse);
            let unknown: Vec<&String> = t
                .keys()
                .filter(|k| *k != "service" && *k != "template")
                .collect();
            if let Some(k) = unknown.first() {
                e.report(
                    ctx,
                    Some(key),
                    msg(
                        format!("unknown field `{k}` (service, template)"),
                        format!("`{k}` という項目はありません（service, template）"),
                    ),
                );
                return None;
            }
            match (service, template) {
                (Some(Ok(service)), None) => Some(Duties::Service {
                    service,
                    template: None,
                }),
                (Some(Ok(service)), Some(Ok(t))) => Some(Duties::Service {
                    service,
                    template: Some(t),
                }),
                (None, _) => {
                    e.report(
                        ctx,
                        Some(key),
                        msg(
                            "names no service (write { service = \"…\" })",
                            "業務がありません（{ service = \"…\" } と書いてください）",
                        ),
                    );
                    None
                }
                (Some(Err(err)), _) | (_, Some(Err(err))) => {
                    e.report(ctx, Some(key), err);
                    None
                }
            }
        }
        _ => {
            e.report(
                ctx,
                Some(key),
                msg(
                    format!("expected one of {CATEGORIES}, or {{ service = \"…\" }}"),
                    format!(
                        "{CATEGORIES} のいずれか、または {{ service = \"…\" }} を書いてください"
                    ),
                ),
            );
            None
        }
    }
}

fn period(e: &mut Entry<'_>, ctx: &mut Ctx<'_>) -> Option<Period> {
    e.opt(ctx, "per", |s| match s {
        "month" => Ok(Period::Month),
        "week" => Ok(Period::Week),
        _ => Err(touban_domain::ParseError::new(
            format!("\"{s}\" is not a period (month, week)"),
            format!("「{s}」は期間ではありません（month, week）"),
        )),
    })
    .or(Some(Period::Month))
}

fn number(e: &mut Entry<'_>, ctx: &mut Ctx<'_>, key: &str, lo: i64, hi: i64) -> Option<i64> {
    e.missing(ctx, key)?;
    e.opt_int_in(ctx, key, lo, hi)
}

pub fn read_rule(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<StaffRule> {
    let mut e = Entry::new(t, at("rules", i), format!("rules[{}]", i + 1));
    let label = e.opt_str(ctx, "label");
    if let Some(l) = &label {
        e.name = format!("rule \"{l}\"");
    }
    let family = e.req_str(ctx, "rule");
    let n16 = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>, lo| {
        number(e, ctx, "n", lo, 1000).and_then(|v| u16::try_from(v).ok())
    };
    let n8 = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>, lo| {
        number(e, ctx, "n", lo, 100).and_then(|v| u8::try_from(v).ok())
    };
    let hours = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>| {
        e.missing(ctx, "hours")?;
        let h = e.opt_float(ctx, "hours")?;
        if h > 0.0 && h <= 10_000.0 {
            Some(h)
        } else {
            e.report(
                ctx,
                Some("hours"),
                msg(
                    format!("{h} hours must be above 0 and at most 10000"),
                    format!("{h} 時間は 0 より大きく 10000 以下にしてください"),
                ),
            );
            None
        }
    };
    let of = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>| {
        if e.opt_value("of").is_none() {
            Some(Duties::All)
        } else {
            duties(e, ctx, "of")
        }
    };
    let limit = match family.as_deref() {
        None => None,
        Some("max_duties") => {
            let (n, of, per) = (n16(&mut e, ctx, 0), of(&mut e, ctx), period(&mut e, ctx));
            Some(Limit::MaxDuties {
                n: n?,
                of: of?,
                per: per?,
            })
        }
        Some("min_duties") => {
            let (n, of, per) = (n16(&mut e, ctx, 1), of(&mut e, ctx), period(&mut e, ctx));
            Some(Limit::MinDuties {
                n: n?,
                of: of?,
                per: per?,
            })
        }
        Some("max_consecutive_days") => n8(&mut e, ctx, 1).map(|n| Limit::MaxConsecutiveDays { n }),
        Some("min_consecutive_days") => n8(&mut e, ctx, 2).map(|n| Limit::MinConsecutiveDays { n }),
        Some("min_consecutive_days_off") => {
            n8(&mut e, ctx, 2).map(|n| Limit::MinConsecutiveDaysOff { n })
        }
        Some("day_off_after_night") => Some(Limit::DayOffAfterNight),
        Some("forbidden_succession") => {
            let first = duties(&mut e, ctx, "first");
            let then = duties(&mut e, ctx, "then");
            for (k, v) in [("first", &first), ("then", &then)] {
                if v.is_none() && e.opt_value(k).is_none() {
                    e.report(
                        ctx,
                        None,
                        msg(format!("`{k}` is missing"), format!("`{k}` がありません")),
                    );
                }
            }
            Some(Limit::ForbiddenSuccession {
                first: first?,
                then: then?,
            })
        }
        Some("max_weekends") => n8(&mut e, ctx, 0).map(|n| Limit::MaxWeekends { n }),
        Some("max_hours") => {
            let (h, per) = (hours(&mut e, ctx), period(&mut e, ctx));
            Some(Limit::MaxHours {
                hours: h?,
                per: per?,
            })
        }
        Some("min_hours") => {
            let (h, per) = (hours(&mut e, ctx), period(&mut e, ctx));
            Some(Limit::MinHours {
                hours: h?,
                per: per?,
            })
        }
        Some(other) => {
            e.report(
                ctx,
                Some("rule"),
                msg(
                    format!(
                        "\"{other}\" is not a rule (known: {})",
                        Limit::NAMES.join(", ")
                    ),
                    format!(
                        "「{other}」という規則はありません（{}）",
                        Limit::NAMES.join(", ")
                    ),
                ),
            );
            None
        }
    };
    let staff = e.str_list(ctx, "staff", StaffId::parse);
    let profession = e.opt(ctx, "profession", Profession::parse);
    let institution = e.opt(ctx, "institution", InstitutionId::parse);
    let given = usize::from(!staff.is_empty())
        + usize::from(profession.is_some())
        + usize::from(institution.is_some());
    if given > 1 {
        e.report(
            ctx,
            None,
            msg(
                "give at most one of staff, profession, institution (none: the whole network); set a second rule for another group",
                "staff・profession・institution はどれか一つにしてください（書かなければネットワーク全体）。別のグループには別の規則を書いてください",
            ),
        );
        return None;
    }
    let scope = if !staff.is_empty() {
        RuleScope::Staff(staff)
    } else if let Some(p) = profession {
        RuleScope::Profession(p)
    } else if let Some(i) = institution {
        RuleScope::Institution(i)
    } else {
        RuleScope::Network
    };
    let hard = e.opt_bool(ctx, "hard");
    let weight = e.opt_float(ctx, "weight");
    if let Some(w) = weight
        && !(w > 0.0 && w <= 10_000.0)
    {
        e.report(
            ctx,
            Some("weight"),
            msg(
                format!("weight {w} must be above 0 and at most 10000"),
                format!("重み {w} は 0 より大きく 10000 以下にしてください"),
            ),
        );
        return None;
    }
    if hard == Some(true) && weight.is_some() {
        e.report(
            ctx,
            Some("weight"),
            msg(
                "a hard rule has no weight: remove `weight`, or write hard = false",
                "必須の規則に重みはありません：`weight` を消すか hard = false にしてください",
            ),
        );
        return None;
    }
    if hard == Some(false) && weight.is_none() {
        e.report(
            ctx,
            Some("hard"),
            msg(
                "a soft rule needs a weight (points per duty, day or hour beyond it)",
                "守れなくてもよい規則には重み（超えた回・日・時間ごとの点数）が必要です",
            ),
        );
        return None;
    }
    e.finish(ctx);
    Some(StaffRule {
        label,
        scope,
        limit: limit?,
        weight,
    })
}

pub fn read_pin(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<Pin> {
    let mut e = Entry::new(t, at("pinned", i), format!("pinned[{}]", i + 1));
    let staff = e.req(ctx, "staff", StaffId::parse);
    let service = e.req(ctx, "service", ServiceId::parse);
    let template = e.req(ctx, "template", TemplateId::parse);
    let date = date(&mut e, ctx);
    let note = e.opt_str(ctx, "note");
    e.finish(ctx);
    Some(Pin {
        staff: staff?,
        shift: ShiftKey {
            service: service?,
            template: template?,
            date: date?,
        },
        note,
    })
}

fn date(e: &mut Entry<'_>, ctx: &mut Ctx<'_>) -> Option<chrono::NaiveDate> {
    let s = match e.opt_value("date") {
        None => {
            e.report(ctx, None, msg("`date` is missing", "`date` がありません"));
            return None;
        }
        Some(Value::Datetime(dt)) => dt.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => String::new(),
    };
    match parse_when(&s) {
        Ok(When::Date(d)) => Some(d),
        _ => {
            e.report(
                ctx,
                Some("date"),
                msg(
                    "expected a date such as 2027-01-10",
                    "日付を書いてください（例：2027-01-10）",
                ),
            );
            None
        }
    }
}

/// One `[[services.overrides]]` entry of service `si`.
pub fn read_override(
    ctx: &mut Ctx<'_>,
    si: usize,
    service_name: &str,
    i: usize,
    t: &Table,
) -> Option<DateOverride> {
    let here = EntryPath {
        path: "services.overrides",
        index: i,
        parent_index: Some(si),
    };
    let mut e = Entry::new(t, here, format!("{service_name}, overrides[{}]", i + 1));
    let date = date(&mut e, ctx);
    let template = e.opt(ctx, "template", TemplateId::parse);
    let count = |e: &mut Entry<'_>, ctx: &mut Ctx<'_>, k: &str| {
        e.opt_int_in(ctx, k, 0, 50)
            .and_then(|v| u8::try_from(v).ok())
    };
    let min = count(&mut e, ctx, "min");
    let ideal = count(&mut e, ctx, "ideal");
    let max = count(&mut e, ctx, "max");
    let mut weight = |e: &mut Entry<'_>, k: &str| {
        let w = e.opt_float(ctx, k)?;
        if (0.0..=10_000.0).contains(&w) {
            Some(w)
        } else {
            e.report(
                ctx,
                Some(k),
                msg(
                    format!("weight {w} must be between 0 and 10000"),
                    format!("重み {w} は 0〜10000 にしてください"),
                ),
            );
            None
        }
    };
    let under_weight = weight(&mut e, "under_weight");
    let over_weight = weight(&mut e, "over_weight");
    let note = e.opt_str(ctx, "note");
    e.finish(ctx);
    Some(DateOverride {
        date: date?,
        template,
        min,
        ideal,
        max,
        under_weight,
        over_weight,
        note,
    })
}

/// Checks of rules, pins and overrides that need the typed network: the
/// services and templates they name exist, a pinned shift exists on its
/// date, an override's headcounts are in order.
pub fn check_rules(ctx: &mut Ctx<'_>, net: &touban_domain::Network, o: &crate::check::Origins) {
    let known = |d: &Duties| -> Result<(), (String, String)> {
        let Duties::Service { service, template } = d else {
            return Ok(());
        };
        let Some(svc) = net.service(service) else {
            return Err((
                format!("unknown service \"{service}\""),
                format!("「{service}」という業務はありません"),
            ));
        };
        match template {
            Some(t) if svc.template(t).is_none() => Err((
                format!("service \"{service}\" has no template \"{t}\""),
                format!("業務「{service}」に枠「{t}」はありません"),
            )),
            _ => Ok(()),
        }
    };
    for (r, &i) in net.rules.iter().zip(&o.rules) {
        let name = match &r.label {
            Some(l) => format!("rule \"{l}\""),
            None => format!("rules[{}]", i + 1),
        };
        let fields: Vec<(&str, &Duties)> = match &r.limit {
            Limit::MaxDuties { of, .. } | Limit::MinDuties { of, .. } => vec![("of", of)],
            Limit::ForbiddenSuccession { first, then } => vec![("first", first), ("then", then)],
            _ => Vec::new(),
        };
        for (field, d) in fields {
            if let Err((en, ja)) = known(d) {
                ctx.report(&at("rules", i), &name, Some(field), msg(en, ja));
            }
        }
    }
    let cal = touban_calendar::Calendar::for_region(&net.region);
    for (p, &i) in net.pinned.iter().zip(&o.pinned) {
        let name = format!("pinned duty of \"{}\" on {}", p.staff, p.shift.date);
        let Some(svc) = net.service(&p.shift.service) else {
            continue; // reported as an unknown reference
        };
        let Some(t) = svc.template(&p.shift.template) else {
            ctx.report(
                &at("pinned", i),
                &name,
                Some("template"),
                msg(
                    format!(
                        "service \"{}\" has no template \"{}\"",
                        svc.id, p.shift.template
                    ),
                    format!("業務「{}」に枠「{}」はありません", svc.id, p.shift.template),
                ),
            );
            continue;
        };
        let class = cal.day_class(p.shift.date);
        if !t.applies_to(class) {
            ctx.report(
                &at("pinned", i),
                &name,
                Some("date"),
                msg(
                    format!(
                        "{} is a {class}, and template \"{}\" of \"{}\" has no shift on such a day",
                        p.shift.date, t.id, svc.id
                    ),
                    format!(
                        "{} は{}で、「{}」の枠「{}」はこの日にありません",
                        p.shift.date,
                        class.label_ja(),
                        svc.id,
                        t.id
                    ),
                ),
            );
        }
    }
    for (svc, &si) in net.services.iter().zip(&o.services) {
        for (oi, ov) in svc.overrides.iter().enumerate() {
            let here = EntryPath {
                path: "services.overrides",
                index: oi,
                parent_index: Some(si),
            };
            let name = format!("service \"{}\", overrides[{}]", svc.id, oi + 1);
            let templates: Vec<_> = match &ov.template {
                Some(t) => match svc.template(t) {
                    Some(t) => vec![t],
                    None => {
                        ctx.report(
                            &here,
                            &name,
                            Some("template"),
                            msg(
                                format!("service \"{}\" has no template \"{t}\"", svc.id),
                                format!("業務「{}」に枠「{t}」はありません", svc.id),
                            ),
                        );
                        continue;
                    }
                },
                None => svc.templates.iter().collect(),
            };
            let class = cal.day_class(ov.date);
            if !templates.iter().any(|t| t.applies_to(class)) {
                ctx.report(
                    &here,
                    &name,
                    Some("date"),
                    msg(
                        format!("{} is a {class}, and no template of the override has a shift on such a day", ov.date),
                        format!("{} は{}で、この枠の当番はその日にありません", ov.date, class.label_ja()),
                    ),
                );
                continue;
            }
            for t in templates.into_iter().filter(|t| t.applies_to(class)) {
                let (min, ideal, max) = ov.headcount(t.headcount);
                if !(min <= ideal && ideal <= max) {
                    ctx.report(
                        &here,
                        &name,
                        Some("max"),
                        msg(
                            format!("for template \"{}\" this gives min {min}, ideal {ideal}, max {max}: it must be min ≤ ideal ≤ max", t.id),
                            format!("枠「{}」では 最少 {min}、理想 {ideal}、最多 {max} になります：最少 ≤ 理想 ≤ 最多 にしてください", t.id),
                        ),
                    );
                }
            }
        }
    }
}
