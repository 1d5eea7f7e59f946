//! `touban bench …`: measured figures for docs/BENCHMARKS.md. Never run as
//! timed tests.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use chrono::Datelike;

use touban_domain::{Absence, AbsenceKind, Month};
use touban_solver::{History, Instance, Quality, SolveOptions, check};

/// The demo month: generation time and quality, then a repair after one
/// sudden absence (the primary on the home-care night of the 14th), with the
/// changes it needed.
pub fn demo(network: &Path, month: Month, opts: &SolveOptions, runs: usize) -> anyhow::Result<ExitCode> {
    let net = touban_netfile::load(network).map_err(|p| anyhow::anyhow!("{p}"))?;
    let inst = Instance::new(&net, month);
    let vars: usize = inst.candidates.iter().map(Vec::len).sum();
    println!("demo network {}, {month}: {} shifts, {} staff, {vars} assignment variables", net.region.id, inst.shifts.len(), inst.staff.len());
    let mut first = None;
    for run in 1..=runs {
        let t = Instant::now();
        let out = touban_solver::generate(&inst, &History::default(), opts)?;
        let secs = t.elapsed().as_secs_f64();
        let report = check(&inst, &out.assignments, &History::default());
        println!(
            "generate run {run}: {secs:.2} s, {}, {} parts, soft cost {:.2}, hard violations {}",
            if out.quality == Quality::Optimal { "optimal within the gap" } else { "TIME LIMIT" },
            out.parts,
            report.soft_total(),
            report.violations.len()
        );
        first.get_or_insert(out.assignments);
    }
    let first = first.unwrap_or_default();
    let day = month.first_day().with_day(14).unwrap_or(month.first_day());
    let Some(victim) = first.iter().find(|a| a.shift.service.as_str() == "homecare-oncall" && a.shift.date == day).map(|a| a.staff.clone()) else {
        println!("no home-care duty on {day} to repair");
        return Ok(ExitCode::SUCCESS);
    };
    let tz = net.region.time_zone;
    let start = touban_netfile::start_instant(tz, touban_netfile::When::Date(day));
    let end = touban_netfile::end_instant(tz, touban_netfile::When::Date(day));
    let mut net2 = net.clone();
    net2.absences.push(Absence::new(victim.clone(), start, end, AbsenceKind::Sudden, None)?);
    let inst2 = Instance::new(&net2, month);
    let affected = first
        .iter()
        .filter(|a| a.staff == victim && inst2.shift_index.get(&a.shift).is_some_and(|&s| inst2.shifts[s].shift.start < end && start < inst2.shifts[s].shift.end))
        .count();
    let history = History { previous: Some(first.clone()), ..History::default() };
    for run in 1..=runs {
        let t = Instant::now();
        let out = touban_solver::repair(&inst2, &history, opts)?;
        let secs = t.elapsed().as_secs_f64();
        let report = check(&inst2, &out.assignments, &history);
        let changed = report.soft.iter().find(|c| c.family == "stability").map_or(0, |c| c.count);
        println!(
            "repair run {run} ({victim} absent on {day}): {secs:.2} s, {changed} assignments changed, {affected} of theirs affected, hard violations {}",
            report.violations.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}


