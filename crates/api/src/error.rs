//! Errors as RFC 9457 problem details (`application/problem+json`), each
//! naming what was wrong and, where there is one, the field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use touban_store::StoreError;
use utoipa::ToSchema;

/// One problem with one field of the request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Where: a JSON pointer into the body (`/start`), or `query.at`, or a
    /// header name.
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details, boxed so that results stay small.
#[derive(Debug, Clone)]
pub struct Problem(pub Box<ProblemDetails>);

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDetails {
    /// A URI naming the kind of problem (relative to the API docs).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub errors: Vec<FieldError>,
    /// Rule violations, for refused rota edits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub violations: Vec<crate::dto::ViolationDto>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDetails {
            kind: format!("/api/v1/docs/problems#{kind}"),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            violations: Vec::new(),
            retry_after: None,
        }))
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
    /// A request that is well-formed but names something wrong, with the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            format!("{field}: {message}"),
        );
        p.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
        p
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{} not found", what.into()),
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer; the error is in its log",
        )
    }
}

impl From<touban_app::AppError> for Problem {
    fn from(e: touban_app::AppError) -> Self {
        match e {
            touban_app::AppError::NotFound(w) => Self::not_found(w),
            touban_app::AppError::Invalid { field, detail } => Self::invalid(&field, detail),
            touban_app::AppError::Internal(e) => Self::internal(e),
            touban_app::AppError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(w) => Self::not_found(w),
            StoreError::Conflict(w) => Self::conflict(w),
            StoreError::Invalid(w) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", w),
            StoreError::Backend(w) => Self::internal(w),
            StoreError::Stale(w) => Self::new(StatusCode::PRECONDITION_FAILED, "stale-version", w),
            StoreError::Busy(w) => {
                let mut p = Self::new(StatusCode::SERVICE_UNAVAILABLE, "database-busy", w);
                p.retry_after = Some(5);
                p
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let mut res = (status, axum::Json(*self.0)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = retry {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, Problem>;
