//! Regions and their network: institutions, staff, services, attending
//! pairs, absences (with repair). Requests are in `api_requests`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use touban_domain::{Absence, AbsenceKind, StaffId};
use touban_store::Grant;

use crate::auth::Caller;
use crate::conv::{self, region_id};
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/regions", tag = "network",
    responses((status = 200, body = RegionList), (status = 401, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn regions(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<RegionList>> {
    let mut items = Vec::new();
    for r in st.store().regions().await? {
        if caller.in_region(&r.id).is_err() {
            continue;
        }
        let net = st.network(&r.id).await?;
        items.push(RegionDto {
            id: r.id.to_string(),
            name: r.name,
            timezone: net.region.time_zone.name().to_string(),
            updated_at: r.updated_at,
        });
    }
    Ok(Json(RegionList { items }))
}

macro_rules! list_route {
    ($fn:ident, $path:literal, $doc:literal, $body:expr) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "network",
                    params(("region" = String, Path), PageQuery),
                    responses((status = 200, body = ObjectPage), (status = 401, body = ProblemDetails),
                        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
                    security(("bearer" = [])))]
        pub async fn $fn(
            State(st): State<AppState>,
            caller: Caller,
            Path(region): Path<String>,
            Query(q): Query<PageQuery>,
        ) -> ApiResult<Json<ObjectPage>> {
            let region = region_id(&region)?;
            caller.in_region(&region)?;
            let net = st.network(&region).await?;
            let all: Vec<NetObject> = $body(&caller, &net)?;
            let (items, next) = conv::page_of(all, &q)?;
            Ok(Json(ObjectPage { items, next }))
        }
    };
}

list_route!(
    institutions,
    "/api/v1/regions/{region}/institutions",
    "The region's institutions.",
    |_: &Caller, net: &touban_domain::Network| -> ApiResult<Vec<NetObject>> {
        Ok(net.institutions.iter().map(conv::object).collect())
    }
);

list_route!(
    services,
    "/api/v1/regions/{region}/services",
    "Coverage services with their shift templates.",
    |_: &Caller, net: &touban_domain::Network| -> ApiResult<Vec<NetObject>> {
        Ok(net.services.iter().map(conv::object).collect())
    }
);

list_route!(
    staff,
    "/api/v1/regions/{region}/staff",
    "Staff: all for coordinators, an institution's own staff, or oneself.",
    |caller: &Caller, net: &touban_domain::Network| -> ApiResult<Vec<NetObject>> {
        Ok(net
            .staff
            .iter()
            .filter(|p| may_see_staff(caller, p))
            .map(conv::object)
            .collect())
    }
);

list_route!(
    attending_pairs,
    "/api/v1/regions/{region}/attending-pairs",
    "主治医・副主治医 pairs (coordinators, and institutions for their staff).",
    |caller: &Caller, net: &touban_domain::Network| -> ApiResult<Vec<NetObject>> {
        Ok(net
            .attending_pairs
            .iter()
            .filter(|pair| {
                [&pair.primary, &pair.backup].iter().any(|s| {
                    net.staff_member(s)
                        .is_some_and(|p| may_see_staff(caller, p))
                })
            })
            .map(conv::object)
            .collect())
    }
);

/// Whether the caller may see (and report absences for) a staff member.
pub fn may_see_staff(caller: &Caller, p: &touban_domain::StaffMember) -> bool {
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => true,
        Grant::Institution { institution, .. } => p.may_work_for(institution),
        Grant::Staff { staff, .. } => &p.id == staff,
        Grant::StaffFeed { .. } | Grant::ServiceFeed { .. } | Grant::Viewer { .. } => false,
    }
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/staff/{staff}", tag = "network",
    params(("region" = String, Path), ("staff" = String, Path)),
    responses((status = 200, body = NetObject), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn staff_member(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, staff)): Path<(String, String)>,
) -> ApiResult<Json<NetObject>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let nf = || Problem::not_found(format!("staff member \"{staff}\""));
    let id = StaffId::parse(&staff).map_err(|_| nf())?;
    let p = net
        .staff_member(&id)
        .filter(|p| may_see_staff(&caller, p))
        .ok_or_else(nf)?;
    Ok(Json(conv::object(p)))
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/absences", tag = "absences",
    params(("region" = String, Path), PageQuery),
    responses((status = 200, body = AbsencePage), (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn absences(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<AbsencePage>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let all = st.store().absences(&region).await?;
    let visible = all.iter().filter(|a| {
        net.staff_member(&a.absence.staff)
            .is_some_and(|p| may_see_staff(&caller, p))
    });
    let (page, next) = conv::id_page(visible, &q, |a| a.id)?;
    let items = page.into_iter().map(conv::absence).collect();
    Ok(Json(AbsencePage { items, next }))
}

/// Reports an absence. Every month whose rota has the person on duty during
/// it is repaired with the fewest changes; the repair is published at once
/// if the network's policy says so, else left as a draft for a coordinator.
#[utoipa::path(post, path = "/api/v1/regions/{region}/absences", tag = "absences",
    params(("region" = String, Path)), request_body = AbsenceBody,
    responses((status = 201, body = AbsenceResult), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn add_absence(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    body: crate::JsonBody<AbsenceBody>,
) -> ApiResult<(StatusCode, Json<AbsenceResult>)> {
    let body = body.0;
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let staff = StaffId::parse(&body.staff).map_err(|e| Problem::invalid("/staff", e.message))?;
    crate::conv::free_text("/reason", body.reason.as_deref(), 2000, true)?;
    let person = net.staff_member(&staff).ok_or_else(|| {
        Problem::invalid(
            "/staff",
            format!("no staff member \"{staff}\" in this region"),
        )
    })?;
    if !may_see_staff(&caller, person) {
        return Err(Problem::forbidden(format!(
            "you may not report absences for \"{staff}\""
        )));
    }
    let kind = match body.kind.as_deref() {
        None => AbsenceKind::Sudden,
        Some(k) => AbsenceKind::parse(k).map_err(|e| Problem::invalid("/kind", e.message))?,
    };
    let absence = Absence::new(staff.clone(), body.start, body.end, kind, body.reason)
        .map_err(|e| Problem::invalid("/end", e.message))?;
    let actor = caller.actor();
    let reported = touban_app::absences::report(st.store(), &st.jobs, &region, &absence, &actor)
        .await
        .map_err(|e| match e {
            touban_app::AppError::Store(e) => Problem::from(e),
            e => Problem::internal(e),
        })?;
    let id = reported.id;
    let repairs = reported
        .repairs
        .iter()
        .map(|r| RepairDto {
            month: r.month.to_string(),
            from_version: r.from.version,
            version: r.to.version,
            published: r.published,
            changes: r.changes.iter().map(conv::change).collect(),
            unfilled: r
                .unfilled
                .iter()
                .map(|u| u.trim_end().to_string())
                .collect(),
        })
        .collect();
    st.forget(&region);
    let stored = st
        .store()
        .absences(&region)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Problem::internal("the absence just stored is missing"))?;
    Ok((
        StatusCode::CREATED,
        Json(AbsenceResult {
            absence: conv::absence(&stored),
            repairs,
        }),
    ))
}
