//! Reporting my own absence (sickness, family): repaired as a clinic's report.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::pages::{Page, failure, render};
use crate::session::SignedIn;
use crate::{WebState, i18n};

use super::StaffIn;

/// `GET /me/absence`: the form to report my own absence.
pub async fn absence_form(State(st): State<WebState>, StaffIn(me, _): StaffIn) -> Response {
    absence_page(&st, &me, None, StatusCode::OK).await
}

async fn absence_page(
    st: &WebState,
    me: &SignedIn,
    refused: Option<crate::fairness::AbsenceForm>,
    status: StatusCode,
) -> Response {
    let mut p = Page::signed_in(st, me).await;
    p.set("kinds", crate::absences::kinds(me.lang == "en"));
    p.set("refused", refused.is_some());
    p.set("absence", refused.unwrap_or_default());
    render(st, "me_absence.html", p, status)
}

/// `POST /me/absence`: reported like a clinic's report (the rota is
/// repaired); the page says how many of my duties change and whether the
/// new rota is published, never who replaces me before it is.
pub async fn report_absence(
    State(st): State<WebState>,
    StaffIn(me, id): StaffIn,
    Form(f): Form<crate::absences::Posted>,
) -> Response {
    let net = match crate::pages::posted_network(&st, &me, &f.csrf).await {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let absence = match crate::absences::read(&f, Some(&id), net.region.time_zone, en) {
        Ok(a) => a,
        Err(refused) => {
            let (form, _) = *refused;
            return absence_page(&st, &me, Some(form), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let reported = match touban_app::absences::report(
        st.store.as_ref(),
        &st.jobs,
        &me.region,
        &absence,
        &me.actor(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return failure(&st, me.lang, &e.to_string()),
    };
    let affected: usize = reported
        .repairs
        .iter()
        .flat_map(|r| &r.changes)
        .filter(|c| c.before.contains(&id))
        .count();
    let tz = net.region.time_zone;
    let mut p = Page::signed_in(&st, &me).await;
    p.set("done", true);
    p.set(
        "period",
        format!(
            "{} 〜 {}",
            i18n::date(absence.start.with_timezone(&tz).date_naive(), me.lang),
            i18n::date(
                (absence.end - chrono::Duration::seconds(1))
                    .with_timezone(&tz)
                    .date_naive(),
                me.lang
            )
        ),
    );
    p.set("affected", affected);
    p.set(
        "published",
        !reported.repairs.is_empty() && reported.repairs.iter().all(|r| r.published),
    );
    render(&st, "me_absence.html", p, StatusCode::OK)
}
