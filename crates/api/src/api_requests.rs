//! Staff's on/off requests for a month (「この日は避けたい」「入りたい」):
//! listed, entered and withdrawn. A person enters their own until the
//! region's deadline; a coordinator for anyone at any time; an institution
//! sees its staff's. Requests in the network file are listed too, and are
//! changed in the file.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use touban_app::requests::By;
use touban_domain::{Request, RequestKind, ServiceId, StaffId};
use touban_store::{AbsenceSource, Grant, StoredRequest};

use crate::api_net::may_see_staff;
use crate::auth::Caller;
use crate::conv::{self, region_id};
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

fn dto(r: &StoredRequest) -> RequestDto {
    RequestDto {
        id: r.id,
        source: match r.source {
            AbsenceSource::File => "file".into(),
            AbsenceSource::Reported => "entered".into(),
        },
        staff: r.request.staff.to_string(),
        date: r.request.date,
        kind: match r.request.kind {
            RequestKind::On => "on".into(),
            RequestKind::Off => "off".into(),
        },
        service: r.request.service.as_ref().map(ToString::to_string),
        weight: r.request.weight,
    }
}

/// Who the caller enters requests as; `Forbidden` for the roles that only read.
fn by(caller: &Caller) -> ApiResult<By<'_>> {
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => Ok(By::Coordinator),
        Grant::Staff { staff, .. } => Ok(By::Staff(staff)),
        _ => Err(Problem::forbidden(
            "requests are entered by the person or a coordinator",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/requests", tag = "requests",
    params(("region" = String, Path), PageQuery),
    responses((status = 200, body = RequestPage), (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
/// On/off requests: all for coordinators, an institution's staff's, or one's own.
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<RequestPage>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let all = st.store().requests(&region).await?;
    let visible = all.iter().filter(|r| {
        net.staff_member(&r.request.staff)
            .is_some_and(|p| may_see_staff(&caller, p))
    });
    let (page, next) = conv::id_page(visible, &q, |r| r.id)?;
    let items = page.into_iter().map(dto).collect();
    Ok(Json(RequestPage { items, next }))
}

#[utoipa::path(post, path = "/api/v1/regions/{region}/requests", tag = "requests",
    params(("region" = String, Path)), request_body = RequestBody,
    responses((status = 201, body = RequestDto), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
/// Enters a request. A person enters their own, until the region's deadline
/// for that month (`[policy] requests_close_day`); a coordinator for anyone.
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    body: crate::JsonBody<RequestBody>,
) -> ApiResult<(StatusCode, Json<RequestDto>)> {
    let b = body.0;
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let by = by(&caller)?;
    let net = st.network(&region).await?;
    let staff = StaffId::parse(&b.staff).map_err(|e| Problem::invalid("/staff", e.message))?;
    let date = NaiveDate::parse_from_str(&b.date, "%Y-%m-%d").map_err(|_| {
        Problem::invalid(
            "/date",
            format!("\"{}\" is not a date (expected 2027-01-10)", b.date),
        )
    })?;
    let kind = match b.kind.as_str() {
        "on" => RequestKind::On,
        "off" => RequestKind::Off,
        k => {
            return Err(Problem::invalid(
                "/kind",
                format!("\"{k}\" is not a request kind (on, off)"),
            ));
        }
    };
    let service = b
        .service
        .as_deref()
        .map(ServiceId::parse)
        .transpose()
        .map_err(|e| Problem::invalid("/service", e.message))?;
    let weight = Request::check_weight(b.weight.unwrap_or(5))
        .map_err(|e| Problem::invalid("/weight", e.message))?;
    let request = Request {
        staff,
        date,
        kind,
        service,
        weight,
    };
    let now = Utc::now()
        .with_timezone(&net.region.time_zone)
        .fixed_offset();
    let id =
        touban_app::requests::add(st.store(), &net, by, &request, now, &caller.actor()).await?;
    st.forget(&region);
    let stored = st
        .store()
        .requests(&region)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Problem::internal("the request just stored is missing"))?;
    Ok((StatusCode::CREATED, Json(dto(&stored))))
}

#[utoipa::path(delete, path = "/api/v1/regions/{region}/requests/{id}", tag = "requests",
    params(("region" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
/// Withdraws an entered request: the person their own until the deadline, a
/// coordinator any. A request from the network file is changed in the file.
pub async fn withdraw(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let by = match &caller.grant {
        // An institution may see its staff's requests but not withdraw them:
        // to it they exist, so say so rather than "not found".
        Grant::Institution { .. } => {
            return Err(Problem::forbidden(
                "requests are withdrawn by the person or a coordinator",
            ));
        }
        _ => by(&caller)?,
    };
    let net = st.network(&region).await?;
    let now = Utc::now()
        .with_timezone(&net.region.time_zone)
        .fixed_offset();
    touban_app::requests::withdraw(st.store(), &net, by, id, now, &caller.actor()).await?;
    st.forget(&region);
    Ok(StatusCode::NO_CONTENT)
}
