//! The storage port's conformance suite. Each case takes a fresh, empty store
//! and checks one behaviour every adapter must share. An adapter runs the
//! whole suite with [`conformance_suite!`]:
//!
//! ```ignore
//! touban_store_conformance::conformance_suite!(fresh_store().await);
//! // where fresh_store() returns (impl Store, impl Drop-guard)
//! ```
#![forbid(unsafe_code)]

use chrono::NaiveDate;
use touban_domain::{
    Absence, AbsenceKind, Assignment, Month, Network, NewRota, RegionId, Role, RotaStatus,
    ServiceId, ShiftKey, StaffId, TemplateId,
};
use touban_store::{AbsenceSource, Store, StoreError};

mod copy;
mod outbox;
mod requests;
mod swaps;
mod web;
pub use copy::*;
pub use outbox::*;
pub use requests::*;
pub(crate) use requests::{cover_request, offers};
pub use swaps::*;
pub use web::*;

/// The demo network, parsed from the file the repository ships.
pub fn demo_network() -> Network {
    touban_netfile::parse(
        "southern-shimoina.toml",
        include_str!("../../../config/networks/southern-shimoina.toml"),
    )
    .unwrap_or_else(|p| panic!("demo network invalid:\n{p}"))
}

/// Asserts two networks are equal, naming the first path where they differ
/// instead of printing both whole.
#[track_caller]
pub fn assert_same_network(got: &Network, want: &Network) {
    fn first_diff(path: String, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let (va, vb) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    if let Some(d) = first_diff(format!("{path}.{k}"), va, vb) {
                        return Some(d);
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    if let Some(d) = first_diff(format!("{path}[{i}]"), va, vb) {
                        return Some(d);
                    }
                }
                (x.len() != y.len()).then(|| format!("{path}: {} items, want {}", x.len(), y.len()))
            }
            _ => (a != b).then(|| format!("{path}: got {a}, want {b}")),
        }
    }
    if got != want {
        let a = serde_json::to_value(got).unwrap();
        let b = serde_json::to_value(want).unwrap();
        panic!(
            "networks differ at {}",
            first_diff(String::new(), &a, &b).unwrap_or_else(|| "(float or order detail)".into())
        );
    }
}

pub(crate) fn jan() -> Month {
    Month::new(2027, 1).unwrap()
}

pub(crate) fn assignment(
    service: &str,
    template: &str,
    day: u32,
    staff: &str,
    role: Role,
) -> Assignment {
    Assignment {
        shift: ShiftKey {
            service: ServiceId::parse(service).unwrap(),
            template: TemplateId::parse(template).unwrap(),
            date: NaiveDate::from_ymd_opt(2027, 1, day).unwrap(),
        },
        staff: StaffId::parse(staff).unwrap(),
        role,
    }
}

pub(crate) fn small_rota(net: &Network, based_on: Option<u32>) -> NewRota {
    NewRota {
        region: net.region.id.clone(),
        month: jan(),
        created_by: "test".into(),
        note: None,
        based_on,
        assignments: vec![
            assignment("homecare-oncall", "night", 4, "yamada-kenji", Role::Primary),
            assignment("homecare-oncall", "night", 4, "tanaka-yui", Role::Backup),
            assignment("night-pharmacy", "night", 4, "saito-yoko", Role::Primary),
        ],
        overridden: Vec::new(),
    }
}

/// Import then load gives back the same network, in file order.
pub async fn import_round_trips(store: &dyn Store) {
    let net = demo_network();
    let report = store.import_network(&net, "test").await.unwrap();
    assert!(report.region_created && report.changed());
    let back = store.load_network(&net.region.id).await.unwrap();
    assert_same_network(&back, &net);
    let regions = store.regions().await.unwrap();
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0].id, net.region.id);
}

/// Importing the same network twice changes nothing the second time.
pub async fn reimport_is_idempotent(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let before = store.regions().await.unwrap();
    let second = store.import_network(&net, "test").await.unwrap();
    assert!(!second.changed(), "second import changed: {second}");
    assert!(
        second
            .kinds
            .iter()
            .all(|k| k.added + k.updated + k.removed == 0)
    );
    assert_eq!(store.regions().await.unwrap(), before, "updated_at moved");
    assert_same_network(&store.load_network(&net.region.id).await.unwrap(), &net);
}

/// A changed network updates, adds and removes exactly what changed.
pub async fn changed_import_applies_the_difference(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let mut changed = net.clone();
    changed.staff[0].name = "山田 健二（改）".into();
    let removed_request = changed.requests.remove(0);
    changed.absences.pop();
    let mut extra = changed.institutions[1].clone();
    extra.id = touban_domain::InstitutionId::parse("new-clinic").unwrap();
    changed.institutions.push(extra);
    let report = store.import_network(&changed, "test").await.unwrap();
    let kind = |k: &str| report.kinds.iter().find(|r| r.kind == k).unwrap().clone();
    assert_eq!(
        (
            kind("staff").updated,
            kind("staff").added,
            kind("staff").removed
        ),
        (1, 0, 0)
    );
    assert_eq!(kind("staff").unchanged, net.staff.len() - 1);
    assert_eq!(kind("institutions").added, 1);
    assert_eq!(kind("requests").removed, 1);
    assert_eq!(kind("absences").removed, 1);
    assert_eq!(kind("region").unchanged, 1);
    let back = store.load_network(&net.region.id).await.unwrap();
    assert_same_network(&back, &changed);
    assert!(!back.requests.contains(&removed_request));
}

/// Absences reported after import are kept by a re-import of the file.
pub async fn reported_absences_survive_reimport(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let a = Absence::new(
        StaffId::parse("suzuki-akiko").unwrap(),
        "2027-01-12T08:00:00+09:00".parse().unwrap(),
        "2027-01-13T08:00:00+09:00".parse().unwrap(),
        AbsenceKind::Sudden,
        Some("発熱".into()),
    )
    .unwrap();
    let id = store
        .add_absence(&net.region.id, &a, "clinic")
        .await
        .unwrap();
    assert!(id > 0);
    let report = store.import_network(&net, "test").await.unwrap();
    assert!(!report.changed(), "{report}");
    let stored = store.absences(&net.region.id).await.unwrap();
    assert_eq!(stored.len(), net.absences.len() + 1);
    let reported: Vec<_> = stored
        .iter()
        .filter(|s| s.source == AbsenceSource::Reported)
        .collect();
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].absence, a);
    assert!(
        store
            .load_network(&net.region.id)
            .await
            .unwrap()
            .absences
            .contains(&a)
    );
}

/// An absence for an unknown person or region is refused and stores nothing.
pub async fn absence_for_unknown_staff_is_refused(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let a = Absence::new(
        StaffId::parse("nobody").unwrap(),
        "2027-01-12T08:00:00+09:00".parse().unwrap(),
        "2027-01-13T08:00:00+09:00".parse().unwrap(),
        AbsenceKind::Sudden,
        None,
    )
    .unwrap();
    let err = store
        .add_absence(&net.region.id, &a, "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref m) if m.contains("nobody")),
        "{err}"
    );
    assert_eq!(
        store.absences(&net.region.id).await.unwrap().len(),
        net.absences.len()
    );
}

/// A request a person entered is kept by a re-import of the file, is in
/// the network the solver reads, and is withdrawn once.
pub async fn entered_requests_survive_reimport(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let r = touban_domain::Request {
        staff: StaffId::parse("suzuki-akiko").unwrap(),
        date: NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(),
        kind: touban_domain::RequestKind::Off,
        service: None,
        weight: 5,
    };
    let id = store
        .add_request(&net.region.id, &r, "web:x")
        .await
        .unwrap();
    let report = store.import_network(&net, "test").await.unwrap();
    assert!(!report.changed(), "{report}");
    let stored = store.requests(&net.region.id).await.unwrap();
    assert_eq!(stored.len(), net.requests.len() + 1);
    let mine: Vec<_> = stored
        .iter()
        .filter(|s| s.source == AbsenceSource::Reported)
        .collect();
    assert_eq!((mine.len(), mine[0].id, &mine[0].request), (1, id, &r));
    assert!(
        store
            .load_network(&net.region.id)
            .await
            .unwrap()
            .requests
            .contains(&r)
    );
    let nobody = touban_domain::Request {
        staff: StaffId::parse("nobody").unwrap(),
        ..r.clone()
    };
    assert!(matches!(
        store.add_request(&net.region.id, &nobody, "x").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .withdraw_request(&net.region.id, id, "x")
            .await
            .unwrap()
            .request,
        r
    );
    assert!(matches!(
        store.withdraw_request(&net.region.id, id, "x").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.requests(&net.region.id).await.unwrap().len(),
        net.requests.len()
    );
}

/// An absence is removed by its id, only in its region, and once.
pub async fn absences_are_removed_by_id(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let a = Absence::new(
        StaffId::parse("suzuki-akiko").unwrap(),
        "2027-01-12T08:00:00+09:00".parse().unwrap(),
        "2027-01-13T08:00:00+09:00".parse().unwrap(),
        AbsenceKind::Sudden,
        None,
    )
    .unwrap();
    let id = store.add_absence(&net.region.id, &a, "x").await.unwrap();
    let other = RegionId::parse("elsewhere").unwrap();
    assert!(matches!(
        store.remove_absence(&other, id, "x").await,
        Err(StoreError::NotFound(_))
    ));
    let removed = store.remove_absence(&net.region.id, id, "x").await.unwrap();
    assert_eq!(removed.absence, a);
    assert_eq!(removed.source, AbsenceSource::Reported);
    assert!(matches!(
        store.remove_absence(&net.region.id, id, "x").await,
        Err(StoreError::NotFound(ref m)) if m.contains(&id.to_string())
    ));
    let left = store.absences(&net.region.id).await.unwrap();
    assert_eq!(left.len(), net.absences.len());
    assert!(
        !store
            .load_network(&net.region.id)
            .await
            .unwrap()
            .absences
            .contains(&a)
    );
}

/// An import that fails half-way leaves the store exactly as it was.
pub async fn failed_import_changes_nothing(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let mut broken = net.clone();
    broken.staff[1].name = "changed before the failure".into();
    // Bypass validation: a duplicate staff id violates the primary key late
    // in the transaction, after other rows were already written.
    let dup = broken.staff[0].clone();
    broken.staff.push(dup);
    let err = store.import_network(&broken, "test").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_same_network(&store.load_network(&net.region.id).await.unwrap(), &net);
}

/// Versions count up per month; the latest is returned by default.
pub async fn rota_versions_count_up(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let v1 = store.save_rota(&small_rota(&net, None)).await.unwrap();
    assert_eq!((v1.version, v1.status), (1, RotaStatus::Draft));
    assert_eq!(v1.assignments.len(), 3);
    let mut second = small_rota(&net, Some(1));
    second.assignments.pop();
    let v2 = store.save_rota(&second).await.unwrap();
    assert_eq!(v2.version, 2);
    let latest = store.rota(&net.region.id, jan(), None).await.unwrap();
    assert_eq!(latest.version, 2);
    assert_eq!(latest.assignments.len(), 2);
    let first = store.rota(&net.region.id, jan(), Some(1)).await.unwrap();
    assert_eq!(first.assignments, v1.assignments);
    let versions = store.rota_versions(&net.region.id, jan()).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.assignments, v.based_on))
            .collect::<Vec<_>>(),
        vec![(1, 3, None), (2, 2, Some(1))]
    );
    // Another month starts again at 1.
    let mut feb = small_rota(&net, None);
    feb.month = Month::new(2027, 2).unwrap();
    for a in &mut feb.assignments {
        a.shift.date = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    }
    assert_eq!(store.save_rota(&feb).await.unwrap().version, 1);
}

/// Publishing one version supersedes the previously published one, and
/// every step is in the history.
pub async fn publish_supersedes_and_is_recorded(store: &dyn Store) {
    let net = demo_network();
    store.import_network(&net, "test").await.unwrap();
    let region = &net.region.id;
    assert!(store.published_rota(region, jan()).await.unwrap().is_none());
    store.save_rota(&small_rota(&net, None)).await.unwrap();
    let p1 = store
        .publish_rota(region, jan(), 1, "coordinator")
        .await
        .unwrap();
    assert_eq!(p1.status, RotaStatus::Published);
    store.save_rota(&small_rota(&net, Some(1))).await.unwrap();
    store
        .publish_rota(region, jan(), 2, "coordinator")
        .await
        .unwrap();
    assert_eq!(
        store.rota(region, jan(), Some(1)).await.unwrap().status,
        RotaStatus::Superseded
    );
    assert_eq!(
        store
            .published_rota(region, jan())
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    let err = store
        .publish_rota(region, jan(), 1, "coordinator")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale(_)), "{err}");
    // Publishing again is a no-op, not an error.
    assert_eq!(
        store
            .publish_rota(region, jan(), 2, "coordinator")
            .await
            .unwrap()
            .version,
        2
    );
    let history = store.rota_history(region, jan()).await.unwrap();
    let actions: Vec<_> = history
        .iter()
        .map(|c| (c.version, c.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            (1, "created"),
            (1, "published"),
            (2, "created"),
            (2, "published")
        ]
    );
    assert!(history[3].detail.contains("replacing version 1"));
    assert_eq!(history[1].actor, "coordinator");
}

/// Bad rotas and missing objects give precise errors and store nothing.
pub async fn rota_errors_are_precise(store: &dyn Store) {
    let net = demo_network();
    let region = &net.region.id;
    let err = store.load_network(region).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    store.import_network(&net, "test").await.unwrap();
    let err = store.rota(region, jan(), None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref m) if m.contains("2027-01")),
        "{err}"
    );
    let err = store.publish_rota(region, jan(), 7, "x").await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref m) if m.contains("version 7")),
        "{err}"
    );
    let mut bad = small_rota(&net, None);
    bad.assignments.push(assignment(
        "homecare-oncall",
        "day",
        5,
        "ghost",
        Role::Primary,
    ));
    let err = store.save_rota(&bad).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("\"ghost\"")),
        "{err}"
    );
    let mut dup = small_rota(&net, None);
    dup.assignments.push(dup.assignments[0].clone());
    assert!(matches!(
        store.save_rota(&dup).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
    let mut outside = small_rota(&net, None);
    outside.assignments[0].shift.date = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    assert!(matches!(
        store.save_rota(&outside).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
    assert!(store.rota_versions(region, jan()).await.unwrap().is_empty());
    let other = RegionId::parse("elsewhere").unwrap();
    assert!(matches!(
        store.rota(&other, jan(), None).await.unwrap_err(),
        StoreError::NotFound(_)
    ));
}

/// Generates one `#[tokio::test]` per conformance case. `$make` is an
/// expression (it may `.await`) giving `(store, guard)`: a fresh, empty store
/// and whatever must live as long as it (a temporary directory, a database
/// to drop).
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            import_round_trips,
            reimport_is_idempotent,
            changed_import_applies_the_difference,
            reported_absences_survive_reimport,
            absence_for_unknown_staff_is_refused,
            absences_are_removed_by_id,
            entered_requests_survive_reimport,
            failed_import_changes_nothing,
            rota_versions_count_up,
            publish_supersedes_and_is_recorded,
            rota_errors_are_precise,
            credentials_revoke,
            cover_first_acceptance_wins,
            one_by_one_offers_in_rank_order,
            stale_edit_is_a_conflict,
            publish_refuses_versions_not_based_on_the_published,
            audit_and_jobs_round_trip,
            publish_queues_notices,
            changes_to_imminent_duties_are_urgent,
            claims_are_exclusive_and_leases_expire,
            retries_failures_and_keys,
            cover_events_queue_messages,
            sign_in_links_and_sessions,
            second_factors_confirm_and_codes_work_once,
            admins_are_added_listed_and_removed,
            swaps_move_once_and_tell_whom_they_concern
        );
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (store, _guard) = $make;
                $crate::$case(&store).await;
            }
        )*
    };
}
