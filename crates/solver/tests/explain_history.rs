//! Beyond one month's rules: an impossible month explained shift by shift,
//! duties of the month before and the overtime year across months, the
//! objective and the checker on an unfillable part, lent staff, and a
//! repair that leaves a shift already under way alone.

mod common;

use chrono::NaiveDate;
use common::*;
use touban_domain::Month;
use touban_solver::{History, Instance, PastDuty, Rule, explain};

#[test]
fn an_impossible_month_is_explained_shift_by_shift() {
    let body = format!(
        "{}{}{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        person("b", "pharmacist", "min_days_off = 0"),
        service("p", "pharmacist", "duty = \"permitted_duty\"", NIGHT),
        "\n[[absences]]\nstaff = \"a\"\nfrom = 2027-02-10\nto = 2027-02-12\n\n[[absences]]\nstaff = \"b\"\nfrom = 2027-02-11\nto = 2027-02-13\n",
    );
    let n = net(&body);
    let s = solve(&n, feb(), &History::default());
    let inst = Instance::new(&n, feb());
    let unfilled = explain(&inst, &s.assignments, &History::default());
    // Only the nights of the 11th and 12th find both absent (the night of the
    // 10th ends on the 11th, which a is absent for as well).
    let dates: Vec<String> = unfilled.iter().map(|u| u.shift.date.to_string()).collect();
    assert_eq!(
        dates,
        ["2027-02-10", "2027-02-11", "2027-02-12"],
        "{unfilled:#?}"
    );
    for u in &unfilled {
        assert_eq!(u.candidates.len(), 2);
        for c in &u.candidates {
            assert_eq!(c.rule, Some(Rule::Absent), "{u}");
            assert!(c.reason.starts_with("absent (leave"), "{}", c.reason);
        }
    }
    let text = unfilled[0].to_string();
    // Japanese first, then English.
    assert!(
        text.contains("p 2027-02-10 night")
            && text.contains("規則3 / rule 3: 不在（休暇")
            && text.contains("/ absent (leave"),
        "{text}"
    );
    assert!(
        unfilled[0].candidates[0]
            .reason_ja
            .starts_with("不在（休暇")
    );
}

#[test]
fn explanation_names_the_rest_rule_and_the_cap() {
    // One counted night service and one doctor: each unfilled night is blocked
    // by rest after the previous night, or by the monthly cap.
    let body = format!(
        "{}{}",
        person("doc", "physician", "regime = \"b\"\nmin_days_off = 0"),
        service("n", "physician", "duty = \"counts_as_work\"", NIGHT),
    );
    let n = net(&body);
    let s = solve(&n, feb(), &History::default());
    let inst = Instance::new(&n, feb());
    let unfilled = explain(&inst, &s.assignments, &History::default());
    let rules: std::collections::BTreeSet<Rule> = unfilled
        .iter()
        .flat_map(|u| u.candidates.iter().filter_map(|c| c.rule))
        .collect();
    assert!(rules.contains(&Rule::Rest), "{unfilled:#?}");
    assert!(rules.contains(&Rule::Hours), "{unfilled:#?}");
    let rest = unfilled
        .iter()
        .flat_map(|u| &u.candidates)
        .find(|c| c.rule == Some(Rule::Rest))
        .unwrap();
    assert!(
        rest.reason.starts_with("rest after the night of 02-"),
        "{}",
        rest.reason
    );
    let _ = Month::new(2027, 2);
}

/// Duty at the end of the previous month rules out overlapping shifts for
/// everyone, not only for people whose rest intervals are enforced.
#[test]
fn previous_month_duty_blocks_overlaps_even_without_rest_rules() {
    let body = format!(
        "{}{}{}",
        person("a", "pharmacist", "rest = \"off\"\nmin_days_off = 0"),
        person("b", "pharmacist", "min_days_off = 0"),
        service(
            "p",
            "pharmacist",
            "duty = \"permitted_duty\"",
            "id = \"early\"\nname = \"早朝\"\ndays = [\"weekday\", \"saturday\", \"holiday\", \"year_end\"]\nstart = \"07:00\"\nend = \"12:00\""
        ),
    );
    let n = net(&body);
    let a = touban_domain::StaffId::parse("a").unwrap();
    let mut h = History::default();
    // b has done plenty, a too little: a is preferred (a's shortfall is
    // b's surplus, so that the split is not a tie).
    h.carry.insert(
        touban_domain::StaffId::parse("b").unwrap(),
        [0.0, 0.0, 0.0, 5.0],
    );
    h.carry.insert(
        touban_domain::StaffId::parse("a").unwrap(),
        [0.0, 0.0, 0.0, -5.0],
    );
    h.before.push(PastDuty {
        staff: a,
        date: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        start: "2027-01-31T17:30:00+09:00".parse().unwrap(),
        end: "2027-02-01T08:30:00+09:00".parse().unwrap(),
        counts: false,
        night: true,
        nurse_night: false,
        on_site: true,
        key: None,
    });
    let s = solve(&n, feb(), &h);
    assert_eq!(
        s.count_on("a", "2027-02-01"),
        0,
        "a is still on duty until 08:30"
    );
    assert_eq!(s.count_on("b", "2027-02-01"), 1);
    assert!(
        s.of("a").len() > s.of("b").len(),
        "a is preferred otherwise: a {}, b {}",
        s.of("a").len(),
        s.of("b").len()
    );
}

/// Issue 13, item 13: the annual cap counts the overtime year the region
/// sets (here from April), not the calendar year.
#[test]
fn the_overtime_year_starts_in_the_regions_month() {
    let svc = service(
        "d",
        "physician",
        "duty = \"counts_as_work\"",
        &format!("{DAY}\nmin = 0\nideal = 1"),
    );
    let body = format!(
        "{}{svc}",
        person("doc", "physician", "regime = \"a\"\nrest = \"off\"")
    );
    let src = format!("{HEADER}{body}").replace(
        "name = \"テスト\"",
        "name = \"テスト\"\novertime_year_starts = 4",
    );
    let network = touban_netfile::parse("t.toml", &src).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(network.region.overtime_year_starts, 4);
    let rota = |m: Month, day: u32| touban_domain::Rota {
        region: network.region.id.clone(),
        month: m,
        version: 1,
        status: touban_domain::RotaStatus::Published,
        created_at: chrono::Utc::now(),
        created_by: "t".into(),
        note: None,
        assignments: vec![touban_domain::Assignment {
            shift: touban_domain::ShiftKey {
                service: touban_domain::ServiceId::parse("d").unwrap(),
                template: touban_domain::TemplateId::parse("day").unwrap(),
                date: chrono::NaiveDate::from_ymd_opt(m.year, m.month, day).unwrap(),
            },
            staff: touban_domain::StaffId::parse("doc").unwrap(),
            role: touban_domain::Role::Primary,
        }],
    };
    let m = |y, mo| Month::new(y, mo).unwrap();
    let earlier = [rota(m(2027, 2), 3), rota(m(2027, 4), 5)];
    let doc = network
        .staff_member(&touban_domain::StaffId::parse("doc").unwrap())
        .unwrap();
    // May 2027: only April (the new year) counts.
    let may = History::from_rotas(&network, m(2027, 5), &earlier);
    assert!(
        (may.hours_before(doc) - 10.0).abs() < 1e-9,
        "{}",
        may.hours_before(doc)
    );
    // March 2027: February belongs to the year that began in April 2026.
    let march = History::from_rotas(&network, m(2027, 3), &earlier[..1]);
    assert!(
        (march.hours_before(doc) - 10.0).abs() < 1e-9,
        "{}",
        march.hours_before(doc)
    );
    // With the calendar year (the default), February does not count for
    // December 2026 and does for May 2027.
    let cal = touban_netfile::parse("t.toml", &format!("{HEADER}{body}")).unwrap();
    let may_cal = History::from_rotas(&cal, m(2027, 5), &earlier);
    assert!((may_cal.hours_before(doc) - 20.0).abs() < 1e-9);
}

/// Issue 13, item 11: a month with a part nobody can take (shifts with no
/// candidate): the parts' objectives add up to the checker's soft total
/// (no fairness cost for people with no duty in that part, no penalty for
/// the unfilled slots, which are reported as such).
#[test]
fn objective_agrees_with_the_checker_when_a_part_is_unfillable() {
    let body = format!(
        "{}{}{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        person("b", "pharmacist", "min_days_off = 0"),
        service("p", "pharmacist", "duty = \"permitted_duty\"", NIGHT),
        "\n[[absences]]\nstaff = \"a\"\nfrom = 2027-02-10\nto = 2027-02-12\n\n[[absences]]\nstaff = \"b\"\nfrom = 2027-02-11\nto = 2027-02-13\n",
    );
    let n = net(&body);
    let inst = Instance::new(&n, feb());
    let out = touban_solver::generate(
        &inst,
        &History::default(),
        &touban_solver::SolveOptions {
            time_limit: 30.0,
            ..touban_solver::SolveOptions::default()
        },
    )
    .unwrap();
    assert!(
        out.parts >= 2,
        "the unfillable shifts are a part of their own"
    );
    let report = touban_solver::check(&inst, &out.assignments, &History::default());
    assert!(
        (out.objective - report.soft_total()).abs() < 1e-6 * report.soft_total().max(1.0),
        "parts {} vs checker {}",
        out.objective,
        report.soft_total()
    );
    assert!(
        out.gap < 1e-9,
        "an unfillable part has nothing to decide: gap {}",
        out.gap
    );
}

/// Issue 13, item 10: a backup attending physician blocked by rule 7 (their
/// primary is absent) is explained by rule 7, whichever member of the pair
/// they are, never by "no rule blocks them".
#[test]
fn rule_7_is_named_for_the_backup_of_a_pair_too() {
    let body = format!(
        "{}{}{}{}",
        person("primary", "physician", "min_days_off = 0"),
        person("backup", "physician", "min_days_off = 0"),
        service(
            "onsite",
            "physician",
            "mode = \"on_site\"\nduty = \"permitted_duty\"",
            DAY
        ),
        "\n[[absences]]\nstaff = \"primary\"\nfrom = 2027-02-01\nto = 2027-02-28\n\n[[attending_pairs]]\nprimary = \"primary\"\nbackup = \"backup\"\n",
    );
    let n = net(&body);
    let s = solve(&n, feb(), &History::default());
    assert!(
        s.of("backup").is_empty(),
        "the backup may not leave for on-site duty"
    );
    let inst = Instance::new(&n, feb());
    let unfilled = explain(&inst, &s.assignments, &History::default());
    assert_eq!(unfilled.len(), 28);
    for u in &unfilled {
        let b = u
            .candidates
            .iter()
            .find(|c| c.staff.as_str() == "backup")
            .unwrap();
        assert_eq!(b.rule, Some(Rule::AttendingPair), "{u}");
        assert!(!b.reason.contains("no rule blocks"), "{u}");
    }
}

/// Issue 13, item 9: a nurse who may also work at a second station is not
/// given twice the share: targets are equal per FTE among everyone who
/// shares the work, and she gets no more duties per FTE than colleagues.
#[test]
fn lent_staff_get_no_more_than_an_equal_share() {
    let nurse = |id: &str, inst: &str, extra: &str| {
        format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id} 花子\"\nprofession = \"nurse\"\ninstitution = \"{inst}\"\nemail = \"{id}@x.example.jp\"\nmin_days_off = 4\n{extra}\n"
        )
    };
    let station = |id: &str, inst: &str| {
        format!(
            "\n[[services]]\nid = \"{id}\"\nname = \"{id}\"\nprofession = \"nurse\"\ninstitutions = [\"{inst}\"]\nduty = \"permitted_duty\"\n\n[[services.templates]]\n{NIGHT}\n"
        )
    };
    let body = format!(
        "{}{}{}{}{}{}{}",
        nurse("a1", "c", ""),
        nurse("a2", "c", ""),
        nurse("lent", "c", "also_at = [\"h\"]"),
        nurse("b1", "h", ""),
        nurse("b2", "h", ""),
        station("vns-a", "c"),
        station("vns-b", "h"),
    );
    let n = net(&body);
    let inst = Instance::new(&n, feb());
    // The targets: equal for all five (56 nights / 5).
    let pool = touban_solver::soft::pools(&inst)
        .into_iter()
        .find(|p| p.category == 0)
        .unwrap();
    for &(_, share) in &pool.members {
        assert!(
            (share * pool.total - 56.0 / 5.0).abs() < 1e-6,
            "{:?}",
            pool.members
        );
    }
    let s = solve(&n, feb(), &History::default());
    assert_eq!(s.unfilled(), 0);
    let count = |id: &str| s.of(id).len();
    let others = ["a1", "a2", "b1", "b2"].map(count);
    let most = *others.iter().max().unwrap();
    assert!(
        count("lent") <= most + 1,
        "lent {} vs colleagues {others:?}",
        count("lent")
    );
}

/// Issue 13, item 8: a repair made while a shift is under way leaves it
/// with the person who started it (the part already worked is theirs; the
/// rest is reported by the checker for cover), and repairs only later ones.
#[test]
fn a_repair_does_not_rewrite_a_shift_already_under_way() {
    let body = format!(
        "{}{}{}",
        person("a", "physician", "min_days_off = 0\nrest = \"off\""),
        person("b", "physician", "min_days_off = 0\nrest = \"off\""),
        service(
            "d",
            "physician",
            "duty = \"permitted_duty\"",
            &format!("{DAY}\nmin = 1\nmax = 1")
        ),
    );
    let n = net(&body);
    let first = solve(&n, feb(), &History::default());
    let day = first.of("a")[0].shift.date;
    let at = |h: u32| {
        chrono::TimeZone::from_local_datetime(
            &chrono::FixedOffset::east_opt(9 * 3600).unwrap(),
            &day.and_hms_opt(h, 0, 0).unwrap(),
        )
        .unwrap()
    };
    // a falls ill at 12:00 that day, until two days later; the repair runs
    // at 12:30.
    let mut ill = n;
    ill.absences.push(
        touban_domain::Absence::new(
            touban_domain::StaffId::parse("a").unwrap(),
            at(12),
            at(12) + chrono::Duration::days(2),
            touban_domain::AbsenceKind::Sudden,
            None,
        )
        .unwrap(),
    );
    let inst = Instance::new(&ill, feb());
    let history = History {
        previous: Some(first.assignments.clone()),
        frozen_before: Some(at(12) + chrono::Duration::minutes(30)),
        ..History::default()
    };
    let out = touban_solver::repair(
        &inst,
        &history,
        &touban_solver::SolveOptions {
            time_limit: 30.0,
            ..Default::default()
        },
    )
    .unwrap();
    let on = |d: NaiveDate| -> Vec<String> {
        out.assignments
            .iter()
            .filter(|x| x.shift.date == d)
            .map(|x| x.staff.to_string())
            .collect()
    };
    assert_eq!(on(day), ["a"], "the shift under way stays with a");
    assert_eq!(
        on(day.succ_opt().unwrap()),
        ["b"],
        "the next day is repaired"
    );
    // Every shift before the repair is as it was.
    for x in &first.assignments {
        if x.shift.date < day {
            assert!(out.assignments.contains(x), "{x:?} changed");
        }
    }
}
