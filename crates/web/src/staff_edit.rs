//! Editing a person: the form writes the person's entry of the network
//! file and the whole file is checked by the network-file reader, so an
//! edit meets exactly the rules and messages of `touban validate` (a
//! service left without enough qualified people included). A valid edit
//! is stored in one transaction, as an import is, and audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Value;
use touban_domain::{LabourRegime, Network, StaffId};

use crate::pages::{Page, csrf_refused, failure, not_found, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

#[derive(Debug, Default, Deserialize)]
pub struct Posted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    also_at: Vec<String>,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    fte: String,
    #[serde(default)]
    regime: String,
    #[serde(default)]
    min_days_off: String,
    #[serde(default)]
    max_nights_per_month: String,
    #[serde(default)]
    reminders: Option<String>,
    /// A new person's id and profession (not changed by an edit).
    #[serde(default)]
    id: String,
    #[serde(default)]
    profession: String,
}

/// The region's network and one of its people, or the page to show
/// instead (not found, or a failure).
pub(crate) async fn person_of(
    st: &WebState,
    me: &SignedIn,
    id: &str,
) -> Result<(Network, touban_domain::StaffMember), Box<Response>> {
    let net = st
        .store
        .load_network(&me.region)
        .await
        .map_err(|e| Box::new(failure(st, me.lang, &e.to_string())))?;
    let person = StaffId::parse(id)
        .ok()
        .and_then(|s| net.staff_member(&s).cloned())
        .ok_or_else(|| Box::new(not_found(st, me.lang)))?;
    Ok((net, person))
}

/// [`person_of`] for a posted form: its CSRF token checked first.
pub(crate) async fn posted_person_of(
    st: &WebState,
    me: &SignedIn,
    id: &str,
    csrf: &str,
) -> Result<(Network, touban_domain::StaffMember), Box<Response>> {
    if !me.csrf_ok(csrf) {
        return Err(Box::new(csrf_refused(st, me.lang)));
    }
    person_of(st, me, id).await
}

fn form_of(p: &touban_domain::StaffMember) -> Posted {
    Posted {
        csrf: String::new(),
        name: p.name.clone(),
        name_en: p.name_en.clone().unwrap_or_default(),
        email: p.email.to_string(),
        phone: p
            .phone
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        institution: p.home_institution.to_string(),
        also_at: p
            .other_institutions
            .iter()
            .map(ToString::to_string)
            .collect(),
        skills: p
            .skills
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        fte: p.fte.get().to_string(),
        regime: p.labour.regime.as_str().to_string(),
        min_days_off: p.labour.min_days_off_per_month.to_string(),
        max_nights_per_month: p
            .labour
            .max_nights_per_month
            .map(|n| n.to_string())
            .unwrap_or_default(),
        reminders: p.reminders.then(|| "1".to_string()),
        id: p.id.to_string(),
        profession: p.profession.as_str().to_string(),
    }
}

async fn page(
    st: &WebState,
    me: &SignedIn,
    net: &Network,
    id: Option<&StaffId>,
    f: &Posted,
    (errors, general): (&BTreeMap<String, String>, &[String]),
    status: StatusCode,
) -> Response {
    let en = me.lang == "en";
    let mut p = Page::signed_in(st, me).await;
    p.set("id", id.map(StaffId::as_str));
    p.set("is_new", id.is_none());
    p.set(
        "person_name",
        id.and_then(|id| net.staff_member(id)).map_or_else(
            || i18n::pick(en, "新しい職員", "New staff member").to_string(),
            |x| x.name.clone(),
        ),
    );
    p.set(
        "professions",
        touban_domain::Profession::ALL
            .iter()
            .map(|x| serde_json::json!({"id": x.as_str(), "label": if en { x.as_str() } else { x.label_ja() }}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "f",
        serde_json::json!({
            "name": f.name, "name_en": f.name_en, "email": f.email, "phone": f.phone,
            "institution": f.institution, "also_at": f.also_at, "skills": f.skills,
            "fte": f.fte, "regime": f.regime, "min_days_off": f.min_days_off,
            "max_nights_per_month": f.max_nights_per_month, "reminders": f.reminders.is_some(),
            "id": f.id, "profession": f.profession,
        }),
    );
    p.set("errors", errors);
    p.set("general", general);
    p.set(
        "institutions",
        net.institutions
            .iter()
            .map(|i| serde_json::json!({"id": i.id.to_string(), "label": i.name}))
            .collect::<Vec<_>>(),
    );
    p.set(
        "regimes",
        LabourRegime::ALL
            .iter()
            .map(|r| {
                let ja = match r {
                    LabourRegime::A => "A水準",
                    LabourRegime::B => "B水準",
                    LabourRegime::ConnectedB => "連携B水準",
                    LabourRegime::C => "C水準",
                    LabourRegime::NotEmployed => "雇用されていない（開業医など）",
                };
                serde_json::json!({"id": r.as_str(), "label": if en { r.as_str() } else { ja }})
            })
            .collect::<Vec<_>>(),
    );
    render(st, "staff_edit.html", p, status)
}

/// `GET /people/{id}/edit`.
pub async fn form(State(st): State<WebState>, me: SignedIn, Path(id): Path<String>) -> Response {
    let (net, person) = match person_of(&st, &me, &id).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    page(
        &st,
        &me,
        &net,
        Some(&person.id),
        &form_of(&person),
        (&BTreeMap::new(), &[]),
        StatusCode::OK,
    )
    .await
}

fn text(v: &str) -> Option<Value> {
    let v = v.trim();
    (!v.is_empty()).then(|| Value::String(v.to_string()))
}

/// `GET /people/new`: the form for a new person.
pub async fn new_form(State(st): State<WebState>, me: SignedIn) -> Response {
    let net = match st.store.load_network(&me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let f = Posted {
        fte: "1".into(),
        regime: "a".into(),
        min_days_off: "4".into(),
        reminders: Some("1".into()),
        institution: net
            .institutions
            .first()
            .map(|i| i.id.to_string())
            .unwrap_or_default(),
        ..Posted::default()
    };
    page(
        &st,
        &me,
        &net,
        None,
        &f,
        (&BTreeMap::new(), &[]),
        StatusCode::OK,
    )
    .await
}

/// `POST /people/new`: adds a person, checked as an edit is.
pub async fn create(State(st): State<WebState>, me: SignedIn, Form(f): Form<Posted>) -> Response {
    apply(st, me, None, f).await
}

/// `POST /people/{id}/edit`.
pub async fn save(
    State(st): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<Posted>,
) -> Response {
    apply(st, me, Some(id), f).await
}

async fn apply(st: WebState, me: SignedIn, id: Option<String>, f: Posted) -> Response {
    if !me.csrf_ok(&f.csrf) {
        return csrf_refused(&st, me.lang);
    }
    let en = me.lang == "en";
    let net = match touban_app::staff::file_network(st.store.as_ref(), &me.region).await {
        Ok(n) => n,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let existing = match &id {
        Some(id) => match StaffId::parse(id)
            .ok()
            .filter(|s| net.staff_member(s).is_some())
        {
            Some(s) => Some(s),
            None => return not_found(&st, me.lang),
        },
        None => None,
    };
    // The entry's id as the file will carry it.
    let entry_id = existing
        .as_ref()
        .map_or_else(|| f.id.trim().to_string(), ToString::to_string);
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let number = |v: &str, field: &str, errors: &mut BTreeMap<String, String>| {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        if let Ok(n) = v.parse::<i64>() {
            return Some(Value::Integer(n));
        }
        match v.parse::<f64>() {
            Ok(x) if field == "fte" => Some(Value::Float(x)),
            _ => {
                errors.insert(
                    field.into(),
                    if en {
                        format!("“{v}” is not a number")
                    } else {
                        format!("「{v}」は数ではありません")
                    },
                );
                None
            }
        }
    };
    let fte = number(&f.fte, "fte", &mut errors).map(|v| match v {
        Value::Integer(n) => Value::Float(n as f64),
        v => v,
    });
    let min_days_off = number(&f.min_days_off, "min_days_off", &mut errors);
    let max_nights = number(&f.max_nights_per_month, "max_nights_per_month", &mut errors);
    let mut root: toml::Table = match toml::from_str(&touban_netfile::write(&net)) {
        Ok(t) => t,
        Err(e) => return failure(&st, me.lang, &format!("network as a file: {e}")),
    };
    let Some(staff) = root.get_mut("staff").and_then(Value::as_array_mut) else {
        return failure(&st, me.lang, "network as a file: no staff");
    };
    if existing.is_none() {
        let mut t = toml::Table::new();
        t.insert("id".into(), Value::String(entry_id.clone()));
        t.insert("profession".into(), Value::String(f.profession.clone()));
        staff.push(Value::Table(t));
    }
    let Some(entry) = (if existing.is_none() {
        staff.last_mut().and_then(Value::as_table_mut)
    } else {
        staff
            .iter_mut()
            .filter_map(Value::as_table_mut)
            .find(|t| t.get("id").and_then(Value::as_str) == Some(entry_id.as_str()))
    }) else {
        return not_found(&st, me.lang);
    };
    let mut set = |k: &str, v: Option<Value>| match v {
        Some(v) => {
            entry.insert(k.into(), v);
        }
        None => {
            entry.remove(k);
        }
    };
    set("name", text(&f.name).or(Some(Value::String(String::new()))));
    set("name_en", text(&f.name_en));
    set(
        "email",
        text(&f.email).or(Some(Value::String(String::new()))),
    );
    set("phone", text(&f.phone));
    set("institution", text(&f.institution));
    set(
        "also_at",
        Some(Value::Array(
            f.also_at
                .iter()
                .filter(|i| !i.is_empty() && **i != f.institution)
                .map(|i| Value::String(i.clone()))
                .collect(),
        )),
    );
    set(
        "skills",
        Some(Value::Array(
            f.skills
                .split([',', '、', ' ', '　'])
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
    );
    if fte.is_some() || f.fte.trim().is_empty() {
        set("fte", fte);
    }
    set("regime", text(&f.regime));
    if min_days_off.is_some() || f.min_days_off.trim().is_empty() {
        set("min_days_off", min_days_off);
    }
    if max_nights.is_some() || f.max_nights_per_month.trim().is_empty() {
        set("max_nights_per_month", max_nights);
    }
    set("reminders", Some(Value::Boolean(f.reminders.is_some())));
    let text = toml::to_string(&root).unwrap_or_default();
    let mut general = Vec::new();
    let parsed = touban_netfile::parse("form", &text);
    let new = match parsed {
        Ok(n) if errors.is_empty() => Some(n),
        Ok(_) => None,
        Err(problems) => {
            let mine = format!("staff \"{entry_id}\"");
            // A new entry whose id is itself wrong is named by its place.
            let by_place = format!("staff[{}]", net.staff.len() + 1);
            for p in problems.iter() {
                let is_mine = p.entry == mine
                    || p.entry.starts_with(&format!("{mine},"))
                    || (existing.is_none() && p.entry == by_place);
                match &p.field {
                    Some(field) if is_mine => {
                        errors
                            .entry(field.clone())
                            .or_insert_with(|| p.message_in(me.lang).to_string());
                    }
                    _ => general.push(match &p.field {
                        Some(field) => {
                            format!("{}, {field}: {}", p.entry, p.message_in(me.lang))
                        }
                        None => format!("{}: {}", p.entry, p.message_in(me.lang)),
                    }),
                }
            }
            None
        }
    };
    let Some(new) = new else {
        if errors.is_empty() && general.is_empty() {
            general.push(i18n::pick(en, "保存できませんでした", "Not saved").into());
        }
        return page(
            &st,
            &me,
            &net,
            existing.as_ref(),
            &f,
            (&errors, &general),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if let Err(e) = st.store.import_network(&new, &me.actor()).await {
        return failure(&st, me.lang, &e.to_string());
    }
    st.jobs.changed(&me.region);
    Redirect::to(&format!("/people/{entry_id}?saved=1")).into_response()
}
