//! What staff enter and exchange through the API: on/off requests and
//! swaps of duties (re-exported by `dto`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person's wish for a day: `off` (please not) or `on` (I would like).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestDto {
    pub id: i64,
    /// `file` (from the network file) or `entered` (by the person or a coordinator).
    pub source: String,
    pub staff: String,
    pub date: chrono::NaiveDate,
    /// `on` or `off`.
    pub kind: String,
    /// One service only, or every service when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub service: Option<String>,
    /// How much it matters to the person, 1–10.
    pub weight: u8,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub staff: String,
    /// The day, `YYYY-MM-DD`.
    #[schema(example = "2027-01-10")]
    pub date: String,
    /// `off` (please not) or `on` (I would like).
    #[schema(pattern = "^(on|off)$")]
    pub kind: String,
    /// One service only; every service when absent.
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub service: Option<String>,
    /// 1–10, default 5.
    #[schema(minimum = 1, maximum = 10)]
    pub weight: Option<i64>,
}

/// A duty: service, shift template and date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyDto {
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub service: String,
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub template: String,
    /// `YYYY-MM-DD`.
    #[schema(example = "2027-01-10")]
    pub date: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerDto {
    pub staff: String,
    /// Their duty taken in return (swaps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub take: Option<DutyDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SwapPartnersDto {
    /// The published version they were found in.
    pub version: u32,
    pub swaps: Vec<PartnerDto>,
    pub takers: Vec<PartnerDto>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapBody {
    /// My duty.
    pub give: DutyDto,
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub to_staff: String,
    /// Their duty I take in return; absent for a give-away.
    pub take: Option<DutyDto>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapDecision {
    /// Why (required to refuse).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SwapDto {
    pub id: i64,
    pub month: String,
    pub from_staff: String,
    pub give: DutyDto,
    pub to_staff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub take: Option<DutyDto>,
    pub base_version: u32,
    pub note: Option<String>,
    /// `proposed`, `accepted`, `approved`, `declined`, `refused` or `withdrawn`.
    pub status: String,
    pub reason: Option<String>,
    pub result_version: Option<u32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SwapList {
    pub items: Vec<SwapDto>,
}
