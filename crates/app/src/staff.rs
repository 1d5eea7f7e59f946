//! Changes to a person that are not an absence: retiring them (退職・異動).
//! A retired person stays in the network, so past rotas still name them;
//! from the date on they are no candidate for any duty or cover, and the
//! months where they are already on duty from then on are repaired.

use chrono::{NaiveDate, TimeZone};
use touban_domain::{Network, RegionId, StaffId};
use touban_store::{AbsenceSource, Store, StoreError};

use crate::AppError;
use crate::jobs::Jobs;
use crate::ops::Repaired;

/// The network as stored, with only the absences of the file (reported ones
/// are kept apart by the store and stay through an import): what an edit of
/// the network file starts from.
pub async fn file_network(store: &dyn Store, region: &RegionId) -> Result<Network, StoreError> {
    let mut net = store.load_network(region).await?;
    net.absences = store
        .absences(region)
        .await?
        .into_iter()
        .filter(|a| a.source == AbsenceSource::File)
        .map(|a| a.absence)
        .collect();
    net.requests = store
        .requests(region)
        .await?
        .into_iter()
        .filter(|r| r.source == AbsenceSource::File)
        .map(|r| r.request)
        .collect();
    Ok(net)
}

/// Retires `staff` from `from` on (or, with `None`, takes them back), in
/// one import of the network, then repairs the months where they are on
/// duty on or after `from`. Returns the repairs.
pub async fn retire(
    store: &dyn Store,
    jobs: &Jobs,
    region: &RegionId,
    staff: &StaffId,
    from: Option<NaiveDate>,
    actor: &str,
) -> Result<Vec<Repaired>, AppError> {
    let mut net = file_network(store, region).await?;
    let Some(person) = net.staff.iter_mut().find(|p| &p.id == staff) else {
        return Err(AppError::NotFound(format!("staff member \"{staff}\"")));
    };
    person.retired_from = from;
    store.import_network(&net, actor).await?;
    jobs.changed(region);
    let Some(from) = from else {
        return Ok(Vec::new());
    };
    // From the first retired day to the end of the last month with a rota.
    let Some(last) = store.rota_months(region).await?.into_iter().max() else {
        return Ok(Vec::new());
    };
    let tz = net.region.time_zone;
    let midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.fixed_offset())
    };
    let end_day = last.next().first_day();
    let (Some(start), Some(end)) = (midnight(from), midnight(end_day)) else {
        return Err(AppError::invalid(
            "/from",
            format!("{from}: no such day here"),
        ));
    };
    if end <= start {
        return Ok(Vec::new());
    }
    let repairs = crate::absences::repair_for(
        store,
        jobs,
        region,
        staff,
        (start, end),
        crate::absences::Why::Retired,
        actor,
    )
    .await?;
    jobs.changed(region);
    Ok(repairs)
}
