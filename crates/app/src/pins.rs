//! Pinned duties (固定): a coordinator fixes who takes a shift, and generate
//! and repair keep it. Pins live in the network (`[[pinned]]` of the file),
//! so setting one is one import of the network: it is audited like any
//! other change of the network and written back in the downloaded file.

use touban_domain::{Network, Pin, RegionId, ShiftKey, StaffId};
use touban_store::{Store, StoreError};

/// Pins (`pinned = true`) or unpins `staff` on `shift`. Returns whether
/// anything changed. The person must be a staff member of the region and
/// the shift a shift of its services.
pub async fn set(
    store: &dyn Store,
    region: &RegionId,
    staff: &StaffId,
    shift: &ShiftKey,
    pinned: bool,
    actor: &str,
) -> Result<bool, StoreError> {
    let mut net: Network = crate::staff::file_network(store, region).await?;
    if net.staff_member(staff).is_none() {
        return Err(StoreError::NotFound(format!("staff member \"{staff}\"")));
    }
    if net
        .service(&shift.service)
        .and_then(|s| s.template(&shift.template))
        .is_none()
    {
        return Err(StoreError::NotFound(format!("shift {shift}")));
    }
    let at = net
        .pinned
        .iter()
        .position(|p| &p.staff == staff && &p.shift == shift);
    match (pinned, at) {
        (true, None) => net.pinned.push(Pin {
            staff: staff.clone(),
            shift: shift.clone(),
            note: Some(format!("{actor} が固定")),
        }),
        (false, Some(i)) => {
            net.pinned.remove(i);
        }
        _ => return Ok(false),
    }
    store.import_network(&net, actor).await?;
    Ok(true)
}
