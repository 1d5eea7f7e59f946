//! Server-side sessions: the cookie holds 32 random bytes; the store keeps
//! only their SHA-256. A session ends after `IDLE` without use or `ABSOLUTE`
//! after sign-in, or when signed out (everywhere, if asked). Forms carry a
//! CSRF token derived from the session (HMAC under the server key), so no
//! page can post on a signed-in person's behalf.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use touban_domain::RegionId;
use touban_store::Grant;
use touban_store::web::Session;

use crate::WebState;

pub const COOKIE: &str = "touban_session";
/// The region an admin works in (admins may work in every region).
pub const REGION_COOKIE: &str = "touban_region";
/// Unused for this long, a session ends.
pub const IDLE: Duration = Duration::hours(8);
/// Whatever its use, a session ends this long after sign-in.
pub const ABSOLUTE: Duration = Duration::hours(24);

pub fn hash(cookie: &str) -> String {
    touban_app::tokens::hex(&Sha256::digest(cookie.as_bytes()))
}

/// A new session's cookie value and its stored hash.
pub fn new_id() -> (String, String) {
    let v = URL_SAFE_NO_PAD.encode(touban_app::tokens::random_bytes(32));
    let h = hash(&v);
    (v, h)
}

pub fn cookie(value: &str, secure: bool) -> Cookie<'static> {
    Cookie::parse(format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    ))
    .expect("a well-formed cookie")
}

pub fn csrf_token(key: &[u8], id_hash: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(format!("csrf:{id_hash}").as_bytes());
    touban_app::tokens::hex(&m.finalize().into_bytes())
}

/// Who a session is: the coordinators' pages are for coordinators and
/// admins; staff and institutions have their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Coordinator,
    Admin,
    Staff(touban_domain::StaffId),
    Institution(touban_domain::InstitutionId),
}

/// A signed-in person: a coordinator, an admin working in one region at a
/// time, a staff member or an institution.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub region: RegionId,
    /// An admin: may switch to any region.
    pub admin: bool,
    pub who: Who,
    pub csrf: String,
    pub lang: &'static str,
}

impl SignedIn {
    pub fn actor(&self) -> String {
        format!("web:{}", self.session.email)
    }

    /// Whether a posted CSRF token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        // Equal length hex strings; compare without an early exit.
        token.len() == self.csrf.len()
            && token
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Not signed in (or the session ended): to the sign-in page; signed in by
/// the e-mail link but the second factor not passed yet: to its page.
#[derive(Debug)]
pub struct SignInFirst {
    to: &'static str,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(self.to).into_response()
    }
}

const SIGN_IN: SignInFirst = SignInFirst { to: "/sign-in" };

/// A live session that passed its second factor (if it needs one).
pub async fn verified<S>(parts: &mut Parts, state: &S) -> Result<SignedIn, SignInFirst>
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    let me = Pending::from_request_parts(parts, state).await?.0;
    if me.session.verified_at.is_none() {
        return Err(SignInFirst {
            to: "/second-factor",
        });
    }
    Ok(me)
}

impl SignInFirst {
    /// To another page first.
    pub const fn to(to: &'static str) -> Self {
        Self { to }
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SignInFirst> {
        let me = verified(parts, state).await?;
        // Staff and institutions have pages of their own.
        match me.who {
            Who::Staff(_) => Err(SignInFirst { to: "/me" }),
            Who::Institution(_) => Err(SignInFirst { to: "/clinic" }),
            Who::Coordinator | Who::Admin => Ok(me),
        }
    }
}

/// A live session, whether or not it passed its second factor yet (for
/// the second factor's own pages).
#[derive(Debug, Clone)]
pub struct Pending(pub SignedIn);

impl<S> FromRequestParts<S> for Pending
where
    S: Send + Sync,
    WebState: FromRef<S>,
{
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SignInFirst> {
        let st = WebState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let value = jar
            .get(COOKIE)
            .map(|c| c.value().to_string())
            .ok_or(SIGN_IN)?;
        let id_hash = hash(&value);
        let session = st.store.session(&id_hash).await.map_err(|_| SIGN_IN)?;
        let now = Utc::now();
        if session.ended_at.is_some()
            || now >= session.expires_at
            || now >= session.last_seen_at + IDLE
        {
            return Err(SIGN_IN);
        }
        let (region, who) = match &session.grant {
            Grant::Coordinator { region } => (region.clone(), Who::Coordinator),
            Grant::Staff { region, staff } => (region.clone(), Who::Staff(staff.clone())),
            Grant::Institution {
                region,
                institution,
            } => (region.clone(), Who::Institution(institution.clone())),
            Grant::Admin => {
                // The region chosen (a cookie), else the first one.
                let regions = st.store.regions().await.map_err(|_| SIGN_IN)?;
                let chosen = jar.get(REGION_COOKIE).map(|c| c.value().to_string());
                let r = regions
                    .iter()
                    .find(|r| Some(r.id.as_str()) == chosen.as_deref())
                    .or(regions.first())
                    .ok_or(SIGN_IN)?;
                (r.id.clone(), Who::Admin)
            }
            _ => return Err(SIGN_IN),
        };
        if now - session.last_seen_at > Duration::minutes(1) {
            let _ = st.store.touch_session(&id_hash, now).await;
        }
        Ok(Self(SignedIn {
            region,
            admin: who == Who::Admin,
            who,
            csrf: csrf_token(&st.key, &id_hash),
            lang: crate::i18n::lang(&jar),
            session,
        }))
    }
}
