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
    let history = History::from_rotas(&net, month, &earlier);
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

/// Months whose current rota has `staff` on a shift overlapping the interval.
pub async fn affected_months(
    store: &dyn Store,
    net: &Network,
    staff: &StaffId,
    start: chrono::DateTime<chrono::FixedOffset>,
    end: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Vec<(Month, Rota)>, StoreError> {
    let tz = net.region.time_zone;
    let first = start.with_timezone(&tz).date_naive();
    let last = end.with_timezone(&tz).date_naive();
    // A night shift that started the day before can reach into the interval.
    let mut m = Month::new(
        chrono::Datelike::year(&first.pred_opt().unwrap_or(first)),
        chrono::Datelike::month(&first.pred_opt().unwrap_or(first)),
    )
    .map_err(|e| StoreError::Invalid(e.0))?;
    let stop = Month::new(
        chrono::Datelike::year(&last),
        chrono::Datelike::month(&last),
    )
    .map_err(|e| StoreError::Invalid(e.0))?;
    let mut out = Vec::new();
    while m <= stop {
        if let Some(rota) = current(store, &net.region.id, m).await? {
            let inst = Instance::new(net, m);
            let hit = rota.assignments.iter().any(|a| {
                &a.staff == staff
                    && inst
                        .shift_index
                        .get(&a.shift)
                        .map(|&i| &inst.shifts[i].shift)
                        .is_some_and(|s| s.start < end && start < s.end)
            });
            if hit {
                out.push((m, rota));
            }
        }
        m = m.next();
    }
    Ok(out)
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
    let (net, mut history) = context(store, region, month).await?;
    history.previous = Some(previous.assignments.clone());
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
    let saved = store
        .save_rota(&NewRota {
            region: region.clone(),
            month,
            created_by: actor.to_string(),
            note: Some(format!("repair of version {}", previous.version)),
            based_on: Some(previous.version),
            assignments: out.assignments,
        })
        .await?;
    let out_elapsed = out.elapsed;
    let saved = if publish {
        store
            .publish_rota(region, month, saved.version, actor)
            .await?
    } else {
        saved
    };
    let changes = shift_changes(&previous, &saved);
    Ok(Repaired {
        elapsed: out_elapsed,
        month,
        from: previous,
        to: saved,
        published: publish,
        changes,
        unfilled,
    })
}
