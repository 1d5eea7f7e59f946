//! A coordinator's manual edit of a rota version: the changes applied with
//! one primary per shift, checked by the independent checker (only the
//! violations the edit adds count), refused unless overridden with a
//! reason, saved as a new version after the one edited. The API and the
//! CLI (`touban edit`) call this.

use std::collections::BTreeSet;

use touban_domain::{
    Assignment, Month, NewRota, RegionId, Role, Rota, ServiceId, ShiftKey, StaffId, TemplateId,
};
use touban_solver::Instance;
use touban_solver::check::{Violation, check};
use touban_store::{Store, StoreError};

/// One change to one shift, as a coordinator asks for it (the API's
/// `EditDto`, the web app's form, `touban edit`'s flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub service: String,
    pub template: String,
    pub date: chrono::NaiveDate,
    /// Take this person off the shift.
    pub remove: Option<String>,
    /// Put this person on the shift.
    pub add: Option<String>,
    /// Role of the person added (`primary` or `backup`).
    pub role: Option<String>,
}

/// Why an edit was not saved.
#[derive(Debug)]
pub enum EditError {
    /// A change names something that is not there; `field` is a JSON
    /// pointer into the request (`/changes/0/add`).
    Invalid {
        field: String,
        detail: String,
    },
    /// The hard rules the edit breaks, with no override reason given.
    Violations(Vec<Violation>),
    /// A newer version was saved since the one edited.
    Stale(String),
    Store(StoreError),
}

impl From<StoreError> for EditError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<touban_domain::ParseError> for EditError {
    fn from(e: touban_domain::ParseError) -> Self {
        Self::Store(StoreError::Backend(e.message))
    }
}

/// Applies `changes` to `rota` and saves the result as the next version.
/// Returns the new version and the violations accepted by the override.
pub async fn apply(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    rota: &Rota,
    changes: &[Change],
    override_reason: Option<&str>,
    actor: &str,
) -> Result<(Rota, Vec<Violation>), EditError> {
    let version = rota.version;
    let (net, history) = crate::ops::context(store, region, month).await?;
    let inst = Instance::new(&net, month);
    let mut assignments = rota.assignments.clone();
    let mut touched = BTreeSet::new();
    for (i, c) in changes.iter().enumerate() {
        let at = |f: &str| format!("/changes/{i}/{f}");
        let invalid = |f: &str, d: String| EditError::Invalid {
            field: at(f),
            detail: d,
        };
        let key = ShiftKey {
            service: ServiceId::parse(&c.service).map_err(|e| invalid("service", e.message))?,
            template: TemplateId::parse(&c.template).map_err(|e| invalid("template", e.message))?,
            date: c.date,
        };
        if !inst.shift_index.contains_key(&key) {
            return Err(invalid(
                "date",
                format!("there is no shift {key} in {month}"),
            ));
        }
        if c.remove.is_none() && c.add.is_none() {
            return Err(invalid("add", "give `add`, `remove` or both".into()));
        }
        touched.insert(key.clone());
        let role = c
            .role
            .as_deref()
            .map(|r| Role::parse(r).map_err(|e| invalid("role", e.message)))
            .transpose()?;
        let mut removed_role = None;
        if let Some(r) = &c.remove {
            let who = StaffId::parse(r).map_err(|e| invalid("remove", e.message))?;
            let Some(pos) = assignments
                .iter()
                .position(|a| a.shift == key && a.staff == who)
            else {
                return Err(invalid("remove", format!("\"{who}\" is not on {key}")));
            };
            removed_role = Some(assignments.remove(pos).role);
        }
        if let Some(a) = &c.add {
            let who = StaffId::parse(a).map_err(|e| invalid("add", e.message))?;
            if net.staff_member(&who).is_none() {
                return Err(invalid("add", format!("no staff member \"{who}\"")));
            }
            let on_shift = assignments
                .iter()
                .position(|x| x.shift == key && x.staff == who);
            // Someone already on the shift: the change sets their role.
            if let Some(pos) = on_shift {
                match role {
                    Some(r) if r != assignments[pos].role => assignments[pos].role = r,
                    _ => {
                        return Err(invalid("add", format!("\"{who}\" is already on {key}")));
                    }
                }
            } else {
                // The role: as given; else the role of the person replaced;
                // else primary if the shift has none, backup if it has.
                let has_primary = assignments
                    .iter()
                    .any(|x| x.shift == key && x.role == Role::Primary);
                let role = role.or(removed_role).unwrap_or(if has_primary {
                    Role::Backup
                } else {
                    Role::Primary
                });
                assignments.push(Assignment {
                    shift: key.clone(),
                    staff: who.clone(),
                    role,
                });
            }
            // One primary per shift: a new primary makes the old one backup.
            let now_primary = assignments
                .iter()
                .any(|x| x.shift == key && x.staff == who && x.role == Role::Primary);
            if now_primary {
                for x in assignments.iter_mut() {
                    if x.shift == key && x.staff != who && x.role == Role::Primary {
                        x.role = Role::Backup;
                    }
                }
            }
        }
    }
    // A shift left with backups only gets its first backup as primary.
    for k in touched {
        if !assignments
            .iter()
            .any(|a| a.shift == k && a.role == Role::Primary)
            && let Some(first) = assignments.iter_mut().find(|a| a.shift == k)
        {
            first.role = Role::Primary;
        }
    }
    // Only violations the edit adds count: the version may already have
    // unfilled shifts that no edit here caused.
    let before: BTreeSet<String> = check(&inst, &rota.assignments, &history)
        .violations
        .iter()
        .map(ToString::to_string)
        .collect();
    let added: Vec<_> = check(&inst, &assignments, &history)
        .violations
        .into_iter()
        .filter(|v| !before.contains(&v.to_string()))
        .collect();
    if !added.is_empty() && override_reason.is_none() {
        return Err(EditError::Violations(added));
    }
    let note = match override_reason {
        Some(r) if !added.is_empty() => format!(
            "manual edit of version {version}, overriding {} violation(s): {r}",
            added.len()
        ),
        Some(r) => format!("manual edit of version {version}: {r}"),
        None => format!("manual edit of version {version}"),
    };
    let latest = store
        .rota_versions(region, month)
        .await?
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(0);
    if latest != version {
        return Err(EditError::Stale(format!(
            "version {version} is not the latest ({latest} is): someone saved a newer version since you read it; reload it and make your change there"
        )));
    }
    let saved = store
        .save_rota_after(
            &NewRota {
                region: region.clone(),
                month,
                created_by: actor.to_string(),
                note: Some(note),
                based_on: Some(version),
                assignments,
                overridden: added.iter().map(ToString::to_string).collect(),
            },
            version,
        )
        .await?;
    Ok((saved, added))
}
