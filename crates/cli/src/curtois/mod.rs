//! The Curtois & Qu shift-scheduling benchmark (Instances 1–24): its text
//! format, an independent evaluator of a roster (`eval.rs`), and the
//! translation of an instance into a Touban network (`translate.rs`), which
//! the product's own `generate` solves. There is no model or search of the
//! benchmark's own: the figures are the product's.

mod eval;
pub mod shapes;
#[cfg(test)]
mod tests;
pub mod translate;

use std::collections::HashMap;

pub use eval::evaluate;

#[derive(Debug, Clone)]
pub struct ShiftType {
    pub id: String,
    pub minutes: i64,
    /// Shift types that may not be worked the day after this one.
    pub not_followed_by: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Employee {
    pub id: String,
    /// Per shift type, the most of that type.
    pub max_shifts: Vec<i64>,
    pub max_minutes: i64,
    pub min_minutes: i64,
    pub max_consecutive: usize,
    pub min_consecutive: usize,
    pub min_days_off: usize,
    pub max_weekends: i64,
    pub days_off: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub employee: usize,
    pub day: usize,
    pub shift: usize,
    pub weight: i64,
}

#[derive(Debug, Clone)]
pub struct Cover {
    pub day: usize,
    pub shift: usize,
    pub requirement: i64,
    pub under: i64,
    pub over: i64,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub days: usize,
    pub shifts: Vec<ShiftType>,
    pub staff: Vec<Employee>,
    pub on: Vec<Request>,
    pub off: Vec<Request>,
    pub cover: Vec<Cover>,
}

/// A roster: per employee, per day, the shift type worked or none.
pub type Roster = Vec<Vec<Option<usize>>>;

fn err(line: usize, msg: impl std::fmt::Display) -> String {
    format!("line {line}: {msg}")
}

impl Problem {
    /// Parses the benchmark's text format (`#` comments, CRLF or LF).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut section = "";
        let mut days = 0usize;
        let mut shifts: Vec<ShiftType> = Vec::new();
        let mut raw_follow: Vec<(usize, Vec<String>)> = Vec::new();
        let mut staff: Vec<Employee> = Vec::new();
        let (mut on, mut off, mut cover) = (Vec::new(), Vec::new(), Vec::new());
        let shift_ix = |shifts: &[ShiftType], id: &str, line: usize| {
            shifts
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| err(line, format!("unknown shift type \"{id}\"")))
        };
        let mut staff_ix: HashMap<String, usize> = HashMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if l.starts_with("SECTION_") {
                section = match l {
                    "SECTION_HORIZON"
                    | "SECTION_SHIFTS"
                    | "SECTION_STAFF"
                    | "SECTION_DAYS_OFF"
                    | "SECTION_SHIFT_ON_REQUESTS"
                    | "SECTION_SHIFT_OFF_REQUESTS"
                    | "SECTION_COVER" => l,
                    other => return Err(err(line, format!("unknown section {other}"))),
                };
                if section == "SECTION_STAFF" {
                    for (i, f) in &raw_follow {
                        for id in f {
                            let t = shift_ix(&shifts, id, line)?;
                            shifts[*i].not_followed_by.push(t);
                        }
                    }
                }
                continue;
            }
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let int = |i: usize| -> Result<i64, String> {
                f.get(i)
                    .ok_or_else(|| err(line, format!("field {} missing", i + 1)))?
                    .parse::<i64>()
                    .map_err(|e| err(line, format!("field {}: {e}", i + 1)))
            };
            let uint = |i: usize| -> Result<usize, String> {
                usize::try_from(int(i)?).map_err(|e| err(line, e))
            };
            match section {
                "SECTION_HORIZON" => days = uint(0)?,
                "SECTION_SHIFTS" => {
                    let follow = f
                        .get(2)
                        .map(|s| {
                            s.split('|')
                                .filter(|x| !x.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    raw_follow.push((shifts.len(), follow));
                    shifts.push(ShiftType {
                        id: f[0].to_string(),
                        minutes: int(1)?,
                        not_followed_by: Vec::new(),
                    });
                }
                "SECTION_STAFF" => {
                    let mut max_shifts = vec![0; shifts.len()];
                    for part in f
                        .get(1)
                        .copied()
                        .unwrap_or("")
                        .split('|')
                        .filter(|p| !p.is_empty())
                    {
                        let (id, n) = part
                            .split_once('=')
                            .ok_or_else(|| err(line, format!("\"{part}\" is not SHIFT=N")))?;
                        max_shifts[shift_ix(&shifts, id, line)?] =
                            n.parse().map_err(|e| err(line, e))?;
                    }
                    staff_ix.insert(f[0].to_string(), staff.len());
                    staff.push(Employee {
                        id: f[0].to_string(),
                        max_shifts,
                        max_minutes: int(2)?,
                        min_minutes: int(3)?,
                        max_consecutive: uint(4)?,
                        min_consecutive: uint(5)?,
                        min_days_off: uint(6)?,
                        max_weekends: int(7)?,
                        days_off: Vec::new(),
                    });
                }
                "SECTION_DAYS_OFF" => {
                    let e = *staff_ix
                        .get(f[0])
                        .ok_or_else(|| err(line, format!("unknown employee \"{}\"", f[0])))?;
                    for i in 1..f.len() {
                        staff[e].days_off.push(uint(i)?);
                    }
                }
                "SECTION_SHIFT_ON_REQUESTS" | "SECTION_SHIFT_OFF_REQUESTS" => {
                    let r = Request {
                        employee: *staff_ix
                            .get(f[0])
                            .ok_or_else(|| err(line, format!("unknown employee \"{}\"", f[0])))?,
                        day: uint(1)?,
                        shift: shift_ix(&shifts, f.get(2).copied().unwrap_or(""), line)?,
                        weight: int(3)?,
                    };
                    if section == "SECTION_SHIFT_ON_REQUESTS" {
                        on.push(r)
                    } else {
                        off.push(r)
                    }
                }
                "SECTION_COVER" => cover.push(Cover {
                    day: uint(0)?,
                    shift: shift_ix(&shifts, f.get(1).copied().unwrap_or(""), line)?,
                    requirement: int(2)?,
                    under: int(3)?,
                    over: int(4)?,
                }),
                _ => return Err(err(line, "data before any SECTION_ header")),
            }
        }
        if days == 0 || shifts.is_empty() || staff.is_empty() {
            return Err("missing horizon, shifts or staff".into());
        }
        Ok(Self {
            days,
            shifts,
            staff,
            on,
            off,
            cover,
        })
    }

    /// Reads a roster file (the format `write_roster` writes): every
    /// employee once, in any order, with one entry per day. Errors name the
    /// line and what is wrong.
    pub fn parse_roster(&self, text: &str) -> Result<Roster, String> {
        let mut roster: Vec<Option<Vec<Option<usize>>>> = vec![None; self.staff.len()];
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let mut f = raw.split('\t').map(str::trim);
            let id = f.next().unwrap_or_default();
            let e = self
                .staff
                .iter()
                .position(|x| x.id == id)
                .ok_or_else(|| err(line, format!("unknown employee \"{id}\"")))?;
            if roster[e].is_some() {
                return Err(err(line, format!("employee \"{id}\" listed twice")));
            }
            let days = f
                .map(|x| match x {
                    "-" | "" => Ok(None),
                    x => self
                        .shifts
                        .iter()
                        .position(|t| t.id == x)
                        .map(Some)
                        .ok_or_else(|| err(line, format!("unknown shift type \"{x}\""))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if days.len() != self.days {
                return Err(err(
                    line,
                    format!(
                        "employee \"{id}\" has {} days, the horizon is {}",
                        days.len(),
                        self.days
                    ),
                ));
            }
            roster[e] = Some(days);
        }
        roster
            .into_iter()
            .zip(&self.staff)
            .map(|(r, e)| r.ok_or_else(|| format!("employee \"{}\" is missing", e.id)))
            .collect()
    }

    /// The roster file of the benchmark's README: one line per employee, its
    /// ID then, tab-separated, the shift ID or `-` for each day.
    pub fn write_roster(&self, roster: &Roster) -> String {
        let mut s = String::new();
        for (e, days) in self.staff.iter().zip(roster) {
            s.push_str(&e.id);
            for d in days {
                s.push('\t');
                s.push_str(d.map_or("-", |t| self.shifts[t].id.as_str()));
            }
            s.push('\n');
        }
        s
    }
}
