//! My requests for a month: a day per line, open until the region's deadline.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Utc};
use touban_domain::{Month, StaffId};

use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

use super::{MonthQuery, StaffIn};

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
