//! The storage port's conformance suite on SQLite, each case in a fresh
//! database file.

use touban_store_sqlite::SqliteStore;

async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("touban.db");
    let store = SqliteStore::connect(path.to_str().unwrap()).await.unwrap();
    (store, dir)
}

touban_store_conformance::conformance_suite!(fresh().await);

/// The journal mode and busy timeout that make concurrent access safe.
#[tokio::test]
async fn wal_mode_and_foreign_keys_are_on() {
    use sqlx::Row;
    let (store, _dir) = fresh().await;
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(timeout >= 5000);
}

/// Opening a database twice runs migrations once and keeps the data.
#[tokio::test]
async fn reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("touban.db");
    let path = path.to_str().unwrap();
    let net = touban_store_conformance::demo_network();
    {
        use touban_store::Store;
        let s = SqliteStore::connect(path).await.unwrap();
        s.import_network(&net, "t").await.unwrap();
        s.pool().close().await;
    }
    use touban_store::Store;
    let s = SqliteStore::connect(path).await.unwrap();
    touban_store_conformance::assert_same_network(
        &s.load_network(&net.region.id).await.unwrap(),
        &net,
    );
}
