//! The PostgreSQL adapter's schema and connection against the real server on
//! this machine (127.0.0.1:5432, user postgres; `.ci/run` starts it). Each
//! test makes a database of its own and drops it.

use touban_store::StoreError;
use touban_store_postgres::PgStore;

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database of its own for one test, dropped at the end.
struct TestDb {
    name: String,
}

impl TestDb {
    async fn new(tag: &str) -> Self {
        let name = format!("touban_test_{tag}_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&format!("{SERVER}/postgres"))
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (user postgres): start it with pg_ctlcluster");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        Self { name }
    }

    fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }

    async fn drop(self) {
        let admin = sqlx::PgPool::connect(&format!("{SERVER}/postgres"))
            .await
            .unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
}

#[tokio::test]
async fn the_schema_is_made_at_start_once_and_its_status_is_told() {
    let db = TestDb::new("schema").await;
    let before = PgStore::status(&db.url()).await.unwrap();
    assert!(!before.is_empty());
    assert!(before.iter().all(|m| m.applied_at.is_none()), "{before:?}");
    // Two instances starting at once: both come up, the schema made once.
    let url = db.url();
    let (a, b) = tokio::join!(PgStore::connect(&url, 2), PgStore::connect(&url, 2));
    let (a, b) = (a.unwrap(), b.unwrap());
    let after = PgStore::status(&db.url()).await.unwrap();
    assert!(after.iter().all(|m| m.applied_at.is_some()), "{after:?}");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_one(a.pool())
    .await
    .unwrap();
    assert_eq!(tables, 24);
    a.pool().close().await;
    b.pool().close().await;
    db.drop().await;
}

#[tokio::test]
async fn the_audit_log_is_append_only_in_the_database_itself() {
    let db = TestDb::new("audit").await;
    let s = PgStore::connect(&db.url(), 2).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_log (at, actor, method, path, status, action, detail)
         VALUES (now(), 'web:a@example.jp', 'POST', '/months/2027-01/publish', 200, 'publish', 'done')",
    )
    .execute(s.pool())
    .await
    .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e =
            touban_store_postgres::db_err(sqlx::query(sql).execute(s.pool()).await.unwrap_err());
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("append-only")),
            "{sql}: {e}"
        );
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // A second published version of one month is refused by the database.
    sqlx::query("INSERT INTO regions (id, name, data, settings, created_at, updated_at) VALUES ('r', 'R', '{}', '{}', now(), now())")
        .execute(s.pool())
        .await
        .unwrap();
    for v in [1, 2] {
        let r = sqlx::query(
            "INSERT INTO rota_versions (region_id, month, version, status, created_at, created_by) VALUES ('r', '2027-01', $1, 'published', now(), 't')",
        )
        .bind(v)
        .execute(s.pool())
        .await;
        if v == 2 {
            assert!(matches!(
                touban_store_postgres::db_err(r.unwrap_err()),
                StoreError::Conflict(_)
            ));
        } else {
            r.unwrap();
        }
    }
    s.pool().close().await;
    db.drop().await;
}

#[tokio::test]
async fn an_unreachable_server_and_a_wrong_url_are_said_plainly() {
    let e = PgStore::connect("postgres://postgres:secret@127.0.0.1:1/none", 1)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("cannot be reached"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    let e = PgStore::connect("postgres://[bad", 1).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
}
