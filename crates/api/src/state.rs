//! What every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use touban_domain::{Network, RegionId};
use touban_store::Store;

use crate::auth::Verifier;
use crate::error::Problem;
use crate::oncall::OnCallCache;

/// Settings of `touban serve` (section `[api]` of the config).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Requests per second each client address may make on average
    /// (0 switches rate limiting off).
    pub rate_per_second: u32,
    /// Requests a client may make at once before the rate applies.
    pub rate_burst: u32,
    /// Seconds a verified token is remembered.
    pub token_cache_seconds: u64,
    /// Seconds the on-call answer may lag a publish made by another process
    /// on the same SQLite file (this server's own publishes show at once, and
    /// so do other servers' on PostgreSQL: [`Store::generation`]).
    pub oncall_refresh_seconds: u64,
    /// Seconds between checks for cover requests to escalate.
    pub escalation_check_seconds: u64,
    /// Hours a signed offer link stays valid.
    pub link_valid_hours: i64,
    /// Time limit for a generate job when the request gives none.
    pub default_time_limit_seconds: f64,
    /// Seconds a request may take before the server gives up on it.
    pub request_timeout_seconds: u64,
    /// Address this server is reached at, for links in feeds and e-mails.
    pub public_url: String,
    /// Generate jobs a region may have queued or running at once; more are
    /// refused (429) until one ends.
    pub max_jobs_per_region: usize,
    /// Reverse proxies (addresses or networks, e.g. `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client; empty: the peer is the client.
    pub trusted_proxies: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 256 * 1024,
            rate_per_second: 50,
            rate_burst: 100,
            token_cache_seconds: 30,
            oncall_refresh_seconds: 5,
            escalation_check_seconds: 30,
            link_valid_hours: 72,
            default_time_limit_seconds: 60.0,
            request_timeout_seconds: 30,
            public_url: "http://127.0.0.1:8080".into(),
            max_jobs_per_region: 3,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A network, when it was loaded and at which store generation.
type CachedNetwork = (Arc<Network>, Instant, u64);

#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: ApiConfig,
    pub verifier: Verifier,
    pub oncall: OnCallCache,
    /// Generate jobs and the solver's permit (one solve at a time: HiGHS
    /// uses the machine's cores), shared with the web app.
    pub jobs: Arc<touban_app::jobs::Jobs>,
    /// Key for signed offer links, shared through the database.
    pub link_key: Vec<u8>,
    networks: Mutex<HashMap<RegionId, CachedNetwork>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub async fn new(store: Arc<dyn Store>, config: ApiConfig) -> anyhow::Result<Self> {
        let jobs = touban_app::jobs::Jobs::new(config.max_jobs_per_region);
        Self::with_jobs(store, config, jobs).await
    }

    /// [`AppState::new`], sharing `jobs` with the web app.
    pub async fn with_jobs(
        store: Arc<dyn Store>,
        config: ApiConfig,
        jobs: Arc<touban_app::jobs::Jobs>,
    ) -> anyhow::Result<Self> {
        let link_key = store
            .server_secret("offer-links", &crate::auth::random_bytes(32))
            .await?;
        let state = Self(Arc::new(Inner {
            verifier: Verifier::new(Duration::from_secs(config.token_cache_seconds)),
            oncall: OnCallCache::new(Duration::from_secs(config.oncall_refresh_seconds)),
            jobs,
            link_key,
            store,
            config,
            networks: Mutex::new(HashMap::new()),
        }));
        // A change made through the web app drops this server's cached
        // views at once, as one made through the API does.
        let weak = Arc::downgrade(&state.0);
        state.jobs.on_change(Box::new(move |region| {
            if let Some(inner) = weak.upgrade() {
                AppState(inner).forget(region);
            }
        }));
        Ok(state)
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The region's network, cached for a few seconds (it changes only on
    /// import and on reported absences, which call [`AppState::forget`] on
    /// this server and move [`Store::generation`] on the others).
    pub async fn network(&self, region: &RegionId) -> Result<Arc<Network>, Problem> {
        let ttl = Duration::from_secs(self.config.oncall_refresh_seconds);
        let generation = self.store.generation();
        if let Ok(m) = self.networks.lock()
            && let Some((n, at, g)) = m.get(region)
            && at.elapsed() < ttl
            && *g == generation
        {
            return Ok(n.clone());
        }
        let net = Arc::new(self.store.load_network(region).await?);
        if let Ok(mut m) = self.networks.lock() {
            m.insert(region.clone(), (net.clone(), Instant::now(), generation));
        }
        Ok(net)
    }

    /// Drops cached views of a region after this server changed it.
    pub fn forget(&self, region: &RegionId) {
        self.jobs.bump(region);
        if let Ok(mut m) = self.networks.lock() {
            m.remove(region);
        }
        self.oncall.forget(region);
    }
}
