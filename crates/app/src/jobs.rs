//! Generate jobs: a month's rota solved in the background, one solve at a
//! time on this server, its progress written to the job's record as it goes
//! (so a page or a program on any server sharing the database can follow it).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use touban_domain::{Month, NewRota, RegionId};
use touban_solver::{Instance, Progress, SolveOptions, check};
use touban_store::{Job, JobStatus, Store, StoreError};

use crate::ops;

/// The generate jobs of this server: the solver's permit (HiGHS uses the
/// machine's cores, so one solve at a time) and the jobs running here.
pub struct Jobs {
    /// Held while a month is solved (generate and repair).
    pub solver: tokio::sync::Semaphore,
    running: Mutex<HashSet<i64>>,
    /// Generate jobs a region may have queued or running at once.
    pub max_per_region: usize,
    /// One repair at a time per region and month (see [`Jobs::repair_lock`]).
    repairs: Mutex<HashMap<(RegionId, Month), RepairLock>>,
    /// Told when a region's network or rotas changed here, so that cached
    /// views (the API's on-call index) are dropped at once.
    on_change: std::sync::OnceLock<OnChange>,
    /// Counts the changes of each region made on this server, so that
    /// views computed from a region can tell they are stale.
    generations: Mutex<HashMap<RegionId, u64>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("max_per_region", &self.max_per_region)
            .finish_non_exhaustive()
    }
}

/// What to do when a region changed on this server.
pub type OnChange = Box<dyn Fn(&RegionId) + Send + Sync>;

/// Held while a month's repair is computed and saved.
pub type RepairLock = Arc<tokio::sync::Mutex<()>>;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub region: RegionId,
    pub month: Month,
    /// Seconds the solver may take for the whole month.
    pub time_limit: f64,
    /// Relative MIP gap at which it may stop.
    pub gap: f64,
    /// Who asked (recorded on the job and the version).
    pub actor: String,
}

/// Why a job was not started.
#[derive(Debug)]
pub enum StartError {
    /// `active` jobs of the region are queued or running already.
    TooMany {
        active: usize,
        max: usize,
    },
    /// A setting is out of range: the field and what is wrong.
    Invalid {
        field: &'static str,
        detail: String,
    },
    Store(StoreError),
}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Jobs {
    pub fn new(max_per_region: usize) -> Arc<Self> {
        Arc::new(Self {
            solver: tokio::sync::Semaphore::new(1),
            running: Mutex::new(HashSet::new()),
            max_per_region,
            repairs: Mutex::new(HashMap::new()),
            on_change: std::sync::OnceLock::new(),
            generations: Mutex::new(HashMap::new()),
        })
    }

    /// The lock that serialises repairs of one region's month in this
    /// server: absences reported at the same moment are repaired one after
    /// the other, each from the version the previous repair left.
    pub fn repair_lock(&self, region: &RegionId, month: Month) -> RepairLock {
        let mut m = self
            .repairs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry((region.clone(), month)).or_default().clone()
    }

    /// Sets what to do when a region changed (once; later calls are
    /// ignored).
    pub fn on_change(&self, f: OnChange) {
        let _ = self.on_change.set(f);
    }

    /// Says that a region's network or rotas changed on this server.
    pub fn changed(&self, region: &RegionId) {
        self.bump(region);
        if let Some(f) = self.on_change.get() {
            f(region);
        }
    }

    /// Counts a change of the region (without telling the caches: for the
    /// API, which drops its own).
    pub fn bump(&self, region: &RegionId) {
        if let Ok(mut g) = self.generations.lock() {
            *g.entry(region.clone()).or_default() += 1;
        }
    }

    /// How many changes of the region this server has seen.
    pub fn generation(&self, region: &RegionId) -> u64 {
        self.generations
            .lock()
            .map_or(0, |g| g.get(region).copied().unwrap_or_default())
    }

    /// The jobs this server is running now.
    pub fn running(&self) -> Vec<i64> {
        self.running
            .lock()
            .map(|j| j.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Checks the request, records a queued job and starts it in the
    /// background; the job's record says how it goes and how it ended.
    pub async fn start_generate(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        req: GenerateRequest,
    ) -> Result<Job, StartError> {
        if !(req.time_limit > 0.0 && req.time_limit <= 3600.0) {
            return Err(StartError::Invalid {
                field: "time_limit_seconds",
                detail: format!("{} is not between 0 (exclusive) and 3600", req.time_limit),
            });
        }
        if !(0.0..1.0).contains(&req.gap) {
            return Err(StartError::Invalid {
                field: "gap",
                detail: format!("{} is not in [0, 1)", req.gap),
            });
        }
        let active = store.active_jobs(&req.region).await?;
        if active >= self.max_per_region {
            return Err(StartError::TooMany {
                active,
                max: self.max_per_region,
            });
        }
        #[allow(clippy::cast_possible_truncation)]
        let deadline =
            Utc::now() + chrono::Duration::seconds(req.time_limit.ceil() as i64 * 3 + 600);
        let job = store
            .create_job(&req.region, "generate", req.month, &req.actor, deadline)
            .await?;
        let id = job.id;
        if let Ok(mut j) = self.running.lock() {
            j.insert(id);
        }
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.run(store.clone(), &req, id).await;
            if let Ok(mut j) = me.running.lock() {
                j.remove(&id);
            }
            let (status, result, error) = match outcome {
                Ok(v) => (JobStatus::Succeeded, Some(v), None),
                Err(e) => (JobStatus::Failed, None, Some(format!("{e:#}"))),
            };
            if let Err(e) = store
                .update_job(id, status, result.as_ref(), error.as_deref())
                .await
            {
                tracing::error!("job {id}: could not record its end: {e}");
            }
        });
        Ok(job)
    }

    async fn run(
        &self,
        store: Arc<dyn Store>,
        req: &GenerateRequest,
        id: i64,
    ) -> anyhow::Result<serde_json::Value> {
        let _permit = self.solver.acquire().await?;
        store.update_job(id, JobStatus::Running, None, None).await?;
        let (net, history) = ops::context(store.as_ref(), &req.region, req.month).await?;
        #[allow(clippy::cast_possible_truncation)]
        let opts = SolveOptions {
            time_limit: req.time_limit,
            mip_gap: req.gap as f32,
            ..Default::default()
        };
        // The solver reports from its own thread; the reports are written to
        // the job's record here, the newest winning.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    let mut last = p;
                    while let Ok(p) = rx.try_recv() {
                        last = p;
                    }
                    let v = serde_json::json!({ "progress": last });
                    if let Err(e) = store
                        .update_job(id, JobStatus::Running, Some(&v), None)
                        .await
                    {
                        tracing::warn!("job {id}: progress not recorded: {e}");
                    }
                }
            })
        };
        let month = req.month;
        let solved = tokio::task::spawn_blocking(move || {
            let inst = Instance::new(&net, month);
            let out = touban_solver::generate_reporting(&inst, &history, &opts, &|p| {
                let _ = tx.send(p.clone());
            })?;
            let unfilled = touban_solver::explain(&inst, &out.assignments, &history).len();
            let soft = check(&inst, &out.assignments, &history).soft_total();
            Ok::<_, anyhow::Error>((out, unfilled, soft))
        })
        .await;
        // The sender is gone with the solve: the writer ends after the last
        // report, before the job's end is recorded.
        let _ = writer.await;
        let (out, unfilled, soft) = solved??;
        let saved = store
            .save_rota(&NewRota {
                region: req.region.clone(),
                month,
                created_by: req.actor.clone(),
                note: Some(format!(
                    "generated in {:.1} s ({:?}), job {id}",
                    out.elapsed.as_secs_f64(),
                    out.quality
                )),
                based_on: None,
                assignments: out.assignments,
                overridden: Vec::new(),
            })
            .await?;
        Ok(serde_json::json!({
            "version": saved.version,
            "unfilled": unfilled,
            "soft_cost": (soft * 100.0).round() / 100.0,
            "seconds": out.elapsed.as_secs_f64(),
            "quality": out.quality,
        }))
    }
}
