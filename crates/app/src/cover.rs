//! Ranking candidates for an emergency cover request (代診・応援要請):
//! qualified, not absent, free of overlapping duty, rest intervals kept on
//! both sides, monthly cap kept; then nearest first, least loaded next. Every
//! person of the profession gets a reason, whether offered or not.

use chrono::{DateTime, Datelike, FixedOffset};
use touban_domain::{CoverRequest, Month, Network, RestPolicy, StaffId};
use touban_solver::{Instance, PastDuty, Rule};
use touban_store::{CoverStatus, NewOffer, Store, StoreError, StoredCover};

use crate::AppError;
use crate::ops::current;

/// A duty of one person with what to call it in a reason.
#[derive(Debug, Clone)]
struct Duty {
    at: PastDuty,
    label: String,
}

#[derive(Debug, Default)]
pub struct Ranking {
    pub offers: Vec<NewOffer>,
    pub excluded: Vec<(StaffId, String)>,
}

fn month_of(t: DateTime<FixedOffset>, net: &Network) -> Result<Month, AppError> {
    let d = t.with_timezone(&net.region.time_zone).date_naive();
    Month::new(d.year(), d.month()).map_err(|e| AppError::invalid("/start", e.message))
}

fn hours(a: DateTime<FixedOffset>, b: DateTime<FixedOffset>) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let m = (b - a).num_minutes() as f64;
    m / 60.0
}

/// Whether the cover interval is night work for the rest rules: it touches
/// 22:00–05:00 local time.
pub fn is_night(req: &CoverRequest, net: &Network) -> bool {
    let tz = net.region.time_zone;
    let s = req.start.with_timezone(&tz);
    let e = req.end.with_timezone(&tz);
    s.date_naive() != e.date_naive() || {
        use chrono::Timelike;
        s.hour() < 5 || e.hour() >= 22 || (e.hour() == 22 && e.minute() > 0)
    }
}

/// The duty a cover request is for whoever takes it: work on site, counted.
pub fn request_duty(net: &Network, staff: StaffId, req: &CoverRequest) -> PastDuty {
    PastDuty {
        staff,
        date: req.start.with_timezone(&net.region.time_zone).date_naive(),
        start: req.start,
        end: req.end,
        counts: true,
        night: is_night(req, net),
        nurse_night: false,
        on_site: true,
        key: None,
    }
}

/// The duty an accepted cover request is for the person who accepted it.
pub fn cover_duty(net: &Network, c: &StoredCover) -> Option<PastDuty> {
    (c.status == CoverStatus::Filled)
        .then(|| c.filled_by.clone())
        .flatten()
        .map(|staff| request_duty(net, staff, &c.request))
}

/// Every accepted cover of the region overlapping `[from, to)`, as duties
/// (an accepted cover is a duty for every rule), with the request's id.
pub async fn accepted_covers(
    store: &dyn Store,
    net: &Network,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<(i64, PastDuty)>, StoreError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.covers(&net.region.id, after, 500).await?;
        let n = batch.len();
        for c in batch {
            after = c.id;
            if let Some(d) = cover_duty(net, &c)
                && d.start < to
                && from < d.end
            {
                out.push((c.id, d));
            }
        }
        if n < 500 {
            return Ok(out);
        }
    }
}

/// The first of `mine` that clashes with `duty` under rules 3 and 4, read
/// by the checker's own function, with the reason in words.
fn clash_with(mine: &[Duty], duty: &PastDuty, rest: bool) -> Option<String> {
    mine.iter().find_map(|d| {
        let earlier = d.at.start <= duty.start;
        let rule = if earlier {
            d.at.clash(duty, rest)
        } else {
            duty.clash(&d.at, rest)
        }?;
        Some(match (rule, earlier) {
            (Rule::Overlap, _) => format!(
                "その時間に当番あり（{}）/ on duty then ({})",
                d.label, d.label
            ),
            (_, true) => format!(
                "{} の後の休息時間内（規則4）/ rest interval after {} (rule 4)",
                d.label, d.label
            ),
            (_, false) => format!(
                "{} の前の休息時間がとれない（規則4）/ would not get the rest interval before {} (rule 4)",
                d.label, d.label
            ),
        })
    })
}

/// A person's duties around an interval: rota duties of the current
/// versions of the months around it, and accepted cover.
async fn duties_around(
    store: &dyn Store,
    net: &Network,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
) -> Result<
    (
        std::collections::HashMap<StaffId, Vec<Duty>>,
        std::collections::HashMap<StaffId, f64>,
    ),
    AppError,
> {
    // Duties from the months around the interval (rest reaches 18 h back).
    let first = month_of(start, net)?.prev();
    let last = month_of(end, net)?.next();
    let cover_month = month_of(start, net)?;
    let mut duties: std::collections::HashMap<StaffId, Vec<Duty>> = Default::default();
    let mut month_hours: std::collections::HashMap<StaffId, f64> = Default::default();
    let mut m = first;
    while m <= last {
        if let Some(rota) = current(store, &net.region.id, m).await? {
            let inst = Instance::new(net, m);
            for a in &rota.assignments {
                let Some(&i) = inst.shift_index.get(&a.shift) else {
                    continue;
                };
                let info = &inst.shifts[i];
                if m == cover_month && info.counts {
                    *month_hours.entry(a.staff.clone()).or_default() += info.hours();
                }
                duties.entry(a.staff.clone()).or_default().push(Duty {
                    at: PastDuty::of(a.staff.clone(), info),
                    label: a.shift.to_string(),
                });
            }
        }
        m = m.next();
    }
    let wide = chrono::Duration::days(2);
    for (id, d) in accepted_covers(store, net, start - wide, end + wide).await? {
        if month_of(d.start, net)? == cover_month {
            *month_hours.entry(d.staff.clone()).or_default() += hours(d.start, d.end);
        }
        duties.entry(d.staff.clone()).or_default().push(Duty {
            label: format!("cover request {id}"),
            at: d,
        });
    }
    Ok((duties, month_hours))
}

/// Rule 5 in words, Japanese first.
fn cap_reason(load: f64, cover_hours: f64, cap: u32) -> String {
    format!(
        "月の上限: {load:.1} 時間 + {cover_hours:.1} 時間で上限 {cap} 時間を超える（規則5）/ monthly cap: {load:.1} h + {cover_hours:.1} h would exceed {cap} h (rule 5)"
    )
}

/// Why `staff` may not take the cover `req` now (an acceptance is checked
/// again: the person may have taken other duty since the offer), or None.
pub async fn blocked(
    store: &dyn Store,
    net: &Network,
    req: &CoverRequest,
    staff: &StaffId,
    except: Option<i64>,
) -> Result<Option<String>, AppError> {
    let Some(p) = net.staff_member(staff) else {
        return Ok(Some(format!(
            "「{staff}」はもうネットワークにいません / \"{staff}\" is no longer in the network"
        )));
    };
    let (mut duties, month_hours) = duties_around(store, net, req.start, req.end).await?;
    let mut mine = duties.remove(staff).unwrap_or_default();
    if let Some(id) = except {
        let me = format!("cover request {id}");
        mine.retain(|d| d.label != me);
    }
    let duty = request_duty(net, staff.clone(), req);
    if let Some(why) = clash_with(&mine, &duty, p.labour.rest == RestPolicy::Enforced) {
        return Ok(Some(why));
    }
    let load = month_hours.get(staff).copied().unwrap_or(0.0);
    let cover_hours = hours(req.start, req.end);
    if let Some(cap) = p.labour.monthly_cap_hours()
        && load + cover_hours > f64::from(cap) + 1e-6
    {
        return Ok(Some(cap_reason(load, cover_hours, cap)));
    }
    Ok(None)
}

pub async fn rank(
    store: &dyn Store,
    net: &Network,
    req: &CoverRequest,
    max_offers: usize,
) -> Result<Ranking, AppError> {
    let (duties, month_hours) = duties_around(store, net, req.start, req.end).await?;
    let target = net.institution(&req.institution).and_then(|i| i.location);
    let cover_hours = hours(req.start, req.end);
    let mut ok: Vec<(f64, f64, StaffId, String)> = Vec::new();
    let mut excluded = Vec::new();
    for p in net.staff.iter().filter(|p| p.profession == req.profession) {
        if let Some(s) = req.skills.iter().find(|s| !p.skills.contains(*s)) {
            excluded.push((
                p.id.clone(),
                format!("技能「{s}」がない / lacks the skill {s}"),
            ));
            continue;
        }
        if let Some(d) = p.retired_from.filter(|d| req.end.date_naive() >= *d) {
            excluded.push((p.id.clone(), format!("{d}から退職 / retired from {d}")));
            continue;
        }
        if let Some(a) = net
            .absences
            .iter()
            .find(|a| a.staff == p.id && a.overlaps(req.start, req.end))
        {
            excluded.push((
                p.id.clone(),
                format!(
                    "不在（{} {} – {}）/ absent ({} {} – {})",
                    a.kind.label_ja(),
                    a.start.format("%m-%d %H:%M"),
                    a.end.format("%m-%d %H:%M"),
                    a.kind.as_str(),
                    a.start.format("%m-%d %H:%M"),
                    a.end.format("%m-%d %H:%M")
                ),
            ));
            continue;
        }
        let mine = duties.get(&p.id).map_or(&[][..], Vec::as_slice);
        let duty = request_duty(net, p.id.clone(), req);
        if let Some(why) = clash_with(mine, &duty, p.labour.rest == RestPolicy::Enforced) {
            excluded.push((p.id.clone(), why));
            continue;
        }
        let load = month_hours.get(&p.id).copied().unwrap_or(0.0);
        if let Some(cap) = p.labour.monthly_cap_hours()
            && load + cover_hours > f64::from(cap) + 1e-6
        {
            excluded.push((p.id.clone(), cap_reason(load, cover_hours, cap)));
            continue;
        }
        let base = p.base.or_else(|| {
            net.institution(&p.home_institution)
                .and_then(|i| i.location)
        });
        let km = match (base, target) {
            (Some(b), Some(t)) => b.distance_km(&t),
            _ => f64::INFINITY,
        };
        let (dist_ja, dist) = if km.is_finite() {
            (
                format!("拠点から {km:.1} km"),
                format!("{km:.1} km from base"),
            )
        } else {
            ("距離不明".to_string(), "distance unknown".to_string())
        };
        ok.push((
            km,
            load,
            p.id.clone(),
            format!(
                "{dist_ja}、今月の当番 {load:.1} 時間。資格あり・不在なし・重なる当番なし・休息と月の上限を守れる / {dist}; {load:.1} h of duty this month; qualified, not absent, no overlapping duty, rest and monthly cap kept"
            ),
        ));
    }
    ok.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut offers = Vec::new();
    for (i, (_, _, staff, reason)) in ok.into_iter().enumerate() {
        if i < max_offers {
            offers.push(NewOffer {
                staff,
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                reason,
            });
        } else {
            excluded.push((
                staff,
                format!(
                    "適任者の {} 番目（上位 {max_offers} 人に依頼）/ ranked {} of the eligible, after the {max_offers} offered",
                    i + 1,
                    i + 1
                ),
            ));
        }
    }
    Ok(Ranking { offers, excluded })
}

/// Answers an offer as the person offered. An acceptance is refused when
/// the cover would now be a second duty at once, break rest or the
/// monthly cap with what they hold (`Conflict`, nothing changed: they
/// should decline so that someone else is asked).
pub async fn answer(
    store: &dyn Store,
    offer: i64,
    accept: bool,
    actor: &str,
) -> Result<touban_store::OfferAnswer, AppError> {
    if accept {
        let c = store.offer_request(offer).await?;
        let net = store.load_network(&c.region).await?;
        if let Some(o) = c.offers.iter().find(|o| o.id == offer)
            && c.status != touban_store::CoverStatus::Filled
            && let Some(why) = blocked(store, &net, &c.request, &o.staff, Some(c.id)).await?
        {
            return Err(AppError::Store(StoreError::Conflict(format!(
                "you cannot take this cover now: {why}. Nothing was changed; decline it so that someone else is asked"
            ))));
        }
    }
    Ok(store.answer_offer(offer, accept, actor).await?)
}

/// What is wrong with a cover request before anyone is asked: it ends in
/// the past, or asks for more than 31 days, or for more than 20 offers.
/// `None` when it may be sent.
pub fn refused(
    req: &CoverRequest,
    max_offers: u32,
    now: DateTime<chrono::Utc>,
) -> Option<(&'static str, String)> {
    if let Err(e) = CoverRequest::check_interval(req.start, req.end) {
        return Some(("/end", e.message));
    }
    if req.end <= now {
        return Some((
            "/end",
            format!(
                "the cover would end at {}, which is in the past: ask for cover from now on",
                req.end
            ),
        ));
    }
    if req.end - req.start > chrono::Duration::days(31) {
        return Some((
            "/end",
            "cover is asked for at most 31 days at a time".into(),
        ));
    }
    if !(1..=20).contains(&max_offers) {
        return Some((
            "/max_offers",
            format!("{max_offers} is not between 1 and 20"),
        ));
    }
    None
}

/// Asks for cover: checks the request ([`refused`]), ranks the candidates
/// and stores the request with its offers (the notifier e-mails them from
/// the outbox). Returns the stored request and the ranking with everyone
/// left out and why.
pub async fn ask(
    store: &dyn Store,
    net: &Network,
    req: &CoverRequest,
    max_offers: u32,
    actor: &str,
) -> Result<(StoredCover, Ranking), AppError> {
    let now = chrono::Utc::now();
    if let Some((field, detail)) = refused(req, max_offers, now) {
        return Err(AppError::invalid(field, detail));
    }
    if net.institution(&req.institution).is_none() {
        return Err(AppError::invalid(
            "/institution",
            format!("no institution \"{}\" in this region", req.institution),
        ));
    }
    let ranking = rank(store, net, req, max_offers as usize).await?;
    let escalate_at = now + chrono::Duration::minutes(i64::from(net.policy.escalate_after_minutes));
    let stored = store
        .create_cover(&net.region.id, req, &ranking.offers, escalate_at, actor)
        .await?;
    Ok((stored, ranking))
}
