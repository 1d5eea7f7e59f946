//! My calendar: a personal feed address (shown once, with a QR code and how to
//! add it), the addresses in use, each revocable.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use touban_domain::StaffId;
use touban_store::Grant;

use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

use super::StaffIn;

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
