//! The coordinator's pages: home, the month grid, a cell's panel, edits,
//! publishing and the printable month.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};
use touban_app::ops::{self, PublishError};
use touban_domain::{Month, Rota};
use touban_solver::Instance;
use touban_store::{MessageState, RotaVersionInfo, StoreError};

use crate::cell::go;
use crate::session::SignedIn;
use crate::{WebState, grid, i18n};

/// A page's values: the language and, when signed in, the CSRF token and
/// the region's name, plus what the page adds.
#[derive(Debug)]
pub struct Page(serde_json::Map<String, serde_json::Value>);

impl Page {
    pub fn new(lang: &str) -> Self {
        let mut m = serde_json::Map::new();
        m.insert("lang".into(), lang.into());
        Self(m)
    }
    pub fn set(&mut self, k: &str, v: impl Serialize) {
        self.0.insert(
            k.into(),
            serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
        );
    }
    pub async fn signed_in(st: &WebState, me: &SignedIn) -> Self {
        let mut p = Self::new(me.lang);
        p.set("csrf", &me.csrf);
        p.set("email", &me.session.email);
        let name = st
            .store
            .load_network(&me.region)
            .await
            .map_or_else(|_| me.region.to_string(), |n| n.region.name);
        p.set("region_name", name);
        p.set(
            "role",
            match me.who {
                crate::session::Who::Staff(_) => "staff",
                crate::session::Who::Institution(_) => "clinic",
                _ => "coordinator",
            },
        );
        if me.admin {
            p.set("admin", true);
            p.set("region_id", me.region.as_str());
            p.set(
                "regions",
                st.store
                    .regions()
                    .await
                    .unwrap_or_default()
                    .iter()
                    .map(|r| serde_json::json!({"id": r.id.as_str(), "name": r.name}))
                    .collect::<Vec<_>>(),
            );
        }
        p
    }
}

pub fn render(st: &WebState, name: &str, page: Page, status: StatusCode) -> Response {
    match st
        .env
        .get_template(name)
        .and_then(|t| t.render(serde_json::Value::Object(page.0)))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template {name}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A page that only says something (a refusal, a failure).
pub fn message(
    st: &WebState,
    lang: &str,
    status: StatusCode,
    title: (&str, &str),
    text: (&str, &str),
) -> Response {
    message_in(st, lang, (false, None), status, title, text)
}

/// [`message`], alone (for htmx to put in the panel) when `bare`, with
/// its "back" link to `month`'s newest version when given.
pub fn message_in(
    st: &WebState,
    lang: &str,
    (bare, month): (bool, Option<Month>),
    status: StatusCode,
    (title_ja, title_en): (&str, &str),
    (text_ja, text_en): (&str, &str),
) -> Response {
    let mut p = Page::new(lang);
    p.set("base", if bare { "bare.html" } else { "layout.html" });
    p.set("month", month.map(|m| m.to_string()));
    p.set("title", if lang == "en" { title_en } else { title_ja });
    p.set("text", if lang == "en" { text_en } else { text_ja });
    render(st, "message.html", p, status)
}

/// For a posted form: its CSRF token checked, then the region's network;
/// or the page to show instead.
pub(crate) async fn posted_network(
    st: &WebState,
    me: &SignedIn,
    csrf: &str,
) -> Result<touban_domain::Network, Box<Response>> {
    if !me.csrf_ok(csrf) {
        return Err(Box::new(csrf_refused(st, me.lang)));
    }
    st.store
        .load_network(&me.region)
        .await
        .map_err(|e| Box::new(failure(st, me.lang, &e.to_string())))
}

pub fn failure(st: &WebState, lang: &str, detail: &str) -> Response {
    tracing::error!("web: {detail}");
    message(
        st,
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        ("処理できませんでした", "That did not work"),
        (
            "データベースが使用中か、一時的な不具合です。何も変更されていません。少し待ってからもう一度お試しください。",
            "The database is busy or something failed for a moment; nothing was changed. Try again shortly.",
        ),
    )
}

pub fn csrf_refused(st: &WebState, lang: &str) -> Response {
    message(
        st,
        lang,
        StatusCode::FORBIDDEN,
        ("送信できませんでした", "Not sent"),
        (
            "このフォームは古いか、別のページから送られました。ページを開き直してからもう一度お試しください。",
            "This form is stale or came from another page. Reload the page and try again.",
        ),
    )
}

pub(crate) fn parse_month(s: &str) -> Option<Month> {
    Month::parse(s).ok()
}

pub async fn root(
    State(st): State<WebState>,
    me: Result<SignedIn, crate::session::SignInFirst>,
) -> Response {
    match me {
        Err(to) => to.into_response(),
        Ok(me) => home(&st, &me).await,
    }
}

#[derive(Debug, Serialize)]
struct MonthLine {
    month: String,
    label: String,
    state: String,
    unfilled: Option<usize>,
}

fn state_words(versions: &[RotaVersionInfo], lang: &str) -> String {
    let en = lang == "en";
    let published = versions
        .iter()
        .find(|v| v.status == touban_domain::RotaStatus::Published);
    let newest = versions.iter().map(|v| v.version).max();
    match (published, newest) {
        (_, None) => if en { "no rota yet" } else { "未作成" }.into(),
        (Some(p), Some(n)) if n > p.version => {
            if en {
                format!("published v{}, newer draft v{n}", p.version)
            } else {
                format!("公開中 第{}版（新しい下書き 第{n}版あり）", p.version)
            }
        }
        (Some(p), _) => {
            if en {
                format!("published v{}", p.version)
            } else {
                format!("公開中 第{}版", p.version)
            }
        }
        (None, Some(n)) => {
            if en {
                format!("draft v{n}")
            } else {
                format!("下書き 第{n}版")
            }
        }
    }
}

async fn home(st: &WebState, me: &SignedIn) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let today = Utc::now().with_timezone(&net.region.time_zone).date_naive();
    let Ok(this) = Month::new(today.year(), today.month()) else {
        return failure(st, me.lang, "no month today");
    };
    let mut lines = Vec::new();
    for m in [this.prev(), this, this.next(), this.next().next()] {
        let versions = st
            .store
            .rota_versions(&me.region, m)
            .await
            .unwrap_or_default();
        let unfilled = match versions.iter().map(|v| v.version).max() {
            Some(v) => match st.store.rota(&me.region, m, Some(v)).await {
                Ok(r) => {
                    let inst = Instance::shifts_only(&net, m);
                    Some(grid::build(&inst, &r.assignments, me.lang).unfilled)
                }
                Err(_) => None,
            },
            None => None,
        };
        lines.push(MonthLine {
            month: m.to_string(),
            label: i18n::month(m, me.lang),
            state: state_words(&versions, me.lang),
            unfilled,
        });
    }
    let failed = st
        .store
        .message_counts(Some(&me.region))
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|(s, _)| *s == MessageState::Failed)
        .map_or(0, |(_, n)| n);
    let open_cover = st
        .store
        .covers(&me.region, 0, 500)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                touban_store::CoverStatus::Open | touban_store::CoverStatus::Escalated
            )
        })
        .count();
    let swaps_waiting = st
        .store
        .swaps(&me.region)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|s| s.status == touban_store::SwapStatus::Accepted)
        .count();
    let mut p = Page::signed_in(st, me).await;
    p.set("months", lines);
    p.set("failed", failed);
    p.set("open_cover", open_cover);
    p.set("swaps_waiting", swaps_waiting);
    render(st, "home.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct VersionQuery {
    pub(crate) version: Option<u32>,
}

/// The version asked for (default: the newest) and the month's versions.
async fn load(
    st: &WebState,
    me: &SignedIn,
    month: Month,
    version: Option<u32>,
) -> Result<Option<(Rota, Vec<RotaVersionInfo>)>, StoreError> {
    let versions = st.store.rota_versions(&me.region, month).await?;
    let Some(v) = version.or_else(|| versions.iter().map(|v| v.version).max()) else {
        return Ok(None);
    };
    match st.store.rota(&me.region, month, Some(v)).await {
        Ok(r) => Ok(Some((r, versions))),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn not_found(st: &WebState, lang: &str) -> Response {
    message(
        st,
        lang,
        StatusCode::NOT_FOUND,
        ("見つかりません", "Not found"),
        (
            "その月・その版の当番表はありません。ホームから選んでください。",
            "There is no rota for that month and version. Choose one from the home page.",
        ),
    )
}

/// The month and version a page shows, with the network; or the page to
/// show instead.
pub(crate) async fn shown(
    st: &WebState,
    me: &SignedIn,
    m: &str,
    version: Option<u32>,
) -> Result<(Month, Rota, Vec<RotaVersionInfo>, touban_domain::Network), Box<Response>> {
    let month = parse_month(m).ok_or_else(|| Box::new(not_found(st, me.lang)))?;
    let (rota, versions) = match load(st, me, month, version).await {
        Ok(Some(x)) => x,
        Ok(None) => return Err(Box::new(not_found(st, me.lang))),
        Err(e) => return Err(Box::new(failure(st, me.lang, &e.to_string()))),
    };
    let net = st
        .store
        .load_network(&me.region)
        .await
        .map_err(|e| Box::new(failure(st, me.lang, &e.to_string())))?;
    Ok((month, rota, versions, net))
}

pub async fn month(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let (month, rota, versions, net) = match shown(&st, &me, &m, q.version).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let inst = Instance::shifts_only(&net, month);
    let g = grid::build(&inst, &rota.assignments, me.lang);
    let counts = st
        .store
        .message_counts(Some(&me.region))
        .await
        .unwrap_or_default();
    let count = |s: MessageState| counts.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("version", rota.version);
    p.set("status", rota.status.as_str());
    p.set(
        "versions",
        versions
            .iter()
            .map(|v| serde_json::json!({"version": v.version, "status": v.status.as_str()}))
            .collect::<Vec<_>>(),
    );
    p.set("state", state_words(&versions, me.lang));
    p.set("grid", g);
    p.set(
        "notices",
        serde_json::json!({
            "queued": count(MessageState::Queued) + count(MessageState::Retrying) + count(MessageState::Sending),
            "sent": count(MessageState::Sent),
            "failed": count(MessageState::Failed),
        }),
    );
    render(&st, "month.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct PublishForm {
    csrf: String,
    version: u32,
    override_reason: Option<String>,
}

pub async fn publish(
    State(st): State<WebState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(m): Path<String>,
    Form(f): Form<PublishForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let reason = f.override_reason.filter(|r| !r.trim().is_empty());
    match ops::publish(
        st.store.as_ref(),
        &me.region,
        month,
        f.version,
        &me.actor(),
        reason.as_deref(),
    )
    .await
    {
        Ok(r) => go(
            &headers,
            &format!("/months/{month}?version={}&published=1", r.version),
        ),
        Err(PublishError::Violations(vs)) => {
            let list: Vec<String> = vs
                .iter()
                .map(|v| {
                    if me.lang == "en" {
                        v.to_string()
                    } else {
                        v.bilingual()
                    }
                })
                .collect();
            let mut p = Page::signed_in(&st, &me).await;
            p.set("base", "layout.html");
            p.set(
                "title",
                if me.lang == "en" {
                    "Not published"
                } else {
                    "公開しませんでした"
                },
            );
            p.set(
                "text",
                if me.lang == "en" {
                    "This version breaks hard rules nobody accepted on record. Fix the cells, or publish with a reason."
                } else {
                    "この版には、誰も承認していない必須ルール違反があります。セルを直すか、理由を書いて公開してください。"
                },
            );
            p.set("violations", list);
            p.set("month", month.to_string());
            p.set("version", f.version);
            render(&st, "message.html", p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(PublishError::Store(StoreError::Stale(d))) => {
            tracing::info!("web publish refused: {d}");
            message(
                &st,
                me.lang,
                StatusCode::CONFLICT,
                ("公開しませんでした", "Not published"),
                (
                    "この版は、いま公開されている版をもとにしていません。公開すると、その後の変更が失われます。最新の版を開いて、そこで変更してください。",
                    "This version is not based on the version published now; publishing it would undo later changes. Open the newest version and make your change there.",
                ),
            )
        }
        Err(PublishError::Store(e)) => failure(&st, me.lang, &e.to_string()),
    }
}

pub async fn print(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let (month, rota, _, net) = match shown(&st, &me, &m, q.version).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let published_at = st
        .store
        .rota_history(&me.region, month)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.action == "published" && c.version == rota.version)
        .map(|c| c.at.with_timezone(&net.region.time_zone).date_naive())
        .next_back();
    let inst = Instance::shifts_only(&net, month);
    let hard =
        touban_solver::check::hard_violations(&inst, &rota.assignments, &Default::default(), None);
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month_label", i18n::month(month, me.lang));
    p.set("version", rota.version);
    p.set("status", rota.status.as_str());
    p.set("published", published_at.map(|d| i18n::date(d, me.lang)));
    p.set(
        "printed",
        i18n::date(
            Utc::now().with_timezone(&net.region.time_zone).date_naive(),
            me.lang,
        ),
    );
    p.set("hard", hard.len());
    p.set("grid", grid::build(&inst, &rota.assignments, me.lang));
    render(&st, "print.html", p, StatusCode::OK)
}
