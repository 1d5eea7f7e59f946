//! Picks the storage adapter from the database URL's scheme.

use anyhow::{Context, bail};
use touban_store::Store;
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

pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Box<dyn Store>> {
    let raw = url.expose();
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        bail!(
            "{url}: this build has no PostgreSQL adapter yet (the scale-out backend is planned); use a SQLite file"
        );
    }
    if let Some((scheme, _)) = raw.split_once("://")
        && scheme != "sqlite"
    {
        bail!("{url}: unknown database scheme \"{scheme}\" (use a file path or sqlite://PATH)");
    }
    let store = SqliteStore::connect(raw)
        .await
        .with_context(|| format!("opening {url}"))?;
    Ok(Box::new(store))
}
