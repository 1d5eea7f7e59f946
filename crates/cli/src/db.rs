//! `touban db status|migrate`: the schema of either backend (issue 17).
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
    }
}
