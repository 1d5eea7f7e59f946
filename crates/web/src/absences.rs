//! A coordinator records an absence on a person's page: checked field by
//! field (the message next to the field, nothing stored when refused), then
//! reported through the application's use-case, which repairs the months
//! it touches; the page shows each repair (old → new per shift), whether it
//! was published or waits, and who will be told.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use serde::Deserialize;
use touban_domain::{Absence, AbsenceKind, StaffId};

use crate::fairness::{AbsenceForm, Refused, Shown, person_page};
use crate::pages::{Page, failure, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

#[derive(Debug, Deserialize)]
pub struct Posted {
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) from: String,
    #[serde(default)]
    pub(crate) to: String,
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) reason: String,
    /// The month the page showed, shown again when the form is refused.
    #[serde(default)]
    pub(crate) month: String,
    /// Who (a clinic's form; the person's page knows).
    #[serde(default)]
    pub(crate) staff: String,
}

/// The absence kinds for a form's select.
pub(crate) fn kinds(en: bool) -> Vec<serde_json::Value> {
    AbsenceKind::ALL
        .iter()
        .map(|k| serde_json::json!({"id": k.as_str(), "label": if en { k.as_str() } else { k.label_ja() }}))
        .collect()
}

/// The absence a form describes for `staff` (whole days, in the region's
/// time zone); or the form with each error next to its field, and the
/// first day given (to show its month again).
pub(crate) fn read(
    f: &Posted,
    staff: Option<&StaffId>,
    tz: chrono_tz::Tz,
    en: bool,
) -> Result<Absence, Box<(AbsenceForm, Option<NaiveDate>)>> {
    let mut form = AbsenceForm {
        from: f.from.clone(),
        to: f.to.clone(),
        kind: f.kind.clone(),
        reason: f.reason.clone(),
        staff: f.staff.clone(),
        errors: Default::default(),
    };
    let date =
        |s: &str, field: &'static str, form: &mut AbsenceForm| match NaiveDate::parse_from_str(
            s.trim(),
            "%Y-%m-%d",
        ) {
            Ok(d) => Some(d),
            Err(_) => {
                form.errors.insert(
                    field,
                    if s.trim().is_empty() {
                        i18n::pick(en, "日付を入れてください", "Enter a date").into()
                    } else if en {
                        format!("“{s}” is not a date (YYYY-MM-DD)")
                    } else {
                        format!("「{s}」は日付ではありません（例 2027-01-14）")
                    },
                );
                None
            }
        };
    let from = date(&f.from, "from", &mut form);
    let to = date(&f.to, "to", &mut form);
    let kind = AbsenceKind::parse(&f.kind).ok();
    if kind.is_none() {
        form.errors.insert(
            "kind",
            i18n::pick(en, "種類を選んでください", "Choose a kind").into(),
        );
    }
    if f.reason.chars().count() > 500 {
        form.errors.insert(
            "reason",
            i18n::pick(en, "500文字までにしてください", "At most 500 characters").into(),
        );
    }
    let midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.fixed_offset())
    };
    let mut absence = None;
    if let (Some(a), Some(b), Some(k), Some(staff)) = (from, to, kind, staff) {
        if b < a {
            form.errors.insert(
                "to",
                if en {
                    format!("{b} is before the first day, {a}")
                } else {
                    format!("{b} は初日 {a} より前です")
                },
            );
        } else if let (Some(start), Some(end)) = (midnight(a), b.succ_opt().and_then(midnight)) {
            let reason = Some(f.reason.trim().to_string()).filter(|r| !r.is_empty());
            match Absence::new(staff.clone(), start, end, k, reason) {
                Ok(x) => absence = Some(x),
                Err(e) => {
                    form.errors
                        .insert("to", if en { e.message } else { e.message_ja });
                }
            }
        }
    }
    match absence.filter(|_| form.errors.is_empty()) {
        Some(a) => Ok(a),
        None => Err(Box::new((form, from.or(to)))),
    }
}

/// `POST /people/{id}/absences`.
pub async fn add(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Posted>,
) -> Response {
    let (net, person) = match crate::staff_edit::posted_person_of(&st, &me, &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let read = read(&f, Some(&person.id), net.region.time_zone, en);
    let absence = match read {
        Ok(a) => a,
        Err(refused) => {
            let (form, first) = *refused;
            let shown = Shown {
                saved: None,
                version: None,
                month: Some(f.month.clone())
                    .filter(|m| crate::pages::parse_month(m).is_some())
                    .or_else(|| first.map(|d| d.format("%Y-%m").to_string())),
            };
            let refused = Refused {
                absence: Some(form),
                ..Refused::default()
            };
            let mut r = person_page(&st, &me, &id, &shown, refused).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return r;
        }
    };
    report_and_show(&st, &me, &net, &person, &absence).await
}

/// Reports the absence (the rota is repaired) and shows what was done.
pub(crate) async fn report_and_show(
    st: &WebState,
    me: &SignedIn,
    net: &touban_domain::Network,
    person: &touban_domain::StaffMember,
    absence: &Absence,
) -> Response {
    let tz = net.region.time_zone;
    let (from, to) = (
        absence.start.with_timezone(&tz).date_naive(),
        (absence.end - chrono::Duration::seconds(1))
            .with_timezone(&tz)
            .date_naive(),
    );
    let reported = match touban_app::absences::report(
        st.store.as_ref(),
        &st.jobs,
        &me.region,
        absence,
        &me.actor(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let period = format!(
        "{} 〜 {}",
        i18n::date(from, me.lang),
        i18n::date(to, me.lang)
    );
    done(st, me, net, person, &period, &reported.repairs, false).await
}

/// The page after a person became unavailable (absent or retired): each
/// repair with its changes, whether it was published, and who is told.
pub(crate) async fn done(
    st: &WebState,
    me: &SignedIn,
    net: &touban_domain::Network,
    person: &touban_domain::StaffMember,
    period: &str,
    repairs: &[touban_app::ops::Repaired],
    retired: bool,
) -> Response {
    let name = |s: &StaffId| {
        net.staff_member(s)
            .map_or_else(|| s.to_string(), |p| p.name.clone())
    };
    let repairs: Vec<serde_json::Value> = repairs
        .iter()
        .map(|r| {
            let mut told = std::collections::BTreeSet::new();
            let changes: Vec<serde_json::Value> = r
                .changes
                .iter()
                .map(|c| {
                    told.extend(c.before.symmetric_difference(&c.after).map(&name));
                    let svc = net.service(&c.shift.service);
                    serde_json::json!({
                        "date": i18n::date(c.shift.date, me.lang),
                        "service": svc.map_or_else(|| c.shift.service.to_string(), |s| s.name.clone()),
                        "template": svc.and_then(|s| s.template(&c.shift.template)).map_or_else(|| c.shift.template.to_string(), |t| t.name.clone()),
                        "before": c.before.iter().map(&name).collect::<Vec<_>>(),
                        "after": c.after.iter().map(&name).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::json!({
                "month": r.month.to_string(),
                "month_label": i18n::month(r.month, me.lang),
                "from": r.from.version,
                "to": r.to.version,
                "published": r.published,
                "changes": changes,
                "unfilled": r.unfilled.len(),
                "told": told.into_iter().collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut p = Page::signed_in(st, me).await;
    p.set("retired", retired);
    p.set(
        "person",
        serde_json::json!({"id": person.id.to_string(), "name": person.name}),
    );
    p.set("period", period);
    p.set("repairs", repairs);
    p.set(
        "coordinators",
        net.policy
            .coordinator_emails
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    );
    render(st, "absence_done.html", p, StatusCode::OK)
}
