//! What anyone may ask: who is on call, the patient-facing list, calendar
//! feeds (behind their secret address), health.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset};
use touban_domain::{InstitutionId, RegionId, ServiceId};
use touban_store::Grant;

use crate::api_cover::html_escape;
use crate::auth::Caller;
use crate::dto::*;
use crate::error::{ApiResult, Problem, ProblemDetails};
use crate::oncall::now_in;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/health", tag = "public",
    responses((status = 200, body = Health)))]
pub async fn health(State(st): State<AppState>) -> ApiResult<Json<Health>> {
    st.store().regions().await?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// What a caller of the on-call lookup or a patient list may see: one
/// region (or all, for admins), and within it one service or all.
#[derive(Debug)]
struct Sight {
    region: Option<RegionId>,
    service: Option<ServiceId>,
}

impl Sight {
    /// Answers about another region or service read as "not found", so
    /// that nobody can probe ids.
    fn allows(&self, region: &RegionId, service: Option<&ServiceId>) -> bool {
        self.region.as_ref().is_none_or(|r| r == region)
            && match (&self.service, service) {
                (Some(mine), Some(s)) => mine == s,
                (Some(_), None) => false,
                (None, _) => true,
            }
    }
}

/// These answers give out personal phone numbers: they need a bearer token
/// of the region, or a viewing key (`?key=`) — the region's, or a service
/// feed's for that service alone.
async fn sight(st: &AppState, caller: Option<Caller>, key: Option<&str>) -> Result<Sight, Problem> {
    if let Some(k) = key {
        let c = st.verifier.verify(st.store(), k, true).await?;
        return match c.grant {
            Grant::Viewer { region } => Ok(Sight {
                region: Some(region),
                service: None,
            }),
            Grant::ServiceFeed { region, service } => Ok(Sight {
                region: Some(region),
                service: Some(service),
            }),
            _ => Err(Problem::unauthorized(
                "this key opens a calendar feed, not the on-call list",
            )),
        };
    }
    match caller {
        Some(c) => Ok(Sight {
            region: c.grant.region().cloned(),
            service: None,
        }),
        None => Err(Problem::unauthorized(
            "who is on call, with their phone numbers, is for the network's people: send your token (`Authorization: Bearer …`) or the viewing key your coordinator made (`?key=…`)",
        )),
    }
}

/// Who is on call now (or at `at`) for a service, an institution's services
/// or a whole region, with phone, until when, and who takes over next. A
/// person reported absent is never given: the repair's replacement
/// (`provisional` until a coordinator publishes it) or the backup is.
/// Needs a token of the region or a viewing key.
#[utoipa::path(get, path = "/api/v1/oncall", tag = "public",
    params(OnCallQuery),
    responses((status = 200, body = OnCallAnswer), (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = []), ()))]
pub async fn oncall(
    State(st): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Query(q): Query<OnCallQuery>,
) -> ApiResult<Json<OnCallAnswer>> {
    let sight = sight(&st, caller.map(|c| c.0), q.key.as_deref()).await?;
    let at: Option<DateTime<FixedOffset>> = match &q.at {
        None => None,
        Some(s) => Some(DateTime::parse_from_rfc3339(s).map_err(|e| {
            Problem::invalid(
                "query.at",
                format!("\"{s}\" is not an RFC 3339 instant ({e}); e.g. 2027-01-14T23:00:00+09:00"),
            )
        })?),
    };
    let region = q
        .region
        .as_deref()
        .map(|r| RegionId::parse(r).map_err(|_| Problem::not_found(format!("region \"{r}\""))))
        .transpose()?;
    let regions: Vec<RegionId> = match region {
        Some(r) if sight.region.as_ref().is_some_and(|s| s != &r) => {
            return Err(Problem::not_found(format!("region \"{r}\"")));
        }
        Some(r) => vec![r],
        None => {
            if q.service.is_none() && q.institution.is_none() {
                return Err(Problem::invalid(
                    "query.service",
                    "name a service, an institution or a region",
                ));
            }
            st.store()
                .regions()
                .await?
                .into_iter()
                .map(|r| r.id)
                .filter(|r| sight.region.as_ref().is_none_or(|s| s == r))
                .collect()
        }
    };
    let service = q
        .service
        .as_deref()
        .map(|s| ServiceId::parse(s).map_err(|_| Problem::not_found(format!("service \"{s}\""))))
        .transpose()?;
    let institution = q
        .institution
        .as_deref()
        .map(|s| {
            InstitutionId::parse(s).map_err(|_| Problem::not_found(format!("institution \"{s}\"")))
        })
        .transpose()?;
    let mut entries = Vec::new();
    let mut when = at;
    let mut found_any = false;
    for r in &regions {
        let net = st.network(r).await?;
        let at = *when.get_or_insert_with(|| now_in(&net));
        let services: Vec<&touban_domain::CoverageService> = net
            .services
            .iter()
            .filter(|s| service.as_ref().is_none_or(|id| &s.id == id))
            .filter(|s| sight.allows(r, Some(&s.id)))
            .filter(|s| {
                institution
                    .as_ref()
                    .is_none_or(|i| s.host.as_ref() == Some(i) || s.institutions.contains(i))
            })
            .collect();
        if institution.is_some()
            && net
                .institution(institution.as_ref().expect("some"))
                .is_some()
        {
            found_any = true;
        }
        for svc in services {
            found_any = true;
            let (now, next) = st.oncall.lookup(st.store(), &net, &svc.id, at).await?;
            entries.push(OnCallEntry {
                region: r.to_string(),
                service: svc.id.to_string(),
                service_name: svc.name.clone(),
                now,
                next,
            });
        }
        // Cover accepted for the institution is a duty too: who comes, now.
        if let Some(inst) = institution.as_ref().filter(|_| sight.service.is_none())
            && let Some(i) = net.institution(inst)
        {
            let day = Duration::days(1);
            for (id, d) in
                touban_app::cover::accepted_covers(st.store(), &net, at - day, at + day).await?
            {
                if !(d.start <= at && at < d.end) {
                    continue;
                }
                let c = st.store().cover(id).await?;
                if &c.request.institution != inst {
                    continue;
                }
                let p = net.staff_member(&d.staff);
                entries.push(OnCallEntry {
                    region: r.to_string(),
                    service: format!("cover-{id}"),
                    service_name: format!("代診・応援 cover: {}", i.name),
                    now: Some(SlotDto {
                        template: "cover".into(),
                        date: d.date,
                        start: d.start,
                        end: d.end,
                        people: vec![PersonOnCall {
                            staff: d.staff.to_string(),
                            name: p.map_or_else(|| d.staff.to_string(), |p| p.name.clone()),
                            name_en: p.and_then(|p| p.name_en.clone()),
                            role: "primary".into(),
                            phone: p.and_then(|p| p.phone.as_ref()).map(ToString::to_string),
                            provisional: false,
                        }],
                        unfilled: false,
                        fallback_phone: None,
                    }),
                    next: None,
                });
            }
        }
    }
    if !found_any {
        return Err(Problem::not_found(match (&service, &institution) {
            (Some(s), _) => format!("service \"{s}\""),
            (None, Some(i)) => format!("institution \"{i}\""),
            _ => "region".to_string(),
        }));
    }
    let at = when.unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    Ok(Json(OnCallAnswer { at, entries }))
}

/// The published "time slot → person → phone" list of one service, for
/// patients: JSON, CSV (UTF-8 with BOM, so Excel opens it in Japanese) or a
/// printable HTML page.
#[utoipa::path(get, path = "/api/v1/regions/{region}/services/{service}/patient-list", tag = "public",
    params(("region" = String, Path), ("service" = String, Path), PatientListQuery),
    responses((status = 200, description = "The list: JSON, CSV (UTF-8 with BOM) or a printable A4 page, as `format` asks",
            content((PatientList = "application/json"), (String = "text/csv"), (String = "text/html"))),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails), (status = 422, body = ProblemDetails)),
    security(("bearer" = []), ()))]
pub async fn patient_list(
    State(st): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path((region, service)): Path<(String, String)>,
    Query(q): Query<PatientListQuery>,
) -> ApiResult<Response> {
    let sight = sight(&st, caller.map(|c| c.0), q.key.as_deref()).await?;
    let region = crate::conv::region_id(&region)?;
    let nf = || Problem::not_found(format!("service \"{service}\""));
    let sid = ServiceId::parse(&service).map_err(|_| nf())?;
    if !sight.allows(&region, Some(&sid)) {
        return Err(nf());
    }
    let net = st.network(&region).await?;
    let svc = net.service(&sid).ok_or_else(nf)?;
    let today = now_in(&net).date_naive();
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from + Duration::days(30));
    if to < from {
        return Err(Problem::invalid(
            "query.to",
            format!("{to} is before {from}"),
        ));
    }
    if (to - from).num_days() > 92 {
        return Err(Problem::invalid("query.to", "at most 92 days at a time"));
    }
    let format = q.format.as_deref().unwrap_or("json");
    if !["json", "csv", "html"].contains(&format) {
        return Err(Problem::invalid(
            "query.format",
            format!("\"{format}\" is not a format (json, csv, html)"),
        ));
    }
    let mut rows = Vec::new();
    let mut versions = Vec::new();
    let cal = touban_calendar::Calendar::for_region(&net.region);
    let holiday = |t: DateTime<FixedOffset>| {
        cal.day_off(t.with_timezone(&net.region.time_zone).date_naive())
            .map(|d| d.name)
    };
    let mut m = touban_domain::Month::new(
        chrono::Datelike::year(&from),
        chrono::Datelike::month(&from),
    )
    .map_err(|e| Problem::invalid("query.from", e.message))?;
    loop {
        if m.first_day() > to {
            break;
        }
        if let Some(v) = st
            .store()
            .rota_versions(&region, m)
            .await?
            .iter()
            .find(|v| v.status == touban_domain::RotaStatus::Published)
        {
            versions.push(format!("{m} v{}", v.version));
        }
        let ms = st.oncall.month(st.store(), &net, m).await?;
        if let Some(slots) = ms.services.get(&sid) {
            for s in slots
                .iter()
                .filter(|s| s.dto.date >= from && s.dto.date <= to)
            {
                for p in &s.dto.people {
                    // A holiday duty clinic or a pharmacy: patients get the
                    // institution, not a personal mobile.
                    let place = (svc.patient_contact()
                        == touban_domain::PatientContact::Institution)
                        .then(|| {
                            svc.host.clone().or_else(|| {
                                touban_domain::StaffId::parse(&p.staff).ok().and_then(|id| {
                                    net.staff_member(&id).map(|m| m.home_institution.clone())
                                })
                            })
                        })
                        .flatten()
                        .and_then(|i| net.institution(&i));
                    let (name, phone, address) = match place {
                        Some(i) => (
                            format!("{}（担当 {}）", i.name, p.name),
                            i.phone
                                .as_ref()
                                .map(ToString::to_string)
                                .or_else(|| p.phone.clone()),
                            i.address.clone(),
                        ),
                        None => (p.name.clone(), p.phone.clone(), None),
                    };
                    rows.push(PatientRow {
                        start: s.dto.start,
                        end: s.dto.end,
                        name,
                        role: p.role.clone(),
                        phone,
                        unfilled: false,
                        holiday: holiday(s.dto.start),
                        address,
                    });
                }
                // A slot nobody holds is printed, never left out: 未定 and
                // the number to call instead.
                if s.dto.people.is_empty() {
                    rows.push(PatientRow {
                        start: s.dto.start,
                        end: s.dto.end,
                        name: "未定 (not yet decided)".into(),
                        role: String::new(),
                        phone: s.dto.fallback_phone.clone(),
                        unfilled: true,
                        holiday: holiday(s.dto.start),
                        address: None,
                    });
                }
            }
        }
        m = m.next();
    }
    let list = PatientList {
        region: region.to_string(),
        service: sid.to_string(),
        service_name: svc.name.clone(),
        from,
        to,
        issued: today,
        versions,
        rows,
    };
    Ok(match format {
        "csv" => {
            let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
            let _ = w.write_record([
                "開始 start",
                "終了 end",
                "氏名 name",
                "役割 role",
                "電話 phone",
                "住所 address",
            ]);
            for r in &list.rows {
                let _ = w.write_record([
                    r.start.format("%Y-%m-%d %H:%M").to_string(),
                    r.end.format("%Y-%m-%d %H:%M").to_string(),
                    r.name.clone(),
                    role_ja(&r.role).to_string(),
                    r.phone.clone().unwrap_or_default(),
                    r.address.clone().unwrap_or_default(),
                ]);
            }
            let bytes = w.into_inner().map_err(Problem::internal)?;
            let mut res = bytes.into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"{}-{}-{}.csv\"",
                list.service, list.from, list.to
            )) {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        "html" => (StatusCode::OK, axum::response::Html(patient_html(&list))).into_response(),
        _ => Json(list).into_response(),
    })
}

fn role_ja(role: &str) -> &'static str {
    match role {
        "backup" => "副 backup",
        "primary" => "主 primary",
        _ => "",
    }
}

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn patient_html(l: &PatientList) -> String {
    use chrono::Datelike;
    use std::fmt::Write;
    let mut rows = String::new();
    for r in &l.rows {
        let wd = WEEKDAYS_JA[r.start.weekday().num_days_from_monday() as usize];
        let (class, mark) = match &r.holiday {
            Some(h) => (
                " class=\"holiday\"",
                format!("<br><span class=\"hol\">休 {}</span>", html_escape(h)),
            ),
            None => ("", String::new()),
        };
        let _ = write!(
            rows,
            "<tr{class}><td>{}（{wd}）{}{mark}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"tel\">{}</td></tr>",
            r.start.format("%m月%d日"),
            r.start.format("%H:%M"),
            r.end.format("%m/%d %H:%M"),
            if r.unfilled {
                "<strong>未定</strong>（下の番号へ / call this number）".to_string()
            } else {
                match &r.address {
                    Some(a) => format!(
                        "{}<br><small>{}</small>",
                        html_escape(&r.name),
                        html_escape(a)
                    ),
                    None => html_escape(&r.name),
                }
            },
            role_ja(&r.role),
            html_escape(r.phone.as_deref().unwrap_or("—")),
        );
    }
    let footer = if l.rows.is_empty() {
        rows.push_str("<tr><td colspan=\"5\">この期間に公開された当番はありません / no published duty in this period</td></tr>");
        String::new()
    } else {
        "<p>夜間・休日に具合が悪くなったときは、その時間帯の電話番号にお電話ください。In an emergency, call the number for that time.</p>".to_string()
    };
    let versions = if l.versions.is_empty() {
        "—".to_string()
    } else {
        l.versions.join(", ")
    };
    format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{name} 当番表 {from} – {to}</title>\
<style>@page{{size:A4 portrait;margin:15mm}}body{{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:1.5em}}table{{border-collapse:collapse;width:100%}}\
th,td{{border:1px solid #444;padding:.3em .5em;text-align:left}}th{{background:#eee}}.tel{{font-size:1.2em;font-weight:bold}}\
tr.holiday td:first-child{{background:#fde8e8}}.hol{{font-size:.85em}}.meta{{font-size:.9em}}\
@media print{{body{{margin:0}}}}</style></head><body>\
<h1>{name} 当番表</h1><p>{from} 〜 {to}（Duty list / time slot → person → phone）</p>\
<p class=\"meta\">発行日 issued {issued}　当番表の版 rota version: {versions}</p>\
<table><thead><tr><th>開始 Start</th><th>終了 End</th><th>担当 Name</th><th>役割 Role</th><th>電話 Phone</th></tr></thead><tbody>{rows}</tbody></table>\
{footer}</body></html>",
        name = html_escape(&l.service_name),
        from = l.from,
        to = l.to,
        issued = l.issued,
    )
}

/// A calendar feed at its secret address (`/api/v1/feeds/{token}.ics`).
#[utoipa::path(get, path = "/api/v1/feeds/{token}", tag = "public",
    params(("token" = String, Path, description = "The feed token, followed by `.ics`")),
    responses((status = 200, description = "iCalendar", content_type = "text/calendar", body = String),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails)))]
pub async fn feed(State(st): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let caller = st.verifier.verify(st.store(), token, true).await?;
    let text = match &caller.grant {
        Grant::StaffFeed { region, staff } => {
            let net = st.network(region).await?;
            touban_app::ical::staff_feed(st.store(), &net, staff).await?
        }
        Grant::ServiceFeed { region, service } => {
            let net = st.network(region).await?;
            touban_app::ical::service_feed(st.store(), &net, service).await?
        }
        _ => return Err(Problem::unauthorized("not a feed token")),
    };
    let mut res = text.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(res)
}
