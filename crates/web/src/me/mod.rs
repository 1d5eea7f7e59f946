//! The staff's own pages (issue 16, phone first): my duties (here), my
//! calendar, my own absence, my requests for a month, my cover offers,
//! swapping or giving away a duty.
//! Staff see published versions only, and accepted cover as duties.

mod absence;
mod calendar;
mod history;
mod offers;
mod requests;
mod swaps;

pub use absence::{absence_form, report_absence};
pub use calendar::{calendar, new_feed, revoke_feed};
pub use offers::{answer_offer, offers};
pub use requests::{add_request, requests, save_requests, withdraw_request};
pub use swaps::{
    answer as answer_swap, describe, propose as propose_swap, respond, respond_page, swap_form,
    swap_status_words, withdraw as withdraw_swap,
};

use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use chrono::{Datelike, Utc};
use serde::Deserialize;
use touban_domain::{Month, StaffId};
use touban_solver::Instance;

use crate::pages::{Page, failure, not_found, render};
use crate::session::{SignInFirst, SignedIn, Who};
use crate::{WebState, i18n};

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct StaffIn(pub SignedIn, pub StaffId);

impl<S> FromRequestParts<S> for StaffIn
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SignInFirst> {
        let me = crate::session::verified(parts, state).await?;
        match me.who.clone() {
            Who::Staff(id) => Ok(Self(me, id)),
            _ => Err(SignInFirst::to("/")),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    pub(crate) month: Option<String>,
}

/// One duty as the page shows it.
#[derive(Debug, Clone, serde::Serialize)]
struct DutyLine {
    date: String,
    iso: String,
    time: String,
    service: String,
    template: String,
    place: Option<String>,
    backup: bool,
    night: bool,
    holiday: bool,
    with: Vec<String>,
    next: Vec<String>,
    cover: bool,
    /// The query naming this duty for "swap or give away" (a published
    /// duty that has not begun).
    swap: Option<String>,
}

/// `GET /me?month=M`: my duties.
pub async fn duties(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Query(q): Query<MonthQuery>,
) -> Response {
    let en = me.lang == "en";
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let Some(person) = net.staff_member(&id).cloned() else {
        return not_found(&st, me.lang);
    };
    let tz = net.region.time_zone;
    let now = Utc::now().with_timezone(&tz);
    let this_month = Month::new(now.year(), now.month()).expect("a real month");
    let month = match q.month.as_deref().map(Month::parse) {
        Some(Ok(m)) => m,
        Some(Err(_)) => return not_found(&st, me.lang),
        None => this_month,
    };
    // This month and the next, published, for "next duties"; the month
    // asked for, for the table.
    let mut upcoming: Vec<DutyLine> = Vec::new();
    let mut table: Vec<DutyLine> = Vec::new();
    let mut totals = (0usize, 0usize, 0usize, 0.0f64);
    let mut published_month = None;
    let mut loaded: std::collections::HashMap<Month, touban_domain::Rota> =
        std::collections::HashMap::new();
    let mut months = vec![this_month, this_month.next()];
    if !months.contains(&month) {
        months.push(month);
    }
    for m in months {
        let rota = match st.store.published_rota(&me.region, m).await {
            Ok(r) => r,
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        };
        let Some(rota) = rota else { continue };
        if m == month {
            published_month = Some(rota.version);
        }
        let rota = loaded.entry(m).or_insert(rota);
        let inst = Instance::shifts_only(&net, m);
        let name = |s: &StaffId| {
            net.staff_member(s)
                .map_or_else(|| s.to_string(), |p| p.name.clone())
        };
        for a in rota.assignments.iter().filter(|a| a.staff == id) {
            let Some(&si) = inst.shift_index.get(&a.shift) else {
                continue;
            };
            let info = &inst.shifts[si];
            let svc = inst.service(si);
            let s = info.shift.start.with_timezone(&tz);
            let e = info.shift.end.with_timezone(&tz);
            let with: Vec<String> = rota
                .assignments
                .iter()
                .filter(|b| b.shift == a.shift && b.staff != id)
                .map(|b| name(&b.staff))
                .collect();
            // Who takes over: the same service's shift starting as mine ends.
            let next: Vec<String> = inst
                .shifts
                .iter()
                .enumerate()
                .filter(|(_, x)| x.service == info.service && x.shift.start == info.shift.end)
                .flat_map(|(_, x)| {
                    let k = x.shift.key();
                    rota.assignments
                        .iter()
                        .filter(move |b| b.shift == k)
                        .map(|b| name(&b.staff))
                })
                .collect();
            let line = DutyLine {
                date: i18n::date(a.shift.date, me.lang),
                iso: a.shift.date.to_string(),
                time: format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                service: if en {
                    svc.name_en.clone().unwrap_or_else(|| svc.name.clone())
                } else {
                    svc.name.clone()
                },
                template: svc
                    .template(&a.shift.template)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                place: svc
                    .host
                    .as_ref()
                    .and_then(|h| net.institution(h))
                    .map(|i| i.name.clone()),
                backup: a.role == touban_domain::Role::Backup,
                night: info.night,
                holiday: info.holiday_like(),
                with,
                next,
                cover: false,
                swap: (info.shift.start > now.fixed_offset()).then(|| swaps::duty_query(&a.shift)),
            };
            if m == month {
                totals.0 += 1;
                totals.1 += usize::from(info.night);
                totals.2 += usize::from(info.holiday_like());
                if info.counts {
                    totals.3 += info.hours();
                }
            }
            if info.shift.end > now.fixed_offset() {
                upcoming.push(line.clone());
            }
            if m == month {
                table.push(line);
            }
        }
    }
    // Accepted cover is a duty too.
    let edge = |m: Month| {
        m.first_day()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.fixed_offset())
    };
    if let (Some(from), Some(to)) = (
        edge(this_month.min(month)),
        edge(month.max(this_month.next()).next()),
    ) {
        match touban_app::cover::accepted_covers(st.store.as_ref(), &net, from, to).await {
            Ok(covers) => {
                for (cid, d) in covers.into_iter().filter(|(_, d)| d.staff == id) {
                    let place = match st.store.cover(cid).await {
                        Ok(c) => net
                            .institution(&c.request.institution)
                            .map(|i| i.name.clone()),
                        Err(_) => None,
                    };
                    let s = d.start.with_timezone(&tz);
                    let e = d.end.with_timezone(&tz);
                    let line = DutyLine {
                        date: i18n::date(d.date, me.lang),
                        iso: d.date.to_string(),
                        time: format!("{}–{}", s.format("%H:%M"), e.format("%H:%M")),
                        service: i18n::pick(en, "応援（代診）", "Cover").into(),
                        template: String::new(),
                        place,
                        backup: false,
                        night: d.night,
                        holiday: false,
                        with: Vec::new(),
                        next: Vec::new(),
                        cover: true,
                        swap: None,
                    };
                    if d.end > now.fixed_offset() {
                        upcoming.push(line.clone());
                    }
                    if month.contains(d.date) {
                        table.push(line);
                    }
                }
            }
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        }
    }
    upcoming.sort_by(|a, b| (&a.iso, &a.time).cmp(&(&b.iso, &b.time)));
    upcoming.truncate(5);
    table.sort_by(|a, b| (&a.iso, &a.time).cmp(&(&b.iso, &b.time)));
    let year = match history::year_hours(st.store.as_ref(), &net, &id, month, &loaded).await {
        Ok(h) => h,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let changes =
        match history::changes(st.store.as_ref(), &me.region, &net, &id, month, me.lang).await {
            Ok(c) => c,
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        };
    let mut p = Page::signed_in(&st, &me).await;
    p.set("changes", changes);
    p.set(
        "person",
        serde_json::json!({"name": person.name, "id": person.id.to_string()}),
    );
    p.set("upcoming", upcoming);
    p.set("duties", table);
    p.set("version", published_month);
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("prev", month.prev().to_string());
    p.set("next", month.next().to_string());
    p.set(
        "totals",
        serde_json::json!({
            "duties": totals.0, "nights": totals.1, "holidays": totals.2,
            "hours": format!("{:.1}", totals.3),
            "cap": person.labour.monthly_cap_hours(),
            "max_nights": person.labour.max_nights_per_month,
            "year": format!("{year:.1}"),
            "year_cap": person.labour.regime.annual_overtime_cap_hours(),
        }),
    );
    render(&st, "me.html", p, StatusCode::OK)
}
