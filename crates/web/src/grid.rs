//! The month grid as the templates draw it: dates down, each service's
//! shift templates across; holidays named; unfilled places marked with a
//! word and a symbol (not by colour alone); anyone on duty while absent
//! flagged.

use std::collections::HashMap;

use serde::Serialize;
use touban_domain::{Assignment, Role, ShiftKey};
use touban_solver::Instance;

use crate::i18n;

#[derive(Debug, Serialize)]
pub struct Group {
    pub name: String,
    pub span: usize,
}

#[derive(Debug, Serialize)]
pub struct Column {
    pub service: String,
    pub template: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Person {
    pub name: String,
    pub backup: bool,
    pub absent: bool,
    /// On duty on a day they asked to have free (a request of theirs).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wish_off: bool,
    /// A duty the coordinators pinned (`[[pinned]]`): generate and repair
    /// keep it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

#[derive(Debug, Serialize)]
pub struct Cell {
    /// No shift of this template on this day.
    pub none: bool,
    pub people: Vec<Person>,
    /// Places below the minimum.
    pub missing: usize,
    pub service: String,
    pub template: String,
    /// Its people differ from the version compared with.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub changed: bool,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub date: String,
    pub label: String,
    pub off: Option<String>,
    /// A day off (Sunday, holiday, 年末年始, a closure) or a Saturday.
    pub shaded: bool,
    /// The staff's requests for the day, counted (休2・勤1), and who.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wishes: Option<(String, String)>,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
pub struct Grid {
    pub groups: Vec<Group>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub unfilled: usize,
    pub absent_on_duty: usize,
}

/// The family name: the part before the space in 山田 健二.
fn family(name: &str) -> &str {
    name.split([' ', '　']).next().unwrap_or(name)
}

/// The grid with family names (the screen and the printout).
pub fn build(inst: &Instance<'_>, assignments: &[Assignment], lang: &str) -> Grid {
    build_named(inst, assignments, lang, false)
}

/// The grid, with full names when `full` (downloads).
pub fn build_named(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    lang: &str,
    full: bool,
) -> Grid {
    let net = inst.net;
    let mut on: HashMap<&ShiftKey, Vec<&Assignment>> = HashMap::new();
    for a in assignments {
        on.entry(&a.shift).or_default().push(a);
    }
    // People and their absences by id, once: the grid names ~2,500 people on
    // the largest networks, and a search of the staff list for each was most
    // of its time.
    let staff: HashMap<&touban_domain::StaffId, &touban_domain::StaffMember> =
        net.staff.iter().map(|p| (&p.id, p)).collect();
    let mut away: HashMap<&touban_domain::StaffId, Vec<&touban_domain::Absence>> = HashMap::new();
    for x in &net.absences {
        away.entry(&x.staff).or_default().push(x);
    }
    let mut asked_off: HashMap<
        (&touban_domain::StaffId, chrono::NaiveDate),
        Vec<Option<&touban_domain::ServiceId>>,
    > = HashMap::new();
    for r in net
        .requests
        .iter()
        .filter(|r| r.kind == touban_domain::RequestKind::Off)
    {
        asked_off
            .entry((&r.staff, r.date))
            .or_default()
            .push(r.service.as_ref());
    }
    let mut by_day: HashMap<chrono::NaiveDate, Vec<&touban_domain::Request>> = HashMap::new();
    for r in &net.requests {
        by_day.entry(r.date).or_default().push(r);
    }
    let en = lang == "en";
    let wishes = |date: chrono::NaiveDate| {
        let rs = by_day.get(&date)?;
        let off = rs
            .iter()
            .filter(|r| r.kind == touban_domain::RequestKind::Off)
            .count();
        let on = rs.len() - off;
        let counts = match (off, on, en) {
            (o, 0, false) => format!("希望 休{o}"),
            (0, n, false) => format!("希望 勤{n}"),
            (o, n, false) => format!("希望 休{o}・勤{n}"),
            (o, n, true) => format!("requests: off {o}, on {n}"),
        };
        let who = rs
            .iter()
            .map(|r| {
                let name = staff
                    .get(&r.staff)
                    .map_or_else(|| r.staff.to_string(), |p| family(&p.name).to_string());
                let k = match (r.kind, en) {
                    (touban_domain::RequestKind::Off, false) => "休",
                    (touban_domain::RequestKind::On, false) => "勤",
                    (touban_domain::RequestKind::Off, true) => "off",
                    (touban_domain::RequestKind::On, true) => "on",
                };
                format!("{name}({k})")
            })
            .collect::<Vec<_>>()
            .join(if en { ", " } else { "、" });
        Some((counts, who))
    };
    let mut groups = Vec::new();
    let mut columns = Vec::new();
    let mut ids = Vec::new();
    for s in &net.services {
        groups.push(Group {
            name: if lang == "en" {
                s.name_en.clone().unwrap_or_else(|| s.name.clone())
            } else {
                s.name.clone()
            },
            span: s.templates.len(),
        });
        for t in &s.templates {
            ids.push((&s.id, &t.id));
            columns.push(Column {
                service: s.id.to_string(),
                template: t.id.to_string(),
                name: if lang == "en" {
                    t.name_en.clone().unwrap_or_else(|| t.name.clone())
                } else {
                    t.name.clone()
                },
            });
        }
    }
    let (mut unfilled, mut absent_on_duty) = (0, 0);
    let rows = inst
        .month
        .days()
        .map(|date| {
            let day_off = inst.cal.day_off(date);
            let shaded =
                day_off.is_some() || chrono::Datelike::weekday(&date) == chrono::Weekday::Sat;
            let off = day_off.filter(|o| o.name != "日曜日").map(|o| o.name);
            let cells = columns
                .iter()
                .zip(&ids)
                .map(|(c, (service, template))| {
                    let key = ShiftKey {
                        service: (*service).clone(),
                        template: (*template).clone(),
                        date,
                    };
                    let Some(&si) = inst.shift_index.get(&key) else {
                        return Cell {
                            none: true,
                            people: Vec::new(),
                            missing: 0,
                            service: c.service.clone(),
                            template: c.template.clone(),
                            changed: false,
                        };
                    };
                    let info = &inst.shifts[si];
                    let mut here: Vec<&Assignment> = on.get(&key).cloned().unwrap_or_default();
                    here.sort_by_key(|a| a.role != Role::Primary);
                    let people: Vec<Person> = here
                        .iter()
                        .map(|a| {
                            let absent = away.get(&a.staff).is_some_and(|xs| {
                                xs.iter()
                                    .any(|x| x.overlaps(info.shift.start, info.shift.end))
                            });
                            absent_on_duty += usize::from(absent);
                            Person {
                                name: staff.get(&a.staff).map_or_else(
                                    || a.staff.to_string(),
                                    |p| {
                                        if full {
                                            p.name.clone()
                                        } else {
                                            family(&p.name).to_string()
                                        }
                                    },
                                ),
                                backup: a.role == Role::Backup,
                                absent,
                                wish_off: asked_off.get(&(&a.staff, date)).is_some_and(|s| {
                                    s.iter().any(|s| s.is_none_or(|s| s == *service))
                                }),
                                pinned: inst
                                    .net
                                    .pinned
                                    .iter()
                                    .any(|p| p.staff == a.staff && p.shift == a.shift),
                            }
                        })
                        .collect();
                    let missing = usize::from(info.min).saturating_sub(people.len());
                    unfilled += missing;
                    Cell {
                        none: false,
                        people,
                        missing,
                        service: c.service.clone(),
                        template: c.template.clone(),
                        changed: false,
                    }
                })
                .collect();
            Row {
                date: date.to_string(),
                label: i18n::date(date, lang),
                off,
                shaded,
                wishes: wishes(date),
                cells,
            }
        })
        .collect();
    Grid {
        groups,
        columns,
        rows,
        unfilled,
        absent_on_duty,
    }
}

/// Marks the cells of `keys` (service, template, date) as changed.
pub fn mark_changed(g: &mut Grid, keys: &std::collections::HashSet<(String, String, String)>) {
    for r in &mut g.rows {
        for c in &mut r.cells {
            c.changed = keys.contains(&(c.service.clone(), c.template.clone(), r.date.clone()));
        }
    }
}
