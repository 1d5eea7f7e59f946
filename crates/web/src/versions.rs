//! Generating a month (a background job with its progress shown live), the
//! month's versions, and what changed between two of them.

use std::collections::{BTreeSet, HashSet};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use touban_app::jobs::{GenerateRequest, StartError};
use touban_domain::{Month, Network, StaffId};
use touban_solver::Instance;
use touban_store::{JobStatus, StoreError};

use crate::pages::{Page, csrf_refused, failure, not_found, parse_month, render};
use crate::session::SignedIn;
use crate::{WebState, grid, i18n};

/// The time limit offered when the form gives none, seconds.
const DEFAULT_SECONDS: u32 = 30;

#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    csrf: String,
    seconds: String,
}

fn generate_page(
    st: &WebState,
    mut p: Page,
    month: Month,
    lang: &str,
    seconds: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, lang));
    p.set("seconds", seconds);
    p.set("error", error);
    render(st, "generate.html", p, status)
}

/// `GET /months/{m}/generate`: the form.
pub async fn form(State(st): State<WebState>, me: SignedIn, Path(m): Path<String>) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let versions = st
        .store
        .rota_versions(&me.region, month)
        .await
        .unwrap_or_default();
    let mut p = Page::signed_in(&st, &me).await;
    p.set("existing", versions.len());
    generate_page(
        &st,
        p,
        month,
        me.lang,
        &DEFAULT_SECONDS.to_string(),
        None,
        StatusCode::OK,
    )
}

/// `POST /months/{m}/generate`: starts the job and goes to its page; a
/// wrong time limit is said next to the field.
pub async fn start(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Form(f): Form<GenerateForm>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let en = me.lang == "en";
    let refuse = async |text: String, status| {
        let p = Page::signed_in(&st, &me).await;
        generate_page(&st, p, month, me.lang, &f.seconds, Some(text), status)
    };
    let seconds = match f.seconds.trim().parse::<u32>() {
        Ok(s) if (5..=600).contains(&s) => s,
        _ => {
            return refuse(
                if en {
                    format!(
                        "“{}” is not a whole number of seconds from 5 to 600",
                        f.seconds
                    )
                } else {
                    format!(
                        "「{}」は5から600までの秒数（整数）ではありません",
                        f.seconds
                    )
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let req = GenerateRequest {
        region: me.region.clone(),
        month,
        time_limit: f64::from(seconds),
        gap: 0.005,
        actor: me.actor(),
    };
    match st.jobs.start_generate(st.store.clone(), req).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.id)).into_response(),
        Err(StartError::TooMany { active, max }) => {
            refuse(
                if en {
                    format!(
                        "{active} rotas of this region are being made already (at most {max} at once). Wait for one to finish."
                    )
                } else {
                    format!(
                        "この地域の当番表はすでに{active}件作成中です（同時に{max}件まで）。終わるまでお待ちください。"
                    )
                },
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(StartError::Invalid { field, detail }) => {
            refuse(format!("{field}: {detail}"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StartError::Store(e)) => failure(&st, me.lang, &e.to_string()),
    }
}

/// What the job page shows.
#[derive(Debug, Serialize)]
struct JobView {
    id: i64,
    month: String,
    month_label: String,
    status: &'static str,
    finished: bool,
    progress: Option<serde_json::Value>,
    result: Option<serde_json::Value>,
    error: Option<String>,
}

async fn job_view(st: &WebState, me: &SignedIn, id: i64) -> Result<JobView, Box<Response>> {
    let job = match st.store.job(id).await {
        Ok(j) if j.region == me.region => j,
        Ok(_) | Err(StoreError::NotFound(_)) => return Err(Box::new(not_found(st, me.lang))),
        Err(e) => return Err(Box::new(failure(st, me.lang, &e.to_string()))),
    };
    let finished = matches!(job.status, JobStatus::Succeeded | JobStatus::Failed);
    let (progress, result) = match (&job.result, job.status) {
        (Some(r), JobStatus::Succeeded) => (None, Some(r.clone())),
        (Some(r), _) => (r.get("progress").cloned(), None),
        (None, _) => (None, None),
    };
    Ok(JobView {
        id,
        month: job.month.to_string(),
        month_label: i18n::month(job.month, me.lang),
        status: job.status.as_str(),
        finished,
        progress,
        result,
        error: job.error,
    })
}

/// `GET /jobs/{id}`: the job's page; its status part reloads itself every
/// second until the job ends.
pub async fn job(State(st): State<WebState>, me: SignedIn, Path(id): Path<i64>) -> Response {
    match job_view(&st, &me, id).await {
        Ok(v) => {
            let mut p = Page::signed_in(&st, &me).await;
            p.set("job", v);
            render(&st, "job.html", p, StatusCode::OK)
        }
        Err(r) => *r,
    }
}

/// `GET /jobs/{id}/status`: the status part alone (for htmx).
pub async fn job_status(State(st): State<WebState>, me: SignedIn, Path(id): Path<i64>) -> Response {
    match job_view(&st, &me, id).await {
        Ok(v) => {
            let mut p = Page::new(me.lang);
            p.set("job", v);
            render(&st, "job_status.html", p, StatusCode::OK)
        }
        Err(r) => *r,
    }
}

/// `GET /months/{m}/versions`: every version, newest first, with who made
/// it, from which, and why; and a form to compare two.
pub async fn versions(State(st): State<WebState>, me: SignedIn, Path(m): Path<String>) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let (versions, history, net) = match (
        st.store.rota_versions(&me.region, month).await,
        st.store.rota_history(&me.region, month).await,
        st.store.load_network(&me.region).await,
    ) {
        (Ok(v), Ok(h), Ok(n)) => (v, h, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return failure(&st, me.lang, &e.to_string());
        }
    };
    if versions.is_empty() {
        return not_found(&st, me.lang);
    }
    let tz = net.region.time_zone;
    let at = |t: chrono::DateTime<chrono::Utc>| {
        let l = t.with_timezone(&tz);
        format!(
            "{} {}",
            i18n::date(l.date_naive(), me.lang),
            l.format("%H:%M")
        )
    };
    let mut rows: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| {
            let published = history
                .iter()
                .filter(|c| c.action == "published" && c.version == v.version)
                .map(|c| at(c.at))
                .next_back();
            serde_json::json!({
                "version": v.version,
                "status": v.status.as_str(),
                "based_on": v.based_on,
                "created": at(v.created_at),
                "by": v.created_by,
                "note": v.note.as_deref().map(|n| note(n, me.lang)),
                "published": published,
                "assignments": v.assignments,
            })
        })
        .collect();
    rows.reverse();
    let newest = versions.iter().map(|v| v.version).max().unwrap_or(1);
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("rows", rows);
    p.set("from", newest.saturating_sub(1).max(1));
    p.set("to", newest);
    render(&st, "versions.html", p, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: Option<u32>,
    to: Option<u32>,
}

fn names(net: &Network, ids: &BTreeSet<StaffId>) -> Vec<String> {
    ids.iter()
        .map(|id| {
            net.staff_member(id)
                .map_or_else(|| id.to_string(), |p| p.name.clone())
        })
        .collect()
}

/// `GET /months/{m}/diff?from=A&to=B`: the shifts whose people differ,
/// before and after, the people affected, and B's grid with the changed
/// cells marked.
pub async fn diff(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Response {
    let Some(month) = parse_month(&m) else {
        return not_found(&st, me.lang);
    };
    let (Some(from), Some(to)) = (q.from, q.to) else {
        return Redirect::to(&format!("/months/{month}/versions")).into_response();
    };
    let (old, new, net) = match (
        st.store.rota(&me.region, month, Some(from)).await,
        st.store.rota(&me.region, month, Some(to)).await,
        st.store.load_network(&me.region).await,
    ) {
        (Ok(a), Ok(b), Ok(n)) => (a, b, n),
        (Err(StoreError::NotFound(_)), _, _) | (_, Err(StoreError::NotFound(_)), _) => {
            return not_found(&st, me.lang);
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return failure(&st, me.lang, &e.to_string());
        }
    };
    let changes = touban_app::ops::shift_changes(&old, &new);
    let mut affected: BTreeSet<StaffId> = BTreeSet::new();
    let mut keys = HashSet::new();
    let rows: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            affected.extend(c.before.symmetric_difference(&c.after).cloned());
            keys.insert((
                c.shift.service.to_string(),
                c.shift.template.to_string(),
                c.shift.date.to_string(),
            ));
            let service = net.service(&c.shift.service);
            let template = service.and_then(|s| s.template(&c.shift.template));
            let label = |ja: Option<&String>, en: Option<&String>, id: String| {
                if me.lang == "en" {
                    en.or(ja).cloned().unwrap_or(id)
                } else {
                    ja.cloned().unwrap_or(id)
                }
            };
            serde_json::json!({
                "date": i18n::date(c.shift.date, me.lang),
                "service": label(service.map(|s| &s.name), service.and_then(|s| s.name_en.as_ref()), c.shift.service.to_string()),
                "template": label(template.map(|t| &t.name), template.and_then(|t| t.name_en.as_ref()), c.shift.template.to_string()),
                "before": names(&net, &c.before),
                "after": names(&net, &c.after),
            })
        })
        .collect();
    let inst = Instance::shifts_only(&net, month);
    let mut g = grid::build(&inst, &new.assignments, me.lang);
    grid::mark_changed(&mut g, &keys);
    let mut p = Page::signed_in(&st, &me).await;
    p.set("month", month.to_string());
    p.set("month_label", i18n::month(month, me.lang));
    p.set("from", from);
    p.set("to", to);
    p.set("version", to);
    p.set("rows", rows);
    p.set("affected", names(&net, &affected));
    p.set("grid", g);
    render(&st, "diff.html", p, StatusCode::OK)
}

/// A version's note in the page's language. The store keeps the notes
/// Touban writes in English ("generated in 0.7 s (Optimal), job 1",
/// "manual edit of version 2: reason", "repair of version 3"); in Japanese
/// they are said in Japanese, with the coordinator's own reason as typed.
/// Anything else is shown as it is.
pub(crate) fn note(n: &str, lang: &str) -> String {
    if lang == "en" {
        return n.to_string();
    }
    if let Some(rest) = n.strip_prefix("generated in ") {
        // "0.7 s (Optimal), job 1" or "0.7 s (TimeLimit)".
        let (secs, rest) = rest.split_once(" s (").unwrap_or((rest, ""));
        let (quality, job) = rest.split_once(')').unwrap_or((rest, ""));
        let quality = match quality {
            "Optimal" => "最適解",
            "TimeLimit" => "時間切れ・最良の解",
            other => other,
        };
        let job = job.trim_start_matches(", job ").trim().to_string();
        return if job.is_empty() {
            format!("自動作成（{secs} 秒、{quality}）")
        } else {
            format!("自動作成（{secs} 秒、{quality}、ジョブ {job}）")
        };
    }
    if let Some(rest) = n.strip_prefix("manual edit of version ") {
        let (version, reason) = rest.split_once(": ").unwrap_or((rest, ""));
        let (version, overridden) = match version.split_once(", overriding ") {
            Some((v, o)) => (v, o.split(' ').next().unwrap_or("")),
            None => (version, ""),
        };
        let mut out = format!("第{version}版を手で修正");
        if !overridden.is_empty() {
            out.push_str(&format!("（違反{overridden}件を承知で）"));
        }
        if !reason.is_empty() {
            out.push_str(&format!("：{reason}"));
        }
        return out;
    }
    if let Some(v) = n.strip_prefix("repair of version ") {
        return format!("第{v}版を修復（不在・退職による）");
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::note;

    #[test]
    fn touban_s_notes_are_said_in_japanese() {
        assert_eq!(
            note("generated in 0.7 s (Optimal), job 1", "ja"),
            "自動作成（0.7 秒、最適解、ジョブ 1）"
        );
        assert_eq!(
            note("generated in 12.0 s (TimeLimit)", "ja"),
            "自動作成（12.0 秒、時間切れ・最良の解）"
        );
        assert_eq!(note("manual edit of version 2", "ja"), "第2版を手で修正");
        assert_eq!(
            note(
                "manual edit of version 2, overriding 1 violation(s): 本人了承",
                "ja"
            ),
            "第2版を手で修正（違反1件を承知で）：本人了承"
        );
        assert_eq!(
            note("repair of version 3", "ja"),
            "第3版を修復（不在・退職による）"
        );
        assert_eq!(note("imported by hand", "ja"), "imported by hand");
        assert_eq!(note("repair of version 3", "en"), "repair of version 3");
    }
}
