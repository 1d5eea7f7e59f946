//! The rules coordinators set (`[[rules]]`), per-date headcounts and pinned
//! duties: each family shown binding (the month differs with and without
//! it), kept by generate and repair, counted by the checker the same way as
//! by the model, and named by the explainer.

mod common;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use common::*;
use touban_domain::{Absence, AbsenceKind, Network};
use touban_solver::{History, Instance, Rule, SolveOptions, check, explain, generate, repair};

/// Three physicians sharing a night and a day service; permitted duty, so
/// that the labour rules (rest, hours) stay out of the way and only the
/// rule under test binds.
fn base(rules: &str) -> Network {
    let body = format!(
        "{}{}{}{}{}{rules}",
        person("a", "physician", "min_days_off = 0"),
        person("b", "physician", "min_days_off = 0"),
        person("c", "physician", "min_days_off = 0"),
        service("n", "physician", "duty = \"permitted_duty\"", NIGHT),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    net(&body)
}

fn days_of(s: &Solved, staff: &str, template: &str) -> Vec<NaiveDate> {
    let mut v: Vec<NaiveDate> = s
        .of(staff)
        .iter()
        .filter(|a| template.is_empty() || a.shift.template.as_str() == template)
        .map(|a| a.shift.date)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Runs of consecutive dates: (first day, length).
fn runs(days: &[NaiveDate]) -> Vec<(NaiveDate, usize)> {
    let mut out: Vec<(NaiveDate, usize)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((start, len)) if *start + Duration::days(*len as i64) == d => *len += 1,
            _ => out.push((d, 1)),
        }
    }
    out
}

/// Solves, and checks the model's objective against the checker's soft
/// total (the same rules counted the same way).
fn solve_agreeing(n: &Network) -> Solved {
    let inst = Instance::new(n, feb());
    let out = generate(
        &inst,
        &History::default(),
        &SolveOptions {
            time_limit: 30.0,
            ..SolveOptions::default()
        },
    )
    .unwrap();
    let report = check(&inst, &out.assignments, &History::default());
    assert!(
        (out.objective - report.soft_total()).abs() < 1e-4,
        "model {} vs checker {}: {:?}",
        out.objective,
        report.soft_total(),
        report.soft
    );
    Solved {
        assignments: out.assignments,
        report,
    }
}

#[test]
fn max_duties_binds_and_a_persons_own_setting_wins() {
    let free = solve(&base(""), feb(), &History::default());
    assert!(days_of(&free, "a", "night").len() > 4);
    let rules = r#"
[[rules]]
rule = "max_duties"
label = "当直は月4回まで"
n = 4
of = "nights"
"#;
    let s = solve(&base(rules), feb(), &History::default());
    for p in ["a", "b", "c"] {
        assert!(days_of(&s, p, "night").len() <= 4, "{p}");
    }
    // 28 nights, 12 takeable: 16 unfilled.
    assert_eq!(s.unfilled(), 16);
    // A's own setting replaces the network's for a alone.
    let rules = r#"
[[rules]]
rule = "max_duties"
n = 4
of = "nights"

[[rules]]
rule = "max_duties"
n = 20
of = "nights"
staff = ["a"]
"#;
    let s = solve(&base(rules), feb(), &History::default());
    assert_eq!(days_of(&s, "a", "night").len(), 20);
    assert!(days_of(&s, "b", "night").len() <= 4);
    assert_eq!(s.unfilled(), 0);
    // Per week, for a profession.
    let rules = r#"
[[rules]]
rule = "max_duties"
n = 1
of = { service = "n", template = "night" }
per = "week"
profession = "physician"
"#;
    let s = solve(&base(rules), feb(), &History::default());
    for p in ["a", "b", "c"] {
        let nights = days_of(&s, p, "night");
        for w in nights.windows(2) {
            assert_ne!(w[0].iso_week(), w[1].iso_week(), "{p}: {nights:?}");
        }
    }
}

#[test]
fn min_duties_and_min_hours_bind() {
    let rules = r#"
[[rules]]
rule = "min_duties"
n = 16
of = "nights"
staff = ["c"]
"#;
    let s = solve(&base(rules), feb(), &History::default());
    assert!(days_of(&s, "c", "night").len() >= 16);
    // 10 h day duties: at least 150 h means at least 15 of them for b.
    let rules = r#"
[[rules]]
rule = "min_hours"
hours = 300
staff = ["b"]
"#;
    let s = solve(&base(rules), feb(), &History::default());
    let hours: f64 = s
        .of("b")
        .iter()
        .map(|a| {
            if a.shift.template.as_str() == "night" {
                15.0
            } else {
                10.0
            }
        })
        .sum();
    assert!(hours >= 300.0, "{hours}");
}

#[test]
fn consecutive_days_and_days_off_in_blocks() {
    // One physician, one daily duty: at most 2 days in a row.
    let body = format!(
        "{}{}",
        person("a", "physician", "min_days_off = 0"),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    let one = |rules: &str| net(&format!("{body}{rules}"));
    let s = solve(
        &one("[[rules]]\nrule = \"max_consecutive_days\"\nn = 2\n"),
        feb(),
        &History::default(),
    );
    let r = runs(&days_of(&s, "a", ""));
    assert!(r.iter().all(|(_, len)| *len <= 2), "{r:?}");
    assert_eq!(s.of("a").len(), 19, "2 on, 1 off over 28 days");
    // Days off at least 3 in a row, at most 4 days in a row on duty.
    let s = solve(
        &one(
            "[[rules]]\nrule = \"max_consecutive_days\"\nn = 4\n\n[[rules]]\nrule = \"min_consecutive_days_off\"\nn = 3\n",
        ),
        feb(),
        &History::default(),
    );
    let worked = days_of(&s, "a", "");
    let r = runs(&worked);
    for w in r.windows(2) {
        let gap = (w[1].0 - (w[0].0 + Duration::days(w[0].1 as i64))).num_days();
        assert!(gap >= 3, "a gap of {gap} days off: {r:?}");
    }
    // Two people, duty days in blocks of at least 3 (a block touching the
    // month's first or last day may be shorter).
    let body2 = format!(
        "{}{}{}",
        person("a", "physician", "min_days_off = 0"),
        person("b", "physician", "min_days_off = 0"),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    let s = solve(
        &net(&format!(
            "{body2}[[rules]]\nrule = \"min_consecutive_days\"\nn = 3\n"
        )),
        feb(),
        &History::default(),
    );
    let (first, last) = (
        NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        NaiveDate::from_ymd_opt(2027, 2, 28).unwrap(),
    );
    for p in ["a", "b"] {
        for (start, len) in runs(&days_of(&s, p, "")) {
            let cut = start == first || start + Duration::days(len as i64 - 1) == last;
            assert!(len >= 3 || cut, "{p}: block of {len} from {start}");
        }
    }
    assert_eq!(s.unfilled(), 0);
}

#[test]
fn day_off_after_night_and_forbidden_successions() {
    let after = |s: &Solved, p: &str, then: &str| -> usize {
        let nights = days_of(s, p, "night");
        let next = days_of(s, p, then);
        nights
            .iter()
            .filter(|d| next.contains(&(**d + Duration::days(1))))
            .count()
    };
    // Two physicians for a night and a day duty every day: each works
    // every day, so without the rule every night is followed by duty.
    let two = |rules: &str| {
        net(&format!(
            "{}{}{}{}{rules}",
            person("a", "physician", "min_days_off = 0"),
            person("b", "physician", "min_days_off = 0"),
            service("n", "physician", "duty = \"permitted_duty\"", NIGHT),
            service("d", "physician", "duty = \"permitted_duty\"", DAY),
        ))
    };
    let free = solve(&two(""), feb(), &History::default());
    assert_eq!(free.unfilled(), 0);
    assert!(after(&free, "a", "") + after(&free, "b", "") > 0);
    let s = solve(
        &two("[[rules]]\nrule = \"day_off_after_night\"\nlabel = \"当直明けは休み\"\n"),
        feb(),
        &History::default(),
    );
    for p in ["a", "b"] {
        assert_eq!(after(&s, p, ""), 0, "{p}");
    }
    assert!(s.unfilled() > 0, "the rule costs places here");
    // Night then day forbidden: one takes the nights, the other the days.
    let s = solve(
        &two(
            "[[rules]]\nrule = \"forbidden_succession\"\nfirst = \"nights\"\nthen = { service = \"d\" }\n",
        ),
        feb(),
        &History::default(),
    );
    for p in ["a", "b"] {
        assert_eq!(after(&s, p, "day"), 0, "{p}");
    }
    assert_eq!(s.unfilled(), 0);
}

/// Forbidden successions over several next-day duties: the model writes
/// one row per night and set of clashing next-day duties (across rules of
/// one weight), the checker counts pair by pair; both must agree.
#[test]
fn forbidden_successions_over_clashing_duties_count_as_pairs() {
    let early = "id = \"early\"\nname = \"早朝\"\ndays = [\"weekday\", \"saturday\", \"holiday\", \"year_end\"]\nstart = \"06:00\"\nend = \"08:00\"";
    let three = |rules: &str| {
        net(&format!(
            "{}{}{}{}{}{}{}{rules}",
            person("a", "physician", "min_days_off = 0"),
            person("b", "physician", "min_days_off = 0"),
            person("c", "physician", "min_days_off = 0"),
            service("n", "physician", "duty = \"permitted_duty\"", NIGHT),
            service("d1", "physician", "duty = \"permitted_duty\"", DAY),
            service("d2", "physician", "duty = \"permitted_duty\"", DAY),
            service("e", "physician", "duty = \"permitted_duty\"", early),
        ))
    };
    let rules = |weight: &str| {
        format!(
            "[[rules]]\nrule = \"forbidden_succession\"\nfirst = \"nights\"\nthen = {{ service = \"d1\" }}\n{weight}\n\
             [[rules]]\nrule = \"forbidden_succession\"\nfirst = \"nights\"\nthen = {{ service = \"d2\" }}\n{weight}\n\
             [[rules]]\nrule = \"forbidden_succession\"\nfirst = \"nights\"\nthen = \"all\"\nweight = 2\n"
        )
    };
    // Three people for three clashing duties a day: someone works the day
    // after each night, and pays for it.
    let s = solve_agreeing(&three(&rules("weight = 5")));
    let cost = s
        .report
        .soft
        .iter()
        .find(|c| c.family == "staff_rules")
        .map_or(0.0, |c| c.cost);
    assert!(cost > 0.0, "{:?}", s.report.soft);
    // Hard: a night is followed by nothing but the early duty (that the
    // third rule only prices).
    let s = solve(&three(&rules("")), feb(), &History::default());
    for p in ["a", "b", "c"] {
        let nights = days_of(&s, p, "night");
        let days = days_of(&s, p, "day");
        assert!(
            nights
                .iter()
                .all(|d| !days.contains(&(*d + Duration::days(1)))),
            "{p}: a day duty after a night"
        );
    }
    assert!(s.broken_rules().is_empty(), "{:?}", s.broken_rules());
}

#[test]
fn weekends_and_hours() {
    let weekends = |s: &Solved, p: &str| {
        let mut w: Vec<_> = days_of(s, p, "")
            .into_iter()
            .filter(|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .map(|d| d.iso_week().week())
            .collect();
        w.dedup();
        w.len()
    };
    let free = solve(&base(""), feb(), &History::default());
    assert!(weekends(&free, "a") > 1);
    let s = solve(
        &base("[[rules]]\nrule = \"max_weekends\"\nn = 1\nstaff = [\"a\"]\n"),
        feb(),
        &History::default(),
    );
    assert!(weekends(&s, "a") <= 1);
    let s = solve(
        &base("[[rules]]\nrule = \"max_hours\"\nhours = 60\nper = \"week\"\n"),
        feb(),
        &History::default(),
    );
    for p in ["a", "b", "c"] {
        let mut per_week = std::collections::BTreeMap::new();
        for a in s.of(p) {
            *per_week
                .entry(a.shift.date.iso_week().week())
                .or_insert(0.0) += if a.shift.template.as_str() == "night" {
                15.0
            } else {
                10.0
            };
        }
        assert!(per_week.values().all(|h| *h <= 60.0), "{p}: {per_week:?}");
    }
}

#[test]
fn soft_rules_are_priced_and_counted_alike_by_model_and_checker() {
    // Only a can work, the service needs someone every day: a soft "at most
    // 4 in a row" is broken where it must be, and costs its weight.
    let body = format!(
        "{}{}[[rules]]\nrule = \"max_consecutive_days\"\nn = 4\nweight = 7\n\n[[rules]]\nrule = \"max_duties\"\nn = 20\nweight = 3\n",
        person("a", "physician", "min_days_off = 0"),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    let s = solve_agreeing(&net(&body));
    let rules = s
        .report
        .soft
        .iter()
        .find(|c| c.family == "staff_rules")
        .unwrap();
    // Ideal 1 costs 20 per empty day: every day is filled, 28 duties, 8
    // over the 20 (3 each), and 24 windows of 5 days over by one (7 each).
    assert_eq!(s.of("a").len(), 28);
    assert!(
        (rules.cost - (8.0 * 3.0 + 24.0 * 7.0)).abs() < 1e-6,
        "{rules:?}"
    );
    assert!(s.broken_rules().is_empty());
    // With every family set softly on the three physicians, the model and
    // the checker still agree.
    let all = r#"
[[rules]]
rule = "max_duties"
n = 6
of = "weekends_holidays"
weight = 2
[[rules]]
rule = "min_duties"
n = 12
weight = 1
staff = ["a", "b"]
[[rules]]
rule = "min_consecutive_days"
n = 2
weight = 1
[[rules]]
rule = "min_consecutive_days_off"
n = 2
weight = 1
[[rules]]
rule = "day_off_after_night"
weight = 2
[[rules]]
rule = "max_weekends"
n = 2
weight = 3
[[rules]]
rule = "max_hours"
hours = 120
weight = 0.5
"#;
    solve_agreeing(&base(all));
}

#[test]
fn a_hard_rule_that_cannot_be_kept_is_reported_and_explained() {
    // One physician, at most 20 duties: 8 days stay unfilled, and the
    // explainer names the rule for each.
    let body = format!(
        "{}{}[[rules]]\nrule = \"max_duties\"\nlabel = \"当番は月20回まで\"\nn = 20\n",
        person("a", "physician", "min_days_off = 0"),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    let n = net(&body);
    let s = solve(&n, feb(), &History::default());
    assert_eq!(s.of("a").len(), 20);
    let inst = Instance::new(&n, feb());
    let unfilled = explain(&inst, &s.assignments, &History::default());
    assert_eq!(unfilled.len(), 8);
    for u in &unfilled {
        let b = &u.candidates[0];
        assert_eq!(b.rule, Some(Rule::Limit), "{u}");
        assert!(b.reason_ja.contains("当番は月20回まで"), "{u}");
    }
    // A hard lower limit that cannot be met is a violation, not a failure.
    let body = format!(
        "{}{}{}[[rules]]\nrule = \"min_duties\"\nn = 30\nstaff = [\"a\"]\n",
        person("a", "physician", "min_days_off = 0"),
        person("b", "physician", "min_days_off = 0"),
        service("d", "physician", "duty = \"permitted_duty\"", DAY),
    );
    let n = net(&body);
    let inst = Instance::new(&n, feb());
    let out = generate(&inst, &History::default(), &SolveOptions::default()).unwrap();
    assert_eq!(
        out.assignments
            .iter()
            .filter(|a| a.staff.as_str() == "a")
            .count(),
        28
    );
    let report = check(&inst, &out.assignments, &History::default());
    let v: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.rule == Rule::Limit)
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].message_ja.contains("2回不足"), "{}", v[0].message_ja);
}

#[test]
fn per_date_headcounts_override_the_template() {
    let rules = r#"
[[services.overrides]]
date = 2027-02-11
min = 2
ideal = 2
max = 2
note = "村祭り"

[[services.overrides]]
date = 2027-02-12
min = 0
ideal = 0
over_weight = 50
"#;
    let s = solve(&base(rules), feb(), &History::default());
    let on = |d: &str, t: &str| {
        s.assignments
            .iter()
            .filter(|a| a.shift.date.to_string() == d && a.shift.template.as_str() == t)
            .count()
    };
    // The overrides follow the day service (the last [[services]]).
    assert_eq!(on("2027-02-11", "day"), 2);
    assert_eq!(on("2027-02-12", "day"), 0);
    assert_eq!(on("2027-02-13", "day"), 1);
    assert_eq!(on("2027-02-11", "night"), 1);
}

#[test]
fn pinned_duties_are_kept_by_generate_and_repair() {
    let pins = r#"
[[pinned]]
staff = "c"
service = "n"
template = "night"
date = 2027-02-05

[[pinned]]
staff = "c"
service = "n"
template = "night"
date = 2027-02-06
"#;
    let n = base(&format!(
        "[[rules]]\nrule = \"max_duties\"\nn = 9\nof = \"nights\"\n{pins}"
    ));
    let s = solve(&n, feb(), &History::default());
    let nights = days_of(&s, "c", "night");
    for d in ["2027-02-05", "2027-02-06"] {
        assert!(nights.contains(&d.parse().unwrap()), "{d}: {nights:?}");
    }
    // Repair after b is away the 10th–12th: the pins stay, b's duties go.
    let mut n2 = n.clone();
    n2.absences.push(
        Absence::new(
            touban_domain::StaffId::parse("b").unwrap(),
            "2027-02-10T00:00:00+09:00".parse().unwrap(),
            "2027-02-13T00:00:00+09:00".parse().unwrap(),
            AbsenceKind::Sickness,
            None,
        )
        .unwrap(),
    );
    let inst = Instance::new(&n2, feb());
    let h = History {
        previous: Some(s.assignments),
        ..History::default()
    };
    let out = repair(&inst, &h, &SolveOptions::default()).unwrap();
    let report = check(&inst, &out.assignments, &h);
    assert!(
        report.violations.iter().all(|v| v.rule == Rule::Coverage),
        "{:?}",
        report.violations
    );
    for d in ["2027-02-05", "2027-02-06"] {
        assert!(out.assignments.iter().any(|a| a.staff.as_str() == "c"
            && a.shift.date.to_string() == d
            && a.shift.template.as_str() == "night"));
    }
    // A pinned person reported absent is not given the duty, and the
    // checker says the pin was dropped and why.
    let mut n3 = n;
    n3.absences.push(
        Absence::new(
            touban_domain::StaffId::parse("c").unwrap(),
            "2027-02-05T00:00:00+09:00".parse().unwrap(),
            "2027-02-07T00:00:00+09:00".parse().unwrap(),
            AbsenceKind::Sickness,
            None,
        )
        .unwrap(),
    );
    let inst = Instance::new(&n3, feb());
    let out = generate(&inst, &History::default(), &SolveOptions::default()).unwrap();
    assert!(!out.assignments.iter().any(|a| a.staff.as_str() == "c"
        && a.shift.date.day() == 5
        && a.shift.template.as_str() == "night"));
    let report = check(&inst, &out.assignments, &History::default());
    let pins: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.rule == Rule::Pinned)
        .collect();
    assert_eq!(pins.len(), 2, "{pins:?}");
    assert!(
        pins[0].message_ja.contains("不在"),
        "{}",
        pins[0].message_ja
    );
}
