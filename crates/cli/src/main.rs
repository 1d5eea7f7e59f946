//! `touban`: the command-line entry point. Wiring only: parsing arguments,
//! loading configuration, opening the store, and calling the crates.
#![forbid(unsafe_code)]

mod commands;
mod config;
mod print;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "touban",
    version,
    about = "当番 — on-call and absence-cover rotas for regional healthcare networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DbArg {
    /// Database: a SQLite file path or sqlite: URL (default from config:
    /// ./touban.db). Also TOUBAN_DATABASE_URL.
    #[arg(long, global = true)]
    pub db: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every non-working day of a year: date, class, name (tab-separated).
    Calendar {
        year: i32,
        /// Add the regional closures (e.g. Obon) of this network file.
        #[arg(long)]
        network: Option<PathBuf>,
    },
    /// Check a network file; print every problem with file, line and field.
    Validate { file: PathBuf },
    /// Validate a network file and load it into the database (idempotent).
    Import {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Show a region's network as stored in the database.
    Show {
        /// Region id (needed only when the database holds several).
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Load the Southern Shimoina demo network and show it.
    Demo {
        /// The demo network file.
        #[arg(long, default_value = "config/networks/southern-shimoina.toml")]
        network: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match config::Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&cfg.log.level);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Calendar { year, network } => commands::calendar(year, network.as_deref()),
            Command::Validate { file } => commands::validate(&file),
            Command::Import { file, db } => commands::import(&cfg, &db, &file).await,
            Command::Show { region, db } => commands::show(&cfg, &db, region.as_deref()).await,
            Command::Demo { network, db } => commands::demo(&cfg, &db, &network).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
