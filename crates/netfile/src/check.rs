//! Checks across entries: references to ids that do not exist, duplicates,
//! services nobody can take, 24/365 services with gaps.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};
use touban_domain::{Network, Profession};

use crate::fields::Ctx;
use crate::problem::msg;
use crate::read_org::at;
use crate::source::EntryPath;

/// Where each entry of the network came from (its index in the file).
#[derive(Debug, Default)]
pub struct Origins {
    pub municipalities: Vec<usize>,
    pub institutions: Vec<usize>,
    pub staff: Vec<usize>,
    pub services: Vec<usize>,
    pub pairs: Vec<usize>,
    pub absences: Vec<usize>,
    pub requests: Vec<usize>,
    pub rules: Vec<usize>,
    pub pinned: Vec<usize>,
    /// Per service read: some of its templates had mistakes and were left out.
    pub broken_templates: Vec<bool>,
    /// Professions (as written) of staff entries left out for mistakes of
    /// their own; `None` where the profession itself was unreadable.
    pub dropped_staff: Vec<Option<String>>,
}

fn dupes<'a>(
    ctx: &mut Ctx<'_>,
    kind: &str,
    path: &'static str,
    ids: impl Iterator<Item = (usize, &'a str)>,
) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, id) in ids {
        if let Some(first) = seen.get(id) {
            let first_line = ctx.map.field_line(&at(path, *first), "id");
            ctx.report(
                &at(path, i),
                &format!("{kind} \"{id}\""),
                Some("id"),
                msg(
                    format!("duplicate id: \"{id}\" is already used on line {first_line}"),
                    format!("ID「{id}」が重複しています（{first_line} 行目で使用済み）"),
                ),
            );
        } else {
            seen.insert(id, i);
        }
    }
}

/// Raw string values of `key` in a table: one string or a list of strings.
fn raw_strs(t: &Table, key: &str) -> Vec<String> {
    match t.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn raw_list<'t>(root: &'t Table, key: &str) -> Vec<&'t Table> {
    root.get(key)
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_table).collect())
}

/// Ids of every entry of a kind as written, whether or not the entry parsed.
fn raw_ids(root: &Table, key: &str) -> BTreeSet<String> {
    raw_list(root, key)
        .into_iter()
        .flat_map(|t| raw_strs(t, "id"))
        .collect()
}

/// The Japanese word for what a reference names.
fn what_ja(what: &str) -> &str {
    match what {
        "municipality" => "市町村",
        "institution" => "施設",
        "staff member" => "スタッフ",
        "service" => "業務",
        other => other,
    }
}

fn entry_name(kind: &str, path: &str, i: usize, t: &Table) -> String {
    match t.get("id").and_then(Value::as_str) {
        Some(id) => format!("{kind} \"{id}\""),
        None => format!("{path}[{}]", i + 1),
    }
}

/// References between entries and duplicate ids, checked on the raw tables so
/// that an entry with a mistake of its own is still checked, and still counts
/// as existing for the entries that refer to it.
pub fn check_references(ctx: &mut Ctx<'_>, root: &Table) {
    for (kind, path) in [
        ("municipality", "municipalities"),
        ("institution", "institutions"),
        ("staff", "staff"),
        ("service", "services"),
    ] {
        let ids = raw_list(root, path)
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.get("id").and_then(Value::as_str).map(|id| (i, id)));
        dupes(ctx, kind, path, ids);
    }
    let munis = raw_ids(root, "municipalities");
    let insts = raw_ids(root, "institutions");
    let staff = raw_ids(root, "staff");
    let services = raw_ids(root, "services");
    // (section, kind word, field, what it refers to, the known ids)
    let rules: [(&'static str, &str, &str, &str, &BTreeSet<String>); 15] = [
        (
            "institutions",
            "institution",
            "municipality",
            "municipality",
            &munis,
        ),
        ("staff", "staff", "institution", "institution", &insts),
        ("staff", "staff", "also_at", "institution", &insts),
        ("services", "service", "area", "municipality", &munis),
        ("services", "service", "institutions", "institution", &insts),
        ("services", "service", "host", "institution", &insts),
        ("attending_pairs", "", "primary", "staff member", &staff),
        ("attending_pairs", "", "backup", "staff member", &staff),
        ("absences", "", "staff", "staff member", &staff),
        ("requests", "", "staff", "staff member", &staff),
        ("requests", "", "service", "service", &services),
        ("rules", "", "staff", "staff member", &staff),
        ("rules", "", "institution", "institution", &insts),
        ("pinned", "", "staff", "staff member", &staff),
        ("pinned", "", "service", "service", &services),
    ];
    for (path, kind, field, what, known) in rules {
        for (i, t) in raw_list(root, path).into_iter().enumerate() {
            for v in raw_strs(t, field) {
                if !known.contains(&v) {
                    let name = if kind.is_empty() {
                        format!("{path}[{}]", i + 1)
                    } else {
                        entry_name(kind, path, i, t)
                    };
                    ctx.report(
                        &at(path, i),
                        &name,
                        Some(field),
                        msg(
                            format!("unknown {what} \"{v}\""),
                            format!("「{v}」という{}はありません", what_ja(what)),
                        ),
                    );
                }
            }
        }
    }
}

/// Checks that need the typed network.
pub fn check(ctx: &mut Ctx<'_>, net: &Network, o: &Origins) {
    crate::read_rules::check_rules(ctx, net, o);
    let staff: BTreeMap<_, _> = net.staff.iter().map(|s| (&s.id, s)).collect();
    let mut emails: BTreeMap<&str, &str> = BTreeMap::new();
    for (s, i) in net.staff.iter().zip(&o.staff) {
        let email = s.email.as_str();
        if let Some(prev) = emails.insert(email, s.id.as_str()) {
            ctx.report(
                &at("staff", *i),
                &format!("staff \"{}\"", s.id),
                Some("email"),
                msg(
                    format!("{email} is already the address of staff \"{prev}\""),
                    format!("{email} はすでにスタッフ「{prev}」のアドレスです"),
                ),
            );
        }
    }

    for ((svc, i), broken) in net
        .services
        .iter()
        .zip(&o.services)
        .zip(&o.broken_templates)
    {
        let name = format!("service \"{}\"", svc.id);
        let here = at("services", *i);
        let mut tids = BTreeMap::new();
        for (ti, t) in svc.templates.iter().enumerate() {
            if let Some(first) = tids.insert(t.id.as_str(), ti) {
                let tat = EntryPath {
                    path: "services.templates",
                    index: ti,
                    parent_index: Some(*i),
                };
                ctx.report(
                    &tat,
                    &format!("{name}, template \"{}\"", t.id),
                    Some("id"),
                    msg(
                        format!("duplicate template id (also templates[{}])", first + 1),
                        format!(
                            "枠の ID が重複しています（templates[{}] と同じ）",
                            first + 1
                        ),
                    ),
                );
            }
        }
        if svc.continuous && !broken {
            let gaps = svc.coverage_gaps();
            if let Some(g) = gaps.first() {
                ctx.report(
                    &here,
                    &name,
                    Some("continuous"),
                    msg(
                        format!(
                            "is a 24/365 service but its templates leave gaps: {g}{}",
                            if gaps.len() > 1 {
                                format!(" (and {} more)", gaps.len() - 1)
                            } else {
                                String::new()
                            }
                        ),
                        format!(
                            "24時間365日の業務ですが、枠に空白があります：{}{}",
                            g.to_string_ja(),
                            if gaps.len() > 1 {
                                format!("（ほか {} か所）", gaps.len() - 1)
                            } else {
                                String::new()
                            }
                        ),
                    ),
                );
            }
        }
        let eligible = net.staff.iter().filter(|s| net.eligible(s, svc)).count();
        let need = svc
            .templates
            .iter()
            .map(|t| t.headcount.min)
            .max()
            .unwrap_or(0)
            .max(1);
        // A staff entry left out for its own mistakes might still qualify
        // once fixed, unless its profession is plainly another one.
        let maybe = o
            .dropped_staff
            .iter()
            .filter(|p| p.as_deref().is_none_or(|p| p == svc.profession.as_str()))
            .count();
        if eligible + maybe < usize::from(need) {
            let skills = if svc.skills.is_empty() {
                String::new()
            } else {
                format!(
                    " with skills [{}]",
                    svc.skills
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let from = if svc.institutions.is_empty() {
                "in its area".to_string()
            } else {
                "at its institutions".to_string()
            };
            let en = format!(
                "needs {need} {}{skills} {from} at once, but only {eligible} staff member{} qualif{}",
                svc.profession,
                if eligible == 1 { "" } else { "s" },
                if eligible == 1 { "ies" } else { "y" }
            );
            let ja = format!(
                "{}{}に{}が同時に {need} 人必要ですが、該当するスタッフは {eligible} 人だけです",
                if svc.institutions.is_empty() {
                    "担当区域"
                } else {
                    "担当施設"
                },
                if svc.skills.is_empty() {
                    String::new()
                } else {
                    format!(
                        "で技能［{}］を持つ",
                        svc.skills
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join("・")
                    )
                },
                svc.profession.label_ja()
            );
            ctx.report(&here, &name, Some("profession"), msg(en, ja));
        }
    }

    for (p, i) in net.attending_pairs.iter().zip(&o.pairs) {
        let here = at("attending_pairs", *i);
        let name = format!("attending pair {} / {}", p.primary, p.backup);
        for (field, id) in [("primary", &p.primary), ("backup", &p.backup)] {
            if let Some(s) = staff
                .get(id)
                .filter(|s| s.profession != Profession::Physician)
            {
                ctx.report(
                    &here,
                    &name,
                    Some(field),
                    msg(
                        format!(
                            "attending pairs are physicians, but \"{id}\" is a {}",
                            s.profession
                        ),
                        format!(
                            "主治医・副主治医は医師ですが、「{id}」は{}です",
                            s.profession.label_ja()
                        ),
                    ),
                );
            }
        }
        // Rule 7: a pair is never away at the same time. Two absences in the
        // file that overlap can be fixed by no rota: say so here, not at
        // generate time.
        let away = |who: &touban_domain::StaffId| -> Vec<(&touban_domain::Absence, &usize)> {
            net.absences
                .iter()
                .zip(&o.absences)
                .filter(|(a, _)| &a.staff == who)
                .collect()
        };
        for (a, ai) in away(&p.primary) {
            for (b, bi) in away(&p.backup) {
                if a.start < b.end && b.start < a.end {
                    let line = |i: usize| ctx.map.field_line(&at("absences", i), "staff");
                    let (la, lb) = (line(*ai), line(*bi));
                    let from = a.start.max(b.start).format("%Y-%m-%d %H:%M");
                    let to = a.end.min(b.end).format("%Y-%m-%d %H:%M");
                    ctx.report(
                        &here,
                        &name,
                        Some("backup"),
                        msg(
                            format!(
                                "both physicians of the pair are away at the same time, {from} – {to}: \"{}\" (absence on line {la}) and \"{}\" (absence on line {lb}); rule 7 needs one of them available, so no rota can keep it. Change one of the absences or name another backup",
                                p.primary, p.backup
                            ),
                            format!(
                                "主治医・副主治医の二人が {from} 〜 {to} に同時に不在です：「{}」（{la} 行目の不在）と「{}」（{lb} 行目の不在）。規則7ではどちらかが対応できる必要があり、どの当番表でも守れません。どちらかの不在を変えるか、別の副主治医を決めてください",
                                p.primary, p.backup
                            ),
                        ),
                    );
                }
            }
        }
    }
}
