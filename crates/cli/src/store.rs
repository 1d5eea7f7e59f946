//! Picks the storage adapter from the database URL's scheme.

use anyhow::{Context, bail};
use touban_store::Store;
use touban_store_postgres::PgStore;
use touban_store_sqlite::SqliteStore;

use crate::DbArg;
use crate::config::{Config, DatabaseUrl};

/// `--db` wins over the configuration (which already folds in the
/// environment).
pub fn database_url(cfg: &Config, arg: &DbArg) -> DatabaseUrl {
    arg.db
        .as_deref()
        .map_or_else(|| cfg.database.url.clone(), DatabaseUrl::new)
}

/// Opens the store for a one-off command (a small pool).
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Box<dyn Store>> {
    open_pool(url, 4).await
}

/// Whether the URL names a PostgreSQL database.
pub fn is_postgres(url: &DatabaseUrl) -> bool {
    let raw = url.expose();
    raw.starts_with("postgres://") || raw.starts_with("postgresql://")
}

/// Opens the store with at most `max_connections` connections (PostgreSQL;
/// SQLite keeps its own small pool: one writer at a time).
pub async fn open_pool(url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Box<dyn Store>> {
    let raw = url.expose();
    if is_postgres(url) {
        let store = PgStore::connect(raw, max_connections.max(1))
            .await
            .with_context(|| format!("opening {url}"))?;
        return Ok(Box::new(store));
    }
    if let Some((scheme, _)) = raw.split_once("://")
        && scheme != "sqlite"
    {
        bail!(
            "{url}: unknown database scheme \"{scheme}\" (use a file path, sqlite://PATH or postgres://USER@HOST/DB)"
        );
    }
    let store = SqliteStore::connect(raw)
        .await
        .with_context(|| format!("opening {url}"))?;
    Ok(Box::new(store))
}
