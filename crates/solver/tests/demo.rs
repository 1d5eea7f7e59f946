//! The solver on the demo network: a full month the checker finds free of
//! hard violations, and a model whose objective matches the checker's cost.

use std::path::PathBuf;

use touban_domain::Month;
use touban_solver::{History, Instance, Quality, Rule, SolveOptions, check, generate};

fn demo() -> touban_domain::Network {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/networks/southern-shimoina.toml");
    touban_netfile::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn demo_month_is_complete_and_clean() {
    let net = demo();
    let inst = Instance::new(&net, Month::new(2027, 1).unwrap());
    let opts = SolveOptions {
        time_limit: 60.0,
        progress: true,
        ..SolveOptions::default()
    };
    let out = generate(&inst, &History::default(), &opts).unwrap();
    let report = check(&inst, &out.assignments, &History::default());
    for v in &report.violations {
        eprintln!("{v}");
    }
    for c in &report.soft {
        eprintln!("{:<24} {:>8.1} ({})", c.family, c.cost, c.count);
    }
    eprintln!(
        "parts {} elapsed {:?} objective {:.2} checker {:.2}",
        out.parts,
        out.elapsed,
        out.objective,
        report.soft_total()
    );
    assert!(
        report.is_feasible(),
        "{} violations",
        report.violations.len()
    );
    assert_eq!(out.quality, Quality::Optimal);
    assert!(
        (out.objective - report.soft_total()).abs() < 1e-3 * out.objective.max(1.0),
        "model {} vs checker {}",
        out.objective,
        report.soft_total()
    );
}

/// After a sudden absence, the repaired version differs from the old one
/// only in the absent person's shifts (rule: fewest changes after coverage).
#[test]
fn repair_changes_only_what_it_must() {
    let mut net = demo();
    let month = Month::new(2027, 1).unwrap();
    let opts = SolveOptions {
        time_limit: 60.0,
        ..SolveOptions::default()
    };
    let first = {
        let inst = Instance::new(&net, month);
        generate(&inst, &History::default(), &opts)
            .unwrap()
            .assignments
    };
    // Whoever has the home-care night of the 13th falls ill for three days.
    let who = first
        .iter()
        .find(|a| {
            a.shift.service.as_str() == "homecare-oncall"
                && a.shift.template.as_str() == "night"
                && a.shift.date.to_string() == "2027-01-13"
        })
        .expect("a home-care night on the 13th")
        .staff
        .clone();
    let absence = touban_domain::Absence::new(
        who.clone(),
        "2027-01-12T00:00:00+09:00".parse().unwrap(),
        "2027-01-15T00:00:00+09:00".parse().unwrap(),
        touban_domain::AbsenceKind::Sickness,
        None,
    )
    .unwrap();
    net.absences.push(absence.clone());
    let inst = Instance::new(&net, month);
    let affected: Vec<_> = first
        .iter()
        .filter(|a| {
            a.staff == who && {
                let s = &inst.shifts[inst.shift_index[&a.shift]].shift;
                absence.overlaps(s.start, s.end)
            }
        })
        .cloned()
        .collect();
    assert!(!affected.is_empty(), "pick an absence that hits a duty");
    let history = History {
        previous: Some(first.clone()),
        ..History::default()
    };
    let started = std::time::Instant::now();
    let repaired = touban_solver::repair(&inst, &history, &opts).unwrap();
    eprintln!("repair in {:?}", started.elapsed());
    let report = check(&inst, &repaired.assignments, &history);
    assert!(report.is_feasible(), "{:#?}", report.violations);
    let kept: std::collections::HashSet<_> = repaired
        .assignments
        .iter()
        .map(|a| (&a.shift, &a.staff))
        .collect();
    let dropped: Vec<_> = first
        .iter()
        .filter(|a| !kept.contains(&(&a.shift, &a.staff)))
        .collect();
    assert_eq!(
        dropped.len(),
        affected.len(),
        "dropped {dropped:#?}\naffected {affected:#?}"
    );
    assert!(dropped.iter().all(|a| a.staff == who));
    // Nobody is added to a shift the absence left alone (the ideal
    // headcount is no reason to call someone in on an untouched day).
    let before: std::collections::HashSet<_> = first.iter().map(|a| (&a.shift, &a.staff)).collect();
    for a in &repaired.assignments {
        assert!(
            before.contains(&(&a.shift, &a.staff)) || affected.iter().any(|b| b.shift == a.shift),
            "{} added to {:?}, which the absence does not touch",
            a.staff,
            a.shift
        );
    }
    // Every affected shift is covered again by someone else.
    for a in &affected {
        assert!(
            repaired
                .assignments
                .iter()
                .any(|b| b.shift == a.shift && b.staff != who),
            "{}",
            a.shift
        );
    }
    let stability = report
        .soft
        .iter()
        .find(|c| c.family == "stability")
        .unwrap();
    assert_eq!(stability.count, affected.len());
}

/// The checker finds each kind of mistake in a hand-made rota.
#[test]
fn checker_finds_hand_made_mistakes() {
    use touban_domain::{Assignment, Role, ServiceId, ShiftKey, TemplateId};
    let net = demo();
    let month = Month::new(2027, 1).unwrap();
    let inst = Instance::new(&net, month);
    let a = |svc: &str, t: &str, day: u32, who: &str| Assignment {
        shift: ShiftKey {
            service: ServiceId::parse(svc).unwrap(),
            template: TemplateId::parse(t).unwrap(),
            date: chrono::NaiveDate::from_ymd_opt(2027, 1, day).unwrap(),
        },
        staff: touban_domain::StaffId::parse(who).unwrap(),
        role: Role::Primary,
    };
    let rota = vec![
        a("night-pharmacy", "night", 4, "ogawa-yuko"), // a nurse on a pharmacist duty
        a("vns-oncall", "night", 5, "okada-miho"),     // absent 01-04..01-08
        a("homecare-oncall", "night", 6, "tanaka-yui"),
        a("backup-hospital-duty", "shukuchoku", 6, "tanaka-yui"), // overlap
        a("holiday-duty-clinic", "holiday-day", 10, "nakajima-taro"),
        a("holiday-duty-clinic", "holiday-day", 10, "kimura-satoshi"), // over max
        a("vns-oncall", "night", 20, "goto-haruka"),
        a("vns-oncall", "night", 21, "goto-haruka"),
        a("vns-oncall", "night", 22, "goto-haruka"), // third night in a row
    ];
    let report = check(&inst, &rota, &History::default());
    let found = |rule: Rule, needle: &str| {
        report
            .violations
            .iter()
            .any(|v| v.rule == rule && v.to_string().contains(needle))
    };
    assert!(found(
        Rule::Eligibility,
        "is a nurse, the service needs a pharmacist"
    ));
    assert!(found(Rule::Absent, "okada-miho absent (leave"));
    assert!(found(Rule::Overlap, "tanaka-yui overlaps"));
    assert!(found(Rule::Coverage, "2 assigned, at most 1"));
    assert!(found(
        Rule::ConsecutiveNights,
        "third night on call in a row (01-22)"
    ));
    assert!(found(Rule::Coverage, "0 of at least 1 assigned"));
}

/// A job's live progress: one report when the month is split, then one per
/// part, counting up to every shift; the last agrees with the outcome.
#[test]
fn generate_reports_its_progress_part_by_part() {
    let net = demo();
    let inst = Instance::new(&net, Month::new(2027, 1).unwrap());
    let seen = std::sync::Mutex::new(Vec::new());
    let out = touban_solver::generate_reporting(
        &inst,
        &History::default(),
        &SolveOptions::default(),
        &|p| seen.lock().unwrap().push(p.clone()),
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), out.parts + 1, "{seen:?}");
    assert_eq!((seen[0].parts_done, seen[0].shifts_done), (0, 0));
    for w in seen.windows(2) {
        assert_eq!(w[1].parts_done, w[0].parts_done + 1);
        assert!(w[1].shifts_done > w[0].shifts_done);
        assert!(w[1].seconds >= w[0].seconds);
    }
    let last = seen.last().unwrap();
    assert_eq!(last.parts_done, out.parts);
    assert_eq!(last.shifts_done, inst.shifts.len());
    assert_eq!(last.shifts, inst.shifts.len());
    assert!((last.objective - out.objective).abs() < 1e-6);
    assert!((last.gap - out.gap).abs() < 1e-9);
}

/// The fair shares of one profession are the same whether the instance has
/// everyone's candidates or only that profession's (the cell panel's
/// shortcut on large networks).
#[test]
fn one_professions_pools_need_only_its_candidates() {
    let net = demo();
    let month = Month::new(2027, 1).unwrap();
    let full = Instance::new(&net, month);
    for prof in [
        touban_domain::Profession::Physician,
        touban_domain::Profession::Nurse,
        touban_domain::Profession::Pharmacist,
    ] {
        let part = Instance::for_profession(&net, month, prof);
        let key = |p: &touban_solver::soft::Pool| {
            (
                p.category,
                p.shifts.clone(),
                p.members
                    .iter()
                    .map(|(i, s)| (*i, (s * 1e9).round() as i64))
                    .collect::<Vec<_>>(),
                p.capped.clone(),
                (p.total * 1e9).round() as i64,
            )
        };
        let of = |inst: &Instance<'_>| {
            touban_solver::soft::pools(inst)
                .iter()
                .filter(|p| p.profession == prof && !p.members.is_empty())
                .map(key)
                .collect::<Vec<_>>()
        };
        let want = of(&full);
        assert!(!want.is_empty(), "{prof}");
        assert_eq!(of(&part), want, "{prof}");
    }
}
