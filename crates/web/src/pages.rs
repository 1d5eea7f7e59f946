//! The coordinator's pages: home, the month grid, a cell's panel, edits,
//! publishing and the printable month.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};
use touban_app::edit::Change;
use touban_app::edit::EditError;
use touban_app::ops::{self, PublishError};
use touban_domain::{Month, Role, Rota, ServiceId, ShiftKey, StaffId, TemplateId};
use touban_solver::Instance;
use touban_store::{MessageState, RotaVersionInfo, StoreError};

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
    message_in(st, lang, false, status, title, text)
}

/// [`message`], alone (for htmx to put in the panel) when `bare`.
pub fn message_in(
    st: &WebState,
    lang: &str,
    bare: bool,
    status: StatusCode,
    (title_ja, title_en): (&str, &str),
    (text_ja, text_en): (&str, &str),
) -> Response {
    let mut p = Page::new(lang);
    p.set("base", if bare { "bare.html" } else { "layout.html" });
    p.set("title", if lang == "en" { title_en } else { title_ja });
    p.set("text", if lang == "en" { text_en } else { text_ja });
    render(st, "message.html", p, status)
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

fn parse_month(s: &str) -> Option<Month> {
    Month::parse(s).ok()
}

pub async fn root(
    State(st): State<WebState>,
    me: Result<SignedIn, crate::session::SignInFirst>,
) -> Response {
    match me {
        Err(_) => Redirect::to("/sign-in").into_response(),
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
    let mut p = Page::signed_in(st, me).await;
    p.set("months", lines);
    p.set("failed", failed);
    p.set("open_cover", open_cover);
    render(st, "home.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct VersionQuery {
    version: Option<u32>,
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

fn not_found(st: &WebState, lang: &str) -> Response {
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
async fn shown(
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
pub struct CellQuery {
    version: u32,
    service: String,
    template: String,
    date: chrono::NaiveDate,
}

#[derive(Debug, Serialize)]
struct Holder {
    id: String,
    name: String,
    role: &'static str,
}

#[derive(Debug, Serialize)]
struct Candidate {
    id: String,
    name: String,
    ok: bool,
    reason: String,
    duties: usize,
    hours: String,
}

/// What the cell panel shows: who is on the shift, and every candidate —
/// those who may take it first, with their load this month, then those who
/// may not, each with the rule that stops them.
async fn cell_page(
    st: &WebState,
    me: &SignedIn,
    month: Month,
    q: &CellQuery,
    refused: Option<(Vec<touban_solver::Violation>, Change)>,
    (htmx, status): (bool, StatusCode),
) -> Response {
    let rota = match st.store.rota(&me.region, month, Some(q.version)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return not_found(st, me.lang),
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let (net, history) = match ops::context(st.store.as_ref(), &me.region, month).await {
        Ok(x) => x,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let (Ok(service), Ok(template)) =
        (ServiceId::parse(&q.service), TemplateId::parse(&q.template))
    else {
        return not_found(st, me.lang);
    };
    let key = ShiftKey {
        service,
        template,
        date: q.date,
    };
    let inst = Instance::shifts_only(&net, month);
    let Some(&si) = inst.shift_index.get(&key) else {
        return not_found(st, me.lang);
    };
    let info = &inst.shifts[si];
    let mut holders: Vec<Holder> = rota
        .assignments
        .iter()
        .filter(|a| a.shift == key)
        .map(|a| Holder {
            id: a.staff.to_string(),
            name: net
                .staff_member(&a.staff)
                .map_or_else(|| a.staff.to_string(), |p| p.name.clone()),
            role: a.role.as_str(),
        })
        .collect();
    holders.sort_by_key(|h| h.role != "primary");
    let replacing = rota
        .assignments
        .iter()
        .find(|a| a.shift == key && a.role == Role::Primary)
        .map(|a| a.staff.clone());
    let mut load: std::collections::HashMap<&StaffId, (usize, f64)> = Default::default();
    for a in &rota.assignments {
        if let Some(&i) = inst.shift_index.get(&a.shift) {
            let e = load.entry(&a.staff).or_default();
            e.0 += 1;
            if inst.shifts[i].counts {
                e.1 += inst.shifts[i].hours();
            }
        }
    }
    let candidates: Vec<Candidate> = touban_solver::explain::candidates(
        &inst,
        &rota.assignments,
        &history,
        &key,
        replacing.as_ref(),
    )
    .into_iter()
    .map(|b| {
        let (n, h) = load.get(&b.staff).copied().unwrap_or_default();
        Candidate {
            id: b.staff.to_string(),
            name: b.name,
            ok: b.rule.is_none(),
            reason: match b.rule {
                None => String::new(),
                Some(r) if me.lang == "en" => format!("rule {}: {}", r.number(), b.reason),
                Some(r) => format!("規則{}: {}", r.number(), b.reason_ja),
            },
            duties: n,
            hours: format!("{h:.0}"),
        }
    })
    .collect();
    let svc = &net.services[info.service];
    let t = svc.template(&key.template);
    let mut p = Page::signed_in(st, me).await;
    // htmx asks for the panel alone; without script it is a page.
    p.set("base", if htmx { "bare.html" } else { "layout.html" });
    p.set("month", month.to_string());
    p.set("version", rota.version);
    p.set("service", key.service.as_str());
    p.set("template", key.template.as_str());
    p.set("date", key.date.to_string());
    p.set(
        "title",
        format!(
            "{} {}（{}） {}–{}",
            i18n::date(key.date, me.lang),
            if me.lang == "en" {
                svc.name_en.clone().unwrap_or_else(|| svc.name.clone())
            } else {
                svc.name.clone()
            },
            t.map_or_else(|| key.template.to_string(), |t| t.name.clone()),
            info.shift.start.format("%H:%M"),
            info.shift.end.format("%H:%M"),
        ),
    );
    p.set("holders", holders);
    p.set("replacing", replacing.map(|s| s.to_string()));
    p.set("candidates", candidates);
    if let Some((vs, tried)) = refused {
        p.set(
            "violations",
            vs.iter()
                .map(|v| {
                    let who = v
                        .staff
                        .as_ref()
                        .map(|s| {
                            net.staff_member(s)
                                .map_or_else(|| s.to_string(), |p| p.name.clone())
                        })
                        .map(|n| format!("{n} "))
                        .unwrap_or_default();
                    if me.lang == "en" {
                        format!("rule {}: {who}{}", v.rule.number(), v.message)
                    } else {
                        format!("規則{}: {who}{}", v.rule.number(), v.message_ja)
                    }
                })
                .collect::<Vec<_>>(),
        );
        p.set("tried_add", tried.add);
        p.set("tried_remove", tried.remove);
    }
    render(st, "cell.html", p, status)
}

pub async fn cell(
    State(st): State<WebState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(m): Path<String>,
    Query(q): Query<CellQuery>,
) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let htmx = headers.contains_key("hx-request");
    cell_page(&st, &me, month, &q, None, (htmx, StatusCode::OK)).await
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    csrf: String,
    version: u32,
    service: String,
    template: String,
    date: chrono::NaiveDate,
    remove: Option<String>,
    add: Option<String>,
    override_reason: Option<String>,
}

fn go(headers: &HeaderMap, to: &str) -> Response {
    // htmx follows HX-Redirect; a plain form follows 303.
    if headers.contains_key("hx-request") {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

pub async fn edit(
    State(st): State<WebState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(m): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let blank = |s: Option<String>| s.filter(|x| !x.trim().is_empty());
    let change = Change {
        service: f.service.clone(),
        template: f.template.clone(),
        date: f.date,
        remove: blank(f.remove),
        add: blank(f.add),
        role: None,
    };
    let q = CellQuery {
        version: f.version,
        service: f.service,
        template: f.template,
        date: f.date,
    };
    let htmx = headers.contains_key("hx-request");
    let refused = (htmx, StatusCode::UNPROCESSABLE_ENTITY);
    if change.add.is_none() && change.remove.is_none() {
        return cell_page(&st, &me, month, &q, Some((Vec::new(), change)), refused).await;
    }
    let rota = match st.store.rota(&me.region, month, Some(f.version)).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return not_found(&st, me.lang),
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let reason = blank(f.override_reason);
    match touban_app::edit::apply(
        st.store.as_ref(),
        &me.region,
        month,
        &rota,
        std::slice::from_ref(&change),
        reason.as_deref(),
        &me.actor(),
    )
    .await
    {
        Ok((saved, _)) => go(
            &headers,
            &format!("/months/{month}?version={}", saved.version),
        ),
        Err(EditError::Violations(vs)) => {
            cell_page(&st, &me, month, &q, Some((vs, change)), refused).await
        }
        Err(EditError::Stale(_)) => message_in(
            &st,
            me.lang,
            htmx,
            StatusCode::CONFLICT,
            (
                "ほかの人が先に変更しました",
                "Someone else changed it first",
            ),
            (
                "この版のあとに新しい版が保存されています。変更は保存されていません。月の表を開き直し、最新の版で変更してください。",
                "A newer version was saved after this one; your change was not saved. Reopen the month and make the change on the newest version.",
            ),
        ),
        Err(EditError::Invalid { detail, .. }) => {
            tracing::info!("web edit refused: {detail}");
            cell_page(&st, &me, month, &q, Some((Vec::new(), change)), refused).await
        }
        Err(EditError::Store(e)) => failure(&st, me.lang, &e.to_string()),
    }
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
