//! The storage port. Every backend (SQLite embedded, PostgreSQL scale-out)
//! implements [`Store`]; the rest of Touban sees only this trait and
//! [`StoreError`], and the conformance suite (`touban-store-conformance`)
//! holds every adapter to the same behaviour.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;
use touban_domain::{Absence, Month, Network, NewRota, RegionId, Rota, RotaChange, RotaStatus};

/// The one error type of the port. Adapters translate driver errors at their
/// edge: "no row" becomes `NotFound`, a unique or foreign-key violation
/// becomes `Conflict`, everything else `Backend`.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What an import changed, per kind of object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub region_created: bool,
    pub kinds: Vec<KindReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: &'static str,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl ImportReport {
    /// Whether the import changed anything at all.
    pub fn changed(&self) -> bool {
        self.region_created
            || self
                .kinds
                .iter()
                .any(|k| k.added + k.updated + k.removed > 0)
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.changed() {
            return write!(f, "nothing changed");
        }
        if self.region_created {
            writeln!(f, "new region")?;
        }
        for k in &self.kinds {
            writeln!(
                f,
                "  {:<16} {:>3} added, {:>3} updated, {:>3} removed, {:>3} unchanged",
                k.kind, k.added, k.updated, k.removed, k.unchanged
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionSummary {
    pub id: RegionId,
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

/// One version of a month's rota, without its assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotaVersionInfo {
    pub version: u32,
    pub status: RotaStatus,
    pub based_on: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub note: Option<String>,
    pub assignments: usize,
}

/// A stored absence with its id and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAbsence {
    pub id: i64,
    pub source: AbsenceSource,
    pub absence: Absence,
}

/// Absences from the network file are replaced by a re-import; those reported
/// later (CLI, API) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceSource {
    File,
    Reported,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Loads a validated network into the store in one transaction: new
    /// objects are added, changed ones updated, ones no longer in the file
    /// removed (absences and requests only if they came from the file).
    /// Importing the same network twice changes nothing the second time.
    async fn import_network(&self, net: &Network, actor: &str) -> Result<ImportReport>;

    async fn regions(&self) -> Result<Vec<RegionSummary>>;

    /// The network as stored, with every absence (from the file or reported).
    async fn load_network(&self, region: &RegionId) -> Result<Network>;

    /// Records an absence reported after import. Returns its id.
    async fn add_absence(&self, region: &RegionId, absence: &Absence, actor: &str) -> Result<i64>;

    async fn absences(&self, region: &RegionId) -> Result<Vec<StoredAbsence>>;

    /// Stores a rota as the next version of its month, as a draft.
    async fn save_rota(&self, rota: &NewRota) -> Result<Rota>;

    /// A version of a month's rota; the latest when `version` is `None`.
    async fn rota(&self, region: &RegionId, month: Month, version: Option<u32>) -> Result<Rota>;

    /// The published version of a month, if any.
    async fn published_rota(&self, region: &RegionId, month: Month) -> Result<Option<Rota>>;

    async fn rota_versions(&self, region: &RegionId, month: Month) -> Result<Vec<RotaVersionInfo>>;

    /// Publishes a version; a previously published version becomes superseded.
    async fn publish_rota(
        &self,
        region: &RegionId,
        month: Month,
        version: u32,
        actor: &str,
    ) -> Result<Rota>;

    /// Every recorded change to a month's rota, oldest first.
    async fn rota_history(&self, region: &RegionId, month: Month) -> Result<Vec<RotaChange>>;
}
