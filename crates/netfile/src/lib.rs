//! The network file: one TOML file describing a region's network. Reading it
//! either yields a valid [`Network`] or every problem found, each with file,
//! line, entry and field. The format is documented in `docs/network-file.md`.
#![forbid(unsafe_code)]

mod check;
mod fields;
mod problem;
mod read_misc;
mod read_org;
mod read_rules;
mod read_service;
mod read_staff;
mod source;
mod summary;
mod write;

use std::path::Path;

use toml::{Table, Value};
use touban_domain::Network;

pub use problem::{Msg, Problem, Problems, msg};
pub use read_misc::{When, end_instant, parse_when, start_instant};
pub use summary::summary;
pub use write::write;

use crate::check::Origins;
use crate::fields::Ctx;
use crate::source::SourceMap;

/// Reads and validates a network file from disk.
pub fn load(path: &Path) -> Result<Network, Problems> {
    let file = path.display().to_string();
    let one = |line: usize, (message, message_ja): (String, String)| {
        Problems(vec![Problem {
            file: file.clone(),
            line,
            entry: "the file".into(),
            field: None,
            message,
            message_ja,
        }])
    };
    let bytes = std::fs::read(path).map_err(|e| {
        one(
            0,
            (
                format!("cannot be read: {e}"),
                format!("読み込めません：{e}"),
            ),
        )
    })?;
    match String::from_utf8(bytes) {
        Ok(src) => parse(&file, &src),
        Err(e) => {
            let (line, column) = not_utf8_at(e.as_bytes(), e.utf8_error().valid_up_to());
            Err(one(line, not_utf8_message(line, column, e.as_bytes())))
        }
    }
}

/// Line (from 1) and byte within it (from 1) of the first byte that is not
/// UTF-8.
fn not_utf8_at(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    (line, at - start + 1)
}

fn not_utf8_message(line: usize, column: usize, bytes: &[u8]) -> (String, String) {
    // Shift-JIS (what Excel and Notepad on Japanese Windows save) has lead
    // bytes 0x81–0x9F and 0xE0–0xFC before a second byte.
    let sjis = bytes.iter().any(|b| matches!(*b, 0x81..=0x9F));
    let en = format!(
        "line {line}, byte {column}: the file is not UTF-8{}. Save it as UTF-8 (in Excel: \"CSV UTF-8\"; in Notepad: encoding UTF-8), or convert it: iconv -f SHIFT_JIS -t UTF-8 old.toml > new.toml",
        if sjis {
            " (it looks like Shift-JIS, as Excel saves it on Japanese Windows)"
        } else {
            ""
        }
    );
    let ja = format!(
        "{line} 行目 {column} バイト目：ファイルが UTF-8 ではありません{}。UTF-8 で保存してください（Excel では「CSV UTF-8」、メモ帳では文字コード UTF-8）",
        if sjis {
            "（日本語版 Windows の Excel が保存する Shift-JIS のようです）"
        } else {
            ""
        }
    );
    (en, ja)
}

fn line_of(src: &str, byte: usize) -> usize {
    src[..byte.min(src.len())].matches('\n').count() + 1
}

/// Entries under `key` as tables; anything else is reported.
fn list<'t>(ctx: &mut Ctx<'_>, root: &'t Table, key: &'static str) -> Vec<&'t Table> {
    match root.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::Table(t) => Some(t),
                _ => {
                    ctx.report(
                        &read_org::at(key, i),
                        &format!("{key}[{}]", i + 1),
                        None,
                        msg("expected a table", "表を書いてください"),
                    );
                    None
                }
            })
            .collect(),
        Some(_) => {
            ctx.report(
                &read_org::at(key, 0),
                "the file",
                Some(key),
                msg(
                    format!("`{key}` must be written as [[{key}]] tables"),
                    format!("`{key}` は [[{key}]] の表で書いてください"),
                ),
            );
            Vec::new()
        }
    }
}

/// Reads and validates a network file's text. `file` names it in messages.
pub fn parse(file: &str, src: &str) -> Result<Network, Problems> {
    let root: Table = match toml::from_str(src) {
        Ok(t) => t,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(src, s.start));
            // Name the field when the error is in a `key = value` line (an
            // impossible date such as 2027-02-30, say), quoting the value.
            let text = src.lines().nth(line.saturating_sub(1)).unwrap_or_default();
            let field = text
                .split_once('=')
                .map(|(k, _)| k.trim())
                .filter(|k| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .map(str::to_string);
            let mut message = e.message().trim().to_string();
            if let Some((_, v)) = text.split_once('=') {
                message = format!("{} — {message}", v.trim());
            }
            let message_ja = format!("TOML の書き方が違います：{message}");
            return Err(Problems(vec![Problem {
                file: file.to_string(),
                line,
                entry: "TOML syntax".into(),
                field,
                message,
                message_ja,
            }]));
        }
    };
    let mut ctx = Ctx {
        file: file.to_string(),
        map: SourceMap::new(src),
        problems: Problems::default(),
    };
    let mut o = Origins::default();

    const KNOWN: [&str; 13] = [
        "region",
        "municipalities",
        "institutions",
        "staff",
        "services",
        "attending_pairs",
        "absences",
        "requests",
        "weights",
        "policy",
        "travel",
        "rules",
        "pinned",
    ];
    for key in root.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        ctx.problems.0.push(Problem {
            file: file.to_string(),
            line: src
                .lines()
                .position(|l| l.contains(key.as_str()))
                .map_or(0, |p| p + 1),
            entry: "the file".into(),
            field: Some(key.clone()),
            message: format!("unknown section `{key}` (known: {})", KNOWN.join(", ")),
            message_ja: format!("`{key}` という節はありません（{}）", KNOWN.join(", ")),
        });
    }

    let region = read_org::read_region(&mut ctx, root.get("region").and_then(Value::as_table));
    let tz = region
        .as_ref()
        .map_or(chrono_tz::Asia::Tokyo, |r| r.time_zone);

    macro_rules! read_all {
        ($key:literal, $origin:ident, |$ctx:ident, $i:ident, $t:ident| $read:expr) => {{
            let mut out = Vec::new();
            for ($i, $t) in list(&mut ctx, &root, $key).into_iter().enumerate() {
                let $ctx = &mut ctx;
                if let Some(v) = $read {
                    out.push(v);
                    o.$origin.push($i);
                }
            }
            out
        }};
    }
    let municipalities = read_all!("municipalities", municipalities, |c, i, t| {
        read_org::read_municipality(c, i, t)
    });
    let institutions = read_all!("institutions", institutions, |c, i, t| {
        read_org::read_institution(c, i, t)
    });
    let staff = read_all!("staff", staff, |c, i, t| read_staff::read_staff(c, i, t));
    let services_read = read_all!("services", services, |c, i, t| read_service::read_service(
        c, i, t
    ));
    o.broken_templates = services_read.iter().map(|(_, ok)| !ok).collect();
    let services = services_read.into_iter().map(|(s, _)| s).collect();
    let attending_pairs = read_all!("attending_pairs", pairs, |c, i, t| read_misc::read_pair(
        c, i, t
    ));
    let absences = read_all!("absences", absences, |c, i, t| read_misc::read_absence(
        c, tz, i, t
    ));
    let requests = read_all!("requests", requests, |c, i, t| read_misc::read_request(
        c, i, t
    ));
    let rules = read_all!("rules", rules, |c, i, t| read_rules::read_rule(c, i, t));
    let pinned = read_all!("pinned", pinned, |c, i, t| read_rules::read_pin(c, i, t));
    let weights = read_misc::read_weights(&mut ctx, &root);
    let policy = read_misc::read_policy(&mut ctx, &root);
    let travel = read_misc::read_travel(&mut ctx, &root);

    check::check_references(&mut ctx, &root);
    let raw_staff = root
        .get("staff")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    o.dropped_staff = raw_staff
        .iter()
        .enumerate()
        .filter(|(i, _)| !o.staff.contains(i))
        .map(|(_, t)| {
            t.get("profession")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let Some(region) = region else {
        return Err(ctx.problems.sorted());
    };
    let network = Network {
        region,
        municipalities,
        institutions,
        staff,
        services,
        attending_pairs,
        absences,
        requests,
        weights,
        policy,
        travel,
        rules,
        pinned,
    };
    check::check(&mut ctx, &network, &o);
    if ctx.problems.is_empty() {
        Ok(network)
    } else {
        Err(ctx.problems.sorted())
    }
}
