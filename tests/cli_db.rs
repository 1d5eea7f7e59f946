//! `touban db status|migrate`, on both backends.

#[path = "support/cli.rs"]
mod support;

use support::*;

/// `touban db status|migrate` on a SQLite file and on a PostgreSQL
/// database (the real server on 127.0.0.1:5432): pending migrations listed
/// without changing anything, then applied.
#[test]
fn db_status_and_migrate_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new.db");
    let path = file.to_str().unwrap();
    let out = touban(&["db", "status", "--db", path]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no database"), "{}", stderr(&out));
    assert!(!file.exists(), "status created the file");
    let out = touban(&["db", "migrate", "--db", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("up to date"), "{}", stdout(&out));
    let listed = stdout(&touban(&["db", "status", "--db", path]));
    assert!(
        listed.contains("0009 swaps") && !listed.contains("PENDING"),
        "{listed}"
    );

    let name = format!("touban_cli_db_{}", std::process::id());
    let psql = |sql: &str| {
        let o = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql])
            .output()
            .expect("psql");
        assert!(
            o.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    psql(&format!("DROP DATABASE IF EXISTS {name}"));
    psql(&format!("CREATE DATABASE {name}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let listed = stdout(&touban(&["db", "status", "--db", &url]));
    assert!(
        listed.contains("PENDING") && listed.contains("to apply"),
        "{listed}"
    );
    let out = touban(&["db", "migrate", "--db", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&touban(&["db", "status", "--db", &url]));
    assert!(
        listed.contains("0001 initial") && listed.contains("up to date"),
        "{listed}"
    );
    psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
}
