//! The end-to-end harness: the real server on a loopback port over a
//! temporary SQLite database holding the demo network and a second region.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use touban_api::ApiConfig;
use touban_store::{Grant, Store};
use touban_store_sqlite::SqliteStore;

pub const REGION: &str = "southern-shimoina";

pub fn demo_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/networks/southern-shimoina.toml")
}

pub struct Server {
    pub base: String,
    pub store: Arc<SqliteStore>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(config: ApiConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("touban.db");
        let store = Arc::new(SqliteStore::connect(db.to_str().unwrap()).await.unwrap());
        let net = touban_netfile::load(&demo_file()).unwrap();
        store.import_network(&net, "test").await.unwrap();
        // A second region, to show that one region's people cannot see the other.
        let other = touban_solver::synth::network(
            30,
            3,
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            31,
            7,
        );
        store.import_network(&other, "test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let dynstore: Arc<dyn Store> = store.clone();
        let handle = tokio::spawn(touban_api::serve(dynstore, config, listener, async {
            let _ = rx.await;
        }));
        Self {
            base,
            store,
            stop: Some(tx),
            handle,
            _dir: dir,
        }
    }

    pub async fn token(&self, grant: Grant) -> String {
        let t = touban_api::auth::issue(grant, "test", "test").unwrap();
        self.store.create_credential(&t.credential).await.unwrap();
        t.token
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.handle.await.unwrap().unwrap();
    }
}

pub fn region() -> touban_domain::RegionId {
    touban_domain::RegionId::parse(REGION).unwrap()
}

pub fn config() -> ApiConfig {
    ApiConfig {
        rate_per_second: 0,
        ..ApiConfig::default()
    }
}

pub async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
