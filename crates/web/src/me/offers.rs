//! My cover offers (accept or decline in the app) and the swaps proposed
//! to me and by me.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use touban_domain::StaffId;

use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

use super::StaffIn;

#[derive(Debug, Deserialize)]
pub struct OffersQuery {
    /// Set after proposing a swap: says so at the top.
    swap: Option<i64>,
}

/// `GET /me/offers`: cover offers made to me (open ones with accept and
/// decline; answered ones with what became of them), and swaps. Nobody
/// else's.
pub async fn offers(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    axum::extract::Query(q): axum::extract::Query<OffersQuery>,
) -> Response {
    let said = q.swap.map(|_| {
        (
            true,
            i18n::pick(
                me.lang == "en",
                "交代を申し込みました。相手にメールとアプリで知らせました。",
                "Swap proposed: they have been told by e-mail and in the app.",
            )
            .to_string(),
        )
    });
    page_with(&st, &me, &id, said, StatusCode::OK).await
}

pub(super) async fn page_with(
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
    let (to_me, mine) = match super::swaps::lists(st, me, id, &net).await {
        Ok(x) => x,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let mut p = Page::signed_in(st, me).await;
    p.set("offers", items);
    p.set("swaps_to_me", to_me);
    p.set("my_swaps", mine);
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
    page_with(
        &st,
        &me,
        &id,
        Some((said.0, said.1.to_string())),
        StatusCode::OK,
    )
    .await
}
