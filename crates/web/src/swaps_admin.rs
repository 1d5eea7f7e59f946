//! The coordinators' view of swaps (issue 16 item 6): proposals waiting
//! for a colleague or for approval, with approve and refuse; the last
//! ones settled.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use touban_store::SwapStatus;

use crate::WebState;
use crate::me::{describe, swap_status_words};
use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;

/// `GET /swaps`.
pub async fn page(State(st): State<WebState>, me: SignedIn) -> Response {
    show(&st, &me, None, StatusCode::OK).await
}

async fn show(
    st: &WebState,
    me: &SignedIn,
    message: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let en = me.lang == "en";
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let all = match st.store.swaps(&me.region).await {
        Ok(s) => s,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let name = |s: &touban_domain::StaffId| {
        net.staff_member(s)
            .map_or_else(|| s.to_string(), |p| p.name.clone())
    };
    let line = |s: &touban_store::Swap| {
        serde_json::json!({
            "id": s.id,
            "accepted": s.status == SwapStatus::Accepted,
            "open": s.status.is_open(),
            "from": name(&s.from_staff),
            "to": name(&s.to_staff),
            "give": describe(&net, &s.give, me.lang),
            "take": s.take.as_ref().map(|t| describe(&net, t, me.lang)),
            "note": s.note,
            "status": swap_status_words(s, en),
        })
    };
    let open: Vec<_> = all
        .iter()
        .filter(|s| s.status.is_open())
        .map(line)
        .collect();
    let done: Vec<_> = all
        .iter()
        .rev()
        .filter(|s| !s.status.is_open())
        .take(20)
        .map(line)
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("open", open);
    p.set("done", done);
    p.set(
        "message",
        message.map(|(ok, text)| serde_json::json!({"ok": ok, "text": text})),
    );
    p.set("auto", net.policy.auto_approve_swaps);
    render(st, "swaps.html", p, status)
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /swaps/{id}/approve`: a new published version with the swap.
pub async fn approve(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    decide(&st, &me, id, &f, true).await
}

/// `POST /swaps/{id}/refuse`: with a reason, told to both.
pub async fn refuse(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    decide(&st, &me, id, &f, false).await
}

async fn decide(st: &WebState, me: &SignedIn, id: i64, f: &DecideForm, approve: bool) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(st, me.lang);
    }
    let en = me.lang == "en";
    match st.store.swap(id).await {
        Ok(s) if s.region == me.region => {}
        Ok(_) | Err(touban_store::StoreError::NotFound(_)) => return not_found(st, me.lang),
        Err(e) => return failure(st, me.lang, &e.to_string()),
    }
    let done = if approve {
        touban_app::swaps::approve(st.store.as_ref(), id, &me.actor()).await
    } else {
        touban_app::swaps::refuse(st.store.as_ref(), id, &f.reason, &me.actor()).await
    };
    st.jobs.changed(&me.region);
    match done {
        Ok(s) => {
            let ok = matches!(s.status, SwapStatus::Approved | SwapStatus::Refused);
            let text = format!("#{}: {}", s.id, swap_status_words(&s, en));
            show(
                st,
                me,
                Some((ok, text)),
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::CONFLICT
                },
            )
            .await
        }
        Err(touban_app::AppError::Invalid { detail, .. }) => {
            show(
                st,
                me,
                Some((false, detail)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure(st, me.lang, &e.to_string()),
    }
}
