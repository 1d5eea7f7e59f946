//! Swaps and give-aways of duties between two staff members (issue 16):
//! proposed by one, accepted or declined by the other, then approved by a
//! coordinator (or by the region's policy) and applied as a new published
//! version; or refused, or withdrawn when the duties changed meanwhile.

use chrono::{DateTime, Utc};
use serde::Serialize;
use touban_domain::{Month, RegionId, ShiftKey, StaffId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapStatus {
    /// Waiting for the colleague's answer.
    Proposed,
    /// The colleague accepted; waiting for a coordinator.
    Accepted,
    /// Applied: a new published version holds it.
    Approved,
    /// The colleague declined.
    Declined,
    /// A coordinator refused it.
    Refused,
    /// Withdrawn by the proposer, or because the duties changed meanwhile.
    Withdrawn,
}

impl SwapStatus {
    pub const ALL: [Self; 6] = [
        Self::Proposed,
        Self::Accepted,
        Self::Approved,
        Self::Declined,
        Self::Refused,
        Self::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Still waiting for someone (the colleague or a coordinator).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Proposed | Self::Accepted)
    }
}

/// A proposal as made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSwap {
    pub region: RegionId,
    pub month: Month,
    /// Who proposes, and the duty they give.
    pub from_staff: StaffId,
    pub give: ShiftKey,
    /// The colleague, and the duty of theirs the proposer takes in return
    /// (none: a give-away).
    pub to_staff: StaffId,
    pub take: Option<ShiftKey>,
    /// The published version the proposal was made against.
    pub base_version: u32,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Swap {
    pub id: i64,
    pub region: RegionId,
    pub month: Month,
    pub from_staff: StaffId,
    pub give: ShiftKey,
    pub to_staff: StaffId,
    pub take: Option<ShiftKey>,
    pub base_version: u32,
    pub note: Option<String>,
    pub status: SwapStatus,
    /// Why it was refused or withdrawn.
    pub reason: Option<String>,
    /// The published version that applied it.
    pub result_version: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

/// A change of a proposal's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapMove {
    /// The state it must be in now (else `Conflict`: someone else moved it).
    pub from: SwapStatus,
    pub to: SwapStatus,
    pub reason: Option<String>,
    pub result_version: Option<u32>,
}

/// The message a swap calls for, to one person.
pub fn swap_message(
    region: &RegionId,
    kind: crate::MessageKind,
    to: &StaffId,
    swap: i64,
) -> crate::NewMessage {
    crate::NewMessage {
        region: region.clone(),
        kind,
        staff: Some(to.clone()),
        payload: serde_json::json!({ "swap": swap }),
        due_at: Utc::now(),
        dedupe_key: None,
        merge_key: None,
    }
}

/// Whom a move of a swap is told to, in the move's transaction: the
/// proposer hears of every outcome but their own withdrawal (an approval is
/// told by the change notices of the version it publishes); the colleague
/// hears when a proposal to them is refused or withdrawn.
pub fn settle_messages(s: &Swap, m: &SwapMove) -> Vec<crate::NewMessage> {
    use crate::MessageKind::SwapUpdate;
    let mut msgs = Vec::new();
    let by_proposer = m.to == SwapStatus::Withdrawn && m.reason.is_none();
    if matches!(
        m.to,
        SwapStatus::Accepted | SwapStatus::Declined | SwapStatus::Refused | SwapStatus::Withdrawn
    ) && !by_proposer
    {
        msgs.push(swap_message(&s.region, SwapUpdate, &s.from_staff, s.id));
    }
    if matches!(m.to, SwapStatus::Refused | SwapStatus::Withdrawn) {
        msgs.push(swap_message(&s.region, SwapUpdate, &s.to_staff, s.id));
    }
    msgs
}
