//! The person page's smaller forms: remove an absence, add or withdraw a
//! request (requests live in the network file: the change is checked by
//! the file's reader and stored as an import is), and retire a person or
//! take them back. Each is audited (the network's history names the
//! coordinator); a refused form comes back with the message next to its
//! field and nothing stored.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use touban_domain::{Request, RequestKind, ServiceId};

use crate::fairness::{Refused, Shown, SmallForm, person_page};
use crate::pages::{csrf_refused, failure, not_found};
use crate::session::SignedIn;
use crate::{WebState, i18n};

/// Back to the person's page at the month it showed, saying it was saved.
fn back(id: &str, month: &str) -> Response {
    let month = crate::pages::parse_month(month)
        .map(|m| format!("&month={m}"))
        .unwrap_or_default();
    Redirect::to(&format!("/people/{id}?saved=1{month}")).into_response()
}

/// A date field (YYYY-MM-DD, as a date input sends it); or what to say
/// next to the field.
fn date_field(value: &str, en: bool) -> Result<NaiveDate, String> {
    let v = value.trim();
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        if v.is_empty() {
            i18n::pick(en, "日付を入れてください", "Enter a date").into()
        } else if en {
            format!("“{v}” is not a date (YYYY-MM-DD)")
        } else {
            format!("「{v}」は日付ではありません（例 2027-04-01）")
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct RemoveAbsence {
    csrf: String,
    #[serde(default)]
    month: String,
}

/// `POST /people/{id}/absences/{absence}/remove`.
pub async fn remove_absence(
    State(st): State<WebState>,
    me: SignedIn,
    Path((id, absence)): Path<(String, i64)>,
    Form(f): Form<RemoveAbsence>,
) -> Response {
    let (_, person) = match crate::staff_edit::posted_person_of(&st, &me, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    // Only this person's absence, in this region.
    match st.store.absences(&me.region).await {
        Ok(all)
            if all
                .iter()
                .any(|a| a.id == absence && a.absence.staff == person.id) => {}
        Ok(_) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    }
    match st
        .store
        .remove_absence(&me.region, absence, &me.actor())
        .await
    {
        Ok(_) => {
            st.jobs.changed(&me.region);
            back(&id, &f.month)
        }
        Err(touban_store::StoreError::NotFound(_)) => not_found(&st, me.lang),
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct RequestPosted {
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
}

/// Reads the request form; the request, or the form with its errors.
fn read_request(
    f: &RequestPosted,
    person: &touban_domain::StaffMember,
    net: &touban_domain::Network,
    en: bool,
) -> Result<Request, SmallForm> {
    let mut form = SmallForm::default();
    for (k, v) in [
        ("date", &f.date),
        ("kind", &f.kind),
        ("service", &f.service),
        ("weight", &f.weight),
    ] {
        form.values.insert(k, v.trim().to_string());
    }
    let date = match date_field(&f.date, en) {
        Ok(d) => Some(d),
        Err(e) => {
            form.errors.insert("date", e);
            None
        }
    };
    let kind = match f.kind.as_str() {
        "off" => Some(RequestKind::Off),
        "on" => Some(RequestKind::On),
        _ => {
            form.errors.insert(
                "kind",
                i18n::pick(en, "種類を選んでください", "Choose a kind").into(),
            );
            None
        }
    };
    let service = match f.service.trim() {
        "" => Some(None),
        s => match ServiceId::parse(s)
            .ok()
            .and_then(|id| net.service(&id))
            .filter(|svc| net.eligible(person, svc))
        {
            Some(svc) => Some(Some(svc.id.clone())),
            None => {
                form.errors.insert(
                    "service",
                    i18n::pick(
                        en,
                        "この人が担当できるサービスを選んでください",
                        "Choose a service this person may work",
                    )
                    .into(),
                );
                None
            }
        },
    };
    let weight = match f.weight.trim() {
        "" => Some(5),
        w => match w.parse::<i64>().map(Request::check_weight) {
            Ok(Ok(w)) => Some(w),
            _ => {
                form.errors.insert(
                    "weight",
                    i18n::pick(
                        en,
                        "1から10までの整数を入れてください",
                        "Enter a whole number from 1 to 10",
                    )
                    .into(),
                );
                None
            }
        },
    };
    match (date, kind, service, weight) {
        (Some(date), Some(kind), Some(service), Some(weight)) => Ok(Request {
            staff: person.id.clone(),
            date,
            kind,
            service,
            weight,
        }),
        _ => Err(form),
    }
}

/// Checks the changed network as its file (the same rules and messages as
/// `touban validate`) and stores it.
async fn store_network(
    st: &WebState,
    me: &SignedIn,
    net: &touban_domain::Network,
) -> Result<(), String> {
    let text = touban_netfile::write(net);
    let checked = touban_netfile::parse("network", &text).map_err(|problems| {
        problems
            .iter()
            .map(|p| match &p.field {
                Some(f) => format!("{}, {f}: {}", p.entry, p.message_in(me.lang)),
                None => format!("{}: {}", p.entry, p.message_in(me.lang)),
            })
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    st.store
        .import_network(&checked, &me.actor())
        .await
        .map_err(|e| e.to_string())?;
    st.jobs.changed(&me.region);
    Ok(())
}

/// The network as its file holds it and one of its people, after checking
/// the form's CSRF token; or the page to show instead.
async fn file_person(
    st: &WebState,
    me: &SignedIn,
    id: &str,
    csrf: &str,
) -> Result<(touban_domain::Network, touban_domain::StaffMember), Box<Response>> {
    if !me.csrf_ok(csrf) {
        return Err(Box::new(csrf_refused(st, me.lang)));
    }
    let net = touban_app::staff::file_network(st.store.as_ref(), &me.region)
        .await
        .map_err(|e| Box::new(failure(st, me.lang, &e.to_string())))?;
    let person = touban_domain::StaffId::parse(id)
        .ok()
        .and_then(|s| net.staff_member(&s).cloned())
        .ok_or_else(|| Box::new(not_found(st, me.lang)))?;
    Ok((net, person))
}

/// The person's page again with a refused form (422).
async fn refused_page(
    st: &WebState,
    me: &SignedIn,
    id: &str,
    shown: &Shown,
    refused: Refused,
) -> Response {
    let mut r = person_page(st, me, id, shown, refused).await;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

async fn refused_request(
    st: &WebState,
    me: &SignedIn,
    id: &str,
    month: &str,
    form: SmallForm,
) -> Response {
    let shown = Shown {
        version: None,
        saved: None,
        month: Some(month.to_string()).filter(|m| crate::pages::parse_month(m).is_some()),
    };
    let refused = Refused {
        request: Some(form),
        ..Refused::default()
    };
    refused_page(st, me, id, &shown, refused).await
}

/// `POST /people/{id}/requests`: adds a request.
pub async fn add_request(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RequestPosted>,
) -> Response {
    let (mut net, person) = match file_person(&st, &me, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let request = match read_request(&f, &person, &net, en) {
        Ok(r) => r,
        Err(form) => return refused_request(&st, &me, &id, &f.month, form).await,
    };
    let month = request.date.format("%Y-%m").to_string();
    if net
        .requests
        .iter()
        .any(|r| r.staff == request.staff && r.date == request.date && r.service == request.service)
    {
        let mut form = SmallForm::default();
        form.values.insert("date", f.date.trim().to_string());
        form.values.insert("kind", f.kind.clone());
        form.values.insert("service", f.service.clone());
        form.values.insert("weight", f.weight.clone());
        form.errors.insert(
            "date",
            i18n::pick(
                en,
                "この日（このサービス）の希望はもうあります。先に取り消してください",
                "There is a request for this day (and service) already: withdraw it first",
            )
            .into(),
        );
        return refused_request(&st, &me, &id, &month, form).await;
    }
    net.requests.push(request);
    match store_network(&st, &me, &net).await {
        Ok(()) => back(&id, &month),
        Err(e) => failure(&st, me.lang, &e),
    }
}

/// `POST /people/{id}/requests/remove`: withdraws a request (the one with
/// the date, kind, service and weight sent).
pub async fn remove_request(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RequestPosted>,
) -> Response {
    let (mut net, person) = match file_person(&st, &me, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Ok(wanted) = read_request(&f, &person, &net, me.lang == "en") else {
        return not_found(&st, me.lang);
    };
    let Some(at) = net.requests.iter().position(|r| r == &wanted) else {
        // Entered by the person (kept apart from the file), or withdrawn
        // already (another tab, another coordinator).
        let entered = match st.store.requests(&me.region).await {
            Ok(all) => all
                .into_iter()
                .find(|r| r.source == touban_store::AbsenceSource::Reported && r.request == wanted),
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        };
        if let Some(r) = entered {
            if let Err(e) = st
                .store
                .withdraw_request(&me.region, r.id, &me.actor())
                .await
            {
                return failure(&st, me.lang, &e.to_string());
            }
            st.jobs.changed(&me.region);
        }
        return back(&id, &f.month);
    };
    net.requests.remove(at);
    match store_network(&st, &me, &net).await {
        Ok(()) => back(&id, &f.month),
        Err(e) => failure(&st, me.lang, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RetirePosted {
    csrf: String,
    #[serde(default)]
    from: String,
    /// Take the person back (no retirement).
    #[serde(default)]
    undo: Option<String>,
}

/// `POST /people/{id}/retire`.
pub async fn retire(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RetirePosted>,
) -> Response {
    let (net, person) = match crate::staff_edit::posted_person_of(&st, &me, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let from = if f.undo.is_some() {
        None
    } else {
        match date_field(&f.from, en) {
            Ok(d) => Some(d),
            Err(e) => {
                let mut form = SmallForm::default();
                form.values.insert("from", f.from.trim().to_string());
                form.errors.insert("from", e);
                let refused = Refused {
                    retire: Some(form),
                    ..Refused::default()
                };
                return refused_page(&st, &me, &id, &Shown::default(), refused).await;
            }
        }
    };
    let repairs = match touban_app::staff::retire(
        st.store.as_ref(),
        &st.jobs,
        &me.region,
        &person.id,
        from,
        &me.actor(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let Some(from) = from else {
        return back(&id, "");
    };
    let period = format!("{} 〜", i18n::date(from, me.lang));
    crate::absences::done(&st, &me, &net, &person, &period, &repairs, true).await
}
