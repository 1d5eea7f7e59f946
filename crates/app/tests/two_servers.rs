//! Two servers on one database report absences in the same month at the
//! same moment. Each server's repair lock is its own, so the two repairs
//! race; the one that saves second finds a version came meanwhile (Stale),
//! repairs again from it, and the month ends with both absent people off
//! their absent days — neither repair is built over.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use touban_app::jobs::Jobs;
use touban_domain::{Absence, AbsenceKind, Month, NewRota, RegionId, Role};
use touban_store::Store;
use touban_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_absences_on_two_servers_are_both_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::connect(path.to_str().unwrap()).await.unwrap());
    let net = touban_netfile::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config/networks/southern-shimoina.toml"),
    )
    .unwrap();
    store.import_network(&net, "t").await.unwrap();
    let region: RegionId = net.region.id.clone();
    let month = Month::new(2027, 1).unwrap();
    let inst = touban_solver::Instance::new(&net, month);
    let out = touban_solver::generate(
        &inst,
        &touban_solver::History::default(),
        &touban_solver::SolveOptions {
            time_limit: 30.0,
            ..Default::default()
        },
    )
    .unwrap();
    let v1 = store
        .save_rota(&NewRota {
            region: region.clone(),
            month,
            created_by: "t".into(),
            note: None,
            based_on: None,
            assignments: out.assignments,
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    store
        .publish_rota(&region, month, v1.version, "t")
        .await
        .unwrap();
    // Two different primaries on two different days of the month.
    let mut picks = Vec::new();
    for a in v1.assignments.iter().filter(|a| a.role == Role::Primary) {
        if picks
            .iter()
            .all(|p: &touban_domain::Assignment| p.staff != a.staff && p.shift.date != a.shift.date)
        {
            picks.push(a.clone());
        }
        if picks.len() == 2 {
            break;
        }
    }
    assert_eq!(picks.len(), 2);
    let day = |d: chrono::NaiveDate| -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        let tz = FixedOffset::east_opt(9 * 3600).unwrap();
        let start = d
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(tz)
            .unwrap();
        (start, start + chrono::Duration::days(2))
    };
    let absences: Vec<Absence> = picks
        .iter()
        .map(|a| {
            let (start, end) = day(a.shift.date);
            Absence {
                staff: a.staff.clone(),
                start,
                end,
                kind: AbsenceKind::Sickness,
                reason: None,
            }
        })
        .collect();
    // Two servers: two sets of jobs and repair locks, one database.
    let (server_a, server_b) = (Jobs::new(3), Jobs::new(3));
    let (ra, rb) = tokio::join!(
        touban_app::absences::report(store.as_ref(), &server_a, &region, &absences[0], "a"),
        touban_app::absences::report(store.as_ref(), &server_b, &region, &absences[1], "b"),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // One repair each, or one for both: a repair made after both absences
    // were stored already takes the other person off, and the other server
    // then finds nothing left to repair.
    let repairs = ra.repairs.len() + rb.repairs.len();
    assert!((1..=2).contains(&repairs), "{repairs} repairs");
    // The month as it stands keeps both people off their absent days.
    let base = touban_app::ops::repair_base(store.as_ref(), &region, month)
        .await
        .unwrap()
        .unwrap();
    for a in &absences {
        let on: Vec<_> = base
            .assignments
            .iter()
            .filter(|x| {
                x.staff == a.staff
                    && x.shift.date >= a.start.date_naive()
                    && x.shift.date < a.end.date_naive()
            })
            .collect();
        assert!(
            on.is_empty(),
            "{} still on duty while absent in version {}: {on:?}",
            a.staff,
            base.version
        );
    }
    // When both repaired, the later repair was made from the earlier one.
    if let (Some(x), Some(y)) = (ra.repairs.first(), rb.repairs.first()) {
        let (first, second) = if x.to.version < y.to.version {
            (x, y)
        } else {
            (y, x)
        };
        let lineage = touban_app::ops::lineage(store.as_ref(), &region, month, second.to.version)
            .await
            .unwrap();
        assert!(
            lineage.contains(&first.to.version),
            "version {} is not built on {}: {lineage:?}",
            second.to.version,
            first.to.version
        );
    }
}
