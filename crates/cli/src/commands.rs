//! The subcommands.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use touban_calendar::Calendar;
use touban_domain::{Month, RegionId};

use crate::config::Config;
use crate::{DbArg, SolveArgs, print, rota, store};

pub fn calendar(year: i32, network: Option<&Path>) -> anyhow::Result<ExitCode> {
    if !(1949..=2150).contains(&year) {
        bail!("year {year} is outside 1949..2150 (national holidays are defined from 1948's law)");
    }
    let cal = match network {
        Some(path) => Calendar::for_region(&load_valid(path)?.region),
        None => Calendar::japan(),
    };
    for d in cal.days_off(year) {
        println!("{}\t{}\t{}", d.date, d.class, d.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses a network file, or prints every problem and fails.
fn load_valid(path: &Path) -> anyhow::Result<touban_domain::Network> {
    touban_netfile::load(path).map_err(|problems| {
        for p in problems.iter() {
            eprintln!("{p}");
        }
        anyhow::anyhow!(
            "{} is not valid: {} problem{}",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )
    })
}

pub fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let net = load_valid(path)?;
    println!("{}: valid", path.display());
    print!("{}", touban_netfile::summary(&net));
    Ok(ExitCode::SUCCESS)
}

pub async fn import(cfg: &Config, db: &DbArg, path: &Path) -> anyhow::Result<ExitCode> {
    // Validate before the database is even opened: a bad file touches nothing.
    let net = load_valid(path)?;
    let url = store::database_url(cfg, db);
    let store = store::open(&url).await?;
    let report = store
        .import_network(&net, &format!("import {}", path.display()))
        .await
        .with_context(|| format!("importing {} into {url}", path.display()))?;
    println!("{} → {url} (region {})", path.display(), net.region.id);
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

async fn pick_region(
    store: &dyn touban_store::Store,
    region: Option<&str>,
) -> anyhow::Result<RegionId> {
    if let Some(r) = region {
        return RegionId::parse(r).map_err(|e| anyhow::anyhow!("--region: {e}"));
    }
    let regions = store.regions().await?;
    match regions.as_slice() {
        [] => bail!("the database holds no network yet: run `touban import FILE` first"),
        [one] => Ok(one.id.clone()),
        many => bail!(
            "the database holds {} regions ({}): choose one with --region",
            many.len(),
            many.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub async fn show(cfg: &Config, db: &DbArg, region: Option<&str>) -> anyhow::Result<ExitCode> {
    let url = store::database_url(cfg, db);
    let store = store::open(&url).await?;
    let region = pick_region(store.as_ref(), region).await?;
    let net = store.load_network(&region).await?;
    let month = next_month(&net);
    print!("{}", print::network(&net, month));
    Ok(ExitCode::SUCCESS)
}

/// The Southern Shimoina demo network, built into the binary so that
/// `touban demo` works from any directory.
pub(crate) const DEMO_NETWORK: &str =
    include_str!("../../../config/networks/southern-shimoina.toml");

pub async fn demo(
    cfg: &Config,
    db: &DbArg,
    network: Option<&Path>,
    month: Option<&str>,
    solve: &SolveArgs,
) -> anyhow::Result<ExitCode> {
    let net = match network {
        Some(file) => load_valid(file)?,
        None => touban_netfile::parse("southern-shimoina.toml (built in)", DEMO_NETWORK)
            .map_err(|p| anyhow::anyhow!("the built-in demo network is invalid:\n{p}"))?,
    };
    let url = store::database_url(cfg, db);
    let store = store::open(&url).await?;
    let report = store.import_network(&net, "demo").await?;
    println!(
        "デモネットワークを読み込みました / demo network loaded into {url}: {}",
        report.to_string().trim_end()
    );
    let stored = store.load_network(&net.region.id).await?;
    let month = match month {
        Some(m) => rota::parse_month(m)?,
        None => next_month(&stored),
    };
    print!("{}", print::network(&stored, month));
    println!();
    let code = rota::generate(
        store.as_ref(),
        &net.region.id,
        month,
        &solve.options(),
        "touban demo",
    )
    .await?;
    let who = stored.policy.coordinator_emails.first().map_or_else(
        || "a coordinator's address".to_string(),
        ToString::to_string,
    );
    println!(
        "\nWeb の画面 / the web app: `touban serve --db {}` を実行し / run it, open {}/ and sign in with {who}\n(SMTP サーバーがなければ、サインイン用リンクは端末に表示されます / with no SMTP server the sign-in link is printed in the terminal)",
        url.redacted().trim_start_matches("sqlite:"),
        cfg.api.public_url.trim_end_matches('/'),
    );
    Ok(code)
}

/// Opens the store, picks the region, and runs `f`.
pub async fn with_region<F>(
    cfg: &Config,
    db: &DbArg,
    region: Option<&str>,
    f: F,
) -> anyhow::Result<ExitCode>
where
    F: AsyncFnOnce(&dyn touban_store::Store, RegionId) -> anyhow::Result<ExitCode>,
{
    let url = store::database_url(cfg, db);
    let store = store::open(&url).await?;
    let region = pick_region(store.as_ref(), region).await?;
    f(store.as_ref(), region).await
}

/// The month after today in the region's time zone.
fn next_month(net: &touban_domain::Network) -> Month {
    use chrono::Datelike;
    let today = chrono::Utc::now()
        .with_timezone(&net.region.time_zone)
        .date_naive();
    Month::new(today.year(), today.month()).map_or_else(
        |_| Month {
            year: 2027,
            month: 1,
        },
        Month::next,
    )
}
