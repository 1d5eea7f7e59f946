//! The web app for coordinators (issue 15, part 1): sign in by e-mail link,
//! the months, the month grid, a cell's candidates and edits through the
//! checker, publishing, and the printable month. Server-rendered HTML
//! (minijinja templates compiled in), htmx for the cell panel (vendored,
//! served from this binary), a strict Content-Security-Policy (no inline
//! script or style). `touban serve` mounts it at `/` beside the API.
#![forbid(unsafe_code)]

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use touban_store::Store;

mod absences;
mod audit;
mod cell;
mod clinic;
mod clinic_cover;
mod downloads;
mod fairness;
mod grid;
mod i18n;
mod me;
mod network;
mod pages;
mod patients;
mod person_forms;
mod pins;
mod requests_list;
mod second_factor;
pub mod session;
mod sign_in;
mod staff_edit;
mod swaps_admin;
mod versions;

pub use session::SignedIn;

/// The web app's settings (`[web]` in the configuration).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// A directory whose templates replace the built-in ones of the same
    /// file name (`crates/web/templates/`).
    pub templates_dir: Option<std::path::PathBuf>,
}

/// What the web app needs.
#[derive(Clone)]
pub struct WebState {
    pub store: Arc<dyn Store>,
    /// The server key shared with the notifier (offer and sign-in links).
    pub key: Arc<Vec<u8>>,
    pub env: Arc<minijinja::Environment<'static>>,
    /// Cookies are `Secure` when people reach the server over https.
    pub secure: bool,
    /// Where people reach this server (links in e-mails start with it).
    pub public_url: String,
    /// No SMTP server is set: sign-in links are also printed to the
    /// server's log, so the demo works on a laptop without mail.
    pub print_links: bool,
    /// Generate jobs, shared with the API (one solve at a time).
    pub jobs: Arc<touban_app::jobs::Jobs>,
    /// Fair bands by region, month and profession, with when they were
    /// computed and the region's change count then (see [`WebState::fair_bands`]).
    fair: Arc<std::sync::Mutex<std::collections::HashMap<FairKey, FairEntry>>>,
    /// Wrong second-factor codes per session (by the cookie's hash).
    wrong_codes: Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState").finish_non_exhaustive()
    }
}

impl WebState {
    /// The state for a store; `public_url` decides whether cookies are
    /// `Secure`.
    pub async fn new(
        store: Arc<dyn Store>,
        public_url: &str,
        print_links: bool,
        jobs: Arc<touban_app::jobs::Jobs>,
        templates_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let key = store
            .server_secret("offer-links", &touban_app::tokens::random_bytes(32))
            .await?;
        Ok(Self {
            store,
            key: Arc::new(key),
            env: Arc::new(i18n::environment(templates_dir)?),
            secure: public_url.starts_with("https://"),
            public_url: public_url.trim_end_matches('/').to_string(),
            print_links,
            jobs,
            wrong_codes: Arc::default(),
            fair: Arc::default(),
        })
    }

    /// The fair bands of a profession's people in a month: computed once
    /// (a second on a 1,000-person network) and kept while the region does
    /// not change (on this server, or on another one sharing a PostgreSQL
    /// database), for at most [`FAIR_TTL`] (a change made through the CLI on
    /// a SQLite file shows after that).
    pub(crate) fn fair_bands(&self, key: FairKey, compute: impl FnOnce() -> Bands) -> Arc<Bands> {
        // This server's changes of the region, and every server's (on
        // PostgreSQL: `Store::generation`).
        let generation = (self.jobs.generation(&key.0), self.store.generation());
        if let Ok(m) = self.fair.lock()
            && let Some((at, g, b)) = m.get(&key)
            && *g == generation
            && at.elapsed() < FAIR_TTL
        {
            return b.clone();
        }
        let b = Arc::new(compute());
        if let Ok(mut m) = self.fair.lock() {
            if m.len() > 1_000 {
                m.clear();
            }
            m.insert(key, (std::time::Instant::now(), generation, b.clone()));
        }
        b
    }

    /// Counts a wrong second-factor code of a session; how many so far.
    fn wrong_code(&self, session: &str) -> u32 {
        let mut m = self
            .wrong_codes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() > 10_000 {
            m.clear();
        }
        let n = m.entry(session.to_string()).or_default();
        *n += 1;
        *n
    }

    fn forget_wrong(&self, session: &str) {
        if let Ok(mut m) = self.wrong_codes.lock() {
            m.remove(session);
        }
    }
}

/// Fair bands by staff id (see `touban_app::fairness::bands`).
pub(crate) type Bands = std::collections::HashMap<
    String,
    [Option<touban_app::fairness::Band>; touban_solver::soft::CATEGORIES],
>;
pub(crate) type FairKey = (
    touban_domain::RegionId,
    touban_domain::Month,
    touban_domain::Profession,
);
type FairEntry = (std::time::Instant, (u64, u64), Arc<Bands>);
/// How long fair bands are kept at most.
const FAIR_TTL: std::time::Duration = std::time::Duration::from_secs(300);

const HTMX: &str = include_str!("../static/htmx.min.js");
const CSS: &str = include_str!("../static/touban.css");
const PATIENTS_CSS: &str = include_str!("../static/patients.css");
const COPY_JS: &str = include_str!("../static/copy.js");

async fn htmx() -> Response {
    static_file("text/javascript; charset=utf-8", HTMX)
}

async fn css() -> Response {
    static_file("text/css; charset=utf-8", CSS)
}

async fn copy_js() -> Response {
    static_file("text/javascript; charset=utf-8", COPY_JS)
}

async fn patients_css() -> Response {
    static_file("text/css; charset=utf-8", PATIENTS_CSS)
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Security headers on every page: no inline script or style, no framing,
/// no referrer (sign-in links carry their secret in the path).
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    res
}

/// The web app's routes.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::root))
        .route("/sign-in", get(sign_in::form).post(sign_in::ask))
        .route(
            "/sign-in/{id}/{secret}",
            get(sign_in::confirm).post(sign_in::open),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/region", post(sign_in::switch_region))
        .route(
            "/second-factor",
            get(second_factor::form).post(second_factor::check),
        )
        .route("/account", get(second_factor::account))
        .route("/account/second-factor/remove", post(second_factor::remove))
        .route("/lang/{lang}", post(i18n::switch))
        .route("/months/{month}", get(pages::month))
        .route("/months/{month}/cell", get(cell::cell))
        .route("/months/{month}/edit", post(cell::edit))
        .route("/months/{month}/pin", post(pins::pin))
        .route("/months/{month}/publish", post(pages::publish))
        .route("/months/{month}/print", get(pages::print))
        .route("/months/{month}/patients", get(patients::page))
        .route("/months/{month}/rota.csv", get(downloads::csv))
        .route("/months/{month}/rota.xlsx", get(downloads::xlsx))
        .route(
            "/months/{month}/generate",
            get(versions::form).post(versions::start),
        )
        .route("/months/{month}/versions", get(versions::versions))
        .route("/months/{month}/fairness", get(fairness::page))
        .route("/months/{month}/requests", get(requests_list::page))
        .route("/network", get(network::page))
        .route("/network/check", post(network::upload))
        .route("/network/apply", post(network::apply))
        .route("/network/download", get(network::download))
        .route(
            "/people/new",
            get(staff_edit::new_form).post(staff_edit::create),
        )
        .route("/people/{id}", get(fairness::person))
        .route("/people/{id}/absences", post(absences::add))
        .route(
            "/people/{id}/absences/{absence}/remove",
            post(person_forms::remove_absence),
        )
        .route("/people/{id}/requests", post(person_forms::add_request))
        .route(
            "/people/{id}/requests/remove",
            post(person_forms::remove_request),
        )
        .route("/people/{id}/retire", post(person_forms::retire))
        .route(
            "/people/{id}/edit",
            get(staff_edit::form).post(staff_edit::save),
        )
        .route("/months/{month}/diff", get(versions::diff))
        .route("/jobs/{id}", get(versions::job))
        .route("/jobs/{id}/status", get(versions::job_status))
        .route("/audit", get(audit::page))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/touban.css", get(css))
        .route("/static/patients.css", get(patients_css))
        .route("/static/copy.js", get(copy_js))
        .route("/me", get(me::duties))
        .route("/me/calendar", get(me::calendar))
        .route("/me/calendar/new", post(me::new_feed))
        .route("/me/calendar/{id}/revoke", post(me::revoke_feed))
        .route(
            "/me/absence",
            get(me::absence_form).post(me::report_absence),
        )
        .route("/me/requests", get(me::requests).post(me::save_requests))
        .route("/me/requests/add", post(me::add_request))
        .route("/me/requests/{id}/withdraw", post(me::withdraw_request))
        .route("/me/offers", get(me::offers))
        .route("/me/offers/{id}", post(me::answer_offer))
        .route("/me/swap", get(me::swap_form).post(me::propose_swap))
        .route("/me/swaps/{id}", post(me::answer_swap))
        .route("/me/swaps/{id}/withdraw", post(me::withdraw_swap))
        .route(
            "/swaps/{id}/respond",
            get(me::respond_page).post(me::respond),
        )
        .route("/swaps", get(swaps_admin::page))
        .route("/swaps/{id}/approve", post(swaps_admin::approve))
        .route("/swaps/{id}/refuse", post(swaps_admin::refuse))
        .route("/clinic", get(clinic::home))
        .route("/clinic/absence", post(clinic::report))
        .route("/clinic/patients", get(clinic::patients))
        .route(
            "/clinic/cover/new",
            get(clinic_cover::form).post(clinic_cover::create),
        )
        .route("/clinic/cover/{id}", get(clinic_cover::page))
        .route("/clinic/cover/{id}/status", get(clinic_cover::status))
        .route("/clinic/cover/{id}/cancel", post(clinic_cover::cancel))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}
