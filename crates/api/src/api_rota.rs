//! Rotas: generate (a background job), versions, publish, diff, manual edits.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use touban_app::jobs::StartError;
use touban_domain::RotaStatus;

use crate::auth::Caller;
use crate::conv::{self, month as parse_month, region_id};
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;
use touban_app::ops;

fn job_dto(j: &touban_store::Job) -> JobDto {
    JobDto {
        id: j.id,
        region: j.region.to_string(),
        kind: j.kind.clone(),
        month: j.month.to_string(),
        status: j.status.as_str().into(),
        created_at: j.created_at,
        created_by: j.created_by.clone(),
        finished_at: j.finished_at,
        result: j.result.clone(),
        error: j.error.clone(),
    }
}

/// Starts generating a month's rota in the background; poll the job.
#[utoipa::path(post, path = "/api/v1/regions/{region}/rotas/{month}/generate", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path, description = "YYYY-MM")),
    request_body(content = GenerateBody, description = "Optional solver settings"),
    responses((status = 202, body = JobDto, headers(("Location" = String))),
        (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails), (status = 429, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn generate(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, month)): Path<(String, String)>,
    body: Option<crate::JsonBody<GenerateBody>>,
) -> ApiResult<Response> {
    let region = region_id(&region)?;
    caller.coordinates(&region)?;
    let month = parse_month(&month)?;
    let body = body.map(|b| b.0).unwrap_or_default();
    let time_limit = body
        .time_limit_seconds
        .unwrap_or(st.config.default_time_limit_seconds);
    let gap = body.gap.unwrap_or(0.005);
    st.network(&region).await?; // 404 for an unknown region before queuing
    let req = touban_app::jobs::GenerateRequest {
        region,
        month,
        time_limit,
        gap,
        actor: caller.actor(),
    };
    let job = match st.jobs.start_generate(st.store.clone(), req).await {
        Ok(j) => j,
        Err(StartError::Invalid { field, detail }) => {
            return Err(Problem::invalid(&format!("/{field}"), detail));
        }
        Err(StartError::TooMany { active, max }) => {
            let mut p = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-jobs",
                format!(
                    "{active} generate jobs of this region are already queued or running (at most {max}); wait for one to finish"
                ),
            );
            p.retry_after = Some(30);
            return Err(p);
        }
        Err(StartError::Store(e)) => return Err(e.into()),
    };
    let mut res = (StatusCode::ACCEPTED, Json(job_dto(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/jobs/{}", job.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "rotas",
    params(("id" = i64, Path)),
    responses((status = 200, body = JobDto), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn job(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobDto>> {
    let j = st.store().job(id).await?;
    caller
        .coordinates(&j.region)
        .map_err(|_| Problem::not_found(format!("job {id}")))?;
    Ok(Json(job_dto(&j)))
}

/// Drafts are for coordinators; everyone in the region sees published and
/// superseded versions.
fn may_see(caller: &Caller, status: RotaStatus) -> bool {
    caller.is_coordinator() || status != RotaStatus::Draft
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/rotas/{month}", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, body = RotaVersionList), (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn versions(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, month)): Path<(String, String)>,
) -> ApiResult<Json<RotaVersionList>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let month = parse_month(&month)?;
    st.network(&region).await?;
    let items = st
        .store()
        .rota_versions(&region, month)
        .await?
        .iter()
        .filter(|v| may_see(&caller, v.status))
        .map(conv::version_info)
        .collect();
    Ok(Json(RotaVersionList {
        month: month.to_string(),
        items,
    }))
}

/// The months of a region with rotas: the published version and the newest
/// (drafts are for coordinators).
#[utoipa::path(get, path = "/api/v1/regions/{region}/rotas", tag = "rotas",
    params(("region" = String, Path)),
    responses((status = 200, body = RotaMonthList), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn months(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
) -> ApiResult<Json<RotaMonthList>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    st.network(&region).await?;
    let mut items = Vec::new();
    for month in st.store().rota_months(&region).await? {
        let seen: Vec<_> = st
            .store()
            .rota_versions(&region, month)
            .await?
            .into_iter()
            .filter(|v| may_see(&caller, v.status))
            .collect();
        let Some(latest) = seen.iter().map(|v| v.version).max() else {
            continue;
        };
        items.push(RotaMonthDto {
            month: month.to_string(),
            published: seen
                .iter()
                .find(|v| v.status == RotaStatus::Published)
                .map(|v| v.version),
            latest,
            versions: seen.len(),
        });
    }
    Ok(Json(RotaMonthList { items }))
}

async fn load_version(
    st: &AppState,
    caller: &Caller,
    region: &str,
    month: &str,
    version: u32,
) -> ApiResult<(
    touban_domain::RegionId,
    touban_domain::Month,
    touban_domain::Rota,
)> {
    let region = region_id(region)?;
    caller.in_region(&region)?;
    let month = parse_month(month)?;
    let rota = st.store().rota(&region, month, Some(version)).await?;
    if !may_see(caller, rota.status) {
        return Err(Problem::not_found(format!("version {version} of {month}")));
    }
    Ok((region, month, rota))
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/rotas/{month}/versions/{version}", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = RotaDto, headers(("ETag" = String))), (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn rota(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, month, version)): Path<(String, String, u32)>,
) -> ApiResult<Response> {
    let (_, _, rota) = load_version(&st, &caller, &region, &month, version).await?;
    let mut res = Json(conv::rota(&rota)).into_response();
    if let Ok(v) = HeaderValue::from_str(&conv::etag(&rota)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

/// `If-Match` must name the version's current ETag.
fn require_match(headers: &HeaderMap, rota: &touban_domain::Rota) -> ApiResult<()> {
    let Some(given) = headers.get(header::IF_MATCH) else {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            format!(
                "If-Match: send the ETag you read this version with (currently {}), so that two coordinators never overwrite each other",
                conv::etag(rota)
            ),
        ));
    };
    let given = given.to_str().unwrap_or_default();
    let want = conv::etag(rota);
    if given.split(',').map(str::trim).any(|g| g == "*") {
        return Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!(
                "If-Match: * is not accepted: send the ETag you read this version with (currently {want}), so that nobody publishes or edits a version they have not seen"
            ),
        ));
    }
    if given.split(',').map(str::trim).any(|g| g == want) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!(
                "If-Match {given} does not match {want}: the version changed since you read it; reload it"
            ),
        ))
    }
}

/// Publishes a version. Refused (412) when the version is not based on the
/// month's published version (publishing it would undo that version's
/// changes) or when it breaks a hard rule nobody accepted on record (an
/// absent person on duty, above all), unless `override_reason` says why;
/// the reason is kept in the rota history and the audit log.
#[utoipa::path(post, path = "/api/v1/regions/{region}/rotas/{month}/versions/{version}/publish", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path), ("version" = u32, Path),
        ("If-Match" = String, Header, description = "The version's ETag")),
    request_body(content = PublishBody, description = "Optional: an override reason"),
    responses((status = 200, body = RotaVersionDto, headers(("ETag" = String))), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails), (status = 412, body = ProblemDetails),
        (status = 422, body = ProblemDetails), (status = 428, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn publish(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((region, month, version)): Path<(String, String, u32)>,
    body: Option<crate::JsonBody<PublishBody>>,
) -> ApiResult<Response> {
    let (region, month, rota) = load_version(&st, &caller, &region, &month, version).await?;
    caller.coordinates(&region)?;
    require_match(&headers, &rota)?;
    let reason = body.and_then(|b| b.0.override_reason);
    conv::free_text("/override_reason", reason.as_deref(), 2000, false)?;
    let published = match ops::publish(
        st.store(),
        &region,
        month,
        version,
        &caller.actor(),
        reason.as_deref(),
    )
    .await
    {
        Ok(p) => p,
        Err(ops::PublishError::Store(e)) => return Err(e.into()),
        Err(ops::PublishError::Violations(v)) => {
            let mut p = Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "rule-violations",
                format!(
                    "version {version} breaks {} hard rule(s) as the network stands now (absences reported since included); nothing was published. Repair or edit it, or publish again with `override_reason` to accept them on record",
                    v.len()
                ),
            );
            p.violations = v.iter().map(conv::violation).collect();
            return Err(p);
        }
    };
    st.forget(&region);
    let based_on = st
        .store()
        .rota_versions(&region, month)
        .await?
        .iter()
        .find(|v| v.version == version)
        .and_then(|v| v.based_on);
    let mut res = Json(conv::version_of(&published, based_on)).into_response();
    if let Some(r) = &reason {
        res.extensions_mut().insert(crate::AuditNote(format!(
            "published version {version} with override: {r}"
        )));
    }
    if let Ok(v) = HeaderValue::from_str(&conv::etag(&published)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/rotas/{month}/diff", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path), DiffQuery),
    responses((status = 200, body = DiffDto), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn diff(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, month)): Path<(String, String)>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<DiffDto>> {
    let (_, month, old) = load_version(&st, &caller, &region, &month, q.from).await?;
    let (_, _, new) = load_version(&st, &caller, &region, &month.to_string(), q.to).await?;
    Ok(Json(DiffDto {
        month: month.to_string(),
        from: q.from,
        to: q.to,
        changes: ops::shift_changes(&old, &new)
            .iter()
            .map(conv::change)
            .collect(),
    }))
}

/// Edits a version by hand: the result is checked against every hard rule
/// and refused with the violations it adds, unless `override_reason` is
/// given (recorded). The edit is saved as a new draft version; `If-Match`
/// must carry the edited version's ETag and it must still be the latest.
#[utoipa::path(post, path = "/api/v1/regions/{region}/rotas/{month}/versions/{version}/edits", tag = "rotas",
    params(("region" = String, Path), ("month" = String, Path), ("version" = u32, Path),
        ("If-Match" = String, Header, description = "The version's ETag")),
    request_body = EditBody,
    responses((status = 201, body = EditResult), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails), (status = 409, body = ProblemDetails),
        (status = 412, body = ProblemDetails), (status = 422, body = ProblemDetails), (status = 428, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn edit(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((region, month, version)): Path<(String, String, u32)>,
    body: crate::JsonBody<EditBody>,
) -> ApiResult<(StatusCode, Json<EditResult>)> {
    let body = body.0;
    let (region, month, rota) = load_version(&st, &caller, &region, &month, version).await?;
    caller.coordinates(&region)?;
    require_match(&headers, &rota)?;
    if body.changes.is_empty() {
        return Err(Problem::invalid(
            "/changes",
            "at least one change is needed",
        ));
    }
    conv::free_text(
        "/override_reason",
        body.override_reason.as_deref(),
        2000,
        false,
    )?;
    let (saved, added) = touban_app::edit::apply(
        st.store(),
        &region,
        month,
        &rota,
        &body
            .changes
            .iter()
            .map(|c| touban_app::edit::Change {
                service: c.service.clone(),
                template: c.template.clone(),
                date: c.date,
                remove: c.remove.clone(),
                add: c.add.clone(),
                role: c.role.clone(),
            })
            .collect::<Vec<_>>(),
        body.override_reason.as_deref(),
        &caller.actor(),
    )
    .await
    .map_err(|e| match e {
        touban_app::edit::EditError::Invalid { field, detail } => Problem::invalid(&field, detail),
        touban_app::edit::EditError::Violations(added) => {
            let mut p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rule-violations",
                format!(
                    "the edit breaks {} hard rule(s); fix it, or resend with `override_reason` to accept them on record",
                    added.len()
                ),
            );
            p.violations = added.iter().map(conv::violation).collect();
            p
        }
        touban_app::edit::EditError::Stale(detail) => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "stale-version",
            detail,
        ),
        touban_app::edit::EditError::Store(e) => e.into(),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(EditResult {
            rota: conv::version_of(&saved, Some(version)),
            overridden: added.iter().map(conv::violation).collect(),
        }),
    ))
}
