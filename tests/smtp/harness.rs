//! Starts the real SMTP server of `tests/smtp/sink.py` (aiosmtpd, from the
//! venv that `scripts/venv.sh` makes) on a loopback port, and reads what it
//! received. Shared by the notifier's tests and the CLI's kill test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn repo_root() -> PathBuf {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !p.join("tests/smtp/sink.py").exists() {
        assert!(p.pop(), "tests/smtp/sink.py not found above the crate");
    }
    p
}

/// The venv's Python, with aiosmtpd importable.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("TOUBAN_VENV").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/touban/venv"),
        PathBuf::from,
    );
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "aiosmtpd is not installed in {}: run `bash scripts/venv.sh` (make test does)",
        venv.display()
    );
    py
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug)]
pub struct Sink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Sink {
    /// Starts the server on `port` with extra options (`--tempfail 2`,
    /// `--reject SUBSTR`, `--delay-ms 30`) and waits until it listens.
    pub fn start(port: u16, args: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mail");
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/smtp/sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("ready"),
            "SMTP sink did not start: {line:?}"
        );
        Self {
            child,
            port,
            dir,
            _tmp: tmp,
        }
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        read_dir(&self.dir)
    }
}

pub fn read_dir(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    // A file listed while the server is still moving it into place is read
    // on the next poll.
    names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// The outbox row a received message came from (its X-Touban-Outbox header).
pub fn outbox_id(raw: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(raw);
    text.lines()
        .find_map(|l| l.strip_prefix("X-Touban-Outbox: "))
        .unwrap_or_else(|| panic!("no X-Touban-Outbox header in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
