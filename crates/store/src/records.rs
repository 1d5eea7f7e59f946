//! What the API and the notifier keep besides the network and its rotas:
//! credentials, the audit log, background jobs, cover requests with their
//! offers, and server secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use touban_domain::{CoverRequest, InstitutionId, Month, RegionId, ServiceId, StaffId};

/// What a credential allows. API tokens carry one of the four roles; feed
/// tokens open one calendar feed and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Grant {
    Admin,
    Coordinator {
        region: RegionId,
    },
    Institution {
        region: RegionId,
        institution: InstitutionId,
    },
    Staff {
        region: RegionId,
        staff: StaffId,
    },
    StaffFeed {
        region: RegionId,
        staff: StaffId,
    },
    ServiceFeed {
        region: RegionId,
        service: ServiceId,
    },
    /// A region's viewing key: who is on call and the patient lists of
    /// every service of the region (a clinic's desk, a wall screen), and
    /// nothing else. Revocable like the feeds.
    Viewer {
        region: RegionId,
    },
}

impl Grant {
    pub fn role(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coordinator { .. } => "coordinator",
            Self::Institution { .. } => "institution",
            Self::Staff { .. } => "staff",
            Self::StaffFeed { .. } => "staff_feed",
            Self::ServiceFeed { .. } => "service_feed",
            Self::Viewer { .. } => "viewer",
        }
    }
    pub fn region(&self) -> Option<&RegionId> {
        match self {
            Self::Admin => None,
            Self::Coordinator { region }
            | Self::Institution { region, .. }
            | Self::Staff { region, .. }
            | Self::StaffFeed { region, .. }
            | Self::ServiceFeed { region, .. }
            | Self::Viewer { region } => Some(region),
        }
    }
    pub fn is_feed(&self) -> bool {
        matches!(
            self,
            Self::StaffFeed { .. } | Self::ServiceFeed { .. } | Self::Viewer { .. }
        )
    }
}

/// A credential about to be stored: its public id and the hash of its secret.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub id: String,
    pub secret_hash: String,
    pub grant: Grant,
    pub label: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub id: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub grant: Grant,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One line of the audit log, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub actor: String,
    pub address: Option<String>,
    pub region: Option<RegionId>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|j| j.as_str() == s)
    }
}

/// A background job (rota generation). A job still running after its
/// deadline belonged to a process that died; it reads as failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub region: RegionId,
    pub kind: String,
    pub month: Month,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub deadline: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverStatus {
    Open,
    Filled,
    Escalated,
    Cancelled,
}

impl CoverStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Filled => "filled",
            Self::Escalated => "escalated",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Filled, Self::Escalated, Self::Cancelled]
            .into_iter()
            .find(|j| j.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// Ranked, not yet offered (one-by-one requests).
    Waiting,
    Offered,
    Accepted,
    Declined,
    /// Someone else accepted first.
    Taken,
    /// The request was filled or cancelled before this one was offered.
    Withdrawn,
}

impl OfferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Taken => "taken",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Offered,
            Self::Accepted,
            Self::Declined,
            Self::Taken,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

/// A ranked candidate for a cover request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOffer {
    pub staff: StaffId,
    pub rank: u32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub id: i64,
    pub request: i64,
    pub staff: StaffId,
    pub rank: u32,
    pub reason: String,
    pub status: OfferStatus,
    pub offered_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCover {
    pub id: i64,
    pub region: RegionId,
    pub request: CoverRequest,
    pub status: CoverStatus,
    pub filled_by: Option<StaffId>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub escalate_at: DateTime<Utc>,
    pub offers: Vec<Offer>,
}

/// What answering an offer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OfferAnswer {
    /// This acceptance won: the request is filled by this person.
    Accepted,
    /// Someone else accepted first.
    AlreadyTaken,
    /// Declined; in one-by-one mode, who is offered next (if anyone).
    Declined { next: Option<StaffId> },
}
