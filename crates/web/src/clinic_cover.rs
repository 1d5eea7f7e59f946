//! A clinic asks for emergency cover (代診・応援要請, issue 16 item 8): a
//! form (profession, skills, from–to, broadcast or one by one, note), then
//! a status page that follows the request without reloading: who was
//! asked, who declined, who accepted, and when the coordinator is told.

use std::collections::{BTreeMap, BTreeSet};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use touban_domain::{CoverRequest, InstitutionId, Network, OfferMode, Profession, Skill};
use touban_store::{CoverStatus, OfferStatus, StoredCover};

use crate::clinic::ClinicIn;
use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

/// The form as posted, kept to be shown again with its errors.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct CoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    profession: String,
    /// One `skill` field per box ticked.
    #[serde(default)]
    skill: Vec<String>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    note: String,
    #[serde(skip_deserializing)]
    errors: BTreeMap<&'static str, String>,
}

/// The skills any person of the region has, for the form's boxes.
fn region_skills(net: &Network) -> BTreeSet<String> {
    net.staff
        .iter()
        .flat_map(|p| p.skills.iter().map(|s| s.as_str().to_string()))
        .collect()
}

/// `GET /clinic/cover/new`.
pub async fn form(State(st): State<WebState>, ClinicIn(me, _): ClinicIn) -> Response {
    let f = CoverForm {
        mode: "broadcast".into(),
        ..CoverForm::default()
    };
    form_page(&st, &me, f, StatusCode::OK).await
}

async fn form_page(st: &WebState, me: &SignedIn, f: CoverForm, status: StatusCode) -> Response {
    let en = me.lang == "en";
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let mut p = Page::signed_in(st, me).await;
    p.set(
        "professions",
        Profession::ALL
            .iter()
            .map(|x| serde_json::json!({"id": x.as_str(), "label": if en { x.as_str() } else { x.label_ja() }}))
            .collect::<Vec<_>>(),
    );
    let ticked: BTreeSet<&str> = f.skill.iter().map(String::as_str).collect();
    p.set(
        "skills",
        region_skills(&net)
            .into_iter()
            .map(|s| serde_json::json!({"id": s, "ticked": ticked.contains(s.as_str())}))
            .collect::<Vec<_>>(),
    );
    p.set("refused", !f.errors.is_empty());
    p.set("cover", f);
    render(st, "clinic_cover_new.html", p, status)
}

/// Reads a `datetime-local` value (2027-01-14T08:30) in the region's zone.
fn local(s: &str, tz: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let t = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok()?;
    tz.from_local_datetime(&t)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// `POST /clinic/cover/new`: checks the form, asks, shows the status page.
pub async fn create(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    axum_extra::extract::Form(mut f): axum_extra::extract::Form<CoverForm>,
) -> Response {
    let net = match crate::pages::posted_network(&st, &me, &f.csrf).await {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let tz = net.region.time_zone;
    let profession = Profession::parse(&f.profession).ok();
    if profession.is_none() {
        f.errors.insert(
            "profession",
            i18n::pick(en, "職種を選んでください", "Choose a profession").into(),
        );
    }
    let known = region_skills(&net);
    let skills: BTreeSet<Skill> = f
        .skill
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && known.contains(*s))
        .filter_map(|s| Skill::parse(s).ok())
        .collect();
    let when = |s: &str, field: &'static str, f: &mut CoverForm| {
        let t = local(s, tz);
        if t.is_none() {
            f.errors.insert(
                field,
                i18n::pick(
                    en,
                    "日時を入れてください（例 2027-01-14 08:30）",
                    "Enter a date and time (e.g. 2027-01-14 08:30)",
                )
                .into(),
            );
        }
        t
    };
    let start = when(&f.from.clone(), "from", &mut f);
    let end = when(&f.to.clone(), "to", &mut f);
    let mode = match f.mode.as_str() {
        "one_by_one" => OfferMode::OneByOne,
        _ => OfferMode::Broadcast,
    };
    if f.note.chars().count() > 2000 {
        f.errors.insert(
            "note",
            i18n::pick(en, "2000文字までにしてください", "At most 2,000 characters").into(),
        );
    }
    if let (Some(profession), Some(start), Some(end)) = (profession, start, end) {
        let request = CoverRequest {
            institution: inst.clone(),
            profession,
            skills,
            start,
            end,
            note: Some(f.note.trim().to_string()).filter(|n| !n.is_empty()),
            mode,
        };
        if f.errors.is_empty()
            && let Some((_, detail)) = touban_app::cover::refused(&request, 5, Utc::now())
        {
            f.errors.insert("to", said_in(en, &request, &detail));
        }
        if f.errors.is_empty() {
            match touban_app::cover::ask(st.store.as_ref(), &net, &request, 5, &me.actor()).await {
                Ok((c, _)) => {
                    return Redirect::to(&format!("/clinic/cover/{}", c.id)).into_response();
                }
                Err(touban_app::AppError::Invalid { detail, .. }) => {
                    f.errors.insert("to", detail);
                }
                Err(e) => return failure(&st, me.lang, &e.to_string()),
            }
        }
    }
    form_page(&st, &me, f, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// What [`touban_app::cover::refused`] said, in the reader's language.
fn said_in(en: bool, r: &CoverRequest, detail: &str) -> String {
    if en {
        return detail.to_string();
    }
    if r.end <= r.start {
        "終わりを始まりより後にしてください".into()
    } else if r.end <= Utc::now() {
        "終わりが過去です。これから先の応援を依頼してください".into()
    } else if r.end - r.start > chrono::Duration::days(31) {
        "一度に依頼できるのは31日までです".into()
    } else {
        detail.to_string()
    }
}

/// The request, if it is ours.
async fn ours(
    st: &WebState,
    me: &SignedIn,
    inst: &InstitutionId,
    id: i64,
) -> Result<StoredCover, Box<Response>> {
    match st.store.cover(id).await {
        Ok(c) if c.region == me.region && &c.request.institution == inst => Ok(c),
        Ok(_) | Err(touban_store::StoreError::NotFound(_)) => Err(Box::new(not_found(st, me.lang))),
        Err(e) => Err(Box::new(failure(st, me.lang, &e.to_string()))),
    }
}

fn status_words(s: CoverStatus, en: bool) -> &'static str {
    match s {
        CoverStatus::Open => i18n::pick(
            en,
            "募集中（返事を待っています）",
            "Open: waiting for answers",
        ),
        CoverStatus::Filled => i18n::pick(en, "決まりました", "Filled"),
        CoverStatus::Escalated => i18n::pick(
            en,
            "まだ決まらず、コーディネーターに知らせました（募集は続いています）",
            "Not yet filled: the coordinator has been told (still open)",
        ),
        CoverStatus::Cancelled => i18n::pick(en, "取り消しました", "Cancelled"),
    }
}

fn offer_words(s: OfferStatus, en: bool) -> &'static str {
    match s {
        OfferStatus::Waiting => i18n::pick(en, "順番待ち", "Waiting for their turn"),
        OfferStatus::Offered => i18n::pick(en, "依頼中・返事待ち", "Asked, no answer yet"),
        OfferStatus::Accepted => i18n::pick(en, "引き受けました", "Accepted"),
        OfferStatus::Declined => i18n::pick(en, "お断り", "Declined"),
        OfferStatus::Taken => {
            i18n::pick(en, "ほかの方が先に引き受け", "Someone else accepted first")
        }
        OfferStatus::Withdrawn => i18n::pick(en, "依頼を取り下げ", "Withdrawn"),
    }
}

/// The request for the page, in the reader's language and zone.
fn view(c: &StoredCover, net: &Network, en: bool) -> serde_json::Value {
    let tz = net.region.time_zone;
    let at = |t: chrono::DateTime<Utc>| {
        let l = t.with_timezone(&tz);
        format!(
            "{} {}",
            i18n::date(l.date_naive(), if en { "en" } else { "ja" }),
            l.format("%H:%M")
        )
    };
    let lang = if en { "en" } else { "ja" };
    let a = c.request.start.with_timezone(&tz);
    let b = c.request.end.with_timezone(&tz);
    let offers: Vec<serde_json::Value> = c
        .offers
        .iter()
        .map(|o| {
            let p = net.staff_member(&o.staff);
            serde_json::json!({
                "rank": o.rank,
                "name": p.map_or_else(|| o.staff.to_string(), |p| p.name.clone()),
                "status": o.status.as_str(),
                "words": offer_words(o.status, en),
                "phone": (o.status == OfferStatus::Accepted).then(|| p.and_then(|p| p.phone.as_ref()).map(ToString::to_string)).flatten(),
                "offered_at": o.offered_at.map(at),
                "answered_at": o.answered_at.map(at),
            })
        })
        .collect();
    let settled = matches!(c.status, CoverStatus::Filled | CoverStatus::Cancelled);
    serde_json::json!({
        "id": c.id,
        "status": c.status.as_str(),
        "words": status_words(c.status, en),
        "settled": settled,
        "profession": if en { c.request.profession.as_str() } else { c.request.profession.label_ja() },
        "skills": c.request.skills.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("・"),
        "when": format!("{} {} 〜 {} {}", i18n::date(a.date_naive(), lang), a.format("%H:%M"), i18n::date(b.date_naive(), lang), b.format("%H:%M")),
        "one_by_one": c.request.mode == OfferMode::OneByOne,
        "note": c.request.note,
        "escalate_at": at(c.escalate_at),
        "filled_by": c.filled_by.as_ref().map(|s| net.staff_member(s).map_or_else(|| s.to_string(), |p| p.name.clone())),
        "offers": offers,
        "nobody": c.offers.is_empty(),
    })
}

async fn show(
    st: &WebState,
    me: &SignedIn,
    inst: &InstitutionId,
    id: i64,
    fragment: bool,
) -> Response {
    let c = match ours(st, me, inst, id).await {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(st, me.lang, &e.to_string()),
    };
    let mut p = Page::signed_in(st, me).await;
    p.set("c", view(&c, &net, me.lang == "en"));
    let name = if fragment {
        "clinic_cover_status.html"
    } else {
        "clinic_cover.html"
    };
    render(st, name, p, StatusCode::OK)
}

/// `GET /clinic/cover/{id}`: the request and its answers, kept up to date.
pub async fn page(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    Path(id): Path<i64>,
) -> Response {
    show(&st, &me, &inst, id, false).await
}

/// `GET /clinic/cover/{id}/status`: the part of the page htmx refreshes.
pub async fn status(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    Path(id): Path<i64>,
) -> Response {
    show(&st, &me, &inst, id, true).await
}

#[derive(Debug, Deserialize)]
pub struct Csrf {
    csrf: String,
}

/// `POST /clinic/cover/{id}/cancel`: everyone asked is told by e-mail.
pub async fn cancel(
    State(st): State<WebState>,
    ClinicIn(me, inst): ClinicIn,
    Path(id): Path<i64>,
    Form(f): Form<Csrf>,
) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    if let Err(r) = ours(&st, &me, &inst, id).await {
        return *r;
    }
    match st.store.cancel_cover(id, &me.actor()).await {
        Ok(_) | Err(touban_store::StoreError::Conflict(_)) => {
            Redirect::to(&format!("/clinic/cover/{id}")).into_response()
        }
        Err(e) => failure(&st, me.lang, &e.to_string()),
    }
}

/// Our latest cover requests, for the clinic's home page.
pub async fn recent(
    st: &WebState,
    region: &touban_domain::RegionId,
    inst: &InstitutionId,
    net: &Network,
    en: bool,
) -> Vec<serde_json::Value> {
    let mut mine = Vec::new();
    let mut after = 0;
    loop {
        let Ok(batch) = st.store.covers(region, after, 200).await else {
            break;
        };
        let n = batch.len();
        for c in batch {
            after = c.id;
            if &c.request.institution == inst {
                mine.push(c);
            }
        }
        if n < 200 {
            break;
        }
    }
    mine.iter()
        .rev()
        .take(10)
        .map(|c| view(c, net, en))
        .collect()
}
