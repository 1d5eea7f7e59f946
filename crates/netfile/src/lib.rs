//! The network file: one TOML file describing a region's network. Reading it
//! either yields a valid [`Network`] or every problem found, each with file,
//! line, entry and field. The format is documented in `docs/network-file.md`.
#![forbid(unsafe_code)]

mod check;
mod fields;
mod problem;
mod read_misc;
mod read_org;
mod read_service;
mod read_staff;
mod source;
mod summary;

use std::path::Path;

use toml::{Table, Value};
use touban_domain::Network;

pub use problem::{Problem, Problems};
pub use read_misc::{When, end_instant, parse_when, start_instant};
pub use summary::summary;

use crate::check::Origins;
use crate::fields::Ctx;
use crate::source::SourceMap;

/// Reads and validates a network file from disk.
pub fn load(path: &Path) -> Result<Network, Problems> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(src) => parse(&file, &src),
        Err(e) => Err(Problems(vec![Problem {
            file,
            line: 0,
            entry: "the file".into(),
            field: None,
            message: format!("cannot be read: {e}"),
        }])),
    }
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
                        "expected a table",
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
                format!("`{key}` must be written as [[{key}]] tables"),
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
            return Err(Problems(vec![Problem {
                file: file.to_string(),
                line,
                entry: "TOML syntax".into(),
                field: None,
                message: e.message().trim().to_string(),
            }]));
        }
    };
    let mut ctx = Ctx {
        file: file.to_string(),
        map: SourceMap::new(src),
        problems: Problems::default(),
    };
    let mut o = Origins::default();

    const KNOWN: [&str; 11] = [
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
    };
    check::check(&mut ctx, &network, &o);
    if ctx.problems.is_empty() {
        Ok(network)
    } else {
        Err(ctx.problems.sorted())
    }
}
