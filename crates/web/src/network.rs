//! The network: the staff list with search and filters, and a network file
//! uploaded in the browser — checked first (every problem with its line,
//! entry and field, nothing stored), then applied in one transaction on the
//! coordinator's say-so, as `touban import` does.

use axum::Form;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use touban_domain::Network;

use crate::pages::{Page, csrf_refused, failure, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Filter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    institution: String,
}

/// `GET /network?q=&profession=&institution=`: the staff list.
pub async fn page(State(st): State<WebState>, me: SignedIn, Query(f): Query<Filter>) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let p = list_page(&st, &me, &net, f).await;
    render(&st, "network.html", p, StatusCode::OK)
}

async fn list_page(st: &WebState, me: &SignedIn, net: &Network, f: Filter) -> Page {
    let en = me.lang == "en";
    let q = f.q.trim().to_lowercase();
    let staff: Vec<serde_json::Value> = net
        .staff
        .iter()
        .filter(|p| {
            q.is_empty()
                || p.name.to_lowercase().contains(&q)
                || p.name.replace([' ', '　'], "").contains(&q)
                || p.id.as_str().contains(&q)
                || p.email.to_string().to_lowercase().contains(&q)
                || p.name_en.as_ref().is_some_and(|n| n.to_lowercase().contains(&q))
        })
        .filter(|p| f.profession.is_empty() || p.profession.as_str() == f.profession)
        .filter(|p| {
            f.institution.is_empty()
                || p.institutions().any(|i| i.as_str() == f.institution)
        })
        .map(|p| {
            serde_json::json!({
                "id": p.id.to_string(),
                "name": p.name,
                "profession": if en { p.profession.as_str() } else { p.profession.label_ja() },
                "institution": net.institution(&p.home_institution).map_or_else(|| p.home_institution.to_string(), |i| i.name.clone()),
                "phone": p.phone.as_ref().map(ToString::to_string),
                "email": p.email.to_string(),
                "fte": p.fte.get(),
                "retired": p.retired_from.map(|d| i18n::date(d, me.lang)),
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("total", net.staff.len());
    p.set("staff", staff);
    p.set(
        "professions",
        touban_domain::Profession::ALL
            .iter()
            .filter(|x| net.staff.iter().any(|p| p.profession == **x))
            .map(|x| serde_json::json!({"id": x.as_str(), "label": if en { x.as_str() } else { x.label_ja() }}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "institutions",
        net.institutions
            .iter()
            .map(|i| serde_json::json!({"id": i.id.to_string(), "label": i.name}))
            .collect::<Vec<_>>(),
    );
    p.set("filter", f);
    p.set("summary", network_counts(net, me.lang));
    p
}

fn network_counts(net: &Network, lang: &str) -> String {
    let counts = [
        ("市町村", "municipalities", net.municipalities.len()),
        ("施設", "institutions", net.institutions.len()),
        ("職員", "staff", net.staff.len()),
        ("サービス", "services", net.services.len()),
        ("不在", "absences", net.absences.len()),
        ("希望", "requests", net.requests.len()),
    ];
    let en = lang == "en";
    counts
        .iter()
        .map(|(ja, e, n)| {
            if en {
                format!("{n} {e}")
            } else {
                format!("{ja} {n}")
            }
        })
        .collect::<Vec<_>>()
        .join(if en { ", " } else { "・" })
}

/// What checking an uploaded file found.
#[derive(Debug, Serialize)]
struct Checked {
    file: String,
    problems: Vec<serde_json::Value>,
    /// The file's text, carried to the apply step when it is valid.
    text: Option<String>,
    summary: Option<String>,
    wrong_region: Option<String>,
}

fn check(st_region: &touban_domain::RegionId, file: &str, text: &str, lang: &str) -> Checked {
    match touban_netfile::parse(file, text) {
        Err(problems) => Checked {
            file: file.into(),
            problems: problems
                .sorted()
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "line": p.line,
                        "entry": p.entry,
                        "field": p.field,
                        "message": p.message_in(lang),
                    })
                })
                .collect(),
            text: None,
            summary: None,
            wrong_region: None,
        },
        Ok(net) if &net.region.id != st_region => Checked {
            file: file.into(),
            problems: Vec::new(),
            text: None,
            summary: None,
            wrong_region: Some(net.region.id.to_string()),
        },
        Ok(net) => Checked {
            file: file.into(),
            problems: Vec::new(),
            text: Some(text.to_string()),
            summary: Some(network_counts(&net, lang)),
            wrong_region: None,
        },
    }
}

/// `POST /network/check` (a file, multipart): the check's report.
pub async fn upload(State(st): State<WebState>, me: SignedIn, mut form: Multipart) -> Response {
    let (mut csrf, mut file, mut bytes) = (String::new(), String::new(), None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => {
                    file = field.file_name().unwrap_or("network.toml").to_string();
                    bytes = field.bytes().await.ok();
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                tracing::info!("network upload: {e}");
                break;
            }
        }
    }
    if !me.csrf_ok(&csrf) {
        return csrf_refused(&st, me.lang);
    }
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let mut p = list_page(&st, &me, &net, Filter::default()).await;
    let checked = match bytes.filter(|b| !b.is_empty()) {
        None => {
            p.set(
                "file_error",
                i18n::pick(me.lang == "en", "ファイルを選んでください", "Choose a file"),
            );
            return render(&st, "network.html", p, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Some(b) => match String::from_utf8(b.to_vec()) {
            Ok(text) => check(&me.region, &file, &text, me.lang),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = b[..at].iter().filter(|c| **c == b'\n').count() + 1;
                Checked {
                    file: file.clone(),
                    problems: vec![serde_json::json!({
                        "line": line,
                        "entry": "the file",
                        "field": null,
                        "message": format!("not UTF-8 at byte {at} (Shift-JIS? save it as UTF-8)"),
                    })],
                    text: None,
                    summary: None,
                    wrong_region: None,
                }
            }
        },
    };
    let ok = checked.text.is_some();
    p.set("checked", checked);
    render(
        &st,
        "network.html",
        p,
        if ok {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct Apply {
    csrf: String,
    file: String,
    text: String,
}

/// `POST /network/apply`: checks the text again and imports it in one
/// transaction (the absences reported since, and the rotas, stay).
pub async fn apply(State(st): State<WebState>, me: SignedIn, Form(f): Form<Apply>) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let checked = check(&me.region, &f.file, &f.text, me.lang);
    let parsed = checked
        .text
        .as_deref()
        .and_then(|t| touban_netfile::parse(&f.file, t).ok());
    let Some(new) = parsed else {
        let net = match st.store.load_network(&me.region).await {
            Ok(n) => n,
            Err(e) => return failure(&st, me.lang, &e.to_string()),
        };
        let mut p = list_page(&st, &me, &net, Filter::default()).await;
        p.set("checked", checked);
        return render(&st, "network.html", p, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let report = match st.store.import_network(&new, &me.actor()).await {
        Ok(r) => r,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    st.jobs.changed(&me.region);
    let mut p = list_page(&st, &me, &new, Filter::default()).await;
    p.set(
        "applied",
        report
            .kinds
            .iter()
            .filter(|k| k.added + k.updated + k.removed > 0)
            .map(|k| {
                serde_json::json!({"kind": k.kind, "added": k.added, "updated": k.updated, "removed": k.removed})
            })
            .collect::<Vec<_>>(),
    );
    render(&st, "network.html", p, StatusCode::OK)
}

/// `GET /network/download`: the stored network as a network file that
/// validates and imports again without change. Absences reported since the
/// import (by the app, the API or the CLI) are kept apart by the store and
/// left out, as a re-import keeps them anyway.
pub async fn download(State(st): State<WebState>, me: SignedIn) -> Response {
    let net = match touban_app::staff::file_network(st.store.as_ref(), &me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let text = touban_netfile::write(&net);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.toml\"", me.region),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        text,
    )
        .into_response()
}
