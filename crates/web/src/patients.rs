//! The patient list of one service for the month shown (A4 portrait, its
//! own print stylesheet): each time slot, who to call and their number;
//! 未定 and the number to call instead for a place nobody holds yet.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use touban_domain::ServiceId;
use touban_solver::Instance;

use crate::pages::{Page, not_found, render, shown};
use crate::session::SignedIn;
use crate::{WebState, i18n};

#[derive(Debug, Deserialize)]
pub struct PatientsQuery {
    version: Option<u32>,
    service: Option<String>,
}

/// `GET /months/{m}/patients?service=S&version=V`.
pub async fn page(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<PatientsQuery>,
) -> Response {
    let (month, rota, _, net) = match shown(&st, &me, &m, q.version).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let service = match q.service.as_deref() {
        None | Some("") => net.services.first().map(|s| s.id.clone()),
        Some(s) => match ServiceId::parse(s)
            .ok()
            .filter(|s| net.service(s).is_some())
        {
            Some(s) => Some(s),
            None => return not_found(&st, me.lang),
        },
    };
    let Some(service) = service else {
        return not_found(&st, me.lang);
    };
    render_list(&st, &me, &net, month, &rota, &service, true).await
}

/// The patient list of `service` in `rota`; `chooser`: with the form to
/// pick another service (a coordinator's page).
pub(crate) async fn render_list(
    st: &WebState,
    me: &SignedIn,
    net: &touban_domain::Network,
    month: touban_domain::Month,
    rota: &touban_domain::Rota,
    service: &ServiceId,
    chooser: bool,
) -> Response {
    let en = me.lang == "en";
    let Some(svc) = net.service(service) else {
        return not_found(st, me.lang);
    };
    let inst = Instance::shifts_only(net, month);
    let tz = net.region.time_zone;
    let rows: Vec<serde_json::Value> = touban_app::patients::rows(&inst, &rota.assignments, service)
        .iter()
        .map(|r| {
            let s = r.start.with_timezone(&tz);
            let e = r.end.with_timezone(&tz);
            let end_day = (e.date_naive() != s.date_naive()).then(|| i18n::date(e.date_naive(), me.lang));
            serde_json::json!({
                "date": i18n::date(r.date, me.lang),
                "template": r.template,
                "time": format!("{}–{}{}", s.format("%H:%M"), end_day.map(|d| format!("{d} ")).unwrap_or_default(), e.format("%H:%M")),
                "name": r.name,
                "backup": r.backup,
                "phone": r.phone,
                "address": r.address,
                "unfilled": r.unfilled,
                "holiday": r.holiday,
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("chooser", chooser);
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("version", rota.version);
    p.set("status", rota.status.as_str());
    p.set("service", service.to_string());
    p.set(
        "service_name",
        if en {
            svc.name_en.clone().unwrap_or_else(|| svc.name.clone())
        } else {
            svc.name.clone()
        },
    );
    p.set(
        "services",
        net.services
            .iter()
            .map(|s| serde_json::json!({"id": s.id.to_string(), "label": s.name}))
            .collect::<Vec<_>>(),
    );
    p.set("fallback", net.fallback_phone(svc).map(ToString::to_string));
    p.set(
        "printed",
        i18n::date(Utc::now().with_timezone(&tz).date_naive(), me.lang),
    );
    p.set("rows", rows);
    render(st, "patients.html", p, StatusCode::OK)
}
