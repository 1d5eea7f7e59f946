//! Swapping or giving away one of my duties (issue 16 item 6): the
//! colleagues a swap keeps every hard rule for (with the duty of theirs I
//! would take) and those who could take mine outright; proposing one;
//! answering a proposal made to me; withdrawing my own. The e-mailed
//! signed link answers without signing in.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use touban_domain::{Network, ServiceId, ShiftKey, StaffId, TemplateId};
use touban_store::{Swap, SwapStatus};

use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

use super::StaffIn;

/// A duty said for people: date, time, service and shift.
pub fn describe(net: &Network, k: &ShiftKey, lang: &str) -> String {
    let en = lang == "en";
    let svc = net.service(&k.service);
    let t = svc.and_then(|s| s.template(&k.template));
    format!(
        "{} {} {}{}",
        i18n::date(k.date, lang),
        t.map(|t| format!("{}–{}", t.start, t.end))
            .unwrap_or_default(),
        svc.map_or_else(
            || k.service.to_string(),
            |s| if en {
                s.name_en.clone().unwrap_or_else(|| s.name.clone())
            } else {
                s.name.clone()
            }
        ),
        t.map(|t| format!(
            " · {}",
            if en {
                t.name_en.clone().unwrap_or_else(|| t.name.clone())
            } else {
                t.name.clone()
            }
        ))
        .unwrap_or_default(),
    )
}

fn name(net: &Network, s: &StaffId) -> String {
    net.staff_member(s)
        .map_or_else(|| s.to_string(), |p| p.name.clone())
}

/// A duty named in a query or a form.
#[derive(Debug, Deserialize)]
pub struct DutyQuery {
    service: String,
    template: String,
    date: String,
}

impl DutyQuery {
    fn key(&self) -> Option<ShiftKey> {
        Some(ShiftKey {
            service: ServiceId::parse(&self.service).ok()?,
            template: TemplateId::parse(&self.template).ok()?,
            date: NaiveDate::parse_from_str(&self.date, "%Y-%m-%d").ok()?,
        })
    }
}

/// The query string of a duty, for links.
pub fn duty_query(k: &ShiftKey) -> String {
    format!(
        "service={}&template={}&date={}",
        k.service, k.template, k.date
    )
}

/// `GET /me/swap?service=&template=&date=`: who my duty can go to.
pub async fn swap_form(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Query(q): Query<DutyQuery>,
) -> Response {
    let Some(give) = q.key() else {
        return not_found(&st, me.lang);
    };
    swap_page(&st, &me, &id, &give, None, StatusCode::OK).await
}

async fn swap_page(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    give: &ShiftKey,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let mut p = Page::signed_in(st, me).await;
    p.set("give", describe(&net, give, me.lang));
    p.set("give_key", serde_json::json!({"service": give.service.as_str(), "template": give.template.as_str(), "date": give.date.to_string()}));
    match touban_app::swaps::partners(st.store.as_ref(), &me.region, id, give).await {
        Ok(found) => {
            p.set(
                "swaps",
                found
                    .swaps
                    .iter()
                    .filter_map(|x| {
                        let t = x.take.as_ref()?;
                        Some(serde_json::json!({
                            "value": format!("{}|{}|{}|{}", x.colleague, t.service, t.template, t.date),
                            "name": name(&net, &x.colleague),
                            "duty": describe(&net, t, me.lang),
                        }))
                    })
                    .collect::<Vec<_>>(),
            );
            p.set(
                "takers",
                found
                    .takers
                    .iter()
                    .map(|x| serde_json::json!({"value": x.colleague.to_string(), "name": name(&net, &x.colleague)}))
                    .collect::<Vec<_>>(),
            );
        }
        Err(touban_app::AppError::Invalid { detail, .. }) => p.set("refused", detail),
        Err(touban_app::AppError::NotFound(_)) => return not_found(st, me.lang),
        Err(e) => return failure(st, me.lang, &e.to_string()),
    }
    p.set("error", error);
    render(st, "me_swap.html", p, status)
}

#[derive(Debug, Deserialize)]
pub struct ProposeForm {
    csrf: String,
    service: String,
    template: String,
    date: String,
    /// `colleague|service|template|date` for a swap, `colleague` for a
    /// give-away.
    #[serde(default)]
    choice: String,
    #[serde(default)]
    note: String,
}

/// `POST /me/swap`: proposes the swap or give-away chosen.
pub async fn propose(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(f): Form<ProposeForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    let Some(give) = (DutyQuery {
        service: f.service,
        template: f.template,
        date: f.date,
    })
    .key() else {
        return not_found(&st, me.lang);
    };
    let mut parts = f.choice.split('|');
    let to = parts.next().and_then(|s| StaffId::parse(s).ok());
    let rest: Vec<&str> = parts.collect();
    let take = match rest.as_slice() {
        [] => None,
        [s, t, d] => (DutyQuery {
            service: (*s).into(),
            template: (*t).into(),
            date: (*d).into(),
        })
        .key(),
        _ => None,
    };
    let Some(to) = to.filter(|_| rest.is_empty() || take.is_some()) else {
        let msg =
            i18n::pick(en, "交代の相手を選んでください", "Choose whom to swap with").to_string();
        return swap_page(
            &st,
            &me,
            &id,
            &give,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let note = Some(f.note.trim().to_string()).filter(|n| !n.is_empty());
    match touban_app::swaps::propose(
        st.store.as_ref(),
        &me.region,
        touban_app::swaps::Proposal {
            me: &id,
            give: &give,
            to: &to,
            take: take.as_ref(),
            note,
        },
        &me.actor(),
    )
    .await
    {
        Ok(s) => Redirect::to(&format!("/me/offers?swap={}", s.id)).into_response(),
        Err(
            touban_app::AppError::Invalid { detail, .. }
            | touban_app::AppError::Store(touban_store::StoreError::Conflict(detail)),
        ) => {
            swap_page(
                &st,
                &me,
                &id,
                &give,
                Some(detail),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

/// What a proposal's state means, for either side.
pub fn swap_status_words(s: &Swap, en: bool) -> String {
    let base = match s.status {
        SwapStatus::Proposed => i18n::pick(en, "相手の返事待ち", "waiting for the colleague"),
        SwapStatus::Accepted => i18n::pick(
            en,
            "承諾済み・コーディネーターの承認待ち",
            "accepted; waiting for the coordinator",
        ),
        SwapStatus::Approved => i18n::pick(
            en,
            "承認され、当番表に反映しました",
            "approved and in the rota",
        ),
        SwapStatus::Declined => i18n::pick(en, "お断りされました", "declined"),
        SwapStatus::Refused => i18n::pick(
            en,
            "コーディネーターが認めませんでした",
            "refused by the coordinator",
        ),
        SwapStatus::Withdrawn => i18n::pick(en, "取り下げ", "withdrawn"),
    };
    match (&s.reason, s.result_version) {
        (Some(r), _) => format!("{base}（{r}）"),
        (None, Some(v)) if !en => format!("{base}（第{v}版）"),
        (None, Some(v)) => format!("{base} (version {v})"),
        _ => base.to_string(),
    }
}

/// The proposals to me and mine, for "my offers".
pub async fn lists(
    st: &WebState,
    me: &SignedIn,
    id: &StaffId,
    net: &Network,
) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>), touban_store::StoreError> {
    let en = me.lang == "en";
    let all = st.store.swaps(&me.region).await?;
    let line = |s: &Swap| {
        serde_json::json!({
            "id": s.id,
            "open": s.status == SwapStatus::Proposed,
            "cancellable": s.status.is_open(),
            "from": name(net, &s.from_staff),
            "to": name(net, &s.to_staff),
            "give": describe(net, &s.give, me.lang),
            "take": s.take.as_ref().map(|t| describe(net, t, me.lang)),
            "note": s.note,
            "status": swap_status_words(s, en),
        })
    };
    let to_me = all
        .iter()
        .rev()
        .filter(|s| &s.to_staff == id)
        .take(20)
        .map(line)
        .collect();
    let mine = all
        .iter()
        .rev()
        .filter(|s| &s.from_staff == id)
        .take(20)
        .map(line)
        .collect();
    Ok((to_me, mine))
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    csrf: String,
    answer: String,
}

/// What an answer came to, said to the colleague.
fn answered_words(s: &Swap, accepted: bool, en: bool) -> (bool, String) {
    match s.status {
        SwapStatus::Accepted => (
            true,
            i18n::pick(
                en,
                "承諾しました。コーディネーターが承認すると当番表とカレンダーに入ります。",
                "Accepted: once the coordinator approves, it is in the rota and your calendar.",
            )
            .into(),
        ),
        SwapStatus::Approved => (
            true,
            i18n::pick(
                en,
                "承諾しました。当番表に反映しました。",
                "Accepted: the rota has it now.",
            )
            .into(),
        ),
        SwapStatus::Declined => (true, i18n::pick(en, "お断りしました。", "Declined.").into()),
        _ if accepted => (false, swap_status_words(s, en)),
        _ => (false, swap_status_words(s, en)),
    }
}

/// `POST /me/swaps/{id}`: accept or decline a proposal made to me.
pub async fn answer(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Path(swap): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let accept = f.answer == "accept";
    match touban_app::swaps::answer(st.store.as_ref(), swap, &id, accept, &me.actor()).await {
        Ok(s) => {
            let (ok, text) = answered_words(&s, accept, me.lang == "en");
            super::offers::page_with(&st, &me, &id, Some((ok, text)), StatusCode::OK).await
        }
        Err(touban_app::AppError::NotFound(_)) => not_found(&st, me.lang),
        Err(touban_app::AppError::Invalid { detail, .. }) => {
            super::offers::page_with(&st, &me, &id, Some((false, detail)), StatusCode::CONFLICT)
                .await
        }
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /me/swaps/{id}/withdraw`: withdraw my own open proposal.
pub async fn withdraw(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Path(swap): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    match touban_app::swaps::withdraw(st.store.as_ref(), swap, &id, &me.actor()).await {
        Ok(_) => {
            let text = i18n::pick(
                me.lang == "en",
                "申し込みを取り下げました。",
                "Proposal withdrawn.",
            )
            .to_string();
            super::offers::page_with(&st, &me, &id, Some((true, text)), StatusCode::OK).await
        }
        Err(touban_app::AppError::NotFound(_)) => not_found(&st, me.lang),
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    action: String,
    expires: i64,
    sig: String,
}

/// Checks an e-mailed link; the proposal it answers, or the page to show.
async fn linked(
    st: &WebState,
    lang: &str,
    swap: i64,
    q: &LinkQuery,
) -> Result<Swap, Box<Response>> {
    if !matches!(q.action.as_str(), "accept" | "decline") {
        return Err(Box::new(not_found(st, lang)));
    }
    if let Err(why) = touban_app::links::verify(
        &st.key,
        swap,
        &format!("swap-{}", q.action),
        q.expires,
        &q.sig,
        Utc::now(),
    ) {
        return Err(Box::new(crate::pages::message(
            st,
            lang,
            StatusCode::FORBIDDEN,
            ("このリンクは使えません", "This link does not work"),
            (why, why),
        )));
    }
    st.store
        .swap(swap)
        .await
        .map_err(|_| Box::new(not_found(st, lang)))
}

/// `GET /swaps/{id}/respond?action=…&expires=…&sig=…` (the e-mailed link):
/// the proposal and one button; a GET changes nothing (mail scanners open
/// links).
pub async fn respond_page(
    State(st): State<WebState>,
    jar: axum_extra::extract::CookieJar,
    Path(swap): Path<i64>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let lang = i18n::lang(&jar);
    let s = match linked(&st, lang, swap, &q).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let net = match st.store.load_network(&s.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, lang, &e.to_string()),
    };
    let mut p = Page::new(lang);
    p.set(
        "s",
        serde_json::json!({
            "id": s.id,
            "from": name(&net, &s.from_staff),
            "give": describe(&net, &s.give, lang),
            "take": s.take.as_ref().map(|t| describe(&net, t, lang)),
            "note": s.note,
            "open": s.status == SwapStatus::Proposed,
            "status": swap_status_words(&s, lang == "en"),
        }),
    );
    p.set("accept", q.action == "accept");
    p.set(
        "link",
        serde_json::json!({"action": q.action, "expires": q.expires, "sig": q.sig}),
    );
    render(&st, "swap_respond.html", p, StatusCode::OK)
}

/// `POST /swaps/{id}/respond` (the button of the page above).
pub async fn respond(
    State(st): State<WebState>,
    jar: axum_extra::extract::CookieJar,
    Path(swap): Path<i64>,
    Form(q): Form<LinkQuery>,
) -> Response {
    let lang = i18n::lang(&jar);
    let en = lang == "en";
    let s = match linked(&st, lang, swap, &q).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let accept = q.action == "accept";
    let actor = format!("link:{}", s.to_staff);
    let (ok, text) =
        match touban_app::swaps::answer(st.store.as_ref(), swap, &s.to_staff, accept, &actor).await
        {
            Ok(after) if s.status != SwapStatus::Proposed => (false, swap_status_words(&after, en)),
            Ok(after) => answered_words(&after, accept, en),
            Err(e) => (false, e.to_string()),
        };
    crate::pages::message(
        &st,
        lang,
        if ok {
            StatusCode::OK
        } else {
            StatusCode::CONFLICT
        },
        if ok {
            ("ありがとうございました", "Thank you")
        } else {
            (
                "この申し込みには答えられません",
                "This proposal cannot be answered",
            )
        },
        (&text, &text),
    )
}
