//! Staff's requests for a month ("please not" / "I would like" a day):
//! open until the region's deadline, then read-only. Entered requests are
//! stored apart from the network file's (an import keeps them) and the
//! solver reads both.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone};
use touban_domain::{Month, Network, Request, RequestKind, StaffId};
use touban_store::{AbsenceSource, Store};

use crate::AppError;

/// When requests for `month` close: the end of `[policy]
/// requests_close_day` of the month before (its last day at most), or
/// the start of the month when unset.
pub fn closes_at(net: &Network, month: Month) -> Option<DateTime<FixedOffset>> {
    let tz = net.region.time_zone;
    let end_day = match net.policy.requests_close_day {
        None => month.first_day(),
        Some(d) => {
            let prev = month.prev();
            let last = month.first_day().pred_opt()?.day();
            NaiveDate::from_ymd_opt(prev.year, prev.month, u32::from(d).min(last))?.succ_opt()?
        }
    };
    tz.from_local_datetime(&end_day.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// Whether requests for `month` are still open at `now`.
pub fn open(net: &Network, month: Month, now: DateTime<FixedOffset>) -> bool {
    closes_at(net, month).is_some_and(|t| now < t)
}

/// One day's wish, as the staff's calendar sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wish {
    None,
    Off,
    On,
}

/// Makes `staff`'s entered requests of `month` the `wishes` (whole days,
/// any service, weight 5): withdraws what is no longer wished, adds what
/// is new, keeps the rest. Refused after the deadline. Returns (added,
/// withdrawn).
pub async fn set_month(
    store: &dyn Store,
    net: &Network,
    staff: &StaffId,
    month: Month,
    wishes: &[(NaiveDate, Wish)],
    now: DateTime<FixedOffset>,
    actor: &str,
) -> Result<(usize, usize), AppError> {
    if !open(net, month, now) {
        return Err(AppError::invalid(
            "/month",
            format!("requests for {month} are closed"),
        ));
    }
    if let Some((d, _)) = wishes.iter().find(|(d, _)| !month.contains(*d)) {
        return Err(AppError::invalid("/date", format!("{d} is not in {month}")));
    }
    let region = &net.region.id;
    let mine: Vec<_> = store
        .requests(region)
        .await?
        .into_iter()
        .filter(|r| {
            r.source == AbsenceSource::Reported
                && &r.request.staff == staff
                && month.contains(r.request.date)
                && r.request.service.is_none()
        })
        .collect();
    let (mut added, mut withdrawn) = (0, 0);
    for (date, wish) in wishes {
        let kind = match wish {
            Wish::None => None,
            Wish::Off => Some(RequestKind::Off),
            Wish::On => Some(RequestKind::On),
        };
        let have: Vec<_> = mine.iter().filter(|r| r.request.date == *date).collect();
        if have.len() == 1 && Some(have[0].request.kind) == kind {
            continue;
        }
        for r in have {
            store.withdraw_request(region, r.id, actor).await?;
            withdrawn += 1;
        }
        if let Some(kind) = kind {
            let r = Request {
                staff: staff.clone(),
                date: *date,
                kind,
                service: None,
                weight: 5,
            };
            store.add_request(region, &r, actor).await?;
            added += 1;
        }
    }
    Ok((added, withdrawn))
}

/// Who enters or withdraws a request: the person (until the deadline, only
/// their own) or a coordinator (for anyone, at any time).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Staff(&'a StaffId),
    Coordinator,
}

/// Checks one request a person or a coordinator enters: the person exists,
/// the date is in a month still open (for the person), the service is one
/// they may work, the weight is 1–10, and they have no request for that
/// day and service yet. Stores it and returns its id.
pub async fn add(
    store: &dyn Store,
    net: &Network,
    by: By<'_>,
    request: &Request,
    now: DateTime<FixedOffset>,
    actor: &str,
) -> Result<i64, AppError> {
    let person = net.staff_member(&request.staff).ok_or_else(|| {
        AppError::invalid(
            "/staff",
            format!("no staff member \"{}\" in this region", request.staff),
        )
    })?;
    if let By::Staff(me) = by {
        if me != &request.staff {
            return Err(AppError::invalid(
                "/staff",
                "you may enter requests only for yourself",
            ));
        }
        let month = Month::of(request.date);
        if !open(net, month, now) {
            return Err(AppError::invalid(
                "/date",
                format!("requests for {month} are closed"),
            ));
        }
    }
    touban_domain::Request::check_weight(i64::from(request.weight))
        .map_err(|e| AppError::invalid("/weight", e.message))?;
    if let Some(sid) = &request.service {
        let svc = net.service(sid).ok_or_else(|| {
            AppError::invalid("/service", format!("no service \"{sid}\" in this region"))
        })?;
        if !net.eligible(person, svc) {
            return Err(AppError::invalid(
                "/service",
                format!("\"{}\" does not work for \"{sid}\"", person.id),
            ));
        }
    }
    let region = &net.region.id;
    let same = store.requests(region).await?.into_iter().any(|r| {
        r.request.staff == request.staff
            && r.request.date == request.date
            && r.request.service == request.service
    });
    if same {
        return Err(AppError::invalid(
            "/date",
            format!(
                "\"{}\" already has a request for {}{}; withdraw it first",
                request.staff,
                request.date,
                request
                    .service
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(store.add_request(region, request, actor).await?)
}

/// Withdraws an entered request. A person withdraws only their own, until
/// the deadline; requests from the network file are changed in the file.
pub async fn withdraw(
    store: &dyn Store,
    net: &Network,
    by: By<'_>,
    id: i64,
    now: DateTime<FixedOffset>,
    actor: &str,
) -> Result<(), AppError> {
    let region = &net.region.id;
    let found = store
        .requests(region)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .filter(|r| match by {
            By::Staff(me) => &r.request.staff == me,
            By::Coordinator => true,
        })
        .ok_or_else(|| AppError::NotFound(format!("request {id}")))?;
    if found.source == AbsenceSource::File {
        return Err(AppError::invalid(
            "/id",
            format!("request {id} is in the network file: change it there"),
        ));
    }
    if let By::Staff(_) = by {
        let month = Month::of(found.request.date);
        if !open(net, month, now) {
            return Err(AppError::invalid(
                "/id",
                format!("requests for {month} are closed"),
            ));
        }
    }
    store.withdraw_request(region, id, actor).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_close_at_the_end_of_the_policy_day_of_the_month_before() {
        let mut net = touban_solver::synth::network(
            5,
            1,
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            31,
            1,
        );
        let march = Month::new(2027, 3).unwrap();
        assert_eq!(
            closes_at(&net, march).unwrap().to_rfc3339(),
            "2027-03-01T00:00:00+09:00"
        );
        net.policy.requests_close_day = Some(20);
        let t = closes_at(&net, march).unwrap();
        assert_eq!(t.to_rfc3339(), "2027-02-21T00:00:00+09:00");
        assert!(open(&net, march, t - chrono::Duration::seconds(1)));
        assert!(!open(&net, march, t));
        // A day past the month's end means its last day.
        net.policy.requests_close_day = Some(31);
        assert_eq!(
            closes_at(&net, march).unwrap().to_rfc3339(),
            "2027-03-01T00:00:00+09:00"
        );
    }
}
