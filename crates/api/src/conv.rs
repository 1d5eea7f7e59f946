//! Domain and store values to API shapes, and request parameters to domain
//! values (refused with the field named).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use touban_domain::{Month, Network, RegionId, Rota};
use touban_store::{AuditRecord, Credential, Grant, RotaVersionInfo, StoredAbsence, StoredCover};

use crate::auth::Caller;
use crate::dto::*;
use crate::error::Problem;
use crate::state::AppState;
use touban_app::ops::ShiftChange;

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Problem> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            Problem::unauthorized("this needs a bearer token: `Authorization: Bearer <token>`")
        })
    }
}

pub fn region_id(s: &str) -> Result<RegionId, Problem> {
    RegionId::parse(s).map_err(|_| Problem::not_found(format!("region \"{s}\"")))
}

/// A free text a person typed (a reason, a note, a label): at most `max`
/// characters; with `blank_ok` false, not only spaces. `field` is the JSON
/// pointer of the value.
pub fn free_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    blank_ok: bool,
) -> Result<(), Problem> {
    let Some(v) = value else { return Ok(()) };
    if !blank_ok && v.trim().is_empty() {
        return Err(Problem::invalid(field, "give a reason, or leave it out"));
    }
    let n = v.chars().count();
    if n > max {
        return Err(Problem::invalid(
            field,
            format!("{n} characters; at most {max}"),
        ));
    }
    Ok(())
}

pub fn month(s: &str) -> Result<Month, Problem> {
    Month::parse(s).map_err(|e| Problem::invalid("path.month", e.message))
}

pub fn limit(q: &PageQuery) -> Result<u32, Problem> {
    match q.limit {
        None => Ok(100),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(n) => Err(Problem::invalid(
            "query.limit",
            format!("{n} is not between 1 and 500"),
        )),
    }
}

/// One page of items with ids, oldest first: those after `?after=`, at
/// most `?limit=`, and the cursor of the next page when there is one.
pub fn id_page<T>(
    items: impl IntoIterator<Item = T>,
    q: &PageQuery,
    id: impl Fn(&T) -> i64,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let after = after_id(q)?;
    let limit = limit(q)? as usize;
    let mut page: Vec<T> = items
        .into_iter()
        .filter(|x| id(x) > after)
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let next = more
        .then(|| page.last().map(|x| id(x).to_string()))
        .flatten();
    Ok((page, next))
}

pub fn after_id(q: &PageQuery) -> Result<i64, Problem> {
    match &q.after {
        None => Ok(0),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Problem::invalid(
                "query.after",
                format!("\"{s}\" is not a cursor from this list"),
            )
        }),
    }
}

/// Pages an in-memory list by position.
pub fn page_of<T>(items: Vec<T>, q: &PageQuery) -> Result<(Vec<T>, Option<String>), Problem> {
    let limit = limit(q)? as usize;
    let start = usize::try_from(after_id(q)?).unwrap_or(usize::MAX);
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start.saturating_add(out.len());
    Ok((out, (end < total).then(|| end.to_string())))
}

pub fn object<T: serde::Serialize>(v: &T) -> NetObject {
    NetObject(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}

pub fn version_info(v: &RotaVersionInfo) -> RotaVersionDto {
    RotaVersionDto {
        version: v.version,
        status: v.status.as_str().into(),
        based_on: v.based_on,
        created_at: v.created_at,
        created_by: v.created_by.clone(),
        note: v.note.clone(),
        assignments: v.assignments,
    }
}

pub fn version_of(r: &Rota, based_on: Option<u32>) -> RotaVersionDto {
    RotaVersionDto {
        version: r.version,
        status: r.status.as_str().into(),
        based_on,
        created_at: r.created_at,
        created_by: r.created_by.clone(),
        note: r.note.clone(),
        assignments: r.assignments.len(),
    }
}

pub fn rota(r: &Rota) -> RotaDto {
    RotaDto {
        region: r.region.to_string(),
        month: r.month.to_string(),
        version: r.version,
        status: r.status.as_str().into(),
        created_at: r.created_at,
        created_by: r.created_by.clone(),
        note: r.note.clone(),
        assignments: r
            .assignments
            .iter()
            .map(|a| AssignmentDto {
                service: a.shift.service.to_string(),
                template: a.shift.template.to_string(),
                date: a.shift.date,
                staff: a.staff.to_string(),
                role: a.role.as_str().into(),
            })
            .collect(),
    }
}

/// The ETag of a rota version: changes when its status does.
pub fn etag(r: &Rota) -> String {
    format!("\"{}-v{}-{}\"", r.month, r.version, r.status.as_str())
}

pub fn change(c: &ShiftChange) -> ShiftChangeDto {
    ShiftChangeDto {
        service: c.shift.service.to_string(),
        template: c.shift.template.to_string(),
        date: c.shift.date,
        before: c.before.iter().map(ToString::to_string).collect(),
        after: c.after.iter().map(ToString::to_string).collect(),
    }
}

pub fn absence(a: &StoredAbsence) -> AbsenceDto {
    AbsenceDto {
        id: a.id,
        source: match a.source {
            touban_store::AbsenceSource::File => "file".into(),
            touban_store::AbsenceSource::Reported => "reported".into(),
        },
        staff: a.absence.staff.to_string(),
        start: a.absence.start,
        end: a.absence.end,
        kind: a.absence.kind.as_str().into(),
        reason: a.absence.reason.clone(),
    }
}

pub fn cover(c: &StoredCover, net: Option<&Network>) -> CoverDto {
    let name = |s: &touban_domain::StaffId| {
        net.and_then(|n| n.staff_member(s))
            .map_or_else(|| s.to_string(), |p| p.name.clone())
    };
    CoverDto {
        id: c.id,
        region: c.region.to_string(),
        institution: c.request.institution.to_string(),
        profession: c.request.profession.to_string(),
        skills: c.request.skills.iter().map(ToString::to_string).collect(),
        start: c.request.start,
        end: c.request.end,
        note: c.request.note.clone(),
        mode: match c.request.mode {
            touban_domain::OfferMode::Broadcast => "broadcast".into(),
            touban_domain::OfferMode::OneByOne => "one_by_one".into(),
        },
        status: c.status.as_str().into(),
        filled_by: c.filled_by.as_ref().map(ToString::to_string),
        created_at: c.created_at,
        escalate_at: c.escalate_at,
        offers: c
            .offers
            .iter()
            .map(|o| OfferDto {
                id: o.id,
                staff: o.staff.to_string(),
                name: name(&o.staff),
                rank: o.rank,
                reason: o.reason.clone(),
                status: o.status.as_str().into(),
                offered_at: o.offered_at,
                answered_at: o.answered_at,
            })
            .collect(),
        excluded: Vec::new(),
    }
}

pub fn token(c: &Credential) -> TokenDto {
    let scope = match &c.grant {
        Grant::Institution { institution, .. } => Some(institution.to_string()),
        Grant::Staff { staff, .. } | Grant::StaffFeed { staff, .. } => Some(staff.to_string()),
        Grant::ServiceFeed { service, .. } => Some(service.to_string()),
        Grant::Admin | Grant::Coordinator { .. } | Grant::Viewer { .. } => None,
    };
    TokenDto {
        id: c.id.clone(),
        role: c.grant.role().into(),
        region: c.grant.region().map(ToString::to_string),
        scope,
        label: c.label.clone(),
        created_at: c.created_at,
        created_by: c.created_by.clone(),
        revoked_at: c.revoked_at,
    }
}

pub fn audit(a: &AuditRecord) -> AuditDto {
    AuditDto {
        id: a.id,
        at: a.at,
        actor: a.entry.actor.clone(),
        address: a.entry.address.clone(),
        region: a.entry.region.as_ref().map(ToString::to_string),
        method: a.entry.method.clone(),
        path: a.entry.path.clone(),
        status: a.entry.status,
        action: a.entry.action.clone(),
        detail: a.entry.detail.clone(),
    }
}

pub fn violation(v: &touban_solver::Violation) -> ViolationDto {
    ViolationDto {
        rule: v.rule.number().into(),
        staff: v.staff.as_ref().map(ToString::to_string),
        shift: v.shift.as_ref().map(ToString::to_string),
        message_ja: v.message_ja.clone(),
        message: v.message.clone(),
    }
}
