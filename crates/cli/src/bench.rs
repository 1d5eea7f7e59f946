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
pub fn demo(
    network: &Path,
    month: Month,
    opts: &SolveOptions,
    runs: usize,
) -> anyhow::Result<ExitCode> {
    let net = touban_netfile::load(network).map_err(|p| anyhow::anyhow!("{p}"))?;
    let inst = Instance::new(&net, month);
    let vars: usize = inst.candidates.iter().map(Vec::len).sum();
    println!(
        "demo network {}, {month}: {} shifts, {} staff, {vars} assignment variables",
        net.region.id,
        inst.shifts.len(),
        inst.staff.len()
    );
    let mut first = None;
    for run in 1..=runs {
        let t = Instant::now();
        let out = touban_solver::generate(&inst, &History::default(), opts)?;
        let secs = t.elapsed().as_secs_f64();
        let report = check(&inst, &out.assignments, &History::default());
        println!(
            "generate run {run}: {secs:.2} s, {}, gap {:.2} %, {} parts, soft cost {:.2}, hard violations {}",
            if out.quality == Quality::Optimal {
                "optimal within the gap"
            } else {
                "TIME LIMIT"
            },
            100.0 * out.gap,
            out.parts,
            report.soft_total(),
            report.violations.len()
        );
        first.get_or_insert(out.assignments);
    }
    let first = first.unwrap_or_default();
    let day = month.first_day().with_day(14).unwrap_or(month.first_day());
    let Some(victim) = first
        .iter()
        .find(|a| a.shift.service.as_str() == "homecare-oncall" && a.shift.date == day)
        .map(|a| a.staff.clone())
    else {
        println!("no home-care duty on {day} to repair");
        return Ok(ExitCode::SUCCESS);
    };
    let tz = net.region.time_zone;
    let start = touban_netfile::start_instant(tz, touban_netfile::When::Date(day));
    let end = touban_netfile::end_instant(tz, touban_netfile::When::Date(day));
    let mut net2 = net.clone();
    net2.absences.push(Absence::new(
        victim.clone(),
        start,
        end,
        AbsenceKind::Sudden,
        None,
    )?);
    let inst2 = Instance::new(&net2, month);
    let affected = first
        .iter()
        .filter(|a| {
            a.staff == victim
                && inst2.shift_index.get(&a.shift).is_some_and(|&s| {
                    inst2.shifts[s].shift.start < end && start < inst2.shifts[s].shift.end
                })
        })
        .count();
    let history = History {
        previous: Some(first),
        ..History::default()
    };
    for run in 1..=runs {
        let t = Instant::now();
        let out = touban_solver::repair(&inst2, &history, opts)?;
        let secs = t.elapsed().as_secs_f64();
        let report = check(&inst2, &out.assignments, &history);
        let changed = report
            .soft
            .iter()
            .find(|c| c.family == "stability")
            .map_or(0, |c| c.count);
        println!(
            "repair run {run} ({victim} absent on {day}): {secs:.2} s, {changed} assignments changed, {affected} of theirs affected, hard violations {}",
            report.violations.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Best known objectives from a `BEST_KNOWN.tsv` beside the instance files.
fn best_known(dir: &Path) -> std::collections::HashMap<String, i64> {
    std::fs::read_to_string(dir.join("BEST_KNOWN.tsv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .collect()
}

/// A Curtois & Qu instance file: its name, the instance, and the best
/// known objective from `BEST_KNOWN.tsv` beside it.
fn instance(file: &Path) -> anyhow::Result<(String, crate::curtois::Problem, Option<i64>)> {
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let p = crate::curtois::Problem::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let best = file
        .parent()
        .map(best_known)
        .unwrap_or_default()
        .get(&name)
        .copied();
    Ok((name, p, best))
}

/// Curtois & Qu instances through the product: each translated into a
/// network, solved by `generate`, the rota translated back and scored by
/// the independent evaluator (which must agree with the product's own
/// objective: the translation is exact).
pub fn curtois(
    files: &[std::path::PathBuf],
    time_limit: f64,
    threads: u32,
    gap: f32,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    use crate::curtois::evaluate;
    println!(
        "instance\tdays\tstaff\tvariables\tseconds\tstatus\tproduct_objective\tgap_to_bound\tobjective\tbest_known\tgap\thard_violations"
    );
    for file in files {
        let (name, p, best) = instance(file)?;
        eprintln!("{name}:");
        let res = crate::curtois::translate::solve(&p, time_limit, threads, gap)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let ev = evaluate(&p, &res.roster);
        for v in ev.violations.iter().take(5) {
            eprintln!("  hard violation: {v}");
        }
        if let Some(dir) = out {
            std::fs::create_dir_all(dir)?;
            std::fs::write(
                dir.join(format!("{name}.roster")),
                p.write_roster(&res.roster),
            )?;
        }
        #[allow(clippy::cast_precision_loss)]
        let gap = best.map_or("-".into(), |b| {
            format!(
                "{:.1}%",
                100.0 * (ev.objective - b) as f64 / b.max(1) as f64
            )
        });
        println!(
            "{name}\t{}\t{}\t{}\t{:.1}\t{}\t{:.0}\t{:.1}%\t{}\t{}\t{gap}\t{}",
            p.days,
            p.staff.len(),
            res.variables,
            res.seconds,
            if res.optimal { "optimal" } else { "feasible" },
            res.objective,
            100.0 * res.gap,
            ev.objective,
            best.map_or("-".into(), |b| b.to_string()),
            ev.violations.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Scores a roster file from anywhere (another solver's, say) with the
/// same independent evaluator as `bench curtois`.
pub fn curtois_eval(file: &Path, roster: &Path) -> anyhow::Result<ExitCode> {
    let (name, p, best) = instance(file)?;
    let text = std::fs::read_to_string(roster)
        .map_err(|e| anyhow::anyhow!("{}: {e}", roster.display()))?;
    let r = p
        .parse_roster(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", roster.display()))?;
    let ev = crate::curtois::evaluate(&p, &r);
    for v in &ev.violations {
        println!("hard violation: {v}");
    }
    println!(
        "{name}\tobjective\t{}\thard_violations\t{}\tbest_known\t{}",
        ev.objective,
        ev.violations.len(),
        best.map_or("-".into(), |b| b.to_string())
    );
    Ok(if ev.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// A generated network: a first rota within `first_limit` seconds, then
/// a solve to `gap` within `gap_limit` seconds; each checked.
pub fn synth(
    staff: usize,
    services: usize,
    days: u32,
    seed: u64,
    first_limit: f64,
    gap_limit: f64,
    gap: f32,
) -> anyhow::Result<ExitCode> {
    let month = Month::new(2027, 1)?;
    anyhow::ensure!((1..=31).contains(&days), "--days must be 1..31 (one month)");
    let t = Instant::now();
    let net = touban_solver::synth::network(staff, services, month.first_day(), days, seed);
    let mut inst = Instance::new(&net, month);
    inst.keep_days(days);
    let vars: usize = inst.candidates.iter().map(Vec::len).sum();
    println!(
        "synth seed {seed}: {} staff, {} services, {} shifts over {days} days, {vars} assignment variables (built in {:.1} s)",
        net.staff.len(),
        net.services.len(),
        inst.shifts.len(),
        t.elapsed().as_secs_f64()
    );
    for (label, limit, g) in [
        ("first rota", first_limit, 1.0f32),
        ("to the gap", gap_limit, gap),
    ] {
        let opts = SolveOptions {
            time_limit: limit,
            mip_gap: g,
            threads: 1,
            progress: true,
        };
        let t = Instant::now();
        let out = touban_solver::generate(&inst, &History::default(), &opts)?;
        let report = check(&inst, &out.assignments, &History::default());
        let unfilled = report
            .violations
            .iter()
            .filter(|v| v.rule == touban_solver::Rule::Coverage)
            .count();
        println!(
            "{label} (limit {limit} s, gap {:.1} %): {:.1} s, {}, final gap {:.2} %, {} parts, hard violations {} ({} unfilled shifts), soft cost {:.1}",
            100.0 * g,
            t.elapsed().as_secs_f64(),
            if out.quality == Quality::Optimal {
                "within the gap"
            } else {
                "stopped by the time limit"
            },
            100.0 * out.gap,
            out.parts,
            report.violations.len(),
            unfilled,
            report.soft_total()
        );
        if label == "to the gap" {
            for u in touban_solver::explain::explain_first(
                &inst,
                &out.assignments,
                &History::default(),
                3,
            ) {
                let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
                for c in &u.candidates {
                    let key = c
                        .reason
                        .split(['(', ':'])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    *reasons.entry(key).or_default() += 1;
                }
                println!("  unfilled {} — candidates by reason: {reasons:?}", u.shift);
            }
        }
    }
    if let Some(m) = peak_memory_mib() {
        println!("peak memory {m:.0} MiB");
    }
    Ok(ExitCode::SUCCESS)
}

/// A month's notices for a generated network of `staff` people, handed to
/// the SMTP server at `smtp_url`: a rota built by the construction heuristic
/// (no MILP: the point is the mail, not the rota), published into a fresh
/// SQLite database (which queues one notice per person with duties in the
/// same transaction), then sent by one worker until none is left.
pub async fn notify(
    staff: usize,
    services: usize,
    smtp_url: &str,
    concurrency: usize,
    db: Option<&str>,
    workers: usize,
) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;
    use touban_store::{MessageState, Store};

    let month = Month::new(2027, 1)?;
    let t = Instant::now();
    let net = touban_solver::synth::network(staff, services, month.first_day(), 31, 1);
    let assignments = crate::bench_scale::constructed(&net, month);
    let people: std::collections::BTreeSet<_> = assignments.iter().map(|a| &a.staff).collect();
    println!(
        "synth network: {} staff, {} services; rota by construction: {} assignments, {} people with duties ({:.1} s)",
        net.staff.len(),
        net.services.len(),
        assignments.len(),
        people.len(),
        t.elapsed().as_secs_f64()
    );
    let tmp = tempfile::tempdir()?;
    let url = crate::config::DatabaseUrl::new(&db.map_or_else(
        || {
            tmp.path()
                .join("bench-notify.db")
                .to_string_lossy()
                .into_owned()
        },
        str::to_string,
    ));
    let store: Arc<dyn Store> = Arc::from(crate::store::open_pool(&url, 10).await?);
    anyhow::ensure!(
        store.regions().await?.is_empty(),
        "--db {url}: give an empty database"
    );
    store.import_network(&net, "bench").await?;
    store
        .save_rota(&touban_domain::NewRota {
            region: net.region.id.clone(),
            month,
            created_by: "bench".into(),
            note: None,
            based_on: None,
            assignments,
            overridden: Vec::new(),
        })
        .await?;
    let t = Instant::now();
    store
        .publish_rota(&net.region.id, month, 1, "bench")
        .await?;
    let queued: u64 = store
        .message_counts(None)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    println!(
        "publish: {queued} notices queued in the publish transaction in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let smtp = touban_notify::SmtpConfig {
        url: smtp_url.to_string(),
        pool_size: u32::try_from(concurrency).unwrap_or(8),
        timeout_seconds: 30.0,
        ..touban_notify::SmtpConfig::default()
    };
    let cfg = touban_notify::NotifyConfig {
        concurrency,
        batch_size: 200,
        ..touban_notify::NotifyConfig::default()
    };
    // Each worker with a store of its own (its own connections), as
    // separate `touban notify run` processes would have.
    let mut ws = Vec::new();
    for k in 0..workers.max(1) {
        let s: Arc<dyn Store> = if k == 0 {
            store.clone()
        } else {
            Arc::from(crate::store::open_pool(&url, 10).await?)
        };
        ws.push(
            touban_notify::Worker::new(
                s,
                smtp.clone(),
                cfg.clone(),
                touban_notify::LinkSettings {
                    public_url: "http://127.0.0.1:8080".into(),
                    valid_hours: 72,
                },
            )
            .await?,
        );
    }
    let t = Instant::now();
    let mut handles = Vec::new();
    for w in ws {
        handles.push(tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let p = w.pass().await?;
                sent += p.sent;
                if p.claimed == 0 {
                    break;
                }
                anyhow::ensure!(
                    p.retrying == 0 && p.failed == 0,
                    "the SMTP server refused messages: {p:?} (see `touban notify status`)"
                );
            }
            anyhow::Ok(sent)
        }));
    }
    let mut sent = 0;
    let mut per_worker = Vec::new();
    for h in handles {
        let n = h.await??;
        per_worker.push(n.to_string());
        sent += n;
    }
    let secs = t.elapsed().as_secs_f64();
    let counts = store.message_counts(None).await?;
    let n_sent = counts
        .iter()
        .find(|(s, _)| *s == MessageState::Sent)
        .map_or(0, |(_, n)| *n);
    println!(
        "sent {sent} notices (store says {n_sent} sent; by worker {}) to {smtp_url} in {secs:.1} s: {:.0} messages/s, {} worker(s) of concurrency {concurrency}",
        per_worker.join(" + "),
        sent as f64 / secs,
        per_worker.len()
    );
    Ok(ExitCode::SUCCESS)
}
