//! Swaps and give-aways through the API (issue 16 item 6): the partners
//! for one of my duties, proposing, answering, withdrawing; coordinators
//! list, approve and refuse. A staff member sees only the proposals they
//! are part of.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use touban_domain::{ServiceId, ShiftKey, StaffId, TemplateId};
use touban_store::{Grant, Swap};

use crate::auth::Caller;
use crate::conv::region_id;
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

fn key(d: &DutyDto, at: &str) -> ApiResult<ShiftKey> {
    Ok(ShiftKey {
        service: ServiceId::parse(&d.service)
            .map_err(|e| Problem::invalid(&format!("{at}/service"), e.message))?,
        template: TemplateId::parse(&d.template)
            .map_err(|e| Problem::invalid(&format!("{at}/template"), e.message))?,
        date: NaiveDate::parse_from_str(&d.date, "%Y-%m-%d").map_err(|_| {
            Problem::invalid(
                &format!("{at}/date"),
                format!("\"{}\" is not a date (expected 2027-01-10)", d.date),
            )
        })?,
    })
}

fn duty(k: &ShiftKey) -> DutyDto {
    DutyDto {
        service: k.service.to_string(),
        template: k.template.to_string(),
        date: k.date.to_string(),
    }
}

fn dto(s: &Swap) -> SwapDto {
    SwapDto {
        id: s.id,
        month: s.month.to_string(),
        from_staff: s.from_staff.to_string(),
        give: duty(&s.give),
        to_staff: s.to_staff.to_string(),
        take: s.take.as_ref().map(duty),
        base_version: s.base_version,
        note: s.note.clone(),
        status: s.status.as_str().into(),
        reason: s.reason.clone(),
        result_version: s.result_version,
        created_at: s.created_at,
    }
}

/// The staff member calling, or 403.
fn staff(caller: &Caller) -> ApiResult<(&touban_domain::RegionId, &StaffId)> {
    match &caller.grant {
        Grant::Staff { region, staff } => Ok((region, staff)),
        _ => Err(Problem::forbidden(
            "swaps are proposed and answered with a staff token",
        )),
    }
}

/// A proposal the caller may see: coordinators of its region, and the two
/// people in it; anyone else gets 404.
async fn visible(st: &AppState, caller: &Caller, id: i64) -> ApiResult<Swap> {
    let nf = || Problem::not_found(format!("swap {id}"));
    let s = st.store().swap(id).await.map_err(|_| nf())?;
    caller.in_region(&s.region).map_err(|_| nf())?;
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => Ok(s),
        Grant::Staff { staff, .. } if staff == &s.from_staff || staff == &s.to_staff => Ok(s),
        _ => Err(nf()),
    }
}

#[utoipa::path(post, path = "/api/v1/me/swap-partners", tag = "swaps", request_body = DutyDto,
    responses((status = 200, body = SwapPartnersDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
/// With whom one of my published duties can be swapped (keeping every hard
/// rule for both), and who could take it outright.
pub async fn partners(
    State(st): State<AppState>,
    caller: Caller,
    body: crate::JsonBody<DutyDto>,
) -> ApiResult<Json<SwapPartnersDto>> {
    let (region, me) = staff(&caller)?;
    let give = key(&body.0, "")?;
    let p = touban_app::swaps::partners(st.store(), region, me, &give).await?;
    Ok(Json(SwapPartnersDto {
        version: p.version,
        swaps: p
            .swaps
            .iter()
            .filter_map(|x| {
                Some(PartnerDto {
                    staff: x.colleague.to_string(),
                    take: Some(duty(x.take.as_ref()?)),
                })
            })
            .collect(),
        takers: p
            .takers
            .iter()
            .map(|x| PartnerDto {
                staff: x.colleague.to_string(),
                take: None,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/me/swaps", tag = "swaps", request_body = SwapBody,
    responses((status = 201, body = SwapDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 409, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
/// Proposes a swap (with `take`) or a give-away (without): one the partners
/// list names. The colleague is e-mailed.
pub async fn propose(
    State(st): State<AppState>,
    caller: Caller,
    body: crate::JsonBody<SwapBody>,
) -> ApiResult<(StatusCode, Json<SwapDto>)> {
    let b = body.0;
    let (region, me) = staff(&caller)?;
    let give = key(&b.give, "/give")?;
    let take = b.take.as_ref().map(|t| key(t, "/take")).transpose()?;
    let to = StaffId::parse(&b.to_staff).map_err(|e| Problem::invalid("/to_staff", e.message))?;
    crate::conv::free_text("/note", b.note.as_deref(), 500, true)?;
    let s = touban_app::swaps::propose(
        st.store(),
        region,
        touban_app::swaps::Proposal {
            me,
            give: &give,
            to: &to,
            take: take.as_ref(),
            note: b.note,
        },
        &caller.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&s))))
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/swaps", tag = "swaps",
    params(("region" = String, Path)),
    responses((status = 200, body = SwapList), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
/// The region's proposals: all for coordinators, one's own for staff.
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
) -> ApiResult<Json<SwapList>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let all = st.store().swaps(&region).await?;
    let items = all
        .iter()
        .filter(|s| match &caller.grant {
            Grant::Admin | Grant::Coordinator { .. } => true,
            Grant::Staff { staff, .. } => staff == &s.from_staff || staff == &s.to_staff,
            _ => false,
        })
        .map(dto)
        .collect();
    Ok(Json(SwapList { items }))
}

#[utoipa::path(get, path = "/api/v1/swaps/{id}", tag = "swaps", params(("id" = i64, Path)),
    responses((status = 200, body = SwapDto), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<SwapDto>> {
    Ok(Json(dto(&visible(&st, &caller, id).await?)))
}

macro_rules! swap_action {
    ($fn:ident, $path:literal, $doc:literal, |$st:ident, $caller:ident, $id:ident| $body:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "swaps", params(("id" = i64, Path)),
            responses((status = 200, body = SwapDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
                (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
            security(("bearer" = [])))]
        pub async fn $fn(State($st): State<AppState>, $caller: Caller, Path($id): Path<i64>) -> ApiResult<Json<SwapDto>> {
            visible(&$st, &$caller, $id).await?;
            let s: Swap = $body;
            Ok(Json(dto(&s)))
        }
    };
}

fn coordinator(caller: &Caller) -> ApiResult<()> {
    match caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => Ok(()),
        _ => Err(Problem::forbidden(
            "a coordinator approves or refuses swaps",
        )),
    }
}

swap_action!(
    accept,
    "/api/v1/swaps/{id}/accept",
    "The colleague accepts (then a coordinator approves, or the policy).",
    |st, caller, id| {
        let (_, me) = staff(&caller)?;
        touban_app::swaps::answer(st.store(), id, me, true, &caller.actor()).await?
    }
);
swap_action!(
    decline,
    "/api/v1/swaps/{id}/decline",
    "The colleague declines.",
    |st, caller, id| {
        let (_, me) = staff(&caller)?;
        touban_app::swaps::answer(st.store(), id, me, false, &caller.actor()).await?
    }
);
swap_action!(
    withdraw,
    "/api/v1/swaps/{id}/withdraw",
    "The proposer withdraws an open proposal.",
    |st, caller, id| {
        let (_, me) = staff(&caller)?;
        touban_app::swaps::withdraw(st.store(), id, me, &caller.actor()).await?
    }
);
swap_action!(
    approve,
    "/api/v1/swaps/{id}/approve",
    "A coordinator approves an accepted swap: a new published version.",
    |st, caller, id| {
        coordinator(&caller)?;
        touban_app::swaps::approve(st.store(), id, &caller.actor()).await?
    }
);

/// A coordinator refuses an open proposal, with a reason (told to both).
#[utoipa::path(post, path = "/api/v1/swaps/{id}/refuse", tag = "swaps", params(("id" = i64, Path)), request_body = SwapDecision,
    responses((status = 200, body = SwapDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn refuse(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: crate::JsonBody<SwapDecision>,
) -> ApiResult<Json<SwapDto>> {
    visible(&st, &caller, id).await?;
    coordinator(&caller)?;
    crate::conv::free_text("/reason", body.0.reason.as_deref(), 500, true)?;
    let s = touban_app::swaps::refuse(
        st.store(),
        id,
        body.0.reason.as_deref().unwrap_or(""),
        &caller.actor(),
    )
    .await?;
    Ok(Json(dto(&s)))
}
