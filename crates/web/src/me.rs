//! The staff's own pages (issue 16, phone first): my duties — the next
//! ones first, with who else is on and who takes over after, then the
//! month with hours, nights and holidays against the caps — and my
//! calendar (a personal feed address, its QR code, how to add it, revoke).
//! Staff see published versions only, and accepted cover as duties.

use axum::Form;
use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use serde::Deserialize;
use touban_domain::{Month, StaffId};
use touban_solver::Instance;
use touban_store::Grant;

use crate::pages::{Page, csrf_refused, failure, not_found, render};
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
    month: Option<String>,
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
    let mut p = Page::signed_in(&st, &me).await;
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
        }),
    );
    render(&st, "me.html", p, StatusCode::OK)
}

/// `GET /me/calendar`: the feeds I have (not their secrets) and how to add
/// one to a phone's calendar.
pub async fn calendar(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Query(q): Query<Revoked>,
) -> Response {
    calendar_page(&st, &me, &id, None, q.revoked.is_some()).await
}

#[derive(Debug, Deserialize)]
pub struct Revoked {
    revoked: Option<String>,
}

async fn calendar_page(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    new_url: Option<String>,
    revoked: bool,
) -> Response {
    let feeds = match st.store.credentials(Some(&me.region)).await {
        Ok(c) => c,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let tz = match st.store.load_network(&me.region).await {
        Ok(n) => n.region.time_zone,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let mine: Vec<serde_json::Value> = feeds
        .iter()
        .filter(|c| matches!(&c.grant, Grant::StaffFeed { staff, .. } if staff == id))
        .filter(|c| c.revoked_at.is_none())
        .map(|c| {
            let at = c.created_at.with_timezone(&tz);
            serde_json::json!({
                "id": c.id,
                "created": format!("{} {}", i18n::date(at.date_naive(), me.lang), at.format("%H:%M")),
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("feeds", mine);
    p.set("revoked", revoked);
    if let Some(url) = new_url {
        let qr = qrcode::QrCode::new(url.as_bytes())
            .map(|q| {
                q.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(180, 180)
                    .build()
            })
            .ok();
        p.set(
            "qr",
            qr.map(|svg| {
                format!(
                    "data:image/svg+xml;base64,{}",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, svg)
                )
            }),
        );
        p.set(
            "webcal",
            url.replacen("https://", "webcal://", 1)
                .replacen("http://", "webcal://", 1),
        );
        p.set("new_url", url);
    }
    render(st, "me_calendar.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /me/calendar/new`: a new feed address, shown once.
pub async fn new_feed(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let issued = match touban_app::tokens::issue(
        Grant::StaffFeed {
            region: me.region.clone(),
            staff: id.clone(),
        },
        &format!("feed of {id}"),
        &me.actor(),
    ) {
        Ok(i) => i,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    if let Err(e) = st.store.create_credential(&issued.credential).await {
        return failure(&st, me.lang, &e.to_string());
    }
    let url = format!("{}/api/v1/feeds/{}.ics", st.public_url, issued.token);
    calendar_page(&st, &me, &id, Some(url), false).await
}

/// `POST /me/calendar/{id}/revoke`: the address stops working.
pub async fn revoke_feed(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Path(feed): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    // Only my own feed.
    match st.store.credential(&feed).await {
        Ok(c) if matches!(&c.grant, Grant::StaffFeed { staff, .. } if *staff == id) => {}
        _ => return not_found(&st, me.lang),
    }
    if let Err(e) = st.store.revoke_credential(&feed, &me.actor()).await {
        return failure(&st, me.lang, &e.to_string());
    }
    Redirect::to("/me/calendar?revoked=1").into_response()
}

/// `GET /me/absence`: the form to report my own absence.
pub async fn absence_form(State(st): State<WebState>, StaffIn(me, _): StaffIn) -> Response {
    absence_page(&st, &me, None, StatusCode::OK).await
}

async fn absence_page(
    st: &WebState,
    me: &SignedIn,
    refused: Option<crate::fairness::AbsenceForm>,
    status: StatusCode,
) -> Response {
    let mut p = Page::signed_in(st, me).await;
    p.set("kinds", crate::absences::kinds(me.lang == "en"));
    p.set("refused", refused.is_some());
    p.set("absence", refused.unwrap_or_default());
    render(st, "me_absence.html", p, status)
}

/// `POST /me/absence`: reported like a clinic's report (the rota is
/// repaired); the page says how many of my duties change and whether the
/// new rota is published, never who replaces me before it is.
pub async fn report_absence(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(f): Form<crate::absences::Posted>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let absence = match crate::absences::read(&f, Some(&id), net.region.time_zone, en) {
        Ok(a) => a,
        Err(refused) => {
            let (form, _) = *refused;
            return absence_page(&st, &me, Some(form), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let reported = match touban_app::absences::report(
        st.store.as_ref(),
        &st.jobs,
        &me.region,
        &absence,
        &me.actor(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let affected: usize = reported
        .repairs
        .iter()
        .flat_map(|r| &r.changes)
        .filter(|c| c.before.contains(&id))
        .count();
    let tz = net.region.time_zone;
    let mut p = Page::signed_in(&st, &me).await;
    p.set("done", true);
    p.set(
        "period",
        format!(
            "{} 〜 {}",
            i18n::date(absence.start.with_timezone(&tz).date_naive(), me.lang),
            i18n::date(
                (absence.end - chrono::Duration::seconds(1))
                    .with_timezone(&tz)
                    .date_naive(),
                me.lang
            )
        ),
    );
    p.set("affected", affected);
    p.set(
        "published",
        !reported.repairs.is_empty() && reported.repairs.iter().all(|r| r.published),
    );
    render(&st, "me_absence.html", p, StatusCode::OK)
}

/// `GET /me/requests?month=M` (default: next month): a day per line with
/// "please not" / "I would like", open until the deadline, then read-only.
pub async fn requests(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Query(q): Query<MonthQuery>,
) -> Response {
    requests_page(&st, &me, &id, q.month.as_deref(), None, StatusCode::OK).await
}

async fn requests_page(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    month: Option<&str>,
    message: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let tz = net.region.time_zone;
    let now = Utc::now().with_timezone(&tz);
    let month = match month.map(Month::parse) {
        Some(Ok(m)) => m,
        Some(Err(_)) => return not_found(st, me.lang),
        None => Month::new(now.year(), now.month())
            .expect("a real month")
            .next(),
    };
    let open = touban_app::requests::open(&net, month, now.fixed_offset());
    let closes = touban_app::requests::closes_at(&net, month).map(|t| {
        let last = (t - chrono::Duration::seconds(1)).with_timezone(&tz);
        format!(
            "{} {}",
            i18n::date(last.date_naive(), me.lang),
            last.format("%H:%M")
        )
    });
    let cal = touban_calendar::Calendar::for_region(&net.region);
    let mine: Vec<&touban_domain::Request> = net
        .requests
        .iter()
        .filter(|r| &r.staff == id && month.contains(r.date))
        .collect();
    let days: Vec<serde_json::Value> = month
        .days()
        .map(|d| {
            let wish = mine
                .iter()
                .find(|r| r.date == d && r.service.is_none())
                .map_or("", |r| match r.kind {
                    touban_domain::RequestKind::Off => "off",
                    touban_domain::RequestKind::On => "on",
                });
            let other = mine.iter().any(|r| r.date == d && r.service.is_some());
            serde_json::json!({
                "iso": d.to_string(),
                "label": i18n::date(d, me.lang),
                "off_day": cal.day_off(d).map(|x| x.name),
                "weekend": d.weekday().number_from_monday() >= 6,
                "wish": wish,
                "other": other,
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("prev", month.prev().to_string());
    p.set("next", month.next().to_string());
    p.set("open", open);
    p.set("closes", closes);
    p.set("days", days);
    p.set(
        "message",
        message.map(|(ok, text)| serde_json::json!({"ok": ok, "text": text})),
    );
    render(st, "me_requests.html", p, status)
}

/// `POST /me/requests`: the month's wishes, one field per day
/// (`d-YYYY-MM-DD` = "", "off" or "on"); refused after the deadline.
pub async fn save_requests(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if !me.csrf_ok(field("csrf").unwrap_or_default()) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    let Some(month) = field("month").and_then(|m| Month::parse(m).ok()) else {
        return not_found(&st, me.lang);
    };
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let mut wishes = Vec::new();
    for (name, value) in &f {
        let Some(day) = name.strip_prefix("d-") else {
            continue;
        };
        let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            return not_found(&st, me.lang);
        };
        let wish = match value.as_str() {
            "off" => touban_app::requests::Wish::Off,
            "on" => touban_app::requests::Wish::On,
            _ => touban_app::requests::Wish::None,
        };
        wishes.push((date, wish));
    }
    let now = Utc::now()
        .with_timezone(&net.region.time_zone)
        .fixed_offset();
    let m = month.to_string();
    match touban_app::requests::set_month(
        st.store.as_ref(),
        &net,
        &id,
        month,
        &wishes,
        now,
        &me.actor(),
    )
    .await
    {
        Ok(_) => {
            st.jobs.changed(&me.region);
            let text = i18n::pick(en, "保存しました。", "Saved.").to_string();
            requests_page(&st, &me, &id, Some(&m), Some((true, text)), StatusCode::OK).await
        }
        Err(touban_app::AppError::Invalid { .. }) => {
            let text = i18n::pick(
                en,
                "この月の希望の受付は締め切られました。変更はコーディネーターに連絡してください。",
                "Requests for this month are closed; ask the coordinator for changes.",
            )
            .to_string();
            requests_page(
                &st,
                &me,
                &id,
                Some(&m),
                Some((false, text)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

/// `GET /me/offers`: cover offers made to me (open ones with accept and
/// decline; answered ones with what became of them). Nobody else's.
pub async fn offers(State(st): State<WebState>, StaffIn(me, id): StaffIn) -> Response {
    offers_page(&st, &me, &id, None, StatusCode::OK).await
}

async fn offers_page(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    message: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let tz = net.region.time_zone;
    let en = me.lang == "en";
    let mut items = Vec::new();
    let mut after = 0;
    loop {
        let batch = match st.store.covers(&me.region, after, 200).await {
            Ok(b) => b,
            Err(e) => return failure(st, me.lang, &e.to_string()),
        };
        let n = batch.len();
        for c in batch {
            after = c.id;
            for o in c.offers.iter().filter(|o| &o.staff == id) {
                if o.status == touban_store::OfferStatus::Waiting {
                    continue;
                }
                let s = c.request.start.with_timezone(&tz);
                let e = c.request.end.with_timezone(&tz);
                let inst = net.institution(&c.request.institution);
                items.push(serde_json::json!({
                    "id": o.id,
                    "open": o.status == touban_store::OfferStatus::Offered,
                    "status": match (o.status, en) {
                        (touban_store::OfferStatus::Accepted, false) => "引き受けました",
                        (touban_store::OfferStatus::Declined, false) => "お断りしました",
                        (touban_store::OfferStatus::Taken, false) => "ほかの人が引き受けました",
                        (touban_store::OfferStatus::Withdrawn, false) => "取り下げられました",
                        (touban_store::OfferStatus::Accepted, true) => "accepted",
                        (touban_store::OfferStatus::Declined, true) => "declined",
                        (touban_store::OfferStatus::Taken, true) => "taken by someone else",
                        (touban_store::OfferStatus::Withdrawn, true) => "withdrawn",
                        _ => "",
                    },
                    "when": format!("{} {}–{} {}", i18n::date(s.date_naive(), me.lang), s.format("%H:%M"),
                        if e.date_naive() == s.date_naive() { String::new() } else { i18n::date(e.date_naive(), me.lang) },
                        e.format("%H:%M")),
                    "institution": inst.map(|i| i.name.clone()),
                    "address": inst.and_then(|i| i.address.clone()),
                    "phone": inst.and_then(|i| i.phone.as_ref()).map(ToString::to_string),
                    "note": c.request.note,
                }));
            }
        }
        if n < 200 {
            break;
        }
    }
    items.reverse();
    let mut p = Page::signed_in(st, me).await;
    p.set("offers", items);
    p.set(
        "message",
        message.map(|(ok, text)| serde_json::json!({"ok": ok, "text": text})),
    );
    render(st, "me_offers.html", p, status)
}

#[derive(Debug, Deserialize)]
pub struct Answer {
    csrf: String,
    /// `accept` or `decline`.
    answer: String,
}

/// `POST /me/offers/{id}`: accept or decline one of my offers.
pub async fn answer_offer(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Path(offer): Path<i64>,
    Form(f): Form<Answer>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    // Only my own offer.
    match st.store.offer_request(offer).await {
        Ok(c) if c.offers.iter().any(|o| o.id == offer && o.staff == id) => {}
        Ok(_) | Err(touban_store::StoreError::NotFound(_)) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    }
    let accept = f.answer == "accept";
    let said = match touban_app::cover::answer(st.store.as_ref(), offer, accept, &me.actor()).await
    {
        Ok(touban_store::OfferAnswer::Accepted) => (
            true,
            i18n::pick(
                en,
                "引き受けました。私の当番とカレンダーに入ります。",
                "Accepted: it is in your duties and your calendar.",
            ),
        ),
        Ok(touban_store::OfferAnswer::AlreadyTaken) => (
            false,
            i18n::pick(
                en,
                "ほかの人が先に引き受けました。ありがとうございました。",
                "Someone else accepted first. Thank you.",
            ),
        ),
        Ok(touban_store::OfferAnswer::Declined { .. }) => {
            (true, i18n::pick(en, "お断りしました。", "Declined."))
        }
        Err(touban_app::AppError::Store(touban_store::StoreError::Conflict(_))) => (
            false,
            i18n::pick(
                en,
                "今の当番と重なるか、休息・時間の上限を超えるため引き受けられません。何も変更していません。お断りしてください。",
                "You cannot take it now (it overlaps a duty, or breaks rest or the hour cap). Nothing changed: please decline it.",
            ),
        ),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    st.jobs.changed(&me.region);
    offers_page(
        &st,
        &me,
        &id,
        Some((said.0, said.1.to_string())),
        StatusCode::OK,
    )
    .await
}
