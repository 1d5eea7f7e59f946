//! What `touban show` and `touban demo` print: Japanese first, English beside.

use std::fmt::Write;

use touban_calendar::Calendar;
use touban_domain::{DayClass, Month, Network, ServiceMode};

/// Pads to a display width: a kanji takes two terminal columns.
fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn classes_ja(classes: &std::collections::BTreeSet<DayClass>) -> String {
    classes
        .iter()
        .map(|c| c.label_ja())
        .collect::<Vec<_>>()
        .join("・")
}

pub fn network(net: &Network, month: Month) -> String {
    let mut s = String::new();
    let r = &net.region;
    let _ = writeln!(s, "{}", r.name);
    if let Some(en) = &r.name_en {
        let _ = writeln!(s, "{en}");
    }
    let closures: Vec<String> = r
        .closures
        .iter()
        .map(|c| {
            format!(
                "{} {:02}-{:02}〜{:02}-{:02}",
                c.name, c.from.0, c.from.1, c.to.0, c.to.1
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "地域 region: {}   時間帯 time zone: {}   地域休業日 closures: {}",
        r.id,
        r.time_zone,
        if closures.is_empty() {
            "なし none".to_string()
        } else {
            closures.join(", ")
        }
    );

    let _ = writeln!(
        s,
        "\n市町村・参加施設 Municipalities and member institutions"
    );
    for m in &net.municipalities {
        let insts: Vec<_> = net
            .institutions
            .iter()
            .filter(|i| i.municipality == m.id)
            .collect();
        let _ = writeln!(
            s,
            "  {} {} — {} 施設 institutions",
            m.name,
            m.name_en.as_deref().unwrap_or(""),
            insts.len()
        );
        for i in insts {
            let staff = net
                .staff
                .iter()
                .filter(|st| st.home_institution == i.id)
                .count();
            let _ = writeln!(
                s,
                "    {}［{}］{}{}",
                i.name,
                i.kind.label_ja(),
                if i.backup_hospital {
                    "後方支援病院 backup hospital "
                } else {
                    ""
                },
                if staff > 0 {
                    format!("職員 {staff} 名 staff")
                } else {
                    String::new()
                }
            );
        }
    }

    let cal = Calendar::for_region(r);
    let _ = writeln!(
        s,
        "\n当番サービス Coverage services ({month} のシフト数 shifts to fill)"
    );
    for svc in &net.services {
        let eligible = net.staff.iter().filter(|st| net.eligible(st, svc)).count();
        let shifts = cal.shifts(svc, month);
        let _ = writeln!(
            s,
            "  {} ({}) — {}{}、{}、候補 {} 名 eligible, {} shifts",
            svc.name,
            svc.id,
            svc.profession.label_ja(),
            if svc.continuous {
                "、24時間365日"
            } else {
                ""
            },
            match svc.mode {
                ServiceMode::OnSite => "当直 on site",
                ServiceMode::OnCall => "オンコール on call",
            },
            eligible,
            shifts.len()
        );
        for t in &svc.templates {
            let hc = t.headcount;
            let _ = writeln!(
                s,
                "    {} {}–{}{}  {}  {}〜{} 名",
                pad(&t.name, 14),
                t.start,
                if t.end_day == 1 { "翌" } else { "" },
                t.end,
                classes_ja(&t.day_classes),
                hc.min,
                hc.max
            );
        }
    }

    let days_off: Vec<String> = month
        .days()
        .filter_map(|d| cal.day_off(d))
        .filter(|d| d.name != "日曜日")
        .map(|d| format!("{} {}", d.date.format("%m/%d"), d.name))
        .collect();
    if !days_off.is_empty() {
        let _ = writeln!(s, "\n{month} の休日 holidays: {}", days_off.join(", "));
    }
    let counts: Vec<String> = net
        .counts()
        .into_iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(s, "\n{}", counts.join(", "));
    s
}
