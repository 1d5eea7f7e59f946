//! End-to-end tests of the `touban` binary: they run the real executable on
//! real files and a real SQLite database, and read what a person would read.

#[path = "support/cli.rs"]
mod support;

use std::process::Command;

use support::*;

/// generate → export → absence → repair, through the real binary.
#[test]
fn generate_export_absence_repair() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let dbs = db.to_str().unwrap();
    assert!(
        touban(&["import", demo().to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );
    let generated = touban(&["generate", "--month", "2027-01", "--db", dbs]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let grid = stdout(&generated);
    // Every day of the month is a row, and no cell is left unfilled.
    for d in 1..=31 {
        assert!(grid.contains(&format!("01/{d:02}(")), "row for 01/{d:02}");
    }
    assert!(
        !grid
            .lines()
            .any(|l| l.starts_with("01/") && l.contains("★未定")),
        "{grid}"
    );

    // Export: JSON and CSV carry the "time slot → person → phone" list.
    let json = touban(&[
        "export", "--month", "2027-01", "--format", "json", "--db", dbs,
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["month"], "2027-01");
    assert_eq!(doc["version"], 1);
    let rows = doc["assignments"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        241,
        "210 shifts, and a second physician on each of the 31 home-care nights"
    );
    let night = rows
        .iter()
        .find(|r| {
            r["service"] == "homecare-oncall"
                && r["template"] == "night"
                && r["date"] == "2027-01-01"
        })
        .unwrap();
    assert_eq!(night["start"], "2027-01-01T17:30:00+09:00");
    assert_eq!(night["end"], "2027-01-02T08:30:00+09:00");
    assert!(night["phone"].as_str().unwrap().starts_with("090-0000-"));
    let csv_file = dir.path().join("jan.csv");
    let csv = touban(&[
        "export",
        "--month",
        "2027-01",
        "--format",
        "csv",
        "--out",
        csv_file.to_str().unwrap(),
        "--db",
        dbs,
    ]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let csv_text = std::fs::read_to_string(&csv_file).unwrap();
    assert!(csv_text.starts_with(
        "service,service_name,template,template_name,date,start,end,staff,name,role,phone,unfilled\n"
    ));
    assert_eq!(csv_text.lines().count(), rows.len() + 1);
    let bad = touban(&[
        "export", "--month", "2027-01", "--format", "xml", "--db", dbs,
    ]);
    assert!(stderr(&bad).contains("\"xml\" is not a format (json, csv)"));

    // Whoever is on the home-care night of the 14th falls ill.
    let who = rows
        .iter()
        .find(|r| {
            r["service"] == "homecare-oncall"
                && r["template"] == "night"
                && r["date"] == "2027-01-14"
        })
        .unwrap()["staff"]
        .as_str()
        .unwrap()
        .to_string();
    let abs = touban(&[
        "absence",
        "add",
        &who,
        "2027-01-14",
        "2027-01-14",
        "--reason",
        "発熱",
        "--db",
        dbs,
    ]);
    assert!(abs.status.success(), "{}", stderr(&abs));
    let bad = touban(&[
        "absence",
        "add",
        "nobody",
        "2027-01-14",
        "2027-01-14",
        "--db",
        dbs,
    ]);
    assert!(
        stderr(&bad).contains("no staff member \"nobody\""),
        "{}",
        stderr(&bad)
    );
    let bad = touban(&["absence", "add", &who, "2027-01-14", "14 Jan", "--db", dbs]);
    assert!(
        stderr(&bad).contains("TO: \"14 Jan\" is not a date"),
        "{}",
        stderr(&bad)
    );

    let rep = touban(&["repair", "--month", "2027-01", "--db", dbs]);
    assert!(rep.status.success(), "{}", stderr(&rep));
    let text = stdout(&rep);
    assert!(text.contains("version 1 → 2"), "{text}");
    let changes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  2027-01-"))
        .collect();
    assert!(
        !changes.is_empty()
            && changes
                .iter()
                .any(|l| l.contains("2027-01-14 homecare-oncall night")),
        "{text}"
    );
    // Only shifts that touch the 14th change.
    assert!(
        changes
            .iter()
            .all(|l| l.contains("2027-01-13") || l.contains("2027-01-14")),
        "{text}"
    );
    let exported = touban(&[
        "export",
        "--month",
        "2027-01",
        "--version",
        "2",
        "--db",
        dbs,
    ]);
    let v2: serde_json::Value = serde_json::from_str(&stdout(&exported)).unwrap();
    assert!(
        !v2["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["staff"] == who.as_str() && r["date"] == "2027-01-14")
    );
}

/// Bad values on the command line are refused with what would be accepted.
#[test]
fn bad_solver_options_and_months_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    let dbs = db.to_str().unwrap();
    assert!(
        touban(&["import", demo().to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );
    let out = touban(&[
        "generate",
        "--month",
        "2027-01",
        "--time-limit=0",
        "--db",
        dbs,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the time limit must be more than 0"),
        "{}",
        stderr(&out)
    );
    let out = touban(&["generate", "--month", "2027-01", "--gap", "5", "--db", dbs]);
    assert!(
        stderr(&out).contains("the gap is a fraction from 0 to 1"),
        "{}",
        stderr(&out)
    );
    let out = touban(&["generate", "--month", "2027-13", "--db", dbs]);
    assert!(
        stderr(&out).contains("--month: \"2027-13\" is not a month"),
        "{}",
        stderr(&out)
    );
    let out = touban(&["export", "--month", "2027-01", "--db", dbs]);
    assert!(stderr(&out).contains("no rota for 2027-01 in region \"southern-shimoina\": run `touban generate --month 2027-01` first"), "{}", stderr(&out));
    let out = touban(&["repair", "--month", "2027-01", "--db", dbs]);
    assert!(
        stderr(&out).contains("there is no rota for 2027-01 to repair"),
        "{}",
        stderr(&out)
    );
}

/// Issue 13, item 12: a shift nobody can take is exported as a flagged row
/// with no person (未定) and the number patients call instead, not left out.
#[test]
fn unfilled_shifts_are_exported_as_flagged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(demo()).unwrap();
    let net = touban_netfile::parse("demo.toml", &text).unwrap();
    // Every pharmacist away on 2027-01-05: that day's pharmacy shifts stay empty.
    let mut file = text;
    for p in net
        .staff
        .iter()
        .filter(|p| p.profession.as_str() == "pharmacist")
    {
        file.push_str(&format!(
            "\n[[absences]]\nstaff = \"{}\"\nfrom = 2027-01-05\nto = 2027-01-05\n",
            p.id
        ));
    }
    let path = dir.path().join("net.toml");
    std::fs::write(&path, file).unwrap();
    let db = dir.path().join("u.db");
    let dbs = db.to_str().unwrap();
    assert!(
        touban(&["import", path.to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );
    let g = touban(&["generate", "--month", "2027-01", "--db", dbs]);
    assert_eq!(
        g.status.code(),
        Some(3),
        "unfilled shifts: exit 3\n{}",
        stderr(&g)
    );
    let json = touban(&[
        "export", "--month", "2027-01", "--format", "json", "--db", dbs,
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let unfilled: Vec<_> = doc["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["unfilled"] == true)
        .collect();
    assert!(!unfilled.is_empty(), "{doc}");
    for r in &unfilled {
        assert_eq!(r["staff"], "");
        assert_eq!(r["name"], "未定");
        assert_eq!(
            r["phone"], "0260-00-0000",
            "the region's fallback number: {r}"
        );
        assert!(
            r["date"] == "2027-01-05" || r["date"] == "2027-01-04",
            "{r}"
        );
    }
}

/// Issue 14, item 9: `touban demo` works from any directory (the demo
/// network is built into the binary).
#[test]
fn demo_works_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_touban"))
        .args([
            "demo",
            "--db",
            "d.db",
            "--month",
            "2027-01",
            "--time-limit",
            "20",
        ])
        .current_dir(dir.path())
        .env_remove("TOUBAN_DATABASE_URL")
        .env_remove("TOUBAN_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("必須ルール違反なし"),
        "{}",
        stdout(&out)
    );
}

/// Issue 14, item 10: a command whose reader goes away stops quietly,
/// without a panic or a backtrace.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(["calendar", "2027"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the command has printed anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(out.status.success(), "{:?} {err}", out.status);
}

/// Issue 14, item 14: `token list` has a header line.
#[test]
fn token_list_has_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let dbs = db.to_str().unwrap();
    let made = touban(&[
        "token", "create", "--role", "admin", "--label", "IT", "--db", dbs,
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let list = touban(&["token", "list", "--db", dbs]);
    let text = stdout(&list);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id\trole\tregion\tscope\tlabel\tstate"));
    assert!(lines.next().unwrap().contains("\tadmin\t"), "{text}");
}

/// Issue 14, item 11: the CLI refuses an absence outside a sane range with
/// the same check as the API.
#[test]
fn absurd_absences_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let dbs = db.to_str().unwrap();
    assert!(
        touban(&["import", demo().to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );
    let out = touban(&[
        "absence",
        "add",
        "kato-naoko",
        "0000-01-01",
        "9999-12-31",
        "--db",
        dbs,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("between 2000 and 2100"),
        "{}",
        stderr(&out)
    );
}
