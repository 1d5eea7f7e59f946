//! Tokens, calendar-feed addresses and the audit log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use touban_domain::{ServiceId, StaffId};
use touban_store::Grant;

use crate::auth::{Caller, issue};
use crate::conv::{self, region_id};
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", params(PageQuery),
    responses((status = 200, body = TokenPage), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn tokens(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<TokenPage>> {
    let all = match &caller.grant {
        Grant::Admin => st.store().credentials(None).await?,
        Grant::Coordinator { region } => st.store().credentials(Some(region)).await?,
        _ => {
            return Err(Problem::forbidden(
                "only admins and coordinators list tokens",
            ));
        }
    };
    let (items, next) = conv::page_of(all.iter().map(conv::token).collect(), &q)?;
    Ok(Json(TokenPage { items, next }))
}

/// Creates an API token. Admins create any; coordinators create institution
/// and staff tokens of their region. The token is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = TokenBody,
    responses((status = 201, body = IssuedTokenDto), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(st): State<AppState>,
    caller: Caller,
    body: crate::JsonBody<TokenBody>,
) -> ApiResult<(StatusCode, Json<IssuedTokenDto>)> {
    let b = body.0;
    let grant = crate::auth::grant(st.store(), &b.role, b.region.as_deref(), b.scope.as_deref())
        .await
        .map_err(|(field, msg)| Problem::invalid(&format!("/{field}"), msg))?;
    let allowed = match (&caller.grant, &grant) {
        (Grant::Admin, _) => true,
        (
            Grant::Coordinator { region },
            Grant::Institution { region: r, .. } | Grant::Staff { region: r, .. },
        ) => region == r,
        _ => false,
    };
    if !allowed {
        return Err(Problem::forbidden(
            "admins create any token; coordinators only institution and staff tokens of their region",
        ));
    }
    crate::conv::free_text("/label", b.label.as_deref(), 200, true)?;
    let label = b.label.unwrap_or_else(|| grant.role().to_string());
    let issued = issue(grant, &label, &caller.actor())?;
    let cred = st.store().create_credential(&issued.credential).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenDto {
            token: issued.token,
            info: conv::token(&cred),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = TokenDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenDto>> {
    let cred = st.store().credential(&id).await?;
    let allowed = match (&caller.grant, &cred.grant) {
        (Grant::Admin, _) => true,
        (Grant::Coordinator { region }, g) => {
            g.region() == Some(region) && !matches!(g, Grant::Coordinator { .. })
        }
        (Grant::Staff { staff, .. }, Grant::StaffFeed { staff: s, .. }) => staff == s,
        _ => false,
    };
    if !allowed {
        return Err(Problem::not_found(format!("token \"{id}\"")));
    }
    let cred = st.store().revoke_credential(&id, &caller.actor()).await?;
    st.verifier.forget(&id);
    Ok(Json(conv::token(&cred)))
}

/// Makes a secret calendar-feed address for one person (the coordinator or
/// the person). Each call makes a new address; revoke old ones by token id.
#[utoipa::path(post, path = "/api/v1/regions/{region}/staff/{staff}/feed", tag = "feeds",
    params(("region" = String, Path), ("staff" = String, Path)),
    responses((status = 201, body = FeedDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn staff_feed(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, staff)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<FeedDto>)> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let net = st.network(&region).await?;
    let nf = || Problem::not_found(format!("staff member \"{staff}\""));
    let id = StaffId::parse(&staff).map_err(|_| nf())?;
    let p = net.staff_member(&id).ok_or_else(nf)?;
    if !(caller.is_coordinator() || caller.staff() == Some(&p.id)) {
        return Err(Problem::forbidden(
            "a feed is made by the person or a coordinator",
        ));
    }
    feed(&st, &caller, Grant::StaffFeed { region, staff: id }).await
}

#[utoipa::path(post, path = "/api/v1/regions/{region}/services/{service}/feed", tag = "feeds",
    params(("region" = String, Path), ("service" = String, Path)),
    responses((status = 201, body = FeedDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn service_feed(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, service)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<FeedDto>)> {
    let region = region_id(&region)?;
    caller.coordinates(&region)?;
    let net = st.network(&region).await?;
    let nf = || Problem::not_found(format!("service \"{service}\""));
    let id = ServiceId::parse(&service).map_err(|_| nf())?;
    net.service(&id).ok_or_else(nf)?;
    feed(
        &st,
        &caller,
        Grant::ServiceFeed {
            region,
            service: id,
        },
    )
    .await
}

/// Makes the region's viewing key: the on-call lookup and every service's
/// patient list of the region without a token (a clinic's desk, a wall
/// screen, a QR code on the printed list), and nothing else. Revoke it with
/// `DELETE /api/v1/tokens/{id}`.
#[utoipa::path(post, path = "/api/v1/regions/{region}/viewing-key", tag = "admin",
    params(("region" = String, Path)),
    responses((status = 201, body = FeedDto), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn viewing_key(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
) -> ApiResult<(StatusCode, Json<FeedDto>)> {
    let region = region_id(&region)?;
    caller.coordinates(&region)?;
    st.network(&region).await?;
    let issued = issue(
        Grant::Viewer {
            region: region.clone(),
        },
        &format!("viewing key of {region}"),
        &caller.actor(),
    )?;
    let cred = st.store().create_credential(&issued.credential).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedDto {
            url: format!("/api/v1/oncall?region={region}&key={}", issued.token),
            info: conv::token(&cred),
        }),
    ))
}

async fn feed(
    st: &AppState,
    caller: &Caller,
    grant: Grant,
) -> ApiResult<(StatusCode, Json<FeedDto>)> {
    let label = match &grant {
        Grant::StaffFeed { staff, .. } => format!("feed of {staff}"),
        Grant::ServiceFeed { service, .. } => format!("feed of service {service}"),
        _ => "feed".into(),
    };
    let issued = issue(grant, &label, &caller.actor())?;
    let cred = st.store().create_credential(&issued.credential).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedDto {
            url: format!("/api/v1/feeds/{}.ics", issued.token),
            info: conv::token(&cred),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(PageQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<AuditPage>> {
    let region = match &caller.grant {
        Grant::Admin => None,
        Grant::Coordinator { region } => Some(region),
        _ => {
            return Err(Problem::forbidden(
                "the audit log is for admins and coordinators",
            ));
        }
    };
    let limit = conv::limit(&q)?;
    let rows = st
        .store()
        .audit_log(region, conv::after_id(&q)?, limit)
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        items: rows.iter().map(conv::audit).collect(),
        next,
    }))
}
