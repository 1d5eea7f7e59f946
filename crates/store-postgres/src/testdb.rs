//! A database of its own for one test on the real server of the machine
//! (`TOUBAN_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`),
//! created empty and dropped when the guard goes. Used by this crate's
//! tests and by the tests of the crates above it.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server tests use.
pub fn server() -> String {
    std::env::var("TOUBAN_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A throw-away database; dropped (with its connections) on drop.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// Makes an empty database named after `tag`, the process and a counter.
    ///
    /// # Panics
    /// When the server cannot be reached (the message says how to start it).
    pub async fn new(tag: &str) -> Self {
        let name = format!(
            "touban_test_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let admin = sqlx::PgPool::connect(&format!("{}/postgres", server()))
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (user postgres): start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await
            .expect("drop an old test database");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;
        Self { name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", server(), self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a runtime of its own on
        // another thread.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = sqlx::PgPool::connect(&format!("{}/postgres", server()))
                    .await
                    .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await
                    .ok()?;
                admin.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(done, Ok(Some(()))) {
            eprintln!("test database {} was not dropped", self.name);
        }
    }
}
