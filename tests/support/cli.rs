//! What the CLI tests share: the repository, the demo network file, and
//! running the real `touban` binary.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn demo() -> PathBuf {
    root().join("config/networks/southern-shimoina.toml")
}

pub fn touban(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touban"))
        .args(args)
        .current_dir(root())
        .env_remove("TOUBAN_DATABASE_URL")
        .env_remove("TOUBAN_CONFIG")
        .output()
        .expect("run touban")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs `touban` and gives its output, failing the test when it fails.
pub fn touban_ok(args: &[&str]) -> String {
    let out = touban(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The month after today's in Japan, as YYYY-MM.
pub fn next_month() -> String {
    use chrono::Datelike;
    let today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    let (y, m) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    format!("{y:04}-{m:02}")
}
