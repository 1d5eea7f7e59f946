//! Emergency cover requests (代診・応援要請) and their offers.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use touban_domain::{CoverRequest, InstitutionId, OfferMode, Profession, Skill};
use touban_store::{Grant, OfferAnswer, OfferStatus, StoredCover};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::conv::{self, region_id};
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

/// Whether the caller may see a request: coordinators of its region, the
/// requesting institution, and the people offered it.
fn may_see(caller: &Caller, c: &StoredCover) -> bool {
    if caller.in_region(&c.region).is_err() {
        return false;
    }
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => true,
        Grant::Institution { institution, .. } => institution == &c.request.institution,
        Grant::Staff { staff, .. } => c.offers.iter().any(|o| &o.staff == staff),
        _ => false,
    }
}

/// A request as the caller may see it: a staff member sees their own offer
/// only (not who else was asked, their ranks or the reasons).
fn cover_as(caller: &Caller, c: &StoredCover, net: &touban_domain::Network) -> CoverDto {
    let mut dto = conv::cover(c, Some(net));
    if let Grant::Staff { staff, .. } = &caller.grant {
        only_offer_of(&mut dto, staff.as_str());
    }
    dto
}

fn only_offer_of(dto: &mut CoverDto, staff: &str) {
    dto.offers.retain(|o| o.staff == staff);
    dto.excluded.clear();
}

#[utoipa::path(post, path = "/api/v1/regions/{region}/cover-requests", tag = "cover",
    params(("region" = String, Path)), request_body = CoverBody,
    responses((status = 201, body = CoverDto), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    body: crate::JsonBody<CoverBody>,
) -> ApiResult<(StatusCode, Json<CoverDto>)> {
    let b = body.0;
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let institution = InstitutionId::parse(&b.institution)
        .map_err(|e| Problem::invalid("/institution", e.message))?;
    if net.institution(&institution).is_none() {
        return Err(Problem::invalid(
            "/institution",
            format!("no institution \"{institution}\" in this region"),
        ));
    }
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => {}
        Grant::Institution {
            institution: own, ..
        } if own == &institution => {}
        _ => {
            return Err(Problem::forbidden(
                "cover is requested by the institution itself or a coordinator",
            ));
        }
    }
    let profession =
        Profession::parse(&b.profession).map_err(|e| Problem::invalid("/profession", e.message))?;
    let skills = b
        .skills
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Skill::parse(s).map_err(|e| Problem::invalid(&format!("/skills/{i}"), e.message))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    let mode = match b.mode.as_deref() {
        None | Some("broadcast") => OfferMode::Broadcast,
        Some("one_by_one") => OfferMode::OneByOne,
        Some(m) => {
            return Err(Problem::invalid(
                "/mode",
                format!("\"{m}\" is not a mode (broadcast, one_by_one)"),
            ));
        }
    };
    crate::conv::free_text("/note", b.note.as_deref(), 2000, true)?;
    let max = b.max_offers.unwrap_or(5);
    let request = CoverRequest {
        institution,
        profession,
        skills,
        start: b.start,
        end: b.end,
        note: b.note,
        mode,
    };
    let (stored, ranking) =
        touban_app::cover::ask(st.store(), &net, &request, max, &caller.actor()).await?;
    let mut dto = conv::cover(&stored, Some(&net));
    dto.excluded = ranking
        .excluded
        .iter()
        .map(|(s, r)| ExcludedDto {
            staff: s.to_string(),
            name: net
                .staff_member(s)
                .map_or_else(|| s.to_string(), |p| p.name.clone()),
            reason: r.clone(),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/cover-requests", tag = "cover",
    params(("region" = String, Path), PageQuery),
    responses((status = 200, body = CoverPage), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<CoverPage>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let limit = conv::limit(&q)?;
    let mut after = conv::after_id(&q)?;
    let mut items = Vec::new();
    // Filter by visibility, fetching further pages until this one is full.
    loop {
        let batch = st.store().covers(&region, after, limit).await?;
        let done = batch.len() < limit as usize;
        for c in batch {
            after = c.id;
            if may_see(&caller, &c) && items.len() < limit as usize {
                items.push(cover_as(&caller, &c, &net));
            }
        }
        if done || items.len() >= limit as usize {
            let next = (!done).then(|| after.to_string());
            return Ok(Json(CoverPage { items, next }));
        }
    }
}

/// A request the caller may see; 404 otherwise (as if it did not exist).
async fn visible_cover(st: &AppState, caller: &Caller, id: i64) -> ApiResult<StoredCover> {
    let c = st.store().cover(id).await?;
    if !may_see(caller, &c) {
        return Err(Problem::not_found(format!("cover request {id}")));
    }
    Ok(c)
}

#[utoipa::path(get, path = "/api/v1/cover-requests/{id}", tag = "cover",
    params(("id" = i64, Path)),
    responses((status = 200, body = CoverDto), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CoverDto>> {
    let c = visible_cover(&st, &caller, id).await?;
    let net = st.network(&c.region).await?;
    Ok(Json(cover_as(&caller, &c, &net)))
}

/// Cancels a cover request: by the institution that asked or a
/// coordinator. Its offers are withdrawn and everyone who was asked (or had
/// accepted) is told by e-mail.
#[utoipa::path(post, path = "/api/v1/cover-requests/{id}/cancel", tag = "cover",
    params(("id" = i64, Path)),
    responses((status = 200, body = CoverDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 409, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CoverDto>> {
    visible_cover(&st, &caller, id).await?;
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } | Grant::Institution { .. } => {}
        _ => {
            return Err(Problem::forbidden(
                "a cover request is cancelled by the institution that asked or a coordinator",
            ));
        }
    }
    let c = st.store().cancel_cover(id, &caller.actor()).await?;
    let net = st.network(&c.region).await?;
    Ok(Json(cover_as(&caller, &c, &net)))
}

fn links(st: &AppState, offer: i64) -> (String, String) {
    let exp = Utc::now() + chrono::Duration::hours(st.config.link_valid_hours);
    let base = st.config.public_url.trim_end_matches('/');
    (
        format!(
            "{base}{}",
            touban_app::links::link(&st.link_key, offer, "accept", exp)
        ),
        format!(
            "{base}{}",
            touban_app::links::link(&st.link_key, offer, "decline", exp)
        ),
    )
}

/// The caller's own offers (staff tokens), with the signed links an e-mail
/// would carry.
#[utoipa::path(get, path = "/api/v1/me/offers", tag = "cover",
    responses((status = 200, body = MyOfferList), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn my_offers(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<MyOfferList>> {
    let Grant::Staff { region, staff } = &caller.grant else {
        return Err(Problem::forbidden(
            "this lists a staff member's own offers: use a staff token",
        ));
    };
    let net = st.network(region).await?;
    let mut items = Vec::new();
    let mut after = 0;
    loop {
        let batch = st.store().covers(region, after, 200).await?;
        let n = batch.len();
        for c in batch {
            after = c.id;
            let dto = conv::cover(&c, Some(&net));
            for (o, od) in c.offers.iter().zip(dto.offers) {
                if &o.staff != staff || o.status == OfferStatus::Waiting {
                    continue;
                }
                let (a, d) = if o.status == OfferStatus::Offered {
                    let (a, d) = links(&st, o.id);
                    (Some(a), Some(d))
                } else {
                    (None, None)
                };
                items.push(MyOfferDto {
                    offer: od,
                    request: c.id,
                    institution: c.request.institution.to_string(),
                    start: c.request.start,
                    end: c.request.end,
                    accept_link: a,
                    decline_link: d,
                });
            }
        }
        if n < 200 {
            break;
        }
    }
    Ok(Json(MyOfferList { items }))
}

async fn answer(st: &AppState, offer: i64, accept: bool, actor: &str) -> ApiResult<OfferAnswerDto> {
    // An accepted cover is a duty: nobody takes two at once, nor one that
    // breaks rest or the monthly cap with what they hold now.
    let outcome = touban_app::cover::answer(st.store(), offer, accept, actor).await?;
    let c = st.store().offer_request(offer).await?;
    let net = st.network(&c.region).await?;
    let (outcome, next) = match outcome {
        OfferAnswer::Accepted => ("accepted", None),
        OfferAnswer::AlreadyTaken => ("already_taken", None),
        // Who is asked next is not the declining person's business.
        OfferAnswer::Declined { .. } => ("declined", None),
    };
    // The answer goes to the person offered: their own offer only.
    let mut request = conv::cover(&c, Some(&net));
    if let Some(o) = c.offers.iter().find(|o| o.id == offer) {
        only_offer_of(&mut request, o.staff.as_str());
    }
    Ok(OfferAnswerDto {
        outcome: outcome.into(),
        next,
        request,
    })
}

async fn answer_as_staff(
    st: &AppState,
    caller: &Caller,
    offer: i64,
    accept: bool,
) -> ApiResult<Json<OfferAnswerDto>> {
    let c = st.store().offer_request(offer).await?;
    let mine = c
        .offers
        .iter()
        .any(|o| o.id == offer && Some(&o.staff) == caller.staff());
    if !mine {
        return Err(Problem::not_found(format!("offer {offer}")));
    }
    Ok(Json(answer(st, offer, accept, &caller.actor()).await?))
}

#[utoipa::path(post, path = "/api/v1/offers/{id}/accept", tag = "cover",
    params(("id" = i64, Path)),
    responses((status = 200, body = OfferAnswerDto), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 409, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn accept(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OfferAnswerDto>> {
    answer_as_staff(&st, &caller, id, true).await
}

#[utoipa::path(post, path = "/api/v1/offers/{id}/decline", tag = "cover",
    params(("id" = i64, Path)),
    responses((status = 200, body = OfferAnswerDto), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 409, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn decline(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OfferAnswerDto>> {
    answer_as_staff(&st, &caller, id, false).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// `accept` or `decline`.
    pub action: String,
    /// Unix time the link expires.
    pub expires: i64,
    pub sig: String,
}

/// A link cut short or mangled (a mail program broke the line, say).
fn broken_link() -> Response {
    page(
        "無効なリンク / Invalid link",
        "<h1>リンクが途中で切れているか、壊れています</h1><p>メールのリンク全体をそのまま開いてください。開けない場合はコーディネーターに連絡してください。</p><p>This link is incomplete or damaged: open the whole link from the e-mail, or contact your coordinator.</p>",
        StatusCode::BAD_REQUEST,
    )
}

fn page(title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em}}button{{font-size:1.2em;padding:.5em 2em}}</style>\
         </head><body>{body}</body></html>",
        title = html_escape(title)
    );
    (status, Html(html)).into_response()
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn check_link(
    st: &AppState,
    id: i64,
    q: &LinkQuery,
) -> Result<(bool, StoredCover), Response> {
    let accept = match q.action.as_str() {
        "accept" => true,
        "decline" => false,
        _ => {
            return Err(page(
                "無効なリンク / Invalid link",
                "<h1>無効なリンクです</h1><p>リンクの操作が不明です。メールのリンクをそのまま開いてください。</p><p>This link is not valid (unknown action).</p>",
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    if let Err(why) =
        touban_app::links::verify(&st.link_key, id, &q.action, q.expires, &q.sig, Utc::now())
    {
        return Err(page(
            "無効なリンク / Invalid link",
            &format!(
                "<h1>このリンクは使えません</h1><p>{}</p><p>コーディネーターに連絡してください。<br>Please contact your coordinator.</p>",
                html_escape(why)
            ),
            StatusCode::FORBIDDEN,
        ));
    }
    match st.store().offer_request(id).await {
        Ok(c) => Ok((accept, c)),
        Err(_) => Err(page(
            "見つかりません / Not found",
            "<h1>依頼が見つかりません</h1><p>この依頼はもうありません。</p><p>The offer no longer exists.</p>",
            StatusCode::NOT_FOUND,
        )),
    }
}

/// The page a signed link opens: it asks for a confirming click (so that
/// mail scanners following links answer nothing).
#[utoipa::path(get, path = "/api/v1/offers/{id}/respond", tag = "cover",
    params(("id" = i64, Path), LinkQuery),
    responses((status = 200, description = "Confirmation page", content_type = "text/html", body = String),
        (status = 400, description = "Bad link", content_type = "text/html", body = String),
        (status = 403, description = "Altered or expired link", content_type = "text/html", body = String),
        (status = 404, description = "No such offer", content_type = "text/html", body = String)))]
pub async fn respond_page(
    State(st): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let (Ok(Path(id)), Ok(Query(q))) = (id, q) else {
        return broken_link();
    };
    let (accept, c) = match check_link(&st, id, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let net = st.network(&c.region).await.ok();
    let inst = net
        .as_ref()
        .and_then(|n| n.institution(&c.request.institution))
        .map_or_else(|| c.request.institution.to_string(), |i| i.name.clone());
    let (verb_ja, verb_en) = if accept {
        ("引き受ける", "Accept")
    } else {
        ("辞退する", "Decline")
    };
    page(
        "応援依頼 / Cover request",
        &format!(
            "<h1>応援依頼</h1><p>{inst}<br>{} – {}</p><form method=\"post\"><button type=\"submit\">{verb_ja} / {verb_en}</button></form>",
            c.request.start.format("%Y-%m-%d %H:%M"),
            c.request.end.format("%Y-%m-%d %H:%M")
        ),
        StatusCode::OK,
    )
}

#[utoipa::path(post, path = "/api/v1/offers/{id}/respond", tag = "cover",
    params(("id" = i64, Path), LinkQuery),
    responses((status = 200, description = "Answer recorded", content_type = "text/html", body = String),
        (status = 400, description = "Bad link", content_type = "text/html", body = String),
        (status = 403, description = "Altered or expired link", content_type = "text/html", body = String),
        (status = 404, description = "No such offer", content_type = "text/html", body = String),
        (status = 409, description = "Link already used", content_type = "text/html", body = String)))]
pub async fn respond(
    State(st): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let (Ok(Path(id)), Ok(Query(q))) = (id, q) else {
        return broken_link();
    };
    let (accept, c) = match check_link(&st, id, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let staff = c
        .offers
        .iter()
        .find(|o| o.id == id)
        .map_or_else(String::new, |o| o.staff.to_string());
    let mut res = match answer(&st, id, accept, &format!("link:{staff}")).await {
        Ok(a) => match a.outcome.as_str() {
            "accepted" => page(
                "ありがとうございます / Thank you",
                "<h1>引き受けました</h1><p>ありがとうございます。確認のメール（予定表ファイル付き）をお送りします。依頼元にもお名前と電話番号を伝えます。</p><p>You have accepted this cover. Thank you. A confirmation with a calendar file follows by e-mail; the institution is given your name and phone.</p>",
                StatusCode::OK,
            ),
            "already_taken" => page(
                "受付済み / Already taken",
                "<h1>既に他の方が引き受けました</h1><p>ご協力ありがとうございました。</p><p>Someone else has already accepted this cover. Thank you all the same.</p>",
                StatusCode::OK,
            ),
            _ => page(
                "辞退しました / Declined",
                "<h1>辞退しました</h1><p>お返事ありがとうございました。</p><p>You have declined this cover.</p>",
                StatusCode::OK,
            ),
        },
        Err(p) if p.status == 409 => page(
            "使用済みのリンク / Link already used",
            "<h1>このリンクは使用済みです</h1><p>この依頼にはすでにお返事をいただいています。</p><p>This link has already been used.</p>",
            StatusCode::CONFLICT,
        ),
        Err(p) => p.into_response(),
    };
    // The audit log: the region, and who answered through whose link.
    res.extensions_mut()
        .insert(crate::AuditRegion(c.region.clone()));
    res.extensions_mut().insert(crate::AuditNote(format!(
        "{} cover request {} through the e-mail link of {staff}",
        if accept { "accepted" } else { "declined" },
        c.id
    )));
    res
}
