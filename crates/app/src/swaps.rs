//! Swapping or giving away a duty (issue 16 item 6). A person picks one of
//! their published duties; Touban lists the colleagues with whom a swap
//! keeps every hard rule for both (with the duty of theirs the person would
//! take) and the colleagues who could take it outright. The colleague
//! accepts or declines (in the app or by the e-mailed link); then a
//! coordinator approves (or the region's policy does, when the checker
//! finds nothing) and the swap becomes a new published version, whose
//! change notices and calendar files go to both. A proposal whose duties
//! changed meanwhile is withdrawn with a message saying so.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use touban_domain::{Assignment, Month, Network, NewRota, RegionId, Rota, ShiftKey, StaffId};
use touban_solver::check::hard_violations;
use touban_solver::{History, Instance};
use touban_store::{NewSwap, Store, StoreError, Swap, SwapMove, SwapStatus};

use crate::AppError;

/// One way to hand a duty on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub colleague: StaffId,
    /// The colleague's duty taken in return; `None`: they take mine outright.
    pub take: Option<ShiftKey>,
}

/// Everyone a duty can go to, from the month's published version.
#[derive(Debug, Clone)]
pub struct Partners {
    pub month: Month,
    pub version: u32,
    /// Swaps: a colleague and their duty, soonest first.
    pub swaps: Vec<Partner>,
    /// Give-aways: colleagues who could take the duty outright.
    pub takers: Vec<Partner>,
}

/// What Touban needs to judge a swap: the network, the history, the
/// published rota.
struct Month_ {
    net: Network,
    history: History,
    rota: Rota,
}

async fn month_of(store: &dyn Store, region: &RegionId, month: Month) -> Result<Month_, AppError> {
    let (net, history) = crate::ops::context(store, region, month).await?;
    let rota = store
        .published_rota(region, month)
        .await?
        .ok_or_else(|| AppError::invalid("/give", format!("{month} has no published rota")))?;
    Ok(Month_ { net, history, rota })
}

/// The hard-rule violations of two people (rules 2–6 and days off for each,
/// rule 7 for every attending pair), as a count per message: before and
/// after a swap, only what it adds matters.
fn violations(
    inst: &Instance<'_>,
    asg: &[Assignment],
    h: &History,
    a: &StaffId,
    b: &StaffId,
) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for who in [a, b] {
        for v in hard_violations(inst, asg, h, Some(who)) {
            *out.entry(v.bilingual()).or_default() += 1;
        }
    }
    out
}

/// What `after` has that `before` has not.
fn added(before: &BTreeMap<String, usize>, after: &BTreeMap<String, usize>) -> Vec<String> {
    after
        .iter()
        .filter(|(k, n)| before.get(*k).copied().unwrap_or(0) < **n)
        .map(|(k, _)| k.clone())
        .collect()
}

/// The duties of `people` and of their attending-pair partners (rule 7
/// looks at both): all a check of those people needs.
fn around(net: &Network, rota: &[Assignment], people: &[&StaffId]) -> Vec<Assignment> {
    let mut who: Vec<&StaffId> = people.to_vec();
    for p in &net.attending_pairs {
        if people.contains(&&p.primary) {
            who.push(&p.backup);
        }
        if people.contains(&&p.backup) {
            who.push(&p.primary);
        }
    }
    rota.iter()
        .filter(|a| who.contains(&&a.staff))
        .cloned()
        .collect()
}

/// `asg` with `me`'s duty `give` handed to `to`, and `to`'s duty `take`
/// (if any) to `me`, each keeping its role.
fn exchanged(
    asg: &[Assignment],
    me: &StaffId,
    give: &ShiftKey,
    to: &StaffId,
    take: Option<&ShiftKey>,
) -> Vec<Assignment> {
    asg.iter()
        .map(|a| {
            let mut a = a.clone();
            if &a.staff == me && &a.shift == give {
                a.staff = to.clone();
            } else if take.is_some_and(|t| &a.staff == to && &a.shift == t) {
                a.staff = me.clone();
            }
            a
        })
        .collect()
}

/// What is wrong with handing `give` from `me` to `to` (taking `take`
/// back) in `rota`: `None` when nothing; else why not, in Japanese and
/// English.
fn refusal(
    inst: &Instance<'_>,
    rota: &[Assignment],
    h: &History,
    me: &StaffId,
    give: &ShiftKey,
    to: &StaffId,
    take: Option<&ShiftKey>,
) -> Option<String> {
    let holds = |who: &StaffId, k: &ShiftKey| rota.iter().any(|a| &a.staff == who && &a.shift == k);
    if !holds(me, give) {
        return Some(format!(
            "{me} は {give} の当番ではありません / {me} is not on {give}"
        ));
    }
    if holds(to, give) {
        return Some(format!(
            "{to} はすでに {give} の当番です / {to} is already on {give}"
        ));
    }
    if let Some(t) = take {
        if !holds(to, t) {
            return Some(format!(
                "{to} は {t} の当番ではありません / {to} is not on {t}"
            ));
        }
        if holds(me, t) {
            return Some(format!(
                "{me} はすでに {t} の当番です / {me} is already on {t}"
            ));
        }
    }
    let sub = around(inst.net, rota, &[me, to]);
    let before = violations(inst, &sub, h, me, to);
    let after = violations(inst, &exchanged(&sub, me, give, to, take), h, me, to);
    let new = added(&before, &after);
    (!new.is_empty()).then(|| new.join("; "))
}

/// Who `me`'s duty `give` can go to: swaps that keep every hard rule for
/// both, and colleagues who could take it outright. Only a published duty
/// that has not started can be handed on.
pub async fn partners(
    store: &dyn Store,
    region: &RegionId,
    me: &StaffId,
    give: &ShiftKey,
) -> Result<Partners, AppError> {
    let month = Month::of(give.date);
    let m = month_of(store, region, month).await?;
    let person = m
        .net
        .staff_member(me)
        .ok_or_else(|| AppError::NotFound(format!("staff member \"{me}\"")))?;
    let inst = Instance::for_profession(&m.net, month, person.profession);
    let asg = &m.rota.assignments;
    let Some(&gi) = inst.shift_index.get(give) else {
        return Err(AppError::invalid(
            "/give",
            format!("{give} is not a shift of {month}"),
        ));
    };
    if !asg.iter().any(|a| &a.staff == me && &a.shift == give) {
        return Err(AppError::invalid(
            "/give",
            format!("{me} is not on {give} in the published rota"),
        ));
    }
    let now = Utc::now();
    if inst.shifts[gi].shift.start <= now {
        return Err(AppError::invalid(
            "/give",
            format!("{give} has begun: it can no longer be handed on"),
        ));
    }
    let Some(&mi) = inst.staff_index.get(me) else {
        return Err(AppError::NotFound(format!("staff member \"{me}\"")));
    };
    let mut by_person: HashMap<&StaffId, Vec<&Assignment>> = HashMap::new();
    for a in asg {
        by_person.entry(&a.staff).or_default().push(a);
    }
    let on_give: Vec<&StaffId> = asg
        .iter()
        .filter(|a| &a.shift == give)
        .map(|a| &a.staff)
        .collect();
    let (mut swaps, mut takers) = (Vec::new(), Vec::new());
    for &ci in &inst.candidates[gi] {
        let to = &inst.staff[ci].id;
        if to == me || on_give.contains(&to) {
            continue;
        }
        let sub = around(&m.net, asg, &[me, to]);
        let before = violations(&inst, &sub, &m.history, me, to);
        let fine = |take: Option<&ShiftKey>| {
            added(
                &before,
                &violations(
                    &inst,
                    &exchanged(&sub, me, give, to, take),
                    &m.history,
                    me,
                    to,
                ),
            )
            .is_empty()
        };
        if fine(None) {
            takers.push(Partner {
                colleague: to.clone(),
                take: None,
            });
        }
        let mut theirs: Vec<&&Assignment> = by_person
            .get(to)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        theirs.sort_by_key(|a| {
            (
                a.shift.date,
                a.shift.service.clone(),
                a.shift.template.clone(),
            )
        });
        for a in theirs {
            let Some(&ti) = inst.shift_index.get(&a.shift) else {
                continue;
            };
            let t = &inst.shifts[ti];
            if t.shift.start <= now
                || a.shift == *give
                || !inst.candidates[ti].contains(&mi)
                || asg.iter().any(|b| &b.staff == me && b.shift == a.shift)
            {
                continue;
            }
            if fine(Some(&a.shift)) {
                swaps.push(Partner {
                    colleague: to.clone(),
                    take: Some(a.shift.clone()),
                });
            }
        }
    }
    swaps.sort_by_key(|p| p.take.as_ref().map(|t| t.date));
    Ok(Partners {
        month,
        version: m.rota.version,
        swaps,
        takers,
    })
}

/// A swap (or, without `take`, a give-away) as a person proposes it.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub me: &'a StaffId,
    pub give: &'a ShiftKey,
    pub to: &'a StaffId,
    pub take: Option<&'a ShiftKey>,
    pub note: Option<String>,
}

/// Proposes a swap or give-away that [`partners`] lists; the colleague is
/// e-mailed from the outbox.
pub async fn propose(
    store: &dyn Store,
    region: &RegionId,
    p: Proposal<'_>,
    actor: &str,
) -> Result<Swap, AppError> {
    let Proposal {
        me,
        give,
        to,
        take,
        note,
    } = p;
    let p = partners(store, region, me, give).await?;
    let wanted = Partner {
        colleague: to.clone(),
        take: take.cloned(),
    };
    let listed = if take.is_some() { &p.swaps } else { &p.takers };
    if !listed.contains(&wanted) {
        return Err(AppError::invalid(
            "/to",
            "この交代はどちらかの規則に反するか、もうできません / this swap would break a rule for one of you, or is no longer possible",
        ));
    }
    if let Some(n) = &note
        && n.chars().count() > 500
    {
        return Err(AppError::invalid(
            "/note",
            "500文字までにしてください / at most 500 characters",
        ));
    }
    Ok(store
        .create_swap(
            &NewSwap {
                region: region.clone(),
                month: p.month,
                from_staff: me.clone(),
                give: give.clone(),
                to_staff: to.clone(),
                take: take.cloned(),
                base_version: p.version,
                note: note.filter(|n| !n.trim().is_empty()),
            },
            actor,
        )
        .await?)
}

/// Why a proposal can no longer be applied to the month as published now,
/// or `None` when it still can.
async fn stale(store: &dyn Store, s: &Swap) -> Result<Option<String>, AppError> {
    let m = month_of(store, &s.region, s.month).await?;
    let Some(person) = m.net.staff_member(&s.from_staff) else {
        return Ok(Some(
            "申し込んだ方がもうネットワークにいません / the proposer has left the network".into(),
        ));
    };
    let inst = Instance::for_profession(&m.net, s.month, person.profession);
    Ok(refusal(
        &inst,
        &m.rota.assignments,
        &m.history,
        &s.from_staff,
        &s.give,
        &s.to_staff,
        s.take.as_ref(),
    )
    .map(|why| {
        format!("当番が変わったため取り下げました（{why}） / withdrawn: the duties changed ({why})")
    }))
}

async fn settle(
    store: &dyn Store,
    s: &Swap,
    to: SwapStatus,
    reason: Option<String>,
    version: Option<u32>,
    actor: &str,
) -> Result<Swap, AppError> {
    store
        .settle_swap(
            s.id,
            &SwapMove {
                from: s.status,
                to,
                reason,
                result_version: version,
            },
            actor,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::invalid("/swap", m),
            e => AppError::Store(e),
        })
}

/// The colleague's answer. An acceptance of duties that changed meanwhile
/// withdraws the proposal (and says why); otherwise it waits for a
/// coordinator, or is applied at once when the region's policy approves
/// swaps the checker finds nothing against.
pub async fn answer(
    store: &dyn Store,
    id: i64,
    by: &StaffId,
    accept: bool,
    actor: &str,
) -> Result<Swap, AppError> {
    let s = store.swap(id).await?;
    if &s.to_staff != by {
        return Err(AppError::NotFound(format!("swap {id}")));
    }
    if s.status != SwapStatus::Proposed {
        return Ok(s);
    }
    if !accept {
        return settle(store, &s, SwapStatus::Declined, None, None, actor).await;
    }
    if let Some(why) = stale(store, &s).await? {
        return settle(store, &s, SwapStatus::Withdrawn, Some(why), None, actor).await;
    }
    let s = settle(store, &s, SwapStatus::Accepted, None, None, actor).await?;
    let net = store.load_network(&s.region).await?;
    if net.policy.auto_approve_swaps {
        return approve(store, s.id, "policy:auto_approve_swaps").await;
    }
    Ok(s)
}

/// A coordinator approves an accepted swap: it becomes a new version of
/// the month, based on the published one, and is published (change notices
/// with calendar files to both). Duties changed meanwhile withdraw it.
pub async fn approve(store: &dyn Store, id: i64, actor: &str) -> Result<Swap, AppError> {
    let s = store.swap(id).await?;
    if s.status != SwapStatus::Accepted {
        return Err(AppError::invalid(
            "/swap",
            format!("swap {id} is {}, not accepted", s.status.as_str()),
        ));
    }
    if let Some(why) = stale(store, &s).await? {
        return settle(store, &s, SwapStatus::Withdrawn, Some(why), None, actor).await;
    }
    // Approved first (so nobody approves twice), then applied. Another
    // publish of the month in between (a second swap approved at the same
    // moment, on this instance or another) makes ours stale: it is checked
    // again against the new published version and applied on top of it.
    let s = settle(store, &s, SwapStatus::Approved, None, None, actor).await?;
    let mut last = String::new();
    for _ in 0..3 {
        match apply(store, &s, actor).await {
            Ok(v) => return settle(store, &s, SwapStatus::Approved, None, Some(v), actor).await,
            Err(Applied::Raced(e)) => {
                last = e;
                if let Some(why) = stale(store, &s).await? {
                    return settle(store, &s, SwapStatus::Withdrawn, Some(why), None, actor).await;
                }
            }
            Err(Applied::Failed(e)) => {
                last = e;
                break;
            }
        }
    }
    let why = format!("適用できませんでした（{last}） / could not be applied ({last})");
    settle(store, &s, SwapStatus::Withdrawn, Some(why), None, actor).await
}

/// Why applying a swap failed: a publish of the month came first (worth
/// another try), or anything else.
enum Applied {
    Raced(String),
    Failed(String),
}

impl From<StoreError> for Applied {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale(m) | StoreError::Conflict(m) => Self::Raced(m),
            e => Self::Failed(e.to_string()),
        }
    }
}

async fn apply(store: &dyn Store, s: &Swap, actor: &str) -> Result<u32, Applied> {
    let base = store
        .published_rota(&s.region, s.month)
        .await?
        .ok_or_else(|| Applied::Failed("no published rota".into()))?;
    let assignments = exchanged(
        &base.assignments,
        &s.from_staff,
        &s.give,
        &s.to_staff,
        s.take.as_ref(),
    );
    let what = if s.take.is_some() { "交代" } else { "譲渡" };
    let saved = store
        .save_rota(&NewRota {
            region: s.region.clone(),
            month: s.month,
            created_by: actor.to_string(),
            note: Some(format!(
                "{what} #{}: {} ⇄ {}",
                s.id, s.from_staff, s.to_staff
            )),
            based_on: Some(base.version),
            assignments,
            overridden: Vec::new(),
        })
        .await?;
    crate::ops::publish(store, &s.region, s.month, saved.version, actor, None)
        .await
        .map_err(|e| match e {
            crate::ops::PublishError::Store(e) => Applied::from(e),
            crate::ops::PublishError::Violations(v) => Applied::Failed(
                v.iter()
                    .map(|x| x.bilingual())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        })?;
    Ok(saved.version)
}

/// A coordinator refuses a proposal (open, proposed or accepted).
pub async fn refuse(
    store: &dyn Store,
    id: i64,
    reason: &str,
    actor: &str,
) -> Result<Swap, AppError> {
    let s = store.swap(id).await?;
    if !s.status.is_open() {
        return Err(AppError::invalid(
            "/swap",
            format!("swap {id} is {}", s.status.as_str()),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "/reason",
            "理由を書いてください / give a reason",
        ));
    }
    settle(
        store,
        &s,
        SwapStatus::Refused,
        Some(reason.to_string()),
        None,
        actor,
    )
    .await
}

/// The proposer withdraws their own open proposal.
pub async fn withdraw(
    store: &dyn Store,
    id: i64,
    by: &StaffId,
    actor: &str,
) -> Result<Swap, AppError> {
    let s = store.swap(id).await?;
    if &s.from_staff != by {
        return Err(AppError::NotFound(format!("swap {id}")));
    }
    if !s.status.is_open() {
        return Ok(s);
    }
    settle(store, &s, SwapStatus::Withdrawn, None, None, actor).await
}
