//! The coordinators' list of a month's requests (issue 16 item 4): every
//! person's "please not" / "I would like", from the network file and
//! entered by staff, each with whether the shown version keeps it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use touban_domain::RequestKind;
use touban_store::AbsenceSource;

use crate::pages::{Page, VersionQuery, failure, not_found, parse_month, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

/// `GET /months/{month}/requests?version=V`.
pub async fn page(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let en = me.lang == "en";
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let stored = match st.store.requests(&me.region).await {
        Ok(r) => r,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    // The version to compare with: the one asked for, else the newest.
    let versions = st
        .store
        .rota_versions(&me.region, month)
        .await
        .unwrap_or_default();
    let version = q
        .version
        .or_else(|| versions.iter().map(|v| v.version).max());
    let rota = match version {
        Some(v) => st.store.rota(&me.region, month, Some(v)).await.ok(),
        None => None,
    };
    let mut rows: Vec<_> = stored
        .iter()
        .filter(|r| month.contains(r.request.date))
        .collect();
    rows.sort_by(|a, b| {
        (a.request.date, &a.request.staff).cmp(&(b.request.date, &b.request.staff))
    });
    let (mut kept, mut broken) = (0, 0);
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let q = &r.request;
            let p = net.staff_member(&q.staff);
            // On duty that day (in that service, if the request names one).
            let on_duty = rota.as_ref().map(|rota| {
                rota.assignments.iter().any(|a| {
                    a.staff == q.staff
                        && a.shift.date == q.date
                        && q.service.as_ref().is_none_or(|s| &a.shift.service == s)
                })
            });
            let met = on_duty.map(|on| match q.kind {
                RequestKind::Off => !on,
                RequestKind::On => on,
            });
            match met {
                Some(true) => kept += 1,
                Some(false) => broken += 1,
                None => {}
            }
            serde_json::json!({
                "date": i18n::date(q.date, me.lang),
                "staff": q.staff.to_string(),
                "name": p.map_or_else(|| q.staff.to_string(), |p| p.name.clone()),
                "off": q.kind == RequestKind::Off,
                "service": q.service.as_ref().map(|s| net.service(s).map_or_else(|| s.to_string(), |x| if en { x.name_en.clone().unwrap_or_else(|| x.name.clone()) } else { x.name.clone() })),
                "weight": q.weight,
                "entered": r.source == AbsenceSource::Reported,
                "met": met,
            })
        })
        .collect();
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("version", version);
    p.set("requests", items);
    p.set("kept", kept);
    p.set("broken", broken);
    p.set(
        "closes",
        touban_app::requests::closes_at(&net, month).map(|t| {
            let last = (t - chrono::Duration::seconds(1)).with_timezone(&net.region.time_zone);
            format!(
                "{} {}",
                i18n::date(last.date_naive(), me.lang),
                last.format("%H:%M")
            )
        }),
    );
    render(&st, "requests.html", p, StatusCode::OK)
}
