//! Pinning a duty from the cell panel: 固定する / 固定を外す.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use touban_domain::{ServiceId, ShiftKey, StaffId, TemplateId};
use touban_store::StoreError;

use crate::WebState;
use crate::pages::{csrf_refused, failure, message, not_found, parse_month};
use crate::session::SignedIn;

#[derive(Debug, Deserialize)]
pub struct PinForm {
    csrf: String,
    version: u32,
    service: String,
    template: String,
    date: chrono::NaiveDate,
    staff: String,
    pinned: bool,
}

pub async fn pin(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Form(f): Form<PinForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let (Some(month), Ok(service), Ok(template), Ok(staff)) = (
        parse_month(&m),
        ServiceId::parse(&f.service),
        TemplateId::parse(&f.template),
        StaffId::parse(&f.staff),
    ) else {
        return not_found(&st, me.lang);
    };
    if !month.contains(f.date) {
        return not_found(&st, me.lang);
    }
    let shift = ShiftKey {
        service,
        template,
        date: f.date,
    };
    match touban_app::pins::set(
        st.store.as_ref(),
        &me.region,
        &staff,
        &shift,
        f.pinned,
        &me.actor(),
    )
    .await
    {
        Ok(changed) => {
            if changed {
                st.jobs.changed(&me.region);
            }
            Redirect::to(&format!(
                "/months/{month}/cell?version={}&service={}&template={}&date={}",
                f.version, shift.service, shift.template, shift.date
            ))
            .into_response()
        }
        Err(StoreError::NotFound(what)) => message(
            &st,
            me.lang,
            StatusCode::NOT_FOUND,
            ("固定できませんでした", "Not pinned"),
            (
                &format!("{what} が見つかりません。"),
                &format!("{what} was not found."),
            ),
        ),
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}
