//! A version's soft costs and fairness table, and a person's page: their
//! month, hours, nights and holidays against their fair share, their
//! requests met or not, their absences.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use touban_app::fairness::{Band, Load, loads};
use touban_domain::{Role, StaffId};
use touban_solver::Instance;

use crate::pages::{Page, failure, not_found, parse_month, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

/// A count with its band, and whether it is outside (said by a symbol and
/// a word, not by colour alone).
#[derive(Debug, Serialize)]
struct Measure {
    n: f64,
    band: Option<String>,
    /// `above`, `below` or nothing.
    off: Option<&'static str>,
}

fn measure(n: f64, band: Option<Band>) -> Measure {
    Measure {
        n,
        band: band.map(|b| b.label()),
        off: band.and_then(|b| b.off(n)),
    }
}

#[derive(Debug, Serialize)]
struct Line {
    staff: String,
    name: String,
    fte: f64,
    duties: Measure,
    nights: Measure,
    holidays: Measure,
    year_end: f64,
    hours: String,
    requests_met: usize,
    requests_unmet: usize,
    outside: bool,
}

fn line(l: &Load) -> Line {
    let duties = measure(l.counts[3], l.bands[3]);
    let nights = measure(l.counts[0], l.bands[0]);
    let holidays = measure(l.counts[1], l.bands[1]);
    let outside = duties.off.is_some() || nights.off.is_some() || holidays.off.is_some();
    Line {
        staff: l.staff.clone(),
        name: l.name.clone(),
        fte: l.fte,
        duties,
        nights,
        holidays,
        year_end: l.counts[2],
        hours: format!("{:.1}", l.hours),
        requests_met: l.requests_met,
        requests_unmet: l.requests_unmet,
        outside,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    pub version: Option<u32>,
    pub month: Option<String>,
    /// The page comes back from a saved edit.
    #[serde(default)]
    pub saved: Option<String>,
}

/// `GET /months/{m}/fairness?version=N`.
pub async fn page(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<Shown>,
) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let (net, history) = match touban_app::ops::context(st.store.as_ref(), &me.region, month).await
    {
        Ok(x) => x,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let rota = match st.store.rota(&me.region, month, q.version).await {
        Ok(r) => r,
        Err(touban_store::StoreError::NotFound(_)) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let inst = Instance::new(&net, month);
    let report = touban_solver::check(&inst, &rota.assignments, &history);
    let costs: Vec<serde_json::Value> = report
        .soft
        .iter()
        .map(|c| {
            serde_json::json!({
                "label": if me.lang == "en" { c.family.replace('_', " ") } else { c.label_ja.to_string() },
                "cost": format!("{:.1}", c.cost.max(0.0)),
                "count": c.count,
            })
        })
        .collect();
    let lines: Vec<Line> = loads(&inst, &rota.assignments, &history)
        .iter()
        .map(line)
        .collect();
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("version", rota.version);
    p.set("costs", costs);
    p.set("total", format!("{:.1}", report.soft_total().max(0.0)));
    p.set("hard", report.violations.len());
    p.set("outside", lines.iter().filter(|l| l.outside).count());
    p.set("lines", lines);
    render(&st, "fairness.html", p, StatusCode::OK)
}

/// `GET /people/{id}?month=YYYY-MM&version=N`: a person's month.
pub async fn person(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Shown>,
) -> Response {
    person_page(&st, &me, &id, &q, Refused::default()).await
}

/// A small form sent back with its values and errors, field by field.
#[derive(Debug, Default, Serialize)]
pub struct SmallForm {
    pub values: std::collections::BTreeMap<&'static str, String>,
    pub errors: std::collections::BTreeMap<&'static str, String>,
}

/// Which of the person page's forms was refused, as sent.
#[derive(Debug, Default)]
pub struct Refused {
    pub absence: Option<AbsenceForm>,
    pub request: Option<SmallForm>,
    pub retire: Option<SmallForm>,
}

/// The absence form as sent back with its errors, field by field.
#[derive(Debug, Default, Serialize)]
pub struct AbsenceForm {
    /// Who (a clinic's form).
    pub staff: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub reason: String,
    pub errors: std::collections::BTreeMap<&'static str, String>,
}

/// The person's page, with the absence form as sent when it was refused.
pub async fn person_page(
    st: &WebState,
    me: &SignedIn,
    id: &str,
    q: &Shown,
    refused: Refused,
) -> Response {
    let st = st.clone();
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let Some(person) = StaffId::parse(id)
        .ok()
        .and_then(|id| net.staff_member(&id).cloned())
    else {
        return not_found(&st, me.lang);
    };
    let tz = net.region.time_zone;
    let en = me.lang == "en";
    let month = match q.month.as_deref().map(parse_month) {
        Some(Some(m)) => m,
        Some(None) => return not_found(&st, me.lang),
        None => {
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            match touban_domain::Month::new(
                chrono::Datelike::year(&today),
                chrono::Datelike::month(&today),
            ) {
                Ok(m) => m,
                Err(_) => return not_found(&st, me.lang),
            }
        }
    };
    let institution = |i: &touban_domain::InstitutionId| {
        net.institution(i)
            .map_or_else(|| i.to_string(), |x| x.name.clone())
    };
    let mut p = Page::signed_in(&st, me).await;
    p.set(
        "refused",
        if refused.absence.is_some() {
            "absence"
        } else if refused.request.is_some() {
            "request"
        } else if refused.retire.is_some() {
            "retire"
        } else {
            ""
        },
    );
    p.set("absence", refused.absence.unwrap_or_default());
    p.set("request_form", refused.request.unwrap_or_default());
    p.set("retire_form", refused.retire.unwrap_or_default());
    p.set(
        "request_services",
        net.services
            .iter()
            .filter(|s| net.eligible(&person, s))
            .map(|s| serde_json::json!({"id": s.id.to_string(), "label": if en { s.name_en.clone().unwrap_or_else(|| s.name.clone()) } else { s.name.clone() }}))
            .collect::<Vec<_>>(),
    );
    p.set("saved", q.saved.is_some());
    p.set(
        "kinds",
        touban_domain::AbsenceKind::ALL
            .iter()
            .map(|k| {
                serde_json::json!({"id": k.as_str(), "label": if en { k.as_str() } else { k.label_ja() }})
            })
            .collect::<Vec<_>>(),
    );
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("prev", month.prev().to_string());
    p.set("next", month.next().to_string());
    p.set(
        "person",
        serde_json::json!({
            "id": person.id.to_string(),
            "name": person.name,
            "name_en": person.name_en,
            "profession": if en { person.profession.as_str() } else { person.profession.label_ja() },
            "home": institution(&person.home_institution),
            "others": person.other_institutions.iter().map(&institution).collect::<Vec<_>>(),
            "email": person.email.to_string(),
            "phone": person.phone.as_ref().map(ToString::to_string),
            "fte": person.fte.get(),
            "skills": person.skills.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "cap": person.labour.monthly_cap_hours(),
            "retired_from": person.retired_from.map(|d| i18n::date(d, me.lang)),
            "retired_iso": person.retired_from.map(|d| d.to_string()),
        }),
    );
    let stored = match st.store.absences(&me.region).await {
        Ok(a) => a,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let absences: Vec<serde_json::Value> = stored
        .iter()
        .filter(|x| {
            let a = &x.absence;
            a.staff == person.id
                && a.start.with_timezone(&tz).date_naive() < month.next().first_day()
                && a.end.with_timezone(&tz).date_naive() >= month.first_day()
        })
        .map(|x| {
            let a = &x.absence;
            let s = a.start.with_timezone(&tz);
            let e = a.end.with_timezone(&tz);
            serde_json::json!({
                "id": x.id,
                "from": format!("{} {}", i18n::date(s.date_naive(), me.lang), s.format("%H:%M")),
                "to": format!("{} {}", i18n::date(e.date_naive(), me.lang), e.format("%H:%M")),
                "kind": if en { a.kind.as_str() } else { a.kind.label_ja() },
                "reason": a.reason,
                "file": x.source == touban_store::AbsenceSource::File,
            })
        })
        .collect();
    p.set("absences", absences);
    let rota = match st.store.rota(&me.region, month, q.version).await {
        Ok(r) => Some(r),
        Err(touban_store::StoreError::NotFound(_)) => None,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let Some(rota) = rota else {
        p.set("version", None::<u32>);
        p.set("requests", requests_of(&net, &person, month, None, me.lang));
        return render(&st, "person.html", p, StatusCode::OK);
    };
    let (_, history) = match touban_app::ops::context(st.store.as_ref(), &me.region, month).await {
        Ok(x) => x,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let inst = Instance::new(&net, month);
    let mine: Vec<&touban_domain::Assignment> = rota
        .assignments
        .iter()
        .filter(|a| a.staff == person.id)
        .collect();
    let duties: Vec<serde_json::Value> = mine
        .iter()
        .filter_map(|a| {
            let info = &inst.shifts[*inst.shift_index.get(&a.shift)?];
            let svc = inst.service(*inst.shift_index.get(&a.shift)?);
            let tpl = svc.template(&a.shift.template);
            let s = info.shift.start.with_timezone(&tz);
            let e = info.shift.end.with_timezone(&tz);
            Some(serde_json::json!({
                "date": a.shift.date.to_string(),
                "label": i18n::date(a.shift.date, me.lang),
                "service": if en { svc.name_en.clone().unwrap_or_else(|| svc.name.clone()) } else { svc.name.clone() },
                "template": tpl.map(|t| if en { t.name_en.clone().unwrap_or_else(|| t.name.clone()) } else { t.name.clone() }),
                "time": format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                "backup": a.role == Role::Backup,
                "night": info.night,
                "holiday": info.holiday_like(),
                "absent": net.absences.iter().any(|x| x.staff == person.id && x.overlaps(info.shift.start, info.shift.end)),
            }))
        })
        .collect();
    let load = loads(&inst, &rota.assignments, &history)
        .into_iter()
        .find(|l| l.staff == person.id.as_str())
        .map(|l| line(&l));
    p.set("version", rota.version);
    p.set("duties", duties);
    p.set("load", load);
    p.set(
        "requests",
        requests_of(&net, &person, month, Some(&mine), me.lang),
    );
    render(&st, "person.html", p, StatusCode::OK)
}

/// The person's requests in the month, each met or not by `mine` (their
/// duties in the version shown, when there is one).
fn requests_of(
    net: &touban_domain::Network,
    person: &touban_domain::StaffMember,
    month: touban_domain::Month,
    mine: Option<&[&touban_domain::Assignment]>,
    lang: &str,
) -> Vec<serde_json::Value> {
    net.requests
        .iter()
        .filter(|r| r.staff == person.id && month.contains(r.date))
        .map(|r| {
            let off = r.kind == touban_domain::RequestKind::Off;
            let met = mine.map(|mine| {
                let working = mine.iter().any(|a| {
                    a.shift.date == r.date
                        && r.service.as_ref().is_none_or(|s| &a.shift.service == s)
                });
                off != working
            });
            serde_json::json!({
                "date": i18n::date(r.date, lang),
                "iso": r.date.to_string(),
                "kind": if off { "off" } else { "on" },
                "service_id": r.service.as_ref().map(ToString::to_string),
                "off": off,
                "service": r.service.as_ref().and_then(|s| net.service(s)).map(|s| s.name.clone()),
                "weight": r.weight,
                "met": met,
            })
        })
        .collect()
}
