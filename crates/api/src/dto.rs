//! The API's request and response shapes, with their OpenAPI schemas. Ids
//! are plain strings here; they are parsed (and refused with the field named)
//! when a request comes in.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A network object (institution, staff member, service, attending pair,
/// absence) in the shape of the network file: see `docs/network-file.md`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct NetObject(pub serde_json::Value);

macro_rules! page {
    ($name:ident, $item:ty) => {
        /// One page of a list; pass `next` as `after` for the following page.
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Cursor for the next page, absent on the last one.
            #[serde(skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            pub next: Option<String>,
        }
    };
}

page!(ObjectPage, NetObject);
page!(AbsencePage, AbsenceDto);
page!(RequestPage, RequestDto);

pub use crate::dto_staff::*;
page!(CoverPage, CoverDto);
page!(AuditPage, AuditDto);
page!(TokenPage, TokenDto);

/// `?after=…&limit=…` on every list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// At most this many items (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionDto {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionList {
    pub items: Vec<RegionDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignmentDto {
    pub service: String,
    pub template: String,
    /// Local date the shift starts on.
    pub date: NaiveDate,
    pub staff: String,
    /// `primary` or `backup`.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotaVersionDto {
    pub version: u32,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub based_on: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub note: Option<String>,
    pub assignments: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotaVersionList {
    pub month: String,
    pub items: Vec<RotaVersionDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotaDto {
    pub region: String,
    pub month: String,
    pub version: u32,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub note: Option<String>,
    pub assignments: Vec<AssignmentDto>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// Seconds the solver may run (default 60, at most 3600).
    #[schema(exclusive_minimum = 0.0, maximum = 3600.0)]
    pub time_limit_seconds: Option<f64>,
    /// Relative MIP gap at which to stop (default 0.005), from 0 up to 1.
    #[schema(minimum = 0.0, exclusive_maximum = 1.0)]
    pub gap: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDto {
    pub id: i64,
    pub region: String,
    pub kind: String,
    pub month: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub finished_at: Option<DateTime<Utc>>,
    /// On success: `{version, unfilled, soft_cost, seconds, quality}`.
    /// While running: `{progress: {parts_done, parts, shifts_done, shifts,
    /// objective, gap, unfilled, seconds}}`, updated after each part.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftChangeDto {
    pub service: String,
    pub template: String,
    pub date: NaiveDate,
    /// Staff ids on the shift before.
    pub before: Vec<String>,
    /// Staff ids on the shift after.
    pub after: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiffDto {
    pub month: String,
    pub from: u32,
    pub to: u32,
    pub changes: Vec<ShiftChangeDto>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    #[param(minimum = 1)]
    pub from: u32,
    /// The newer version.
    #[param(minimum = 1)]
    pub to: u32,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditDto {
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub service: String,
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub template: String,
    pub date: NaiveDate,
    /// Take this person off the shift.
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub remove: Option<String>,
    /// Put this person on the shift.
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub add: Option<String>,
    /// Role of the added person (default: the role of the person removed,
    /// else `primary` when the shift has none, `backup` when it has).
    #[schema(value_type = Option<String>, pattern = "^(primary|backup)$")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    #[schema(min_items = 1)]
    pub changes: Vec<EditDto>,
    /// Accept the edit even though it breaks hard rules; the reason is
    /// recorded with the new version and in the audit log.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Publish even though the version is not based on the month's
    /// published version, or breaks hard rules; the reason is kept in the
    /// rota history and the audit log.
    #[schema(min_length = 1, max_length = 2000)]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViolationDto {
    /// The rule's number in DOMAIN.md.
    pub rule: String,
    pub staff: Option<String>,
    pub shift: Option<String>,
    /// What is wrong, in Japanese (shown first to coordinators).
    pub message_ja: String,
    /// The same in English.
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditResult {
    pub rota: RotaVersionDto,
    /// Violations accepted by an override (empty when the edit kept every rule).
    pub overridden: Vec<ViolationDto>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceBody {
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub staff: String,
    /// RFC 3339 with offset, e.g. `2027-01-14T08:30:00+09:00`.
    pub start: DateTime<FixedOffset>,
    /// Exclusive end, RFC 3339 with offset.
    pub end: DateTime<FixedOffset>,
    /// `leave`, `conference`, `sickness`, `sudden` or `other` (default `sudden`).
    #[schema(pattern = "^(leave|conference|sickness|sudden|other)$")]
    pub kind: Option<String>,
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceDto {
    pub id: i64,
    /// `file` (from the network file) or `reported`.
    pub source: String,
    pub staff: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub kind: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairDto {
    pub month: String,
    /// The version that was repaired (published, else latest).
    pub from_version: u32,
    pub version: u32,
    /// Published at once (network policy `auto_publish_repairs`), or left
    /// as a draft for a coordinator to publish.
    pub published: bool,
    pub changes: Vec<ShiftChangeDto>,
    /// Shifts still below their minimum, with why.
    pub unfilled: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceResult {
    pub absence: AbsenceDto,
    /// One repair per month whose rota had the person on duty in the absence.
    pub repairs: Vec<RepairDto>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverBody {
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub institution: String,
    /// `physician`, `dentist`, `nurse`, `pharmacist`, `care_worker` or `other`.
    #[schema(pattern = "^(physician|dentist|nurse|pharmacist|care_worker|other)$")]
    pub profession: String,
    #[serde(default)]
    #[schema(inline, value_type = Vec<String>)]
    pub skills: Vec<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// `broadcast` (all at once, first acceptance wins) or `one_by_one`.
    #[schema(pattern = "^(broadcast|one_by_one)$")]
    pub mode: Option<String>,
    /// How many ranked candidates get offers (1–20, default 5).
    #[schema(minimum = 1, maximum = 20)]
    pub max_offers: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferDto {
    pub id: i64,
    pub staff: String,
    pub name: String,
    pub rank: u32,
    /// Why this rank: distance, load, rules checked; Japanese first, then
    /// English after " / ".
    pub reason: String,
    /// `waiting`, `offered`, `accepted`, `declined`, `taken`, `withdrawn`.
    pub status: String,
    pub offered_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExcludedDto {
    pub staff: String,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverDto {
    pub id: i64,
    pub region: String,
    pub institution: String,
    pub profession: String,
    pub skills: Vec<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub note: Option<String>,
    pub mode: String,
    /// `open`, `filled`, `escalated`, `cancelled`.
    pub status: String,
    pub filled_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub escalate_at: DateTime<Utc>,
    pub offers: Vec<OfferDto>,
    /// At creation only: people of the profession who were not offered, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub excluded: Vec<ExcludedDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferAnswerDto {
    /// `accepted`, `already_taken` or `declined`.
    pub outcome: String,
    /// Kept for compatibility and always absent: the person answering is
    /// not told who else is asked (coordinators see it on the request).
    pub next: Option<String>,
    pub request: CoverDto,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyOfferDto {
    pub offer: OfferDto,
    pub request: i64,
    pub institution: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Single-use signed links (the ones e-mails carry).
    pub accept_link: Option<String>,
    pub decline_link: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyOfferList {
    pub items: Vec<MyOfferDto>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnCallQuery {
    /// A service id; or use `institution` or `region`.
    pub service: Option<String>,
    pub institution: Option<String>,
    pub region: Option<String>,
    /// RFC 3339 instant (default: now).
    pub at: Option<String>,
    /// A viewing key (the region's, or a service feed's) instead of a
    /// bearer token, for desks, wall screens and printed QR codes.
    pub key: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonOnCall {
    pub staff: String,
    pub name: String,
    pub name_en: Option<String>,
    pub role: String,
    pub phone: Option<String>,
    /// Put on by a repair that a coordinator has not yet published: the
    /// published person is absent, this is who stands in.
    pub provisional: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotDto {
    pub template: String,
    pub date: NaiveDate,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub people: Vec<PersonOnCall>,
    /// Nobody holds this slot yet (未定): patients call `fallback_phone`.
    pub unfilled: bool,
    /// The service's or region's number for a slot nobody holds.
    pub fallback_phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnCallEntry {
    pub region: String,
    pub service: String,
    pub service_name: String,
    /// The shift covering the instant, if the published rota has one.
    pub now: Option<SlotDto>,
    /// The next shift after it (who takes over, and from when).
    pub next: Option<SlotDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnCallAnswer {
    pub at: DateTime<FixedOffset>,
    pub entries: Vec<OnCallEntry>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientListQuery {
    /// First date (local), default today.
    pub from: Option<NaiveDate>,
    /// Last date (local, inclusive), default `from` + 30 days; at most 92 days.
    pub to: Option<NaiveDate>,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
    /// A viewing key (the region's, or this service's feed) instead of a
    /// bearer token.
    pub key: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientRow {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub name: String,
    pub role: String,
    pub phone: Option<String>,
    /// Nobody holds the slot yet: `name` is 未定 and `phone` the fallback.
    pub unfilled: bool,
    /// The name of the holiday the slot starts on (日曜日, 元日, お盆…).
    pub holiday: Option<String>,
    /// Where to go, when patients are given the institution (a holiday
    /// duty clinic, a pharmacy on call).
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientList {
    pub region: String,
    pub service: String,
    pub service_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day the list was made (local).
    pub issued: NaiveDate,
    /// The published version of each month the list draws on, e.g.
    /// `2027-01 v2`.
    pub versions: Vec<String>,
    pub rows: Vec<PatientRow>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// `admin`, `coordinator`, `institution`, `staff` or `viewer` (a
    /// region's viewing key).
    #[schema(pattern = "^(admin|coordinator|institution|staff|viewer)$")]
    pub role: String,
    /// Region of a coordinator, institution, staff or viewer token.
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub region: Option<String>,
    /// Institution id (role `institution`) or staff id (role `staff`).
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub scope: Option<String>,
    #[schema(max_length = 200)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub role: String,
    pub region: Option<String>,
    pub scope: Option<String>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedTokenDto {
    /// The secret token: shown this once, stored only as a hash.
    pub token: String,
    pub info: TokenDto,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedDto {
    /// The secret feed address (relative to the server); revoke it with
    /// `DELETE /api/v1/tokens/{id}`.
    pub url: String,
    pub info: TokenDto,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditDto {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub address: Option<String>,
    pub region: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// One month of a region with rotas.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotaMonthDto {
    /// `YYYY-MM`.
    pub month: String,
    /// The published version, if any.
    pub published: Option<u32>,
    /// The newest version the caller may see.
    pub latest: u32,
    /// How many versions the caller may see.
    pub versions: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotaMonthList {
    pub items: Vec<RotaMonthDto>,
}
