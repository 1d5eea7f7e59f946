//! The clinic's pages (institution accounts, issue 16): who covers us now
//! and next, with phone numbers and the printable patient list of each of
//! our services; and reporting a sudden absence of one of our staff, which
//! shows the repair Touban makes (old → new per shift, published or
//! waiting for the coordinator, who will be told).

use axum::Form;
use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use chrono::{Datelike, Utc};
use serde::Deserialize;
use touban_domain::{InstitutionId, Month, Network, ServiceId, StaffId};
use touban_solver::Instance;

use crate::fairness::AbsenceForm;
use crate::pages::{Page, failure, not_found, render};
use crate::session::{SignInFirst, SignedIn, Who};
use crate::{WebState, i18n};

/// A signed-in institution (a clinic, a station, a pharmacy).
#[derive(Debug, Clone)]
pub struct ClinicIn(pub SignedIn, pub InstitutionId);

impl<S> FromRequestParts<S> for ClinicIn
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SignInFirst> {
        let me = crate::session::verified(parts, state).await?;
        match me.who.clone() {
            Who::Institution(id) => Ok(Self(me, id)),
            _ => Err(SignInFirst::to("/")),
        }
    }
}

/// The services that concern an institution: hosted there, taking its
/// staff, or covering its municipality.
fn our_services<'n>(
    net: &'n Network,
    inst: &InstitutionId,
) -> Vec<&'n touban_domain::CoverageService> {
    let municipality = net.institution(inst).map(|i| &i.municipality);
    net.services
        .iter()
        .filter(|s| {
            s.host.as_ref() == Some(inst)
                || s.institutions.contains(inst)
                || municipality.is_some_and(|m| s.area.contains(m))
        })
        .collect()
}

/// `GET /clinic`.
pub async fn home(State(st): State<WebState>, ClinicIn(me, inst): ClinicIn) -> Response {
    page(&st, &me, &inst, None, StatusCode::OK).await
}

async fn page(
    st: &WebState,
    me: &SignedIn,
    inst: &InstitutionId,
    refused: Option<AbsenceForm>,
    status: StatusCode,
) -> Response {
    let en = me.lang == "en";
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let Some(institution) = net.institution(inst) else {
        return not_found(st, me.lang);
    };
    let tz = net.region.time_zone;
    let now = Utc::now().with_timezone(&tz).fixed_offset();
    let this_month = Month::new(now.year(), now.month()).expect("a real month");
    // Each service's slot now and the next one, from the published rotas
    // of this month and the next.
    let mut slots: Vec<(ServiceId, touban_solver::ShiftInfo, Vec<StaffId>, Month)> = Vec::new();
    for m in [this_month, this_month.next()] {
        let rota = match st.store.published_rota(&me.region, m).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return failure(st, me.lang, &e.to_string()),
        };
        let inst_m = Instance::shifts_only(&net, m);
        for info in &inst_m.shifts {
            if info.shift.end <= now {
                continue;
            }
            let key = info.shift.key();
            let people = rota
                .assignments
                .iter()
                .filter(|a| a.shift == key)
                .map(|a| a.staff.clone())
                .collect();
            slots.push((key.service.clone(), info.clone(), people, m));
        }
    }
    slots.sort_by_key(|s| s.1.shift.start);
    let person = |id: &StaffId| {
        let p = net.staff_member(id);
        serde_json::json!({
            "name": p.map_or_else(|| id.to_string(), |p| p.name.clone()),
            "phone": p.and_then(|p| p.phone.as_ref()).map(ToString::to_string),
        })
    };
    let slot = |s: &(ServiceId, touban_solver::ShiftInfo, Vec<StaffId>, Month)| {
        let a = s.1.shift.start.with_timezone(&tz);
        let b = s.1.shift.end.with_timezone(&tz);
        serde_json::json!({
            "time": format!("{} {}–{}", i18n::date(a.date_naive(), me.lang), a.format("%H:%M"), b.format("%H:%M")),
            "people": s.2.iter().map(person).collect::<Vec<_>>(),
        })
    };
    let services: Vec<serde_json::Value> = our_services(&net, inst)
        .into_iter()
        .map(|svc| {
            let mine: Vec<_> = slots.iter().filter(|s| s.0 == svc.id).collect();
            let current = mine.iter().find(|s| s.1.shift.start <= now);
            let upcoming = mine.iter().find(|s| s.1.shift.start > now);
            serde_json::json!({
                "id": svc.id.to_string(),
                "name": if en { svc.name_en.clone().unwrap_or_else(|| svc.name.clone()) } else { svc.name.clone() },
                "now": current.map(|s| slot(s)),
                "next": upcoming.map(|s| slot(s)),
                "month": mine.first().map(|s| s.3.to_string()),
                "fallback": net.fallback_phone(svc).map(ToString::to_string),
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("institution", &institution.name);
    p.set("services", services);
    p.set(
        "staff",
        net.staff
            .iter()
            .filter(|s| &s.home_institution == inst && s.retired_from.is_none())
            .map(|s| serde_json::json!({"id": s.id.to_string(), "name": s.name}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "covers",
        crate::clinic_cover::recent(st, &me.region, inst, &net, en).await,
    );
    p.set("kinds", crate::absences::kinds(en));
    p.set("refused", refused.is_some());
    p.set("absence", refused.unwrap_or_default());
    render(st, "clinic.html", p, status)
}

/// `POST /clinic/absence`: one of our staff is absent; the repair is shown.
pub async fn report(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    Form(f): Form<crate::absences::Posted>,
) -> Response {
    let net = match crate::pages::posted_network(&st, &me, &f.csrf).await {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    // Only our own staff.
    let person = StaffId::parse(f.staff.trim())
        .ok()
        .and_then(|id| net.staff_member(&id).cloned())
        .filter(|p| p.home_institution == inst);
    let read = crate::absences::read(&f, person.as_ref().map(|p| &p.id), net.region.time_zone, en);
    let (absence, person) = match (read, person) {
        (Ok(a), Some(p)) => (a, p),
        (Err(refused), person) => {
            let (mut form, _) = *refused;
            if person.is_none() {
                form.errors.insert(
                    "staff",
                    i18n::pick(en, "職員を選んでください", "Choose who").into(),
                );
            }
            return page(
                &st,
                &me,
                &inst,
                Some(form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        (Ok(_), None) => unreachable!("read refuses a form without a person"),
    };
    crate::absences::report_and_show(&st, &me, &net, &person, &absence).await
}

#[derive(Debug, Deserialize)]
pub struct PatientsQuery {
    service: String,
    month: String,
}

/// `GET /clinic/patients?service=S&month=M`: the published patient list of
/// one of our services.
pub async fn patients(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    Query(q): Query<PatientsQuery>,
) -> Response {
    let (Ok(month), Ok(service)) = (Month::parse(&q.month), ServiceId::parse(&q.service)) else {
        return not_found(&st, me.lang);
    };
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    if !our_services(&net, &inst).iter().any(|s| s.id == service) {
        return not_found(&st, me.lang);
    }
    let rota = match st.store.published_rota(&me.region, month).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    crate::patients::render_list(&st, &me, &net, month, &rota, &service, false).await
}
