//! Layered configuration: built-in defaults (`config/default.toml`, compiled
//! in), then an optional file named by `TOUBAN_CONFIG`, then environment
//! variables `TOUBAN_SECTION__KEY`. Secrets never reach `Debug` output.

use std::fmt;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Deserialize)]
pub struct Config {
    pub database: Database,
    pub log: Log,
    pub server: Server,
    #[serde(default)]
    pub api: touban_api::ApiConfig,
    #[serde(default)]
    pub smtp: touban_notify::SmtpConfig,
    #[serde(default)]
    pub notify: touban_notify::NotifyConfig,
    #[serde(default)]
    pub web: touban_web::WebConfig,
}

#[derive(Debug, Deserialize)]
pub struct Server {
    /// Address `touban serve` listens on.
    pub listen: String,
}

#[derive(Debug, Deserialize)]
pub struct Log {
    pub level: String,
}

#[derive(Debug, Deserialize)]
pub struct Database {
    pub url: DatabaseUrl,
    /// Most connections one `touban serve` or `touban notify run` holds
    /// (PostgreSQL; SQLite keeps its own small pool).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    10
}

/// A database URL. It may carry a password (`postgres://user:pw@host/db`), so
/// `Debug` and `Display` print it with the password masked.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn new(s: &str) -> Self {
        Self(SecretString::from(s.to_string()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let s = self.expose();
        let Some((scheme, rest)) = s.split_once("://") else {
            return s.to_string();
        };
        let Some((userinfo, host)) = rest.split_once('@') else {
            return s.to_string();
        };
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => s.to_string(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        Self::from_figment(Self::figment())
    }

    pub fn figment() -> Figment {
        let mut fig = Figment::from(Toml::string(DEFAULTS));
        if let Ok(path) = std::env::var("TOUBAN_CONFIG") {
            fig = fig.merge(Toml::file_exact(path));
        }
        // TOUBAN_DATABASE_URL is the conventional name; TOUBAN_DATABASE__URL
        // follows the general SECTION__KEY rule. Both work.
        fig.merge(
            Env::prefixed("TOUBAN_")
                .ignore(&["CONFIG", "DATABASE_URL"])
                .split("__"),
        )
        .merge(
            Env::raw()
                .only(&["TOUBAN_DATABASE_URL"])
                .map(|_| "database.url".into()),
        )
    }

    pub fn from_figment(fig: Figment) -> anyhow::Result<Self> {
        fig.extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature
mod tests {
    use super::*;

    #[test]
    fn defaults_load() {
        let c = Config::from_figment(Figment::from(Toml::string(DEFAULTS))).unwrap();
        assert_eq!(c.database.url.expose(), "touban.db");
    }

    #[test]
    fn environment_overrides_and_secrets_stay_hidden() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "TOUBAN_DATABASE_URL",
                "postgres://touban:hunter2@127.0.0.1/touban",
            );
            jail.set_env("TOUBAN_LOG__LEVEL", "debug");
            let c = Config::from_figment(Config::figment()).unwrap();
            assert_eq!(c.log.level, "debug");
            assert_eq!(
                c.database.url.expose(),
                "postgres://touban:hunter2@127.0.0.1/touban"
            );
            let printed = format!("{c:?} {}", c.database.url);
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(
                printed.contains("postgres://touban:***@127.0.0.1/touban"),
                "{printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_config_file_layers_on_top() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("site.toml", "[log]\nlevel = \"info\"\n")?;
            jail.set_env("TOUBAN_CONFIG", "site.toml");
            let c = Config::from_figment(Config::figment()).unwrap();
            assert_eq!(c.log.level, "info");
            assert_eq!(c.database.url.expose(), "touban.db");
            Ok(())
        });
    }
}
