//! A cell of the month: its panel (who is on it, every candidate and what
//! stops each) and the edit posted from it, checked like the API's.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use touban_app::edit::{Change, EditError};
use touban_app::ops;
use touban_domain::{Month, Role, ServiceId, ShiftKey, StaffId, TemplateId};
use touban_solver::Instance;
use touban_store::StoreError;

use crate::pages::{Page, csrf_refused, failure, message_in, not_found, parse_month, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

#[derive(Debug, Deserialize)]
pub struct CellQuery {
    version: u32,
    service: String,
    template: String,
    date: chrono::NaiveDate,
}

#[derive(Debug, Serialize)]
struct Holder {
    id: String,
    name: String,
    role: &'static str,
    /// Pinned (固定): generate and repair keep it.
    pinned: bool,
}

#[derive(Debug, Serialize)]
struct Candidate {
    id: String,
    name: String,
    ok: bool,
    reason: String,
    duties: usize,
    hours: String,
    /// This month's count in the shift's fairness category (nights,
    /// holidays or all duties) and the fair target for it.
    count: f64,
    target: Option<String>,
    /// The count is outside the target: `above` or `below`.
    off: Option<&'static str>,
}

/// What the cell panel shows: who is on the shift, and every candidate —
/// those who may take it first, with their load this month, then those who
/// may not, each with the rule that stops them.
async fn cell_page(
    st: &WebState,
    me: &SignedIn,
    month: Month,
    q: &CellQuery,
    refused: Option<(Vec<touban_solver::Violation>, Change)>,
    (htmx, status): (bool, StatusCode),
) -> Response {
    let rota = match st.store.rota(&me.region, month, Some(q.version)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return not_found(st, me.lang),
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let (net, history) = match ops::context(st.store.as_ref(), &me.region, month).await {
        Ok(x) => x,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let (Ok(service), Ok(template)) =
        (ServiceId::parse(&q.service), TemplateId::parse(&q.template))
    else {
        return not_found(st, me.lang);
    };
    let key = ShiftKey {
        service,
        template,
        date: q.date,
    };
    let inst = Instance::shifts_only(&net, month);
    let Some(&si) = inst.shift_index.get(&key) else {
        return not_found(st, me.lang);
    };
    let info = &inst.shifts[si];
    let mut holders: Vec<Holder> = rota
        .assignments
        .iter()
        .filter(|a| a.shift == key)
        .map(|a| Holder {
            id: a.staff.to_string(),
            name: net
                .staff_member(&a.staff)
                .map_or_else(|| a.staff.to_string(), |p| p.name.clone()),
            role: a.role.as_str(),
            pinned: net
                .pinned
                .iter()
                .any(|p| p.staff == a.staff && p.shift == a.shift),
        })
        .collect();
    holders.sort_by_key(|h| h.role != "primary");
    let replacing = rota
        .assignments
        .iter()
        .find(|a| a.shift == key && a.role == Role::Primary)
        .map(|a| a.staff.clone());
    let mut load: std::collections::HashMap<&StaffId, (usize, f64)> = Default::default();
    for a in &rota.assignments {
        if let Some(&i) = inst.shift_index.get(&a.shift) {
            let e = load.entry(&a.staff).or_default();
            e.0 += 1;
            if inst.shifts[i].counts {
                e.1 += inst.shifts[i].hours();
            }
        }
    }
    // The fair targets need the candidate shifts of the profession's people
    // (their pools), not of everyone; they do not depend on the version, and
    // are kept while the region does not change.
    let profession = net.services[info.service].profession;
    let bands = st.fair_bands((me.region.clone(), month, profession), || {
        let part = Instance::for_profession(&net, month, profession);
        touban_app::fairness::bands(&part, &history)
    });
    let category = if info.night {
        0
    } else if info.holiday_like() {
        1
    } else {
        3
    };
    let mut counts: std::collections::HashMap<&str, f64> = Default::default();
    for a in &rota.assignments {
        if let Some(&i) = inst.shift_index.get(&a.shift)
            && touban_solver::soft::in_category(&inst.shifts[i], category)
        {
            *counts.entry(a.staff.as_str()).or_default() += 1.0;
        }
    }
    let candidates: Vec<Candidate> = touban_solver::explain::candidates(
        &inst,
        &rota.assignments,
        &history,
        &key,
        replacing.as_ref(),
    )
    .into_iter()
    .map(|b| {
        let (n, h) = load.get(&b.staff).copied().unwrap_or_default();
        let count = counts.get(b.staff.as_str()).copied().unwrap_or_default();
        let band = bands.get(b.staff.as_str()).and_then(|x| x[category]);
        Candidate {
            count,
            target: band.map(|b| b.label()),
            off: band.and_then(|b| b.off(count)),
            id: b.staff.to_string(),
            name: b.name,
            ok: b.rule.is_none(),
            reason: match b.rule {
                None => String::new(),
                Some(r) if me.lang == "en" => format!("rule {}: {}", r.number(), b.reason),
                Some(r) => format!("規則{}: {}", r.number(), b.reason_ja),
            },
            duties: n,
            hours: format!("{h:.0}"),
        }
    })
    .collect();
    let svc = &net.services[info.service];
    let t = svc.template(&key.template);
    let mut p = Page::signed_in(st, me).await;
    // htmx asks for the panel alone; without script it is a page.
    p.set("base", if htmx { "bare.html" } else { "layout.html" });
    p.set("month", month.to_string());
    p.set("version", rota.version);
    p.set("service", key.service.as_str());
    p.set("template", key.template.as_str());
    p.set("date", key.date.to_string());
    p.set(
        "title",
        format!(
            "{} {}（{}） {}–{}",
            i18n::date(key.date, me.lang),
            if me.lang == "en" {
                svc.name_en.clone().unwrap_or_else(|| svc.name.clone())
            } else {
                svc.name.clone()
            },
            t.map_or_else(|| key.template.to_string(), |t| t.name.clone()),
            info.shift.start.format("%H:%M"),
            info.shift.end.format("%H:%M"),
        ),
    );
    p.set("holders", holders);
    p.set("replacing", replacing.map(|s| s.to_string()));
    p.set("candidates", candidates);
    p.set(
        "category",
        match (category, me.lang == "en") {
            (0, false) => "夜間",
            (0, true) => "nights",
            (1, false) => "休日",
            (1, true) => "holidays",
            (_, false) => "当番",
            (_, true) => "duties",
        },
    );
    if let Some((vs, tried)) = refused {
        p.set(
            "violations",
            vs.iter()
                .map(|v| {
                    let who = v
                        .staff
                        .as_ref()
                        .map(|s| {
                            net.staff_member(s)
                                .map_or_else(|| s.to_string(), |p| p.name.clone())
                        })
                        .map(|n| format!("{n} "))
                        .unwrap_or_default();
                    if me.lang == "en" {
                        format!("rule {}: {who}{}", v.rule.number(), v.message)
                    } else {
                        format!("規則{}: {who}{}", v.rule.number(), v.message_ja)
                    }
                })
                .collect::<Vec<_>>(),
        );
        p.set("tried_add", tried.add);
        p.set("tried_remove", tried.remove);
    }
    render(st, "cell.html", p, status)
}

pub async fn cell(
    State(st): State<WebState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(m): Path<String>,
    Query(q): Query<CellQuery>,
) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let htmx = headers.contains_key("hx-request");
    cell_page(&st, &me, month, &q, None, (htmx, StatusCode::OK)).await
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    csrf: String,
    version: u32,
    service: String,
    template: String,
    date: chrono::NaiveDate,
    remove: Option<String>,
    add: Option<String>,
    override_reason: Option<String>,
}

pub(crate) fn go(headers: &HeaderMap, to: &str) -> Response {
    // htmx follows HX-Redirect; a plain form follows 303.
    if headers.contains_key("hx-request") {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

pub async fn edit(
    State(st): State<WebState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(m): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let blank = |s: Option<String>| s.filter(|x| !x.trim().is_empty());
    let change = Change {
        service: f.service.clone(),
        template: f.template.clone(),
        date: f.date,
        remove: blank(f.remove),
        add: blank(f.add),
        role: None,
    };
    let q = CellQuery {
        version: f.version,
        service: f.service,
        template: f.template,
        date: f.date,
    };
    let htmx = headers.contains_key("hx-request");
    let refused = (htmx, StatusCode::UNPROCESSABLE_ENTITY);
    if change.add.is_none() && change.remove.is_none() {
        return cell_page(&st, &me, month, &q, Some((Vec::new(), change)), refused).await;
    }
    let rota = match st.store.rota(&me.region, month, Some(f.version)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let reason = blank(f.override_reason);
    match touban_app::edit::apply(
        st.store.as_ref(),
        &me.region,
        month,
        &rota,
        std::slice::from_ref(&change),
        reason.as_deref(),
        &me.actor(),
    )
    .await
    {
        Ok((saved, _)) => go(
            &headers,
            &format!("/months/{month}?version={}", saved.version),
        ),
        Err(EditError::Violations(vs)) => {
            cell_page(&st, &me, month, &q, Some((vs, change)), refused).await
        }
        Err(EditError::Stale(_)) => message_in(
            &st,
            me.lang,
            (htmx, Some(month)),
            StatusCode::CONFLICT,
            (
                "ほかの人が先に変更しました",
                "Someone else changed it first",
            ),
            (
                "この版のあとに新しい版が保存されています。変更は保存されていません。月の表を開き直し、最新の版で変更してください。",
                "A newer version was saved after this one; your change was not saved. Reopen the month and make the change on the newest version.",
            ),
        ),
        Err(EditError::Invalid { detail, .. }) => {
            tracing::info!("web edit refused: {detail}");
            cell_page(&st, &me, month, &q, Some((Vec::new(), change)), refused).await
        }
        Err(EditError::Store(e)) => failure(&st, me.lang, &e.to_string()),
    }
}
