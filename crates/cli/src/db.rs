//! `touban db status|migrate|copy`: the schema of either backend, and
//! moving up from SQLite to PostgreSQL.
//! The URL's scheme picks it: `postgres://…` or a SQLite file / `sqlite:`.

use std::process::ExitCode;

use clap::Subcommand;
use touban_store::MigrationState;

use crate::DbArg;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Each migration of the schema and whether the database has it
    /// (changes nothing).
    Status {
        #[command(flatten)]
        db: DbArg,
    },
    /// Bring the database's schema up to date (every server also does so
    /// when it starts).
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Copy everything of a SQLite database into an empty PostgreSQL
    /// database (moving up), in one transaction, and check that every
    /// table's row count and content checksum are equal on both sides.
    Copy {
        /// The SQLite database: a path or sqlite:PATH.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DB.
        #[arg(long)]
        to: String,
        /// Empty a target that holds data first (everything in it is lost,
        /// its audit log too). Without it a non-empty target is refused.
        #[arg(long)]
        replace: bool,
    },
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn print(url: &str, states: &[MigrationState]) -> usize {
    let pending = states.iter().filter(|m| m.applied_at.is_none()).count();
    for m in states {
        match m.applied_at {
            Some(t) => println!(
                "{:04} {:<28} applied {}",
                m.version,
                m.description,
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            None => println!("{:04} {:<28} PENDING", m.version, m.description),
        }
    }
    if pending == 0 {
        println!("{url}: up to date ({} migrations)", states.len());
    } else {
        println!(
            "{url}: {pending} of {} migrations to apply (touban db migrate)",
            states.len()
        );
    }
    pending
}

async fn status(url: &str) -> anyhow::Result<Vec<MigrationState>> {
    Ok(if is_postgres(url) {
        touban_store_postgres::PgStore::status(url).await?
    } else {
        touban_store_sqlite::SqliteStore::status(url).await?
    })
}

pub async fn run(cfg: &Config, cmd: &DbCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCmd::Status { db } => {
            let url = crate::store::database_url(cfg, db);
            let raw = url.expose();
            // Pending migrations are not an error: a server applies them.
            print(&url.to_string(), &status(raw).await?);
            Ok(ExitCode::SUCCESS)
        }
        DbCmd::Migrate { db } => {
            let url = crate::store::database_url(cfg, db);
            let raw = url.expose();
            if is_postgres(raw) {
                touban_store_postgres::PgStore::connect(raw, 1).await?;
            } else {
                touban_store_sqlite::SqliteStore::connect(raw).await?;
            }
            print(&url.to_string(), &status(raw).await?);
            Ok(ExitCode::SUCCESS)
        }
        DbCmd::Copy { from, to, replace } => copy(from, to, *replace).await,
    }
}

async fn copy(from: &str, to: &str, replace: bool) -> anyhow::Result<ExitCode> {
    if is_postgres(from) {
        anyhow::bail!("--from {from}: give the SQLite database to copy (a path or sqlite:PATH)");
    }
    if !is_postgres(to) {
        anyhow::bail!("--to: give the PostgreSQL database to copy into (postgres://…)");
    }
    let to_shown = crate::config::DatabaseUrl::new(to).to_string();
    let started = std::time::Instant::now();
    let report = touban_store_postgres::copy::from_sqlite(from, to, replace).await?;
    println!(
        "{:<20} {:>9} {:>9}  sha256 (both sides)",
        "table", "source", "target"
    );
    for t in &report.tables {
        println!(
            "{:<20} {:>9} {:>9}  {}",
            t.table,
            t.source_rows,
            t.target_rows,
            &t.target_sha256[..16]
        );
    }
    println!(
        "copied {} rows from {from} to {to_shown} in {:.1} s{}; every table's count and checksum match",
        report.rows(),
        started.elapsed().as_secs_f64(),
        if report.replaced {
            " (the target's earlier data was replaced)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
