//! The storage port's conformance suite on PostgreSQL (the real server of
//! the machine), each case in a database of its own, dropped afterwards:
//! the same cases the SQLite adapter passes.

use touban_store_postgres::PgStore;
use touban_store_postgres::testdb::TestDb;

async fn fresh() -> (PgStore, TestDb) {
    let db = TestDb::new("conf").await;
    let store = PgStore::connect(&db.url(), 4).await.unwrap();
    (store, db)
}

touban_store_conformance::conformance_suite!(fresh().await);
