//! What the CLI and the API both do with a store and the solver: find the
//! current rota, gather the history a month needs, generate, repair, diff.

use std::collections::{BTreeMap, BTreeSet};

use touban_domain::{Month, Network, NewRota, RegionId, Rota, ShiftKey, StaffId};
use touban_solver::{History, Instance, Outcome, SolveOptions, explain};
use touban_store::{Store, StoreError};

/// Published version if there is one, else the latest; None if no rota.
pub async fn current(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
) -> Result<Option<Rota>, StoreError> {
    if let Some(r) = store.published_rota(region, month).await? {
        return Ok(Some(r));
    }
    match store.rota(region, month, None).await {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The network and what the twelve months before `month` leave behind.
pub async fn context(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
) -> Result<(Network, History), StoreError> {
    let net = store.load_network(region).await?;
    let mut earlier = Vec::new();
    let mut m = month;
    for _ in 0..12 {
        m = m.prev();
        if let Some(r) = current(store, region, m).await? {
            earlier.push(r);
        }
    }
    let mut history = History::from_rotas(&net, month, &earlier);
    // Accepted cover is a duty for every rule: it binds the month's rota
    // (overlap, rest, days off) and counts toward the caps.
    let tz = net.region.time_zone;
    let edge = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.fixed_offset())
    };
    if let (Some(from), Some(to)) = (
        edge(month.first_day() - chrono::Duration::days(2)),
        edge(month.next().first_day() + chrono::Duration::days(2)),
    ) {
        for (_, d) in crate::cover::accepted_covers(store, &net, from, to).await? {
            let local = d.start.with_timezone(&tz).date_naive();
            if month.contains(local) && d.counts {
                *history.extra_hours.entry(d.staff.clone()).or_default() +=
                    (d.end - d.start).num_minutes() as f64 / 60.0;
            }
            history.before.push(d);
        }
    }
    Ok((net, history))
}

/// One shift whose people differ between two versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShiftChange {
    pub shift: ShiftKey,
    pub before: BTreeSet<StaffId>,
    pub after: BTreeSet<StaffId>,
}

/// Shift by shift, who was on it before and after; unchanged shifts left out.
pub fn shift_changes(old: &Rota, new: &Rota) -> Vec<ShiftChange> {
    let mut by: BTreeMap<&ShiftKey, (BTreeSet<StaffId>, BTreeSet<StaffId>)> = BTreeMap::new();
    for a in &old.assignments {
        by.entry(&a.shift).or_default().0.insert(a.staff.clone());
    }
    for a in &new.assignments {
        by.entry(&a.shift).or_default().1.insert(a.staff.clone());
    }
    by.into_iter()
        .filter(|(_, (o, n))| o != n)
        .map(|(k, (before, after))| ShiftChange {
            shift: k.clone(),
            before,
            after,
        })
        .collect()
}

/// What a repair after an absence did to one month.
#[derive(Debug, Clone)]
pub struct Repaired {
    pub month: Month,
    pub from: Rota,
    pub to: Rota,
    pub published: bool,
    pub changes: Vec<ShiftChange>,
    pub unfilled: Vec<String>,
    pub elapsed: std::time::Duration,
}

/// The months an interval touches, with the month before its start (a
/// night shift that started the day before can reach into it).
pub fn months_touched(
    net: &Network,
    start: chrono::DateTime<chrono::FixedOffset>,
    end: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Vec<Month>, StoreError> {
    let tz = net.region.time_zone;
    let first = start.with_timezone(&tz).date_naive();
    let first = first.pred_opt().unwrap_or(first);
    let last = end.with_timezone(&tz).date_naive();
    let month_of = |d: chrono::NaiveDate| {
        Month::new(chrono::Datelike::year(&d), chrono::Datelike::month(&d))
            .map_err(|e| StoreError::Invalid(e.message))
    };
    let (mut m, stop) = (month_of(first)?, month_of(last)?);
    let mut out = Vec::new();
    while m <= stop {
        out.push(m);
        m = m.next();
    }
    Ok(out)
}

/// Whether `rota` has `staff` on a shift overlapping the interval.
pub fn on_duty_during(
    net: &Network,
    rota: &Rota,
    staff: &StaffId,
    start: chrono::DateTime<chrono::FixedOffset>,
    end: chrono::DateTime<chrono::FixedOffset>,
) -> bool {
    let inst = Instance::new(net, rota.month);
    rota.assignments.iter().any(|a| {
        &a.staff == staff
            && inst
                .shift_index
                .get(&a.shift)
                .map(|&i| &inst.shifts[i].shift)
                .is_some_and(|s| s.start < end && start < s.end)
    })
}

/// The version a repair of the month builds on: the newest version derived
/// from the published one (a repair still waiting for the coordinator, a
/// hand edit in progress), so that repairs made one after another each keep
/// what the one before did; the latest version if nothing is published.
pub async fn repair_base(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
) -> Result<Option<Rota>, StoreError> {
    let versions = store.rota_versions(region, month).await?;
    let Some(published) = versions
        .iter()
        .find(|v| v.status == touban_domain::RotaStatus::Published)
        .map(|v| v.version)
    else {
        return match versions.last() {
            Some(v) => store.rota(region, month, Some(v.version)).await.map(Some),
            None => Ok(None),
        };
    };
    let parent: BTreeMap<u32, Option<u32>> =
        versions.iter().map(|v| (v.version, v.based_on)).collect();
    let derived = |mut v: u32| loop {
        if v == published {
            return true;
        }
        match parent.get(&v) {
            Some(Some(p)) if *p < v => v = *p,
            _ => return false,
        }
    };
    let base = versions
        .iter()
        .rev()
        .map(|v| v.version)
        .find(|&v| derived(v))
        .unwrap_or(published);
    store.rota(region, month, Some(base)).await.map(Some)
}

/// Repairs one month's rota after the network changed (an absence): a new
/// version with the fewest changes, published at once if `publish`.
pub async fn repair_month(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    previous: Rota,
    opts: SolveOptions,
    actor: &str,
    publish: bool,
) -> anyhow::Result<Repaired> {
    // The newest version before solving: the repair is saved only if no
    // version came meanwhile. Repairs of one month are serialised within a
    // server (the repair lock), but another server on the same database
    // does not see that lock; its repair then makes this save Stale rather
    // than being built over, and the caller repairs again from the new base.
    let latest = store
        .rota_versions(region, month)
        .await?
        .iter()
        .map(|v| v.version)
        .max();
    let (net, mut history) = context(store, region, month).await?;
    history.previous = Some(previous.assignments.clone());
    // Shifts already under way are not rewritten (issue 13, item 8).
    history.frozen_before = Some(chrono::Utc::now().fixed_offset());
    let (out, unfilled) = tokio::task::spawn_blocking(move || {
        let inst = Instance::new(&net, month);
        let out = touban_solver::repair(&inst, &history, &opts)?;
        let unfilled: Vec<String> = explain(&inst, &out.assignments, &history)
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok::<(Outcome, Vec<String>), anyhow::Error>((out, unfilled))
    })
    .await??;
    let new = NewRota {
        region: region.clone(),
        month,
        created_by: actor.to_string(),
        note: Some(format!("repair of version {}", previous.version)),
        based_on: Some(previous.version),
        assignments: out.assignments,
        overridden: Vec::new(),
    };
    let saved = match latest {
        Some(l) => store.save_rota_after(&new, l).await?,
        None => store.save_rota(&new).await?,
    };
    let out_elapsed = out.elapsed;
    // Published at once only when the policy says so and the repair keeps
    // every hard rule; otherwise it waits for a coordinator.
    let (saved, published) = if publish {
        match self::publish(store, region, month, saved.version, actor, None).await {
            Ok(p) => (p, true),
            Err(PublishError::Violations(_)) => (saved, false),
            Err(PublishError::Store(e)) => return Err(e.into()),
        }
    } else {
        (saved, false)
    };
    let changes = shift_changes(&previous, &saved);
    Ok(Repaired {
        elapsed: out_elapsed,
        month,
        from: previous,
        to: saved,
        published,
        changes,
        unfilled,
    })
}

/// Why a publish was refused.
#[derive(Debug)]
pub enum PublishError {
    Store(StoreError),
    /// The version breaks hard rules that nobody accepted on record.
    Violations(Vec<touban_solver::check::Violation>),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The versions `version` was derived from, itself first.
pub async fn lineage(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: u32,
) -> Result<Vec<u32>, StoreError> {
    let parent: BTreeMap<u32, Option<u32>> = store
        .rota_versions(region, month)
        .await?
        .iter()
        .map(|v| (v.version, v.based_on))
        .collect();
    let mut out = vec![version];
    while let Some(Some(p)) = parent.get(out.last().expect("not empty")) {
        if out.contains(p) {
            break;
        }
        out.push(*p);
    }
    Ok(out)
}

/// Hard-rule violations of a stored version, against the network as it is
/// now (absences reported since included), less those accepted on record
/// for it or for a version it was derived from.
pub async fn unaccepted_violations(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    rota: &Rota,
) -> Result<Vec<touban_solver::check::Violation>, StoreError> {
    let (net, history) = context(store, region, month).await?;
    let inst = Instance::new(&net, month);
    let report = touban_solver::check(&inst, &rota.assignments, &history);
    if report.violations.is_empty() {
        return Ok(Vec::new());
    }
    let line = lineage(store, region, month, rota.version).await?;
    let accepted: BTreeSet<String> = store
        .rota_history(region, month)
        .await?
        .into_iter()
        .filter(|c| c.action == "override" && line.contains(&c.version))
        .map(|c| c.detail)
        .collect();
    Ok(report
        .violations
        .into_iter()
        .filter(|v| !accepted.contains(&v.to_string()))
        .collect())
}

/// Publishes a version after checking it: refused when it breaks a hard
/// rule not accepted on record (an absent person on duty above all) or when
/// it is not based on the month's published version, unless
/// `override_reason` is given; then the reason and the violations accepted
/// are kept in the rota history.
pub async fn publish(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: u32,
    actor: &str,
    override_reason: Option<&str>,
) -> Result<Rota, PublishError> {
    let rota = store.rota(region, month, Some(version)).await?;
    let violations = unaccepted_violations(store, region, month, &rota).await?;
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    if !violations.is_empty() && reason.is_none() {
        return Err(PublishError::Violations(violations));
    }
    let opts = touban_store::PublishOptions {
        replace_reason: reason.map(ToString::to_string),
        accepted_violations: violations.iter().map(ToString::to_string).collect(),
    };
    Ok(store
        .publish_rota_with(region, month, version, actor, &opts)
        .await?)
}
