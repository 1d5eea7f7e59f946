//! Writing a network as a network file: what [`crate::parse`] reads back to
//! the same network (the round trip is tested), so that a network edited in
//! the web app can be downloaded, kept, edited by hand and uploaded again.

use toml::value::{Array, Datetime, Table, Value};
use touban_domain::{
    DateOverride, Duties, DutyKind, Limit, Network, PatientContact, Period, RequestKind,
    RestPolicy, RuleScope, ServiceMode, StaffRule,
};

fn s(v: impl ToString) -> Value {
    Value::String(v.to_string())
}

fn list<T: ToString>(items: impl IntoIterator<Item = T>) -> Value {
    Value::Array(items.into_iter().map(s).collect())
}

fn int(n: impl Into<i64>) -> Value {
    Value::Integer(n.into())
}

/// Inserts `v` under `k` when it is there.
fn opt(t: &mut Table, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        t.insert(k.into(), v);
    }
}

fn location(t: &mut Table, at: Option<touban_domain::LatLon>) {
    if let Some(l) = at {
        t.insert("lat".into(), Value::Float(l.lat));
        t.insert("lon".into(), Value::Float(l.lon));
    }
}

fn datetime(t: chrono::DateTime<chrono::FixedOffset>) -> Value {
    let text = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    text.parse::<Datetime>()
        .map_or_else(|_| s(text), Value::Datetime)
}

fn date(d: chrono::NaiveDate) -> Value {
    let text = d.format("%Y-%m-%d").to_string();
    text.parse::<Datetime>()
        .map_or_else(|_| s(text), Value::Datetime)
}

fn tables(items: Vec<Table>) -> Value {
    Value::Array(items.into_iter().map(Value::Table).collect::<Array>())
}

fn duties(d: &Duties) -> Value {
    match d {
        Duties::All => s("all"),
        Duties::Nights => s("nights"),
        Duties::Holidays => s("holidays"),
        Duties::Weekends => s("weekends"),
        Duties::WeekendsHolidays => s("weekends_holidays"),
        Duties::YearEnd => s("year_end"),
        Duties::Service { service, template } => {
            let mut t = Table::new();
            t.insert("service".into(), s(service));
            opt(&mut t, "template", template.as_ref().map(s));
            Value::Table(t)
        }
    }
}

fn period(p: Period) -> Value {
    s(match p {
        Period::Month => "month",
        Period::Week => "week",
    })
}

fn write_rule(r: &StaffRule) -> Table {
    let mut t = Table::new();
    t.insert("rule".into(), s(r.limit.name()));
    opt(&mut t, "label", r.label.as_ref().map(s));
    match &r.limit {
        Limit::MaxDuties { n, of, per } | Limit::MinDuties { n, of, per } => {
            t.insert("n".into(), int(*n));
            t.insert("of".into(), duties(of));
            t.insert("per".into(), period(*per));
        }
        Limit::MaxConsecutiveDays { n }
        | Limit::MinConsecutiveDays { n }
        | Limit::MinConsecutiveDaysOff { n }
        | Limit::MaxWeekends { n } => {
            t.insert("n".into(), int(*n));
        }
        Limit::DayOffAfterNight => {}
        Limit::ForbiddenSuccession { first, then } => {
            t.insert("first".into(), duties(first));
            t.insert("then".into(), duties(then));
        }
        Limit::MaxHours { hours, per } | Limit::MinHours { hours, per } => {
            t.insert("hours".into(), Value::Float(*hours));
            t.insert("per".into(), period(*per));
        }
    }
    match &r.scope {
        RuleScope::Network => {}
        RuleScope::Profession(p) => {
            t.insert("profession".into(), s(p.as_str()));
        }
        RuleScope::Institution(i) => {
            t.insert("institution".into(), s(i));
        }
        RuleScope::Staff(list_of) => {
            t.insert("staff".into(), list(list_of));
        }
    }
    opt(&mut t, "weight", r.weight.map(Value::Float));
    t
}

fn write_override(o: &DateOverride) -> Table {
    let mut t = Table::new();
    t.insert("date".into(), date(o.date));
    opt(&mut t, "template", o.template.as_ref().map(s));
    opt(&mut t, "min", o.min.map(int));
    opt(&mut t, "ideal", o.ideal.map(int));
    opt(&mut t, "max", o.max.map(int));
    opt(&mut t, "under_weight", o.under_weight.map(Value::Float));
    opt(&mut t, "over_weight", o.over_weight.map(Value::Float));
    opt(&mut t, "note", o.note.as_ref().map(s));
    t
}

/// The network as the text of a network file (see docs/network-file.md).
pub fn write(net: &Network) -> String {
    let mut root = Table::new();

    let r = &net.region;
    let mut region = Table::new();
    region.insert("id".into(), s(&r.id));
    region.insert("name".into(), s(&r.name));
    opt(&mut region, "name_en", r.name_en.as_ref().map(s));
    region.insert("time_zone".into(), s(r.time_zone.name()));
    region.insert("overtime_year_starts".into(), int(r.overtime_year_starts));
    opt(
        &mut region,
        "fallback_phone",
        r.fallback_phone.as_ref().map(s),
    );
    if !r.closures.is_empty() {
        let md = |(m, d): (u32, u32)| s(format!("{m:02}-{d:02}"));
        region.insert(
            "closures".into(),
            tables(
                r.closures
                    .iter()
                    .map(|c| {
                        let mut t = Table::new();
                        t.insert("name".into(), s(&c.name));
                        t.insert("from".into(), md(c.from));
                        t.insert("to".into(), md(c.to));
                        t
                    })
                    .collect(),
            ),
        );
    }
    root.insert("region".into(), Value::Table(region));

    let p = &net.policy;
    let mut policy = Table::new();
    policy.insert(
        "auto_publish_repairs".into(),
        Value::Boolean(p.auto_publish_repairs),
    );
    policy.insert(
        "escalate_after_minutes".into(),
        int(p.escalate_after_minutes),
    );
    policy.insert(
        "reminder_minute_of_day".into(),
        int(p.reminder_minute_of_day),
    );
    policy.insert("reminders".into(), Value::Boolean(p.reminders));
    policy.insert("coordinator_emails".into(), list(&p.coordinator_emails));
    opt(
        &mut policy,
        "coordinator_phone",
        p.coordinator_phone.as_ref().map(s),
    );
    policy.insert(
        "require_second_factor".into(),
        Value::Boolean(p.require_second_factor),
    );
    opt(
        &mut policy,
        "requests_close_day",
        p.requests_close_day.map(int),
    );
    policy.insert(
        "auto_approve_swaps".into(),
        Value::Boolean(p.auto_approve_swaps),
    );
    root.insert("policy".into(), Value::Table(policy));

    let mut travel = Table::new();
    travel.insert("road_factor".into(), Value::Float(net.travel.road_factor));
    travel.insert("speed_kmh".into(), Value::Float(net.travel.speed_kmh));
    root.insert("travel".into(), Value::Table(travel));

    let w = &net.weights;
    let mut weights = Table::new();
    for (k, v) in [
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
    ] {
        weights.insert(k.into(), Value::Float(v));
    }
    root.insert("weights".into(), Value::Table(weights));

    let mut municipalities = Vec::new();
    for m in &net.municipalities {
        let mut t = Table::new();
        t.insert("id".into(), s(&m.id));
        t.insert("name".into(), s(&m.name));
        opt(&mut t, "name_en", m.name_en.as_ref().map(s));
        location(&mut t, m.location);
        municipalities.push(t);
    }
    root.insert("municipalities".into(), tables(municipalities));

    let mut institutions = Vec::new();
    for i in &net.institutions {
        let mut t = Table::new();
        t.insert("id".into(), s(&i.id));
        t.insert("name".into(), s(&i.name));
        opt(&mut t, "name_en", i.name_en.as_ref().map(s));
        t.insert("kind".into(), s(i.kind.as_str()));
        t.insert("municipality".into(), s(&i.municipality));
        location(&mut t, i.location);
        opt(&mut t, "address", i.address.as_ref().map(s));
        opt(&mut t, "phone", i.phone.as_ref().map(s));
        opt(&mut t, "email", i.email.as_ref().map(s));
        if !i.hours.is_empty() {
            t.insert(
                "hours".into(),
                Value::Array(
                    i.hours
                        .iter()
                        .map(|h| {
                            let mut o = Table::new();
                            o.insert("days".into(), list(h.days.iter().map(|d| d.as_str())));
                            o.insert("open".into(), s(h.open));
                            o.insert("close".into(), s(h.close));
                            Value::Table(o)
                        })
                        .collect(),
                ),
            );
        }
        t.insert("backup_hospital".into(), Value::Boolean(i.backup_hospital));
        institutions.push(t);
    }
    root.insert("institutions".into(), tables(institutions));

    let mut staff = Vec::new();
    for p in &net.staff {
        let mut t = Table::new();
        t.insert("id".into(), s(&p.id));
        t.insert("name".into(), s(&p.name));
        opt(&mut t, "name_en", p.name_en.as_ref().map(s));
        t.insert("profession".into(), s(p.profession.as_str()));
        t.insert("skills".into(), list(&p.skills));
        t.insert("institution".into(), s(&p.home_institution));
        t.insert("also_at".into(), list(&p.other_institutions));
        t.insert("email".into(), s(&p.email));
        opt(&mut t, "phone", p.phone.as_ref().map(s));
        t.insert("fte".into(), Value::Float(p.fte.get()));
        let l = &p.labour;
        t.insert("regime".into(), s(l.regime.as_str()));
        t.insert(
            "rest".into(),
            s(match l.rest {
                RestPolicy::Enforced => "enforced",
                RestPolicy::Off => "off",
            }),
        );
        t.insert(
            "contract_hours_per_week".into(),
            Value::Float(l.contract_hours_per_week),
        );
        t.insert(
            "hours_elsewhere_this_year".into(),
            Value::Float(l.hours_elsewhere_this_year),
        );
        t.insert(
            "interview_recorded".into(),
            Value::Boolean(l.interview_recorded),
        );
        t.insert("min_days_off".into(), int(l.min_days_off_per_month));
        opt(
            &mut t,
            "max_nights_per_month",
            l.max_nights_per_month.map(int),
        );
        location(&mut t, p.base);
        t.insert("reminders".into(), Value::Boolean(p.reminders));
        opt(&mut t, "retired_from", p.retired_from.map(date));
        staff.push(t);
    }
    root.insert("staff".into(), tables(staff));

    let mut services = Vec::new();
    for v in &net.services {
        let mut t = Table::new();
        t.insert("id".into(), s(&v.id));
        t.insert("name".into(), s(&v.name));
        opt(&mut t, "name_en", v.name_en.as_ref().map(s));
        t.insert("profession".into(), s(v.profession.as_str()));
        t.insert("skills".into(), list(&v.skills));
        t.insert("area".into(), list(&v.area));
        t.insert("institutions".into(), list(&v.institutions));
        opt(&mut t, "host", v.host.as_ref().map(s));
        t.insert(
            "mode".into(),
            s(match v.mode {
                ServiceMode::OnCall => "on_call",
                ServiceMode::OnSite => "on_site",
            }),
        );
        t.insert(
            "duty".into(),
            s(match v.duty {
                DutyKind::CountsAsWork => "counts_as_work",
                DutyKind::PermittedDuty => "permitted_duty",
            }),
        );
        t.insert("continuous".into(), Value::Boolean(v.continuous));
        opt(&mut t, "max_travel_minutes", v.max_travel_minutes.map(int));
        opt(&mut t, "fallback_phone", v.fallback_phone.as_ref().map(s));
        opt(
            &mut t,
            "patient_contact",
            v.patient_contact.map(|c| {
                s(match c {
                    PatientContact::Person => "person",
                    PatientContact::Institution => "institution",
                })
            }),
        );
        let templates = v
            .templates
            .iter()
            .map(|x| {
                let mut o = Table::new();
                o.insert("id".into(), s(&x.id));
                o.insert("name".into(), s(&x.name));
                opt(&mut o, "name_en", x.name_en.as_ref().map(s));
                o.insert(
                    "days".into(),
                    list(x.day_classes.iter().map(|d| d.as_str())),
                );
                o.insert("start".into(), s(x.start));
                o.insert("end".into(), s(x.end));
                o.insert("end_day".into(), int(x.end_day));
                o.insert("min".into(), int(x.headcount.min));
                o.insert("ideal".into(), int(x.headcount.ideal));
                o.insert("max".into(), int(x.headcount.max));
                o
            })
            .collect();
        t.insert("templates".into(), tables(templates));
        if !v.overrides.is_empty() {
            t.insert(
                "overrides".into(),
                tables(v.overrides.iter().map(write_override).collect()),
            );
        }
        services.push(t);
    }
    root.insert("services".into(), tables(services));

    let pairs = net
        .attending_pairs
        .iter()
        .map(|a| {
            let mut t = Table::new();
            t.insert("primary".into(), s(&a.primary));
            t.insert("backup".into(), s(&a.backup));
            opt(&mut t, "note", a.note.as_ref().map(s));
            t
        })
        .collect();
    root.insert("attending_pairs".into(), tables(pairs));

    let absences = net
        .absences
        .iter()
        .map(|a| {
            let mut t = Table::new();
            t.insert("staff".into(), s(&a.staff));
            t.insert("from".into(), datetime(a.start));
            t.insert("to".into(), datetime(a.end));
            t.insert("kind".into(), s(a.kind.as_str()));
            opt(&mut t, "reason", a.reason.as_ref().map(s));
            t
        })
        .collect();
    root.insert("absences".into(), tables(absences));

    let requests = net
        .requests
        .iter()
        .map(|r| {
            let mut t = Table::new();
            t.insert("staff".into(), s(&r.staff));
            t.insert("date".into(), date(r.date));
            t.insert(
                "kind".into(),
                s(match r.kind {
                    RequestKind::On => "on",
                    RequestKind::Off => "off",
                }),
            );
            opt(&mut t, "service", r.service.as_ref().map(s));
            t.insert("weight".into(), int(r.weight));
            t
        })
        .collect();
    root.insert("requests".into(), tables(requests));
    if !net.rules.is_empty() {
        root.insert(
            "rules".into(),
            tables(net.rules.iter().map(write_rule).collect()),
        );
    }
    if !net.pinned.is_empty() {
        let pins = net
            .pinned
            .iter()
            .map(|p| {
                let mut t = Table::new();
                t.insert("staff".into(), s(&p.staff));
                t.insert("service".into(), s(&p.shift.service));
                t.insert("template".into(), s(&p.shift.template));
                t.insert("date".into(), date(p.shift.date));
                opt(&mut t, "note", p.note.as_ref().map(s));
                t
            })
            .collect();
        root.insert("pinned".into(), tables(pins));
    }

    let body = toml::to_string(&root).unwrap_or_default();
    format!(
        "# {} — network file written by Touban {} (format: docs/network-file.md).\n\n{body}",
        net.region.name,
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_network_round_trips() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../config/networks/southern-shimoina.toml");
        let net = crate::load(&path).unwrap();
        let text = super::write(&net);
        let again = crate::parse("written.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(again, net);
        assert_eq!(super::write(&again), text, "writing is stable");
    }
}
