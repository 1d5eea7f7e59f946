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
    requests_page(
        &st,
        &me,
        &id,
        q.month.as_deref(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

async fn requests_page(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    month: Option<&str>,
    message: Option<(bool, String)>,
    detail: Option<DetailForm>,
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
    // Every request of mine this month, with its service and weight; the
    // ones I entered can be withdrawn while the month is open.
    let stored = match st.store.requests(&me.region).await {
        Ok(r) => r,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let en = me.lang == "en";
    let person = net.staff_member(id);
    p.set(
        "mine",
        stored
            .iter()
            .filter(|r| &r.request.staff == id && month.contains(r.request.date))
            .map(|r| {
                let q = &r.request;
                serde_json::json!({
                    "id": r.id,
                    "date": i18n::date(q.date, me.lang),
                    "off": q.kind == touban_domain::RequestKind::Off,
                    "service": q.service.as_ref().map(|s| net.service(s).map_or_else(|| s.to_string(), |x| if en { x.name_en.clone().unwrap_or_else(|| x.name.clone()) } else { x.name.clone() })),
                    "weight": q.weight,
                    "entered": r.source == touban_store::AbsenceSource::Reported,
                })
            })
            .collect::<Vec<_>>(),
    );
    p.set(
        "services",
        net.services
            .iter()
            .filter(|s| person.is_some_and(|p| net.eligible(p, s)))
            .map(|s| serde_json::json!({"id": s.id.as_str(), "name": if en { s.name_en.clone().unwrap_or_else(|| s.name.clone()) } else { s.name.clone() }}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "day_choices",
        month
            .days()
            .map(|d| serde_json::json!({"iso": d.to_string(), "label": i18n::date(d, me.lang)}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "refused",
        detail.as_ref().is_some_and(|d| !d.errors.is_empty()),
    );
    p.set("detail", detail.unwrap_or_default());
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
            requests_page(
                &st,
                &me,
                &id,
                Some(&m),
                Some((true, text)),
                None,
                StatusCode::OK,
            )
            .await
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
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

/// The form for one request with its service and weight, kept to be shown
/// again with its errors.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct DetailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    weight: String,
    #[serde(skip_deserializing)]
    errors: std::collections::BTreeMap<&'static str, String>,
}

/// `POST /me/requests/add`: one request, for one service or all, with a
/// weight; refused next to the field when wrong or after the deadline.
pub async fn add_request(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(mut f): Form<DetailForm>,
) -> Response {
    let net = match crate::pages::posted_network(&st, &me, &f.csrf).await {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let date = chrono::NaiveDate::parse_from_str(&f.date, "%Y-%m-%d").ok();
    if date.is_none() {
        f.errors.insert(
            "date",
            i18n::pick(en, "日付を選んでください", "Choose a day").into(),
        );
    }
    let kind = match f.kind.as_str() {
        "off" => Some(touban_domain::RequestKind::Off),
        "on" => Some(touban_domain::RequestKind::On),
        _ => {
            f.errors.insert(
                "kind",
                i18n::pick(en, "希望を選んでください", "Choose a wish").into(),
            );
            None
        }
    };
    let service = if f.service.is_empty() {
        Some(None)
    } else {
        touban_domain::ServiceId::parse(&f.service).ok().map(Some)
    };
    let weight = f
        .weight
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|w| touban_domain::Request::check_weight(w).ok());
    if weight.is_none() {
        f.errors.insert(
            "weight",
            i18n::pick(
                en,
                "重みは1から10の数にしてください",
                "The weight is a number from 1 to 10",
            )
            .into(),
        );
    }
    let month = f.month.clone();
    if let (Some(date), Some(kind), Some(service), Some(weight)) = (date, kind, service, weight)
        && f.errors.is_empty()
    {
        let request = touban_domain::Request {
            staff: id.clone(),
            date,
            kind,
            service,
            weight,
        };
        let now = Utc::now()
            .with_timezone(&net.region.time_zone)
            .fixed_offset();
        match touban_app::requests::add(
            st.store.as_ref(),
            &net,
            touban_app::requests::By::Staff(&id),
            &request,
            now,
            &me.actor(),
        )
        .await
        {
            Ok(_) => {
                st.jobs.changed(&me.region);
                let text = i18n::pick(en, "追加しました。", "Added.").to_string();
                return requests_page(
                    &st,
                    &me,
                    &id,
                    Some(&month),
                    Some((true, text)),
                    None,
                    StatusCode::OK,
                )
                .await;
            }
            Err(touban_app::AppError::Invalid { field, detail }) => {
                let at = match field.as_str() {
                    "/service" => "service",
                    "/weight" => "weight",
                    _ => "date",
                };
                let said = if en {
                    detail
                } else if detail.contains("closed") {
                    "この月の希望の受付は締め切られました".into()
                } else if detail.contains("already has a request") {
                    "この日（このサービス）の希望はもうあります。先に取り消してください".into()
                } else if at == "service" {
                    "このサービスの当番には入れません".into()
                } else {
                    detail
                };
                f.errors.insert(at, said);
            }
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        }
    }
    requests_page(
        &st,
        &me,
        &id,
        Some(&month),
        None,
        Some(f),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct WithdrawForm {
    csrf: String,
    month: String,
}

/// `POST /me/requests/{id}/withdraw`: one of mine, while the month is open.
pub async fn withdraw_request(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    axum::extract::Path(rid): axum::extract::Path<i64>,
    Form(f): Form<WithdrawForm>,
) -> Response {
    let net = match crate::pages::posted_network(&st, &me, &f.csrf).await {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let now = Utc::now()
        .with_timezone(&net.region.time_zone)
        .fixed_offset();
    let said = match touban_app::requests::withdraw(st.store.as_ref(), &net, touban_app::requests::By::Staff(&id), rid, now, &me.actor()).await {
        Ok(()) => {
            st.jobs.changed(&me.region);
            (true, i18n::pick(en, "取り消しました。", "Withdrawn.").to_string())
        }
        Err(touban_app::AppError::NotFound(_)) => return not_found(&st, me.lang),
        Err(touban_app::AppError::Invalid { .. }) => (
            false,
            i18n::pick(en, "締め切り後やネットワークファイルの希望は、ここでは取り消せません。コーディネーターに連絡してください。", "After the deadline, or for a request in the network file, ask the coordinator.").to_string(),
        ),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    requests_page(
        &st,
        &me,
        &id,
        Some(&f.month),
        Some(said),
        None,
        StatusCode::OK,
    )
    .await
}
