//! The printed month: dates down, duty lines across, family names in the
//! cells, holidays marked; then soft costs and the fairness table. Japanese
//! first, English beside.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::Datelike;
use touban_domain::{Assignment, ShiftKey};
use touban_solver::{CheckReport, Instance};
use unicode_width::UnicodeWidthStr;

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

/// The family name: the part before the space in 山田 健二.
fn family(name: &str) -> &str {
    name.split([' ', '　']).next().unwrap_or(name)
}

pub fn month(inst: &Instance<'_>, assignments: &[Assignment]) -> String {
    let net = inst.net;
    let names: HashMap<&str, &str> = net
        .staff
        .iter()
        .map(|s| (s.id.as_str(), family(&s.name)))
        .collect();
    let mut cells: HashMap<&ShiftKey, Vec<&str>> = HashMap::new();
    for a in assignments {
        cells.entry(&a.shift).or_default().push(
            names
                .get(a.staff.as_str())
                .copied()
                .unwrap_or(a.staff.as_str()),
        );
    }
    // One column per (service, template).
    let columns: Vec<(usize, &touban_domain::ShiftTemplate)> = net
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.templates.iter().map(move |t| (i, t)))
        .collect();
    let text =
        |date: chrono::NaiveDate, (si, t): &(usize, &touban_domain::ShiftTemplate)| -> String {
            let key = ShiftKey {
                service: net.services[*si].id.clone(),
                template: t.id.clone(),
                date,
            };
            if !inst.shift_index.contains_key(&key) {
                return String::new();
            }
            match cells.get(&key) {
                Some(v) => v.join("・"),
                None => "★未定".into(),
            }
        };
    let days: Vec<_> = inst.month.days().collect();
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            let head = net.services[c.0].name.width().min(12).max(c.1.name.width());
            days.iter()
                .map(|d| text(*d, c).width())
                .max()
                .unwrap_or(0)
                .max(head)
                .max(4)
        })
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {}年{}月 当番表 / rota {}",
        net.region.name, inst.month.year, inst.month.month, inst.month
    );
    let short = |n: &str| {
        n.chars()
            .scan(0, |w, c| {
                *w += c.to_string().width();
                (*w <= 12).then_some(c)
            })
            .collect::<String>()
    };
    let mut h1 = pad("", 16);
    let mut h2 = pad("日付 date", 16);
    let mut last = usize::MAX;
    for (c, w) in columns.iter().zip(&widths) {
        let head = if c.0 == last {
            String::new()
        } else {
            short(&net.services[c.0].name)
        };
        last = c.0;
        let _ = write!(h1, " {}", pad(&head, *w));
        let _ = write!(h2, " {}", pad(&c.1.name, *w));
    }
    let _ = writeln!(s, "{}\n{}", h1.trim_end(), h2.trim_end());
    for d in &days {
        let off = inst.cal.day_off(*d);
        let mark = match &off {
            Some(o) if o.name != "日曜日" => {
                format!("◎{}", o.name.chars().take(4).collect::<String>())
            }
            Some(_) => "◎".into(),
            None => String::new(),
        };
        let mut row = pad(
            &format!(
                "{:02}/{:02}({}){mark}",
                d.month(),
                d.day(),
                WEEKDAYS[d.weekday().num_days_from_monday() as usize]
            ),
            16,
        );
        for (c, w) in columns.iter().zip(&widths) {
            let _ = write!(row, " {}", pad(&text(*d, c), *w));
        }
        let _ = writeln!(s, "{}", row.trim_end());
    }
    let _ = writeln!(s, "◎ 休日・年末年始 holiday   ★未定 unfilled");
    s
}

/// A cost as printed: one decimal, and never `-0.0` (a sum of floats can
/// land a hair below zero).
fn cost(x: f64) -> f64 {
    if x.abs() < 0.05 { 0.0 } else { x }
}

pub fn costs(report: &CheckReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nソフト制約のコスト soft-rule costs");
    for c in &report.soft {
        let _ = writeln!(
            s,
            "  {} {:<24} {:>8.1}  ({} 件)",
            pad(c.label_ja, 26),
            c.family,
            cost(c.cost),
            c.count
        );
    }
    let _ = writeln!(
        s,
        "  {} {:<24} {:>8.1}",
        pad("合計", 26),
        "total",
        cost(report.soft_total())
    );
    if report.violations.is_empty() {
        let _ = writeln!(s, "必須ルール違反なし / no hard-rule violations");
    } else {
        let _ = writeln!(
            s,
            "必須ルール違反 {} 件 / hard-rule violations:",
            report.violations.len()
        );
        for v in &report.violations {
            let _ = writeln!(s, "  {}", v.bilingual());
        }
    }
    s
}

/// Per person: shifts, nights, holidays, year-end, counted hours, and their
/// fair band for nights and holidays.
pub fn fairness(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    history: &touban_solver::History,
) -> String {
    let loads = touban_app::fairness::loads(inst, assignments, history);
    let any_capped = loads
        .iter()
        .any(|l| l.bands.iter().flatten().any(|b| b.capped));
    let band = |l: &touban_app::fairness::Load, c: usize| {
        l.bands[c].map_or("-".to_string(), |b| b.label())
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n公平性 fairness (目標 = FTE あたり均等、勤務可能な日数に応じて / target = equal per FTE, by days available)"
    );
    let _ = writeln!(
        s,
        "  {} {:>4} {:>4} {:>6} {:>4} {:>6} {:>4} {:>6} {:>6}   労働時間 hours",
        pad("氏名 name", 16),
        "FTE",
        "計",
        "目標",
        "夜間",
        "目標",
        "休日",
        "目標",
        "年末"
    );
    for l in &loads {
        if l.duties() == 0.0 && l.bands[0].is_none() && l.bands[1].is_none() {
            continue;
        }
        let _ = writeln!(
            s,
            "  {} {:>4.1} {:>4} {:>6} {:>4} {:>6} {:>4} {:>6} {:>6}   {:.1} h",
            pad(&l.name, 16),
            l.fte,
            l.counts[3],
            band(l, 3),
            l.counts[0],
            band(l, 0),
            l.counts[1],
            band(l, 1),
            l.counts[2],
            l.hours
        );
    }
    if any_capped {
        let _ = writeln!(
            s,
            "  * 勤務可能な日数が均等な分担に届かないため、目標をその日数まで下げた / target lowered to the days they can work (fewer than an equal share); the others share the rest"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn costs_never_print_negative_zero() {
        assert_eq!(format!("{:.1}", super::cost(-1e-12)), "0.0");
        assert_eq!(format!("{:.1}", super::cost(-0.04)), "0.0");
        assert_eq!(format!("{:.1}", super::cost(2.25)), "2.2");
    }
}
