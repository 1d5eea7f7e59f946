//! What a coordinator does with stored versions, from the terminal: show
//! one (grid, costs, fairness, unfilled shifts), edit a cell, publish.

use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use touban_app::edit::Change;
use touban_app::edit::EditError;
use touban_app::ops::{PublishError, context};
use touban_domain::{Month, RegionId};
use touban_solver::Instance;
use touban_store::{Store, StoreError};

/// The version to act on: the one named, else the newest.
async fn pick(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: Option<u32>,
) -> anyhow::Result<u32> {
    let versions = store.rota_versions(region, month).await?;
    match version {
        Some(v) if versions.iter().any(|i| i.version == v) => Ok(v),
        Some(v) => bail!(
            "--version {v}: the {month} rota has no version {v} (it has {})",
            list(&versions)
        ),
        None => versions.iter().map(|v| v.version).max().with_context(|| {
            format!("there is no rota for {month}: run `touban generate --month {month}` first")
        }),
    }
}

fn list(versions: &[touban_store::RotaVersionInfo]) -> String {
    if versions.is_empty() {
        return "none".into();
    }
    versions
        .iter()
        .map(|v| format!("{} ({})", v.version, v.status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `touban show --month M [--version N]`: the versions of the month, then
/// the chosen one (default: the newest) as after generating.
pub async fn show(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let v = pick(store, region, month, version).await?;
    let versions = store.rota_versions(region, month).await?;
    println!("{month} の版 / versions:");
    for i in &versions {
        println!(
            "  {}{} {:<10} {} {} — {}{}",
            if i.version == v { "▶" } else { " " },
            i.version,
            i.status.as_str(),
            i.created_at.format("%Y-%m-%d %H:%M UTC"),
            i.created_by,
            i.note.as_deref().unwrap_or(""),
            i.based_on
                .map(|b| format!(" (based on {b})"))
                .unwrap_or_default(),
        );
    }
    println!();
    let rota = store.rota(region, month, Some(v)).await?;
    let (net, history) = context(store, region, month).await?;
    let inst = Instance::new(&net, month);
    let unfilled = crate::rota::report(&inst, &rota.assignments, &history);
    Ok(if unfilled > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `touban edit` was told to change.
pub struct EditInput {
    pub version: Option<u32>,
    /// `SERVICE/TEMPLATE/DATE`, e.g. `homecare-oncall/night/2027-01-14`.
    pub shift: String,
    pub remove: Option<String>,
    pub add: Option<String>,
    pub role: Option<String>,
    pub override_reason: Option<String>,
}

fn parse_shift(s: &str) -> anyhow::Result<(String, String, NaiveDate)> {
    let parts: Vec<&str> = s.split('/').collect();
    let [service, template, date] = parts[..] else {
        bail!(
            "--shift \"{s}\": write SERVICE/TEMPLATE/DATE, e.g. homecare-oncall/night/2027-01-14"
        );
    };
    let date = date
        .parse::<NaiveDate>()
        .map_err(|_| anyhow::anyhow!("--shift \"{s}\": \"{date}\" is not a date (YYYY-MM-DD)"))?;
    Ok((service.to_string(), template.to_string(), date))
}

/// `touban edit`: one change to a version, checked like the API's edit,
/// saved as the next version (a draft).
pub async fn edit(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    input: EditInput,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let (service, template, date) = parse_shift(&input.shift)?;
    let v = pick(store, region, month, input.version).await?;
    let rota = store.rota(region, month, Some(v)).await?;
    let change = Change {
        service,
        template,
        date,
        remove: input.remove,
        add: input.add,
        role: input.role,
    };
    let reason = input
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match touban_app::edit::apply(store, region, month, &rota, &[change], reason, actor).await {
        Ok((saved, accepted)) => {
            println!(
                "保存しました / saved as version {} (draft, based on {v})",
                saved.version
            );
            for a in &accepted {
                println!("  規則違反を承認 / accepted on record: {}", a.bilingual());
            }
            println!(
                "公開するには / to publish: touban publish --month {month} --version {}",
                saved.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(EditError::Invalid { field, detail }) => {
            let flag = match field.rsplit('/').next().unwrap_or("") {
                "service" | "template" | "date" => "--shift",
                "remove" => "--remove",
                "add" => "--add",
                "role" => "--role",
                _ => "the change",
            };
            bail!("{flag}: {detail}")
        }
        Err(EditError::Violations(vs)) => {
            eprintln!(
                "保存しませんでした / not saved: the edit breaks {} hard rule(s):",
                vs.len()
            );
            for x in &vs {
                eprintln!("  {}", x.bilingual());
            }
            eprintln!(
                "Fix it, or run again with --override-reason \"…\" to accept them on record."
            );
            Ok(ExitCode::from(4))
        }
        Err(EditError::Stale(d)) => bail!("{d}"),
        Err(EditError::Store(e)) => Err(e.into()),
    }
}

/// `touban publish`: the version (default: the newest) after the same
/// checks as the API's publish; the notices are queued with it.
pub async fn publish(
    store: &dyn Store,
    region: &RegionId,
    month: Month,
    version: Option<u32>,
    override_reason: Option<&str>,
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let v = pick(store, region, month, version).await?;
    match touban_app::ops::publish(store, region, month, v, actor, override_reason).await {
        Ok(r) => {
            println!(
                "公開しました / published version {} of {month}; notices are queued for everyone concerned (`touban notify status`).",
                r.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(PublishError::Violations(vs)) => {
            eprintln!(
                "公開しませんでした / not published: version {v} breaks {} hard rule(s) nobody accepted on record:",
                vs.len()
            );
            for x in &vs {
                eprintln!("  {}", x.bilingual());
            }
            eprintln!(
                "Repair or edit it (`touban repair --month {month}`, `touban edit`), or run again with --override-reason \"…\"."
            );
            Ok(ExitCode::from(4))
        }
        Err(PublishError::Store(StoreError::Stale(d))) => {
            eprintln!("公開しませんでした / not published: {d}");
            Ok(ExitCode::from(4))
        }
        Err(PublishError::Store(e)) => Err(e.into()),
    }
}
