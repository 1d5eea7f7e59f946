//! Rota commands: generate, repair, absence, export.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;
use touban_domain::{Absence, AbsenceKind, Month, Network, NewRota, RegionId};
use touban_solver::{History, Instance, SolveOptions, check, explain};
use touban_store::Store;

use crate::grid;
use touban_app::ops::{context, current};

pub fn parse_month(s: &str) -> anyhow::Result<Month> {
    Month::parse(s).map_err(|e| anyhow::anyhow!("--month: {e}"))
}

/// Prints a rota with its costs, fairness and unfilled shifts; returns how
/// many shifts stay below their minimum.
pub(crate) fn report(
    inst: &Instance<'_>,
    rota: &[touban_domain::Assignment],
    history: &History,
) -> usize {
    print!("{}", grid::month(inst, rota));
    let checked = check(inst, rota, history);
    print!("{}", grid::costs(&checked));
    print!("{}", grid::fairness(inst, rota, history));
    let unfilled = explain(inst, rota, history);
    if !unfilled.is_empty() {
        println!(
            "\n埋まらないシフト {} 件 / unfilled shifts, and why each candidate could not take them:",
            unfilled.len()
        );
        for u in &unfilled {
            print!("  {u}");
        }
    }
    unfilled.len()
}

pub async fn generate(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    opts: &SolveOptions,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let (net, history) = context(store, region, month).await?;
    let inst = Instance::new(&net, month);
    eprintln!(
        "{month}: {} shifts, {} staff; solving (time limit {} s)…",
        inst.shifts.len(),
        inst.staff.len(),
        opts.time_limit
    );
    let out = touban_solver::generate(&inst, &history, opts)?;
    let saved = store
        .save_rota(&NewRota {
            region: region.clone(),
            month,
            created_by: actor.to_string(),
            note: Some(format!(
                "generated in {:.1} s ({:?})",
                out.elapsed.as_secs_f64(),
                out.quality
            )),
            based_on: None,
            assignments: out.assignments.clone(),
            overridden: Vec::new(),
        })
        .await?;
    let unfilled = report(&inst, &saved.assignments, &history);
    println!(
        "\n保存しました / saved as version {} (draft) — {:.1} s, {}",
        saved.version,
        out.elapsed.as_secs_f64(),
        match out.quality {
            touban_solver::Quality::Optimal => "最適 proven optimal",
            touban_solver::Quality::TimeLimit => "時間切れ best found within the time limit",
        }
    );
    Ok(if unfilled > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn repair(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    opts: &SolveOptions,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let Some(previous) = touban_app::ops::repair_base(store, region, month).await? else {
        bail!(
            "there is no rota for {month} to repair: run `touban generate --month {month}` first"
        );
    };
    let net = store.load_network(region).await?;
    let r =
        touban_app::ops::repair_month(store, region, month, previous, opts.clone(), actor, false)
            .await?;
    let changes = diff(&net, &r.changes);
    println!(
        "{month}: version {} → {} ({:.2} s)",
        r.from.version,
        r.to.version,
        r.elapsed.as_secs_f64()
    );
    println!(
        "変更 {} 件 / {} changed shifts:",
        changes.len(),
        changes.len()
    );
    for c in &changes {
        println!("  {c}");
    }
    let unfilled = r.unfilled;
    for u in &unfilled {
        print!("  {u}");
    }
    Ok(if unfilled.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// Shift by shift, who was on it before and after, as printed lines.
pub fn diff(net: &Network, changes: &[touban_app::ops::ShiftChange]) -> Vec<String> {
    let list = |s: &BTreeSet<touban_domain::StaffId>| {
        if s.is_empty() {
            "（なし none）".to_string()
        } else {
            s.iter()
                .map(|id| {
                    net.staff_member(id)
                        .map_or(id.to_string(), |p| p.name.clone())
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join("・")
        }
    };
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {}: {} → {}",
                c.shift.date,
                c.shift.service,
                c.shift.template,
                list(&c.before),
                list(&c.after)
            )
        })
        .collect()
}

/// An absence as typed on the command line.
#[derive(Debug)]
pub struct AbsenceInput {
    pub staff: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub reason: Option<String>,
}

pub async fn absence_add(
    store: &dyn Store,
    region: &RegionId,
    input: AbsenceInput,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let AbsenceInput {
        staff,
        from,
        to,
        kind,
        reason,
    } = input;
    let net = store.load_network(region).await?;
    let staff = touban_domain::StaffId::parse(&staff).map_err(|e| anyhow::anyhow!("STAFF: {e}"))?;
    if net.staff_member(&staff).is_none() {
        bail!("STAFF: no staff member \"{staff}\" in region \"{region}\"");
    }
    let tz = net.region.time_zone;
    let start = touban_netfile::start_instant(
        tz,
        touban_netfile::parse_when(&from).map_err(|e| anyhow::anyhow!("FROM: {e}"))?,
    );
    let end = touban_netfile::end_instant(
        tz,
        touban_netfile::parse_when(&to).map_err(|e| anyhow::anyhow!("TO: {e}"))?,
    );
    let kind = AbsenceKind::parse(&kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let absence =
        Absence::new(staff, start, end, kind, reason).map_err(|e| anyhow::anyhow!("TO: {e}"))?;
    let id = store.add_absence(region, &absence, actor).await?;
    println!(
        "absence {id} recorded: {} {} – {}",
        absence.staff, absence.start, absence.end
    );
    Ok(ExitCode::SUCCESS)
}

/// One line of the "time slot → person → phone" list patients are given.
#[derive(Debug, Serialize)]
pub struct ExportRow {
    pub service: String,
    pub service_name: String,
    pub template: String,
    pub template_name: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub staff: String,
    pub name: String,
    pub role: String,
    pub phone: String,
    /// A place nobody holds yet (未定): no person, the fallback number.
    pub unfilled: bool,
}

#[derive(Debug, Serialize)]
struct ExportDoc<'a> {
    region: &'a str,
    month: String,
    version: u32,
    status: &'a str,
    time_zone: String,
    assignments: Vec<ExportRow>,
}

pub async fn export(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: Option<u32>,
    format: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let rota = match version {
        Some(v) => store.rota(region, month, Some(v)).await?,
        None => current(store, region, month)
            .await?
            .with_context(|| format!("no rota for {month} in region \"{region}\": run `touban generate --month {month}` first"))?,
    };
    let net = store.load_network(region).await?;
    let inst = Instance::new(&net, month);
    // Every shift, in order: its people (primary first), then a flagged row
    // with no person for each place still short of its minimum, so that the
    // list handed to patients has no silent gap.
    let mut by_shift: std::collections::HashMap<
        &touban_domain::ShiftKey,
        Vec<&touban_domain::Assignment>,
    > = std::collections::HashMap::new();
    for a in &rota.assignments {
        by_shift.entry(&a.shift).or_default().push(a);
    }
    let mut rows: Vec<ExportRow> = Vec::new();
    let mut order: Vec<&touban_solver::ShiftInfo> = inst.shifts.iter().collect();
    order.sort_by(|a, b| {
        (a.shift.date, &a.shift.service, &a.shift.template).cmp(&(
            b.shift.date,
            &b.shift.service,
            &b.shift.template,
        ))
    });
    for info in order {
        let key = info.shift.key();
        let Some(svc) = net.service(&key.service) else {
            continue;
        };
        let Some(t) = svc.template(&key.template) else {
            continue;
        };
        let row = |staff: String, name: String, role: String, phone: String, unfilled| ExportRow {
            service: svc.id.to_string(),
            service_name: svc.name.clone(),
            template: t.id.to_string(),
            template_name: t.name.clone(),
            date: key.date.to_string(),
            start: info.shift.start.to_rfc3339(),
            end: info.shift.end.to_rfc3339(),
            staff,
            name,
            role,
            phone,
            unfilled,
        };
        let mut people = by_shift.remove(&key).unwrap_or_default();
        people.sort_by_key(|a| (a.role != touban_domain::Role::Primary, a.staff.clone()));
        for a in &people {
            let p = net.staff_member(&a.staff);
            rows.push(row(
                a.staff.to_string(),
                p.map_or_else(String::new, |p| p.name.clone()),
                a.role.as_str().to_string(),
                p.and_then(|p| p.phone.as_ref())
                    .map_or_else(String::new, ToString::to_string),
                false,
            ));
        }
        for _ in people.len()..usize::from(info.min) {
            rows.push(row(
                String::new(),
                "未定".into(),
                String::new(),
                net.fallback_phone(svc)
                    .map_or_else(String::new, ToString::to_string),
                true,
            ));
        }
    }
    let text = match format {
        "json" => {
            let doc = ExportDoc {
                region: region.as_str(),
                month: month.to_string(),
                version: rota.version,
                status: rota.status.as_str(),
                time_zone: net.region.time_zone.to_string(),
                assignments: rows,
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                w.serialize(r)?;
            }
            String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?
        }
        other => bail!("--format: \"{other}\" is not a format (json, csv)"),
    };
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
