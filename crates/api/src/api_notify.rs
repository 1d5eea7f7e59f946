//! What became of each e-mail notice: queued, sending, sent, retrying (with
//! the next attempt's time) or failed (with the server's answer).

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use touban_store::{Grant, Message, MessageFilter, MessageState};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::conv::{self, region_id};
use crate::dto::PageQuery;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::state::AppState;

/// One outbox message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: i64,
    pub region: String,
    /// published, changed, offer, offer_taken, escalation, reminder, digest,
    /// delivery_failed, repair_pending.
    pub kind: String,
    /// The staff member it goes to; absent for messages to the coordinators.
    pub staff: Option<String>,
    /// queued, sending, sent, retrying, failed or cancelled (nothing left to
    /// say, e.g. a change that was undone).
    pub state: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the next attempt is due (queued and retrying messages).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub sent_to: Option<String>,
    /// The last failure as the SMTP server (or the network) reported it, or
    /// why the message was skipped.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only messages in this state.
    pub state: Option<String>,
    /// Only messages to this staff member.
    pub staff: Option<String>,
}

fn dto(m: &Message) -> MessageDto {
    MessageDto {
        id: m.id,
        region: m.region.to_string(),
        kind: m.kind.as_str().into(),
        staff: m.staff.as_ref().map(ToString::to_string),
        state: m.state.as_str().into(),
        attempts: m.attempts,
        created_at: m.created_at,
        updated_at: m.updated_at,
        next_attempt_at: matches!(m.state, MessageState::Queued | MessageState::Retrying)
            .then_some(m.due_at),
        sent_at: m.sent_at,
        sent_to: m.sent_to.clone(),
        last_error: m.last_error.clone(),
    }
}

/// Coordinators see every message of their region; staff only their own.
fn own_staff(caller: &Caller) -> Result<Option<touban_domain::StaffId>, Problem> {
    match &caller.grant {
        Grant::Admin | Grant::Coordinator { .. } => Ok(None),
        Grant::Staff { staff, .. } => Ok(Some(staff.clone())),
        _ => Err(Problem::forbidden(
            "message states are for coordinators and for each person's own messages",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/messages", tag = "notices",
    params(("region" = String, Path), MessageQuery, PageQuery),
    responses((status = 200, body = MessagePage), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(region): Path<String>,
    Query(f): Query<MessageQuery>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<MessagePage>> {
    let region = region_id(&region)?;
    caller.in_region(&region)?;
    let own = own_staff(&caller)?;
    let state = f
        .state
        .as_deref()
        .map(|s| {
            MessageState::parse(s).ok_or_else(|| {
                Problem::invalid(
                    "query.state",
                    format!(
                        "\"{s}\" is not one of queued, sending, sent, retrying, failed, cancelled"
                    ),
                )
            })
        })
        .transpose()?;
    let asked = f
        .staff
        .as_deref()
        .map(|s| {
            touban_domain::StaffId::parse(s).map_err(|e| Problem::invalid("query.staff", e.message))
        })
        .transpose()?;
    let staff = match (own, asked) {
        (Some(me), Some(other)) if me != other => {
            return Err(Problem::forbidden(
                "staff tokens see only their own messages",
            ));
        }
        (Some(me), _) => Some(me),
        (None, asked) => asked,
    };
    let limit = conv::limit(&q)?;
    let rows = st
        .store()
        .messages(&MessageFilter {
            region: Some(region),
            state,
            staff,
            after: conv::after_id(&q)?,
            limit,
        })
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(MessagePage {
        items: rows.iter().map(dto).collect(),
        next,
    }))
}

async fn visible(st: &AppState, caller: &Caller, region: &str, id: i64) -> ApiResult<Message> {
    let region = region_id(region)?;
    caller.in_region(&region)?;
    let own = own_staff(caller)?;
    let m = st.store().message(id).await?;
    if m.region != region || own.is_some_and(|me| m.staff.as_ref() != Some(&me)) {
        return Err(Problem::not_found(format!("message {id}")));
    }
    Ok(m)
}

#[utoipa::path(get, path = "/api/v1/regions/{region}/messages/{id}", tag = "notices",
    params(("region" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = MessageDto), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, id)): Path<(String, i64)>,
) -> ApiResult<Json<MessageDto>> {
    Ok(Json(dto(&visible(&st, &caller, &region, id).await?)))
}

#[utoipa::path(post, path = "/api/v1/regions/{region}/messages/{id}/retry", tag = "notices",
    params(("region" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = MessageDto), (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
        (status = 409, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = [])))]
pub async fn retry(
    State(st): State<AppState>,
    caller: Caller,
    Path((region, id)): Path<(String, i64)>,
) -> ApiResult<Json<MessageDto>> {
    let m = visible(&st, &caller, &region, id).await?;
    caller.coordinates(&m.region)?;
    let m = st.store().requeue_message(id, Utc::now()).await?;
    Ok(Json(dto(&m)))
}
