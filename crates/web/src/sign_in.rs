//! Signing in by e-mail link. A person gives their address; if it is a
//! coordinator's, a one-time link (15 minutes) is queued in the outbox and
//! sent by the notifier; the page says the same whether or not the address
//! is known. Opening the link shows a button (mail scanners that follow
//! links sign nobody in); pressing it starts a session.

use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{Duration, Utc};
use serde::Deserialize;
use touban_domain::{Email, RegionId};
use touban_store::web::{Login, Session};
use touban_store::{Grant, MessageKind, NewMessage};

use crate::pages::{Page, render};
use crate::session::{self, ABSOLUTE};
use crate::{WebState, i18n};

/// How long a sign-in link works.
pub const LINK_VALID: Duration = Duration::minutes(15);
/// Links one address may be sent per window, and one client may ask for.
const PER_ADDRESS: u64 = 3;
const PER_CLIENT: u64 = 10;
const WINDOW: Duration = Duration::minutes(15);

pub async fn form(State(st): State<WebState>, jar: CookieJar) -> Response {
    let lang = i18n::lang(&jar);
    render(&st, "sign_in.html", Page::new(lang), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct AskForm {
    email: String,
}

/// What this address may do in the web app, in this order: a region's
/// coordinator, an admin (created with `touban admin add`), an
/// institution (its `email`), a staff member; with the region its e-mails
/// are filed under (an admin's: the first region).
async fn grant_of(st: &WebState, email: &Email) -> anyhow::Result<Option<(Grant, RegionId)>> {
    let regions = st.store.regions().await?;
    let mut nets = Vec::new();
    for r in &regions {
        let net = st.store.load_network(&r.id).await?;
        if net.policy.coordinator_emails.iter().any(|e| e == email) {
            return Ok(Some((
                Grant::Coordinator {
                    region: r.id.clone(),
                },
                r.id.clone(),
            )));
        }
        nets.push(net);
    }
    let admin = st
        .store
        .admins()
        .await?
        .iter()
        .any(|a| a.email.eq_ignore_ascii_case(email.as_str()));
    if admin && let Some(r) = regions.first() {
        return Ok(Some((Grant::Admin, r.id.clone())));
    }
    for net in &nets {
        let region = net.region.id.clone();
        if let Some(i) = net
            .institutions
            .iter()
            .find(|i| i.email.as_ref() == Some(email))
        {
            return Ok(Some((
                Grant::Institution {
                    region: region.clone(),
                    institution: i.id.clone(),
                },
                region,
            )));
        }
        if let Some(p) = net
            .staff
            .iter()
            .find(|p| &p.email == email && p.retired_from.is_none())
        {
            return Ok(Some((
                Grant::Staff {
                    region: region.clone(),
                    staff: p.id.clone(),
                },
                region,
            )));
        }
    }
    Ok(None)
}

pub async fn ask(
    State(st): State<WebState>,
    jar: CookieJar,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<AskForm>,
) -> Response {
    let lang = i18n::lang(&jar);
    let typed = f.email.trim().to_string();
    let email = match Email::parse(&typed) {
        Ok(e) => e,
        Err(_) => {
            let mut p = Page::new(lang);
            p.set("email", &typed);
            p.set(
                "email_error",
                if lang == "en" {
                    "This is not an e-mail address (for example: renkei@example.jp)."
                } else {
                    "メールアドレスの形ではありません（例: renkei@example.jp）。"
                },
            );
            return render(&st, "sign_in.html", p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let address = client.ip().to_string();
    let now = Utc::now();
    let (per_address, per_client) = match st
        .store
        .recent_logins(email.as_str(), Some(&address), now - WINDOW)
        .await
    {
        Ok(n) => n,
        Err(e) => return crate::pages::failure(&st, lang, &e.to_string()),
    };
    if per_client >= PER_CLIENT {
        let mut p = Page::new(lang);
        p.set("email", email.as_str());
        p.set(
            "email_error",
            if lang == "en" {
                "Too many sign-in links were asked for from here. Wait 15 minutes and try again."
            } else {
                "この端末からの依頼が多すぎます。15分ほど待ってからもう一度お試しください。"
            },
        );
        return render(&st, "sign_in.html", p, StatusCode::TOO_MANY_REQUESTS);
    }
    // Known or not, the answer reads the same.
    match grant_of(&st, &email).await {
        Ok(Some((_, region))) if per_address < PER_ADDRESS => {
            let id = touban_app::tokens::hex(&touban_app::tokens::random_bytes(16));
            let login = Login {
                id: id.clone(),
                email: email.to_string(),
                address: Some(address),
                created_at: now,
                expires_at: now + LINK_VALID,
                used_at: None,
            };
            let msg = NewMessage {
                region,
                kind: MessageKind::SignIn,
                staff: None,
                payload: serde_json::json!({ "login": id }),
                due_at: now,
                dedupe_key: Some(format!("sign-in:{id}")),
                merge_key: None,
            };
            if let Err(e) = st.store.create_login(&login, &msg).await {
                return crate::pages::failure(&st, lang, &e.to_string());
            }
            if st.print_links {
                let url = format!(
                    "{}/sign-in/{id}/{}",
                    st.public_url,
                    touban_app::links::sign_in_secret(&st.key, &id)
                );
                eprintln!("touban serve: sign-in link for {email} (no SMTP server is set): {url}");
            }
        }
        Ok(_) => {}
        Err(e) => return crate::pages::failure(&st, lang, &e.to_string()),
    }
    let mut p = Page::new(lang);
    p.set("email", email.as_str());
    render(&st, "sign_in_sent.html", p, StatusCode::OK)
}

fn bad_link(st: &WebState, lang: &'static str) -> Response {
    crate::pages::message(
        st,
        lang,
        StatusCode::FORBIDDEN,
        ("このリンクは使えません", "This link cannot be used"),
        (
            "リンクが途中で切れているか、使用済みか、期限（15分）が切れています。もう一度サインインのリンクを依頼してください。",
            "The link is incomplete, used already, or past its 15 minutes. Ask for a new sign-in link.",
        ),
    )
}

/// Checks a link; the login it opens, or the page to show instead.
async fn check(
    st: &WebState,
    lang: &'static str,
    id: &str,
    secret: &str,
) -> Result<Login, Response> {
    if !touban_app::links::verify_sign_in(&st.key, id, secret) {
        return Err(bad_link(st, lang));
    }
    match st.store.login(id).await {
        Ok(l) if l.used_at.is_none() && l.expires_at > Utc::now() => Ok(l),
        _ => Err(bad_link(st, lang)),
    }
}

pub async fn confirm(
    State(st): State<WebState>,
    jar: CookieJar,
    Path((id, secret)): Path<(String, String)>,
) -> Response {
    let lang = i18n::lang(&jar);
    match check(&st, lang, &id, &secret).await {
        Ok(l) => {
            let mut p = Page::new(lang);
            p.set("email", &l.email);
            render(&st, "sign_in_confirm.html", p, StatusCode::OK)
        }
        Err(r) => r,
    }
}

pub async fn open(
    State(st): State<WebState>,
    jar: CookieJar,
    Path((id, secret)): Path<(String, String)>,
) -> Response {
    let lang = i18n::lang(&jar);
    if let Err(r) = check(&st, lang, &id, &secret).await {
        return r;
    }
    let now = Utc::now();
    let login = match st.store.use_login(&id, now).await {
        Ok(l) => l,
        Err(_) => return bad_link(&st, lang),
    };
    let Ok(email) = Email::parse(&login.email) else {
        return Redirect::to("/sign-in").into_response();
    };
    let (grant, region) = match grant_of(&st, &email).await {
        Ok(Some(g)) => g,
        _ => return Redirect::to("/sign-in").into_response(),
    };
    // A second factor is asked for when the person has one, or the region
    // requires one (they set it up first).
    let officer = matches!(grant, Grant::Coordinator { .. } | Grant::Admin);
    let needs_factor = match crate::second_factor::needed(&st, &login.email, &region, officer).await
    {
        Ok(n) => n,
        Err(e) => return crate::pages::failure(&st, lang, &e.to_string()),
    };
    let (value, id_hash) = session::new_id();
    let s = Session {
        id_hash,
        email: login.email,
        grant,
        created_at: now,
        last_seen_at: now,
        expires_at: now + ABSOLUTE,
        ended_at: None,
        verified_at: (!needs_factor).then_some(now),
    };
    if let Err(e) = st.store.create_session(&s).await {
        return crate::pages::failure(&st, lang, &e.to_string());
    }
    (
        jar.add(session::cookie(&value, st.secure)),
        Redirect::to(if needs_factor { "/second-factor" } else { "/" }),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
    /// Sign out every browser of this person, not only this one.
    everywhere: Option<String>,
}

pub async fn sign_out(
    State(st): State<WebState>,
    jar: CookieJar,
    session::Pending(me): session::Pending,
    Form(f): Form<SignOutForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return crate::pages::csrf_refused(&st, me.lang);
    }
    let only = f
        .everywhere
        .is_none()
        .then_some(me.session.id_hash.as_str());
    let _ = st
        .store
        .end_sessions(&me.session.email, only, Utc::now())
        .await;
    (
        jar.remove(axum_extra::extract::cookie::Cookie::build((session::COOKIE, "")).path("/")),
        Redirect::to("/sign-in"),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct RegionForm {
    csrf: String,
    region: String,
}

/// `POST /region`: an admin chooses the region to work in (remembered in a
/// cookie for the session's browser).
pub async fn switch_region(
    State(st): State<WebState>,
    jar: CookieJar,
    me: crate::SignedIn,
    Form(f): Form<RegionForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return crate::pages::csrf_refused(&st, me.lang);
    }
    if !me.admin {
        return crate::pages::not_found(&st, me.lang);
    }
    match st.store.regions().await {
        Ok(rs) if rs.iter().any(|r| r.id.as_str() == f.region) => {}
        Ok(_) => return crate::pages::not_found(&st, me.lang),
        Err(e) => return crate::pages::failure(&st, me.lang, &e.to_string()),
    }
    let c = axum_extra::extract::cookie::Cookie::parse(format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
        session::REGION_COOKIE,
        f.region,
        if st.secure { "; Secure" } else { "" }
    ))
    .expect("a well-formed cookie");
    (jar.add(c), Redirect::to("/")).into_response()
}
