//! `touban db status|migrate|copy`, on both backends.

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

/// `touban db copy`: a SQLite database with a published month moved to an
/// empty PostgreSQL database; the table of counts and checksums printed;
/// the export from either is the same; a second copy into the now
/// non-empty database is refused, naming its tables.
#[test]
fn db_copy_moves_a_sqlite_database_up_to_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.db");
    let path = file.to_str().unwrap();
    let net = demo();
    touban_ok(&["import", net.to_str().unwrap(), "--db", path]);
    touban_ok(&["generate", "--month", "2027-01", "--db", path]);
    touban_ok(&["publish", "--month", "2027-01", "--db", path]);
    let name = format!("touban_cli_copy_{}", std::process::id());
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
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    psql(&format!("CREATE DATABASE {name}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let out = touban_ok(&["db", "copy", "--from", path, "--to", &url]);
    assert!(
        out.contains("assignments") && out.contains("every table's count and checksum match"),
        "{out}"
    );
    let export = |db: &str| {
        touban_ok(&[
            "export", "--month", "2027-01", "--format", "csv", "--db", db,
        ])
    };
    assert_eq!(export(&url), export(path));
    let again = touban(&["db", "copy", "--from", path, "--to", &url]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("not empty: regions (1)"),
        "{}",
        stderr(&again)
    );
    psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
}
