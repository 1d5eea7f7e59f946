//! The JSON body extractor: a body that is not the JSON a handler wants is
//! answered with problem details naming the field and what to write, a
//! body cut short with 408.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use crate::error::Problem;

/// A JSON body whose rejections are problem details naming what is wrong.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;
    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match tokio::time::timeout(BODY_WAIT, Json::<T>::from_request(req, state)).await {
            Ok(Ok(Json(v))) => Ok(Self(v)),
            Ok(Err(e)) => Err(json_problem(&e)),
            Err(_) => Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "body-incomplete",
                format!(
                    "the body stopped arriving{}: nothing came for {} s, so nothing was changed; send the request again",
                    announced.map_or_else(String::new, |n| format!(
                        " before the {n} bytes its Content-Length announced"
                    )),
                    BODY_WAIT.as_secs()
                ),
            )),
        }
    }
}

/// How long the rest of a body may take to arrive once a handler reads it:
/// a body cut short (a client that died mid-upload) is answered 408, well
/// before the request timeout.
const BODY_WAIT: Duration = Duration::from_secs(10);

impl<S, T> axum::extract::OptionalFromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;
    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Problem> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v == "0")
            || !req.headers().contains_key(header::CONTENT_TYPE);
        if empty {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Where a JSON body's value was wrong, as a JSON pointer, and what to
/// write instead. axum's text is "Failed to deserialize the JSON body into
/// the target type: changes[0].date: input contains invalid characters at
/// line 1 column 9"; serde names missing and unknown fields in backticks.
fn data_error_field(text: &str) -> (String, String) {
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    let (path, what) = match detail.split_once(": ") {
        Some((p, w)) if !p.contains(' ') => (Some(p), w),
        _ => (None, detail),
    };
    let pointer = |p: &str| {
        let mut out = String::new();
        for part in p.split('.') {
            let (name, index) = match part.split_once('[') {
                Some((n, i)) => (n, Some(i.trim_end_matches(']'))),
                None => (part, None),
            };
            if !name.is_empty() {
                out.push('/');
                out.push_str(name);
            }
            if let Some(i) = index {
                out.push('/');
                out.push_str(i);
            }
        }
        out
    };
    let field = match path {
        Some(p) if p != "." => pointer(p),
        _ => detail
            .split('`')
            .nth(1)
            .map_or_else(|| "body".to_string(), |f| format!("/{f}")),
    };
    // chrono's parse errors say what went wrong but not what is wanted.
    let chrono = [
        "premature end of input",
        "input contains invalid characters",
        "trailing input",
        "input is out of range",
        "input is not enough",
    ];
    let message = if chrono.iter().any(|c| what.contains(c)) {
        format!(
            "{what}: write an instant with its offset, e.g. 2027-01-14T09:00:00+09:00 (a date alone, e.g. 2027-01-14, where the field is a date)"
        )
    } else {
        what.to_string()
    };
    (field, message)
}

fn json_problem(e: &JsonRejection) -> Problem {
    let text = e.body_text();
    match e {
        JsonRejection::JsonDataError(_) => {
            let (field, message) = data_error_field(&text);
            Problem::invalid(&field, message)
        }
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(_) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the body could not be read (it may be over the size limit): {text}"),
        ),
        _ => Problem::bad_request(format!("the body is not valid JSON: {text}")),
    }
}
