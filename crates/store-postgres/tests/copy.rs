//! Moving up: a SQLite database with a row in every table copied into an
//! empty PostgreSQL database; counts and checksums equal, the same content
//! through the port, ids continuing after the copied ones, a non-empty
//! target refused unless replacing.

use touban_store::{AuditEntry, Store, StoreError};
use touban_store_conformance::{assert_same_content, fill_every_table};
use touban_store_postgres::PgStore;
use touban_store_postgres::copy::{TABLES, from_sqlite};
use touban_store_postgres::testdb::TestDb;
use touban_store_sqlite::SqliteStore;

#[tokio::test]
async fn every_table_is_copied_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("touban.db");
    let path = file.to_str().unwrap();
    let sqlite = SqliteStore::connect(path).await.unwrap();
    fill_every_table(&sqlite).await;

    let db = TestDb::new("copy").await;
    let report = from_sqlite(path, &db.url(), false).await.unwrap();
    assert_eq!(report.tables.len(), TABLES.len());
    for t in &report.tables {
        assert!(t.matches(), "{t:?}");
        assert!(t.source_rows > 0, "the fill left {} empty", t.table);
    }
    assert!(!report.replaced);

    let pg = PgStore::connect(&db.url(), 2).await.unwrap();
    assert_same_content(&sqlite, &pg).await;
    assert_eq!(
        pg.server_secret("links", b"other").await.unwrap(),
        b"\x00\x01secret\xff"
    );

    // New rows take ids after the copied ones.
    let entry = AuditEntry {
        actor: "after".into(),
        address: None,
        region: None,
        method: "GET".into(),
        path: "/".into(),
        status: 200,
        action: "x".into(),
        detail: String::new(),
    };
    let last = sqlite
        .audit_log(None, 0, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .id;
    assert_eq!(pg.append_audit(&entry).await.unwrap(), last + 1);

    // A target with data is refused, and nothing changes; --replace empties
    // it (the audit log too) and copies again.
    let e = from_sqlite(path, &db.url(), false).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Conflict(m) if m.contains("not empty") && m.contains("audit_log")),
        "{e}"
    );
    assert_eq!(
        pg.audit_log(None, 0, 100).await.unwrap().len() as i64,
        last + 1
    );
    let again = from_sqlite(path, &db.url(), true).await.unwrap();
    assert!(again.replaced);
    assert!(again.tables.iter().all(|t| t.matches()));
    assert_same_content(&sqlite, &pg).await;

    // A missing source is said plainly.
    let e = from_sqlite("/nonexistent/touban.db", &db.url(), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no SQLite database"), "{e}");
    pg.pool().close().await;
}
