//! Touban's HTTP API: axum on the same store as the CLI. See `docs/api.md`.
#![forbid(unsafe_code)]

pub mod api_admin;
pub mod api_cover;
pub mod api_net;
pub mod api_notify;
pub mod api_public;
pub mod api_requests;
pub mod api_rota;
pub mod api_swaps;
pub mod auth;
pub mod conv;
pub mod dto;
mod dto_staff;
pub mod error;
mod json_body;
pub mod oncall;
mod openapi;
pub mod proxy;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use touban_store::{AuditEntry, Store};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use json_body::JsonBody;
pub use openapi::ApiDoc;
pub use state::{ApiConfig, AppState};

use crate::error::Problem;

/// What a handler wants the audit log to say about its change beyond
/// "done" (an override and its reason); put in the response's extensions.
#[derive(Debug, Clone)]
pub struct AuditNote(pub String);

/// The region a change belongs to, when its path does not name it (an
/// offer answered through a signed e-mail link): set by the handler as a
/// response extension so that the region's audit view shows it.
#[derive(Debug, Clone)]
pub struct AuditRegion(pub touban_domain::RegionId);

/// What an id looks like (`touban_domain::id::check_slug`).
pub const ID_PATTERN: &str = r"^[a-z0-9][a-z0-9._-]{0,63}$";

/// Verifies a bearer token if one is sent (putting the caller in the
/// request), and writes every change (any method but GET/HEAD/OPTIONS) to
/// the audit log with who, when, what and from where, whatever its outcome.
async fn auth_and_audit(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_string());
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let mut caller = None;
    if let Some(h) = req.headers().get(header::AUTHORIZATION) {
        let token = h
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let result = match token {
            Some(t) => st.verifier.verify(st.store(), t, false).await,
            None => Err(Problem::unauthorized(
                "the Authorization header must be `Bearer <token>`",
            )),
        };
        match result {
            Ok(c) => caller = Some(c),
            Err(p) => {
                let res = p.into_response();
                audit(
                    &st,
                    &method,
                    &path,
                    &route,
                    address,
                    None,
                    res.status(),
                    (None, None),
                )
                .await;
                return res;
            }
        }
    }
    if let Some(c) = &caller {
        req.extensions_mut().insert(c.clone());
    }
    let res = next.run(req).await;
    let note = res.extensions().get::<AuditNote>().map(|n| n.0.clone());
    let region = res.extensions().get::<AuditRegion>().map(|r| r.0.clone());
    audit(
        &st,
        &method,
        &path,
        &route,
        address,
        caller.as_ref(),
        res.status(),
        (note, region),
    )
    .await;
    res
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    st: &AppState,
    method: &Method,
    path: &str,
    route: &str,
    address: Option<String>,
    caller: Option<&auth::Caller>,
    status: StatusCode,
    (note, region): (Option<String>, Option<touban_domain::RegionId>),
) {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return;
    }
    // Signed offer links carry their signature in the query; the path is
    // enough. Their region comes from the handler.
    let region = region.or_else(|| {
        path.strip_prefix("/api/v1/regions/")
            .and_then(|r| r.split('/').next())
            .and_then(|r| touban_domain::RegionId::parse(r).ok())
            .or_else(|| caller.and_then(|c| c.grant.region().cloned()))
    });
    let entry = AuditEntry {
        actor: caller.map_or_else(|| "anonymous".to_string(), auth::Caller::actor),
        address,
        region,
        method: method.to_string(),
        path: path.to_string(),
        status: status.as_u16(),
        action: format!("{method} {route}"),
        detail: if status.is_success() {
            note.unwrap_or_else(|| "done".into())
        } else {
            format!("refused: {status}")
        },
    };
    if let Err(e) = st.store().append_audit(&entry).await {
        tracing::error!("audit log write failed: {e}");
    }
}

/// axum's own rejections (a path segment that is not a number, a query
/// that does not parse, a method the route lacks) come as plain text; they
/// are turned into problem details like every other error.
/// The request timeout's answer (an empty 503) as a problem saying what
/// happened and what to do.
async fn timed_out(res: Response) -> Response {
    let empty = res.status() == StatusCode::SERVICE_UNAVAILABLE
        && !res.headers().contains_key(header::CONTENT_TYPE);
    if !empty {
        return res;
    }
    let mut p = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "timed-out",
        "the request took longer than the server's limit ([api] request_timeout_seconds) and was stopped; if it was a change, check whether it took effect (e.g. list the versions) before sending it again",
    );
    p.retry_after = Some(5);
    p.into_response()
}

async fn problemize(res: Response) -> Response {
    let status = res.status();
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.to_str().unwrap_or_default().starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return res;
    }
    let text = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let kind = status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace(' ', "-");
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    Problem::new(status, &kind, detail).into_response()
}

/// The page the problem `type` links point at.
async fn problems_page() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("problems.html"))
}

async fn not_found() -> Problem {
    Problem::not_found("this address")
}

/// The whole application, with its middleware.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/health", get(api_public::health))
        .route("/api/v1/docs/problems", get(problems_page))
        .route("/api/v1/oncall", get(api_public::oncall))
        .route(
            "/api/v1/regions/{region}/services/{service}/patient-list",
            get(api_public::patient_list),
        )
        .route("/api/v1/feeds/{token}", get(api_public::feed))
        .route("/api/v1/regions", get(api_net::regions))
        .route(
            "/api/v1/regions/{region}/institutions",
            get(api_net::institutions),
        )
        .route("/api/v1/regions/{region}/services", get(api_net::services))
        .route("/api/v1/regions/{region}/staff", get(api_net::staff))
        .route(
            "/api/v1/regions/{region}/staff/{staff}",
            get(api_net::staff_member),
        )
        .route(
            "/api/v1/regions/{region}/attending-pairs",
            get(api_net::attending_pairs),
        )
        .route(
            "/api/v1/regions/{region}/requests",
            get(api_requests::list).post(api_requests::create),
        )
        .route(
            "/api/v1/regions/{region}/requests/{id}",
            axum::routing::delete(api_requests::withdraw),
        )
        .route(
            "/api/v1/regions/{region}/absences",
            get(api_net::absences).post(api_net::add_absence),
        )
        .route("/api/v1/regions/{region}/rotas", get(api_rota::months))
        .route(
            "/api/v1/regions/{region}/rotas/{month}",
            get(api_rota::versions),
        )
        .route(
            "/api/v1/regions/{region}/rotas/{month}/generate",
            post(api_rota::generate),
        )
        .route(
            "/api/v1/regions/{region}/rotas/{month}/diff",
            get(api_rota::diff),
        )
        .route(
            "/api/v1/regions/{region}/rotas/{month}/versions/{version}",
            get(api_rota::rota),
        )
        .route(
            "/api/v1/regions/{region}/rotas/{month}/versions/{version}/publish",
            post(api_rota::publish),
        )
        .route(
            "/api/v1/regions/{region}/rotas/{month}/versions/{version}/edits",
            post(api_rota::edit),
        )
        .route("/api/v1/jobs/{id}", get(api_rota::job))
        .route("/api/v1/regions/{region}/messages", get(api_notify::list))
        .route(
            "/api/v1/regions/{region}/messages/{id}",
            get(api_notify::get_one),
        )
        .route(
            "/api/v1/regions/{region}/messages/{id}/retry",
            post(api_notify::retry),
        )
        .route(
            "/api/v1/regions/{region}/cover-requests",
            get(api_cover::list).post(api_cover::create),
        )
        .route("/api/v1/cover-requests/{id}", get(api_cover::get_one))
        .route(
            "/api/v1/cover-requests/{id}/cancel",
            post(api_cover::cancel),
        )
        .route("/api/v1/me/offers", get(api_cover::my_offers))
        .route("/api/v1/me/swap-partners", post(api_swaps::partners))
        .route("/api/v1/me/swaps", post(api_swaps::propose))
        .route("/api/v1/regions/{region}/swaps", get(api_swaps::list))
        .route("/api/v1/swaps/{id}", get(api_swaps::get_one))
        .route("/api/v1/swaps/{id}/accept", post(api_swaps::accept))
        .route("/api/v1/swaps/{id}/decline", post(api_swaps::decline))
        .route("/api/v1/swaps/{id}/withdraw", post(api_swaps::withdraw))
        .route("/api/v1/swaps/{id}/approve", post(api_swaps::approve))
        .route("/api/v1/swaps/{id}/refuse", post(api_swaps::refuse))
        .route("/api/v1/offers/{id}/accept", post(api_cover::accept))
        .route("/api/v1/offers/{id}/decline", post(api_cover::decline))
        .route(
            "/api/v1/offers/{id}/respond",
            get(api_cover::respond_page).post(api_cover::respond),
        )
        .route(
            "/api/v1/tokens",
            get(api_admin::tokens).post(api_admin::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(api_admin::revoke_token),
        )
        .route(
            "/api/v1/regions/{region}/staff/{staff}/feed",
            post(api_admin::staff_feed),
        )
        .route(
            "/api/v1/regions/{region}/services/{service}/feed",
            post(api_admin::service_feed),
        )
        .route(
            "/api/v1/regions/{region}/viewing-key",
            post(api_admin::viewing_key),
        )
        .route("/api/v1/audit", get(api_admin::audit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth_and_audit,
        ))
        .fallback(not_found)
        .layer(middleware::map_response(problemize))
        .with_state(state.clone());
    let mut app = api
        .merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.body_limit,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(state.config.request_timeout_seconds),
        ))
        .layer(middleware::map_response(timed_out));
    if state.config.rate_per_second > 0 {
        let period = Duration::from_nanos(1_000_000_000 / u64::from(state.config.rate_per_second));
        let conf = GovernorConfigBuilder::default()
            .period(period)
            .burst_size(state.config.rate_burst.max(1))
            .error_handler(|e| {
                let wait = match e {
                    tower_governor::GovernorError::TooManyRequests { wait_time, .. } => wait_time,
                    _ => 1,
                };
                let mut p = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    format!("too many requests from this address; retry in {wait} s"),
                );
                p.retry_after = Some(wait.max(1));
                p.into_response()
            })
            .finish();
        if let Some(conf) = conf {
            let conf = Arc::new(conf);
            let limiter = conf.limiter().clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    limiter.retain_recent();
                }
            });
            app = app.layer(GovernorLayer { config: conf });
        }
    }
    app
}

/// Escalates cover requests nobody took in time, until the server stops.
pub fn spawn_escalation(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.escalation_check_seconds.max(1));
        loop {
            match state.store().escalate_due(chrono::Utc::now()).await {
                Ok(list) => {
                    for c in list {
                        tracing::warn!(
                            "cover request {} of {} ({}) escalated to the coordinator: nobody accepted in time",
                            c.id,
                            c.request.institution,
                            c.region
                        );
                    }
                }
                Err(e) => tracing::error!("escalation check failed: {e}"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    store: Arc<dyn Store>,
    config: ApiConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let jobs = touban_app::jobs::Jobs::new(config.max_jobs_per_region);
    serve_with(store, config, listener, shutdown, Router::new(), jobs).await
}

/// [`serve`], with `extra` routes beside the API (the web app at `/`).
pub async fn serve_with(
    store: Arc<dyn Store>,
    config: ApiConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    extra: Router,
    jobs: Arc<touban_app::jobs::Jobs>,
) -> anyhow::Result<()> {
    let state = AppState::with_jobs(store, config, jobs).await?;
    // Jobs left queued or running by an earlier run can no longer end: they
    // are marked failed (not re-queued: the coordinator may have generated
    // again since, and a month's solve is cheap to start again).
    let stale = state
        .store()
        .interrupt_jobs(
            None,
            "interrupted: the server stopped before this job finished; start generate again",
        )
        .await?;
    if stale > 0 {
        tracing::warn!("{stale} job(s) of an earlier run marked failed (interrupted)");
    }
    let escalation = spawn_escalation(state.clone());
    let trusted = std::sync::Arc::new(proxy::parse(&state.config.trusted_proxies)?);
    // Outermost: every layer after it sees the client behind a trusted proxy.
    let app = extra
        .merge(router(state.clone()))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| proxy::real_client(trusted.clone(), req, next),
        ));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    escalation.abort();
    // Jobs still running at shutdown (SIGTERM) are marked at once, so that
    // nobody waits for them.
    let running = state.jobs.running();
    if !running.is_empty() {
        state
            .store()
            .interrupt_jobs(
                Some(&running),
                "interrupted: the server was shut down while this job ran; start generate again",
            )
            .await?;
    }
    Ok(())
}
