//! End-to-end tests of the `touban` binary on the network file and the
//! database: the calendar, validate, import (twice, and a failed one), the
//! demo network, and where the database is. Real executable, real files,
//! a real SQLite database.

#[path = "support/cli.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::*;

/// Every row of every table, as text: two equal dumps mean an unchanged database.
fn dump(db: &Path) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{Row, sqlite::SqliteConnectOptions};
        let opts = SqliteConnectOptions::new().filename(db).read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        let tables: Vec<String> =
            sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        let mut out = String::new();
        for t in tables {
            for row in sqlx::query(&format!("SELECT * FROM \"{t}\" ORDER BY rowid")).fetch_all(&pool).await.unwrap() {
                let cells: Vec<String> = (0..row.columns().len())
                    .map(|i| {
                        row.try_get::<String, _>(i)
                            .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
                            .or_else(|_| row.try_get::<f64, _>(i).map(|v| v.to_string()))
                            .unwrap_or_else(|_| "NULL".into())
                    })
                    .collect();
                out.push_str(&format!("{t}: {}\n", cells.join(" | ")));
            }
        }
        pool.close().await;
        out
    })
}

#[test]
fn calendar_2027_matches_jpholiday_plus_year_end_and_sundays() {
    use chrono::{Datelike, NaiveDate, Weekday};
    let golden: std::collections::BTreeMap<NaiveDate, String> =
        std::fs::read_to_string(root().join("crates/calendar/tests/data/jpholiday_2000_2060.tsv"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (d, n) = l.split_once('\t').unwrap();
                (d.parse().unwrap(), n.to_string())
            })
            .collect();
    let mut expected = Vec::new();
    let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    for d in first.iter_days().take_while(|d| d.year() == 2027) {
        let year_end = (d.month() == 12 && d.day() >= 29) || (d.month() == 1 && d.day() <= 3);
        let line = match (year_end, golden.get(&d)) {
            (true, Some(n)) => format!("{d}\tyear_end\t{n}"),
            (true, None) => format!("{d}\tyear_end\t年末年始休暇"),
            (false, Some(n)) => format!("{d}\tholiday\t{n}"),
            (false, None) if d.weekday() == Weekday::Sun => format!("{d}\tholiday\t日曜日"),
            _ => continue,
        };
        expected.push(line);
    }
    let out = touban(&["calendar", "2027"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got, expected);
    assert!(got.contains(&"2027-03-22\tholiday\t春分の日 振替休日"));
}

#[test]
fn calendar_with_a_network_adds_its_closures() {
    let out = touban(&["calendar", "2027", "--network", demo().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("2027-08-13\tholiday\tお盆"), "{text}");
    assert!(text.contains("2027-08-11\tholiday\t山の日"));
    let out = touban(&["calendar", "1800"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("year 1800 is outside"));
}

#[test]
fn validate_passes_the_demo_network_with_a_summary() {
    let out = touban(&["validate", demo().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(": valid"));
    assert!(
        text.contains("5 municipalities, 29 institutions, 32 staff, 5 services"),
        "{text}"
    );
    assert!(
        text.contains("homecare-oncall") && text.contains("168.0 h/week"),
        "{text}"
    );
    assert!(
        text.lines().count() < 25,
        "summary should fit one screen:\n{text}"
    );
}

/// Five different mistakes in the demo file: five precise messages, exit 1.
#[test]
fn validate_reports_five_mistakes_precisely() {
    let src = std::fs::read_to_string(demo()).unwrap();
    let bad = src
        .replacen(
            "institution = \"urugi-clinic\"",
            "institution = \"urugi-clinik\"",
            1,
        )
        .replacen(
            "email = \"saito.yoko@anan-pharmacy.example.jp\"",
            "email = \"saito.yoko@\"",
            1,
        )
        .replacen(
            "start = \"17:15\"\nend = \"08:30\"\nend_day = 1",
            "start = \"17:15\"\nend = \"08:30\"",
            1,
        )
        .replacen("id = \"yoshida-kana\"", "id = \"kato-naoko\"", 1)
        .replacen(
            "profession = \"nurse\"\nskills = [\"home-visits\"]\ninstitutions",
            "profession = \"dentist\"\nskills = [\"home-visits\"]\ninstitutions",
            1,
        );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, &bad).unwrap();
    let out = touban(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let problems: Vec<&str> = err.lines().filter(|l| l.contains("bad.toml:")).collect();
    assert_eq!(problems.len(), 5, "{err}");
    // The last line containing `needle`, 1-based.
    let lines: Vec<&str> = bad.lines().collect();
    let line_of = |needle: &str| lines.iter().rposition(|l| l.contains(needle)).unwrap() + 1;
    let f = file.display().to_string();
    let want = [
        format!(
            "{f}:{}: staff \"kato-naoko\", field `id`: duplicate id: \"kato-naoko\" is already used on line {}",
            line_of("id = \"kato-naoko\""),
            bad.lines().position(|l| l.contains("id = \"kato-naoko\"")).unwrap() + 1
        ),
        format!("{f}:{}: staff \"inoue-takeshi\", field `institution`: unknown institution \"urugi-clinik\"", line_of("urugi-clinik")),
        format!("{f}:{}: staff \"saito-yoko\", field `email`: \"saito.yoko@\" is not an e-mail address", line_of("saito.yoko@\"")),
        format!("{f}:{}: service \"vns-oncall\", field `profession`: needs 1 dentist with skills [home-visits] at its institutions at once, but only 0 staff members qualify", line_of("\"dentist\"")),
        "service \"vns-oncall\", template \"night\", field `end`: ends at 08:30, not after it starts at 17:15".to_string(),
    ];
    for w in &want {
        assert!(
            problems.iter().any(|p| p.contains(w.as_str())),
            "missing: {w}\n{err}"
        );
    }
    assert!(err.contains("is not valid: 5 problems"), "{err}");
}

#[test]
fn import_twice_is_idempotent_and_a_failed_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let dbs = db.to_str().unwrap();
    let first = touban(&["import", demo().to_str().unwrap(), "--db", dbs]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("29 added"), "{}", stdout(&first));
    let after_first = dump(&db);
    assert!(
        after_first.contains("institutions: 28 | southern-shimoina | yasuoka-shakyo"),
        "ord, region, id columns"
    );

    let second = touban(&["import", demo().to_str().unwrap(), "--db", dbs]);
    assert!(second.status.success());
    assert!(
        stdout(&second).contains("nothing changed"),
        "{}",
        stdout(&second)
    );
    assert_eq!(dump(&db), after_first, "second import changed the database");

    // A changed file that fails validation: exit 1, database untouched.
    let bad = std::fs::read_to_string(demo())
        .unwrap()
        .replace("name = \"山田 健二\"", "name = \"山田 健二（改）\"")
        .replacen(
            "email = \"ogawa.yuko@vns-sakura.example.jp\"",
            "email = \"not-an-address\"",
            1,
        );
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, bad).unwrap();
    let failed = touban(&["import", file.to_str().unwrap(), "--db", dbs]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(stderr(&failed).contains("\"not-an-address\" is not an e-mail address"));
    assert_eq!(
        dump(&db),
        after_first,
        "a failed import changed the database"
    );

    // A valid changed file updates exactly what changed.
    let changed = std::fs::read_to_string(demo())
        .unwrap()
        .replace("name = \"山田 健二\"", "name = \"山田 健二（改）\"");
    std::fs::write(&file, changed).unwrap();
    let third = touban(&["import", file.to_str().unwrap(), "--db", dbs]);
    assert!(third.status.success());
    let text = stdout(&third);
    assert!(
        text.contains("staff              0 added,   1 updated,   0 removed,  31 unchanged"),
        "{text}"
    );
}

#[test]
fn an_invalid_file_does_not_even_create_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[region]\nid = \"x\"\n").unwrap();
    let out = touban(&[
        "import",
        file.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.toml:1: [region]: `name` is missing"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
}

#[test]
fn demo_loads_and_shows_the_network_in_japanese_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = touban(&["demo", "--db", db.to_str().unwrap(), "--month", "2027-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "2027年1月 当番表 / rota 2027-01",
        "01/01(金)◎元日",
        "01/11(月)◎成人の日",
        "必須ルール違反なし / no hard-rule violations",
        "公平性 fairness",
        "保存しました / saved as version 1 (draft)",
        "南部地域医療連携推進ネットワーク（下伊那郡南部）",
        "Southern Shimoina Regional Healthcare Network",
        "県立阿南病院［病院］後方支援病院 backup hospital",
        "泰阜村 Yasuoka — 4 施設 institutions",
        "訪問看護24時間オンコール (vns-oncall)",
        "5 municipalities, 29 institutions, 32 staff",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
    // `show` reads the same back from the database.
    let show = touban(&["show", "--db", db.to_str().unwrap()]);
    assert!(show.status.success());
    assert!(stdout(&show).contains("南部在宅医療オンコール医師 (homecare-oncall)"));
}

#[test]
fn database_location_comes_from_flag_environment_or_config() {
    let dir = tempfile::tempdir().unwrap();
    let env_db = dir.path().join("env.db");
    let out = Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(["import", demo().to_str().unwrap()])
        .current_dir(dir.path())
        .env("TOUBAN_DATABASE_URL", env_db.to_str().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env_db.exists());
    assert!(!dir.path().join("touban.db").exists());
    // Without flag or environment: ./touban.db in the working directory.
    let out = Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(["import", demo().to_str().unwrap()])
        .current_dir(dir.path())
        .env_remove("TOUBAN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("touban.db").exists());
    // A PostgreSQL URL with a wrong role is refused clearly, its password masked.
    let out = touban(&["show", "--db", "postgres://u:secret@127.0.0.1/x"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        // The URL picks the PostgreSQL adapter; the server's refusal is
        // passed on, the password never.
        err.contains("postgres://u:***@127.0.0.1/x")
            && err.contains("role \"u\" does not exist")
            && !err.contains("secret"),
        "{err}"
    );
}
