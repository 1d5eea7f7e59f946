//! Every change made in the web app goes to the audit log with the person
//! (their address), the client address, the page and the outcome; and the
//! region's audit log is a page, filterable.

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use touban_store::AuditEntry;

use crate::WebState;
use crate::pages::{Page, render};
use crate::session::{self, SignedIn};

/// Writes each POST (a change, a sign-in, a sign-out) to the audit log.
pub async fn record(State(st): State<WebState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let address = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let jar = CookieJar::from_headers(req.headers());
    let who = match jar.get(session::COOKIE) {
        Some(c) => st.store.session(&session::hash(c.value())).await.ok(),
        None => None,
    };
    let res = next.run(req).await;
    // A sign-in's session starts with this answer: it is recorded as
    // anonymous (its e-mail is recorded with the link).
    let (actor, region) = match &who {
        Some(s) => (format!("web:{}", s.email), s.grant.region().cloned()),
        None => ("web:anonymous".to_string(), None),
    };
    let status = res.status();
    let entry = AuditEntry {
        actor,
        address,
        region,
        method: "POST".into(),
        path: path.clone(),
        status: status.as_u16(),
        action: format!("POST {}", route_of(&path)),
        detail: if status.is_success() || status.is_redirection() {
            "done".into()
        } else {
            format!("refused: {status}")
        },
    };
    if let Err(e) = st.store.append_audit(&entry).await {
        tracing::error!("audit log write failed: {e}");
    }
    res
}

/// The route, without ids and secrets (a sign-in link's secret is never
/// written to the log).
fn route_of(path: &str) -> String {
    if path.starts_with("/sign-in/") {
        return "/sign-in/{id}/{secret}".into();
    }
    path.split('/')
        .map(|seg| {
            if seg.len() == 7 && seg.as_bytes().get(4) == Some(&b'-') {
                "{month}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Only entries whose person, page or outcome contains this.
    q: Option<String>,
}

#[derive(Debug, Serialize)]
struct Line {
    at: String,
    actor: String,
    action: String,
    status: u16,
    detail: String,
}

pub async fn page(
    State(st): State<WebState>,
    me: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Response {
    let rows = match st.store.audit_log(Some(&me.region), 0, 5000).await {
        Ok(r) => r,
        Err(e) => return crate::pages::failure(&st, me.lang, &e.to_string()),
    };
    let needle = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let tz = st
        .store
        .load_network(&me.region)
        .await
        .map(|n| n.region.time_zone)
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let lines: Vec<Line> = rows
        .iter()
        .rev()
        .filter(|r| {
            needle.is_none_or(|n| {
                r.entry.actor.contains(n)
                    || r.entry.action.contains(n)
                    || r.entry.detail.contains(n)
            })
        })
        .take(500)
        .map(|r| Line {
            at: r
                .at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            actor: r.entry.actor.clone(),
            action: r.entry.action.clone(),
            status: r.entry.status,
            detail: r.entry.detail.clone(),
        })
        .collect();
    let mut p = Page::signed_in(&st, &me).await;
    p.set("lines", lines);
    p.set("q", needle);
    render(&st, "audit.html", p, StatusCode::OK)
}
