//! Reporting an absence: stored, then every month whose rota has the person
//! on duty during it is repaired with the fewest changes, published at once
//! if the network's policy says so, else left as a draft and the
//! coordinators told at once. The API, the web app and (later) clinics'
//! and staff's own reports all go through here.

use chrono::{DateTime, FixedOffset};
use touban_domain::{Absence, RegionId, StaffId};
use touban_store::Store;

use crate::AppError;
use crate::jobs::Jobs;
use crate::ops::{self, Repaired};

/// What reporting an absence did.
#[derive(Debug)]
pub struct Reported {
    /// The stored absence's id.
    pub id: i64,
    /// The months repaired, in order.
    pub repairs: Vec<Repaired>,
}

/// Stores `absence` and repairs the months it touches (see the module).
pub async fn report(
    store: &dyn Store,
    jobs: &Jobs,
    region: &RegionId,
    absence: &Absence,
    actor: &str,
) -> Result<Reported, AppError> {
    let id = store.add_absence(region, absence, actor).await?;
    jobs.changed(region);
    let repairs = repair_for(
        store,
        jobs,
        region,
        &absence.staff,
        (absence.start, absence.end),
        Why::Absent,
        actor,
    )
    .await?;
    jobs.changed(region);
    Ok(Reported { id, repairs })
}

/// Repairs every month whose rota has `staff` on duty during `when` (they
/// became unavailable then: absent, or retired), under each month's repair
/// lock; a repair the policy does not publish waits as a draft and the
/// coordinators are told at once.
/// Why a person is no longer available (what the coordinators are told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Absent,
    Retired,
}

pub async fn repair_for(
    store: &dyn Store,
    jobs: &Jobs,
    region: &RegionId,
    staff: &StaffId,
    (start, end): (DateTime<FixedOffset>, DateTime<FixedOffset>),
    why: Why,
    actor: &str,
) -> Result<Vec<Repaired>, AppError> {
    let net = store.load_network(region).await?;
    let mut repairs = Vec::new();
    for month in ops::months_touched(&net, start, end)? {
        // Under the month's lock, the base is read after any repair that
        // was running finished, so it keeps that repair's changes.
        let lock = jobs.repair_lock(region, month);
        let _serial = lock.lock().await;
        let mut attempt = 0;
        let r = loop {
            let Some(previous) = ops::repair_base(store, region, month).await? else {
                break None;
            };
            if !ops::on_duty_during(&net, &previous, staff, start, end) {
                break None;
            }
            let _permit = jobs
                .solver
                .acquire()
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            match ops::repair_month(
                store,
                region,
                month,
                previous,
                touban_solver::SolveOptions {
                    time_limit: 30.0,
                    ..Default::default()
                },
                actor,
                net.policy.auto_publish_repairs,
            )
            .await
            {
                // Another server saved a version of the month meanwhile
                // (its own repair, say): repair again from the new base.
                Err(e)
                    if attempt < 3
                        && matches!(
                            e.downcast_ref::<touban_store::StoreError>(),
                            Some(touban_store::StoreError::Stale(_))
                        ) =>
                {
                    attempt += 1;
                    tracing::info!(
                        "repair of {region} {month}: a version came meanwhile; again ({e})"
                    );
                }
                Err(e) => return Err(AppError::Internal(format!("{e:#}"))),
                Ok(r) => break Some(r),
            }
        };
        let Some(r) = r else {
            continue;
        };
        if !r.published {
            // The coordinators hear at once (not in the daily digest) that a
            // repair waits; on-call answers give its replacements meanwhile.
            let msg = touban_store::outbox::repair_pending_message(
                region,
                &touban_store::outbox::RepairPayload {
                    month,
                    from: r.from.version,
                    to: r.to.version,
                    absent: staff.clone(),
                    start,
                    end,
                    changes: r.changes.len(),
                    unfilled: r.unfilled.len(),
                    retired: why == Why::Retired,
                },
                chrono::Utc::now(),
            );
            store.enqueue(&[msg]).await?;
        }
        repairs.push(r);
    }
    Ok(repairs)
}
