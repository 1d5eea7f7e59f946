//! The second factor: a time-based one-time code (TOTP, RFC 6238; the
//! totp-rs crate) from an authenticator app, asked for after the e-mail
//! link when the person has set one up or their region requires one
//! (`[policy] require_second_factor`; they set it up at that sign-in).
//! Each code works once (the store keeps the newest time step used); five
//! wrong codes end the session. The secret is shown once as a QR code (the
//! qrcode crate, SVG) and as text while it is unconfirmed.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use totp_rs::{Algorithm, Secret, TOTP};
use touban_domain::RegionId;

use crate::pages::{Page, csrf_refused, failure, render};
use crate::session::{Pending, SignedIn};
use crate::{WebState, i18n};

/// Seconds per code.
const STEP: u64 = 30;
/// Wrong codes a session may send before it ends.
const MAX_WRONG: u32 = 5;

/// Whether signing in as `email` to `region` needs a second factor.
pub async fn needed(
    st: &WebState,
    email: &str,
    region: &RegionId,
    officer: bool,
) -> Result<bool, touban_store::StoreError> {
    if st
        .store
        .second_factor(email)
        .await?
        .is_some_and(|f| f.confirmed_at.is_some())
    {
        return Ok(true);
    }
    // The region's requirement is for coordinators and admins.
    Ok(officer
        && st
            .store
            .load_network(region)
            .await?
            .policy
            .require_second_factor)
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes).ok()
}

/// The time step whose code `code` is (now, or one step either side).
fn step_of(secret: &str, code: &str) -> Option<i64> {
    let t = totp(secret)?;
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 {
        return None;
    }
    let now = u64::try_from(Utc::now().timestamp()).ok()? / STEP;
    (now.saturating_sub(1)..=now + 1)
        .find(|s| t.generate(s * STEP) == code)
        .and_then(|s| i64::try_from(s).ok())
}

fn qr_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// The page: the code form, and the QR code and secret while the factor is
/// being set up.
async fn page(st: &WebState, me: &SignedIn, error: Option<String>, status: StatusCode) -> Response {
    let en = me.lang == "en";
    let email = &me.session.email;
    let mut factor = match st.store.second_factor(email).await {
        Ok(f) => f,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    if factor.is_none() {
        let secret = Secret::Raw(touban_app::tokens::random_bytes(20))
            .to_encoded()
            .to_string();
        if let Err(e) = st
            .store
            .begin_second_factor(email, &secret, Utc::now())
            .await
        {
            return failure(st, me.lang, &e.to_string());
        }
        factor = st.store.second_factor(email).await.ok().flatten();
    }
    let Some(factor) = factor else {
        return failure(st, me.lang, "second factor not stored");
    };
    let mut p = Page::signed_in(st, me).await;
    p.set("verified", me.session.verified_at.is_some());
    p.set("confirmed", factor.confirmed_at.is_some());
    p.set("error", error);
    if factor.confirmed_at.is_none() {
        let url = format!(
            "otpauth://totp/Touban:{email}?secret={}&issuer=Touban&algorithm=SHA1&digits=6&period={STEP}",
            factor.secret
        );
        p.set("qr", qr_data_url(&url));
        p.set("secret", &factor.secret);
    }
    let required = st
        .store
        .load_network(&me.region)
        .await
        .is_ok_and(|n| n.policy.require_second_factor);
    p.set("required", required);
    p.set("title", i18n::pick(en, "2段階認証", "Second factor"));
    render(st, "second_factor.html", p, status)
}

/// `GET /second-factor`.
pub async fn form(State(st): State<WebState>, Pending(me): Pending) -> Response {
    page(&st, &me, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct Code {
    csrf: String,
    code: String,
}

/// `POST /second-factor`: checks the code; a right one passes the session
/// (and confirms a factor being set up).
pub async fn check(
    State(st): State<WebState>,
    Pending(me): Pending,
    Form(f): Form<Code>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    let email = &me.session.email;
    let factor = match st.store.second_factor(email).await {
        Ok(Some(x)) => x,
        Ok(None) => return Redirect::to("/second-factor").into_response(),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let now = Utc::now();
    let ok = match step_of(&factor.secret, &f.code) {
        Some(step) => match st.store.use_second_factor_step(email, step, now).await {
            Ok(ok) => ok,
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        },
        None => false,
    };
    if !ok {
        let wrong = st.wrong_code(&me.session.id_hash);
        if wrong >= MAX_WRONG {
            let _ = st
                .store
                .end_sessions(email, Some(&me.session.id_hash), now)
                .await;
            return crate::pages::message(
                &st,
                me.lang,
                StatusCode::FORBIDDEN,
                ("サインアウトしました", "Signed out"),
                (
                    "確認コードが5回違ったため、サインアウトしました。もう一度メールのリンクからサインインしてください。",
                    "Five wrong codes: you are signed out. Sign in again with a new e-mail link.",
                ),
            );
        }
        let msg = if en {
            format!(
                "That code is wrong or was used already. Enter the 6 digits your app shows now ({} tries left).",
                MAX_WRONG - wrong
            )
        } else {
            format!(
                "コードが違うか、すでに使われています。アプリにいま表示されている6桁を入れてください（あと{}回）。",
                MAX_WRONG - wrong
            )
        };
        return page(&st, &me, Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    st.forget_wrong(&me.session.id_hash);
    if me.session.verified_at.is_none()
        && let Err(e) = st.store.verify_session(&me.session.id_hash, now).await
    {
        return failure(&st, me.lang, &e.to_string());
    }
    if factor.confirmed_at.is_none() {
        Redirect::to("/account?second_factor=on").into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

/// `GET /account`: the person's second factor: on, or set it up.
pub async fn account(
    State(st): State<WebState>,
    me: SignedIn,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let factor = match st.store.second_factor(&me.session.email).await {
        Ok(f) => f,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let required = st
        .store
        .load_network(&me.region)
        .await
        .is_ok_and(|n| n.policy.require_second_factor);
    let mut p = Page::signed_in(&st, &me).await;
    p.set("on", factor.is_some_and(|f| f.confirmed_at.is_some()));
    p.set("required", required);
    p.set("just_on", q.contains_key("second_factor"));
    render(&st, "account.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct Remove {
    csrf: String,
}

/// `POST /account/second-factor/remove`: turns the second factor off
/// (refused when the region requires one).
pub async fn remove(State(st): State<WebState>, me: SignedIn, Form(f): Form<Remove>) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let required = st
        .store
        .load_network(&me.region)
        .await
        .is_ok_and(|n| n.policy.require_second_factor);
    if required {
        return crate::pages::message(
            &st,
            me.lang,
            StatusCode::FORBIDDEN,
            ("解除できません", "Not turned off"),
            (
                "この地域では2段階認証が必須です。",
                "This region requires a second factor.",
            ),
        );
    }
    if let Err(e) = st.store.remove_second_factor(&me.session.email).await {
        return failure(&st, me.lang, &e.to_string());
    }
    Redirect::to("/account").into_response()
}
