//! Each constraint family shown binding: the same network with and without
//! the rule gives a different answer, and the checker agrees with the solver.

mod common;

use chrono::NaiveDate;
use common::*;
use touban_domain::Month;
use touban_solver::{History, Instance, PastDuty, Rule, explain};

fn count_on(s: &Solved, staff: &str, date: &str) -> usize {
    let d: NaiveDate = date.parse().unwrap();
    s.of(staff).iter().filter(|a| a.shift.date == d).count()
}

#[test]
fn coverage_min_and_max() {
    let body = format!(
        "{}{}{}{}",
        person("a", "pharmacist", ""),
        person("b", "pharmacist", ""),
        person("c2", "pharmacist", ""),
        service(
            "p",
            "pharmacist",
            "duty = \"permitted_duty\"",
            &format!("{DAY}\nmin = 2\nideal = 2\nmax = 2")
        ),
    );
    let s = solve(&net(&body), feb(), &History::default());
    assert_eq!(s.unfilled(), 0);
    assert_eq!(s.assignments.len(), 28 * 2, "exactly max per shift");
    // Validation refuses min 2 with one pharmacist; built directly, every
    // shift is left one short.
    let body = format!(
        "{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        service("p", "pharmacist", "duty = \"permitted_duty\"", DAY)
    );
    let mut n = net(&body);
    n.services[0].templates[0].headcount = touban_domain::Headcount::new(2, 2, 2).unwrap();
    let s = solve(&n, feb(), &History::default());
    assert_eq!(s.unfilled(), 28);
    assert_eq!(s.assignments.len(), 28);
}

#[test]
fn eligibility_profession_skills_institutions() {
    let body = format!(
        "{}{}{}{}",
        person(
            "skilled",
            "physician",
            "skills = [\"home-visits\"]\nmin_days_off = 0"
        ),
        person("plain", "physician", "min_days_off = 0"),
        person("nurse", "nurse", "skills = [\"home-visits\"]"),
        service(
            "hv",
            "physician",
            "skills = [\"home-visits\"]\nduty = \"permitted_duty\"",
            DAY
        ),
    );
    let s = solve(&net(&body), feb(), &History::default());
    assert_eq!(s.of("skilled").len(), 28);
    assert!(s.of("plain").is_empty() && s.of("nurse").is_empty());
    // Restricted to another institution's staff (validation would refuse
    // it; built directly): nobody may take it.
    let mut n = net(&body);
    n.services[0]
        .institutions
        .insert(touban_domain::InstitutionId::parse("far-clinic").unwrap());
    let s = solve(&n, feb(), &History::default());
    assert!(s.assignments.is_empty());
    assert_eq!(s.unfilled(), 28);
}

#[test]
fn absences_are_respected_even_against_an_on_request() {
    let base = format!(
        "{}{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        person("b", "pharmacist", "min_days_off = 0"),
        service("p", "pharmacist", "duty = \"permitted_duty\"", DAY),
    );
    let req = "\n[[requests]]\nstaff = \"a\"\ndate = 2027-02-10\nkind = \"on\"\nweight = 10\n";
    let s = solve(&net(&format!("{base}{req}")), feb(), &History::default());
    assert_eq!(
        count_on(&s, "a", "2027-02-10"),
        1,
        "the request is honoured when a is free"
    );
    let absent = "\n[[absences]]\nstaff = \"a\"\nfrom = 2027-02-09\nto = 2027-02-11\n";
    let s = solve(
        &net(&format!("{base}{req}{absent}")),
        feb(),
        &History::default(),
    );
    for d in ["2027-02-09", "2027-02-10", "2027-02-11"] {
        assert_eq!(count_on(&s, "a", d), 0, "{d}");
        assert_eq!(count_on(&s, "b", d), 1, "{d}");
    }
}

#[test]
fn nobody_on_two_overlapping_shifts() {
    let body = format!(
        "{}{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        service("p1", "pharmacist", "duty = \"permitted_duty\"", DAY),
        service("p2", "pharmacist", "duty = \"permitted_duty\"", NIGHT),
    );
    let s = solve(&net(&body), feb(), &History::default());
    // Day 09–19 and night 17:30–08:30 overlap: a takes one of each pair and
    // the other overlapping one stays short.
    assert!(s.unfilled() > 0);
    let inst_net = net(&body);
    let inst = Instance::new(&inst_net, feb());
    let expl = explain(&inst, &s.assignments, &History::default());
    assert!(
        expl.iter()
            .any(|u| u.candidates.iter().any(|c| c.rule == Some(Rule::Overlap))),
        "{expl:#?}"
    );
}

#[test]
fn rest_after_night_duty_binds_unless_switched_off() {
    let services = format!(
        "{}{}",
        service(
            "night",
            "physician",
            "duty = \"counts_as_work\"",
            &format!("{NIGHT}\nmin = 0\nideal = 1")
        ),
        service(
            "day",
            "physician",
            "duty = \"counts_as_work\"",
            "id = \"day\"\nname = \"日中\"\ndays = [\"weekday\"]\nstart = \"08:30\"\nend = \"17:30\"\nmin = 0\nideal = 1"
        ),
    );
    let strict = format!(
        "{}{services}",
        person(
            "doc",
            "physician",
            "regime = \"b\"\nmin_days_off = 0\ninterview_recorded = true"
        )
    );
    let s = solve(&net(&strict), feb(), &History::default());
    // After a counted night (ends 08:30) the 08:30 day shift needs 18 h rest.
    for a in s
        .of("doc")
        .iter()
        .filter(|a| a.shift.service.as_str() == "night")
    {
        let next = a.shift.date.succ_opt().unwrap();
        assert!(
            !s.of("doc")
                .iter()
                .any(|b| b.shift.service.as_str() == "day" && b.shift.date == next),
            "day after night {}",
            a.shift.date
        );
    }
    let relaxed = format!(
        "{}{services}",
        person(
            "doc",
            "physician",
            "regime = \"a\"\nrest = \"off\"\nmin_days_off = 0\ninterview_recorded = true"
        )
    );
    let r = solve(&net(&relaxed), feb(), &History::default());
    assert!(
        r.assignments.len() > s.assignments.len(),
        "{} vs {}",
        r.assignments.len(),
        s.assignments.len()
    );
}

#[test]
fn monthly_and_annual_overtime_caps() {
    let svc = service(
        "d",
        "physician",
        "duty = \"counts_as_work\"",
        &format!("{DAY}\nmin = 0\nideal = 1"),
    );
    let capped = format!(
        "{}{svc}",
        person(
            "doc",
            "physician",
            "regime = \"a\"\nrest = \"off\"\nmin_days_off = 0"
        )
    );
    let s = solve(&net(&capped), feb(), &History::default());
    assert_eq!(s.of("doc").len(), 9, "10 h shifts under a 99 h monthly cap");
    let interview = format!(
        "{}{svc}",
        person(
            "doc",
            "physician",
            "regime = \"a\"\nrest = \"off\"\nmin_days_off = 0\ninterview_recorded = true"
        )
    );
    assert_eq!(
        solve(&net(&interview), feb(), &History::default())
            .of("doc")
            .len(),
        28
    );
    let annual = format!(
        "{}{svc}",
        person(
            "doc",
            "physician",
            "regime = \"a\"\nrest = \"off\"\nmin_days_off = 0\nhours_elsewhere_this_year = 935"
        )
    );
    assert_eq!(
        solve(&net(&annual), feb(), &History::default())
            .of("doc")
            .len(),
        2,
        "25 h left of 960"
    );
    let mut h = History::default();
    h.hours_this_year
        .insert(touban_domain::StaffId::parse("doc").unwrap(), 950.0);
    assert_eq!(
        solve(&net(&capped), feb(), &h).of("doc").len(),
        1,
        "hours from earlier rotas count"
    );
}

#[test]
fn visiting_nurse_at_most_two_nights_in_a_row() {
    let body = format!(
        "{}{}",
        person("n", "nurse", "min_days_off = 0"),
        service(
            "vns",
            "nurse",
            "duty = \"permitted_duty\"",
            &format!("{NIGHT}\nmin = 1")
        ),
    );
    let s = solve(&net(&body), feb(), &History::default());
    let mut dates: Vec<NaiveDate> = s.of("n").iter().map(|a| a.shift.date).collect();
    dates.sort();
    assert!(
        dates.windows(3).all(|w| (w[2] - w[0]).num_days() > 2),
        "{dates:?}"
    );
    assert!(s.unfilled() >= 9, "every third night stays short");
    // Two nights at the end of January block the first of February.
    let n = touban_domain::StaffId::parse("n").unwrap();
    let past = |d: u32| {
        let date = NaiveDate::from_ymd_opt(2027, 1, d).unwrap();
        let at = |day: NaiveDate, hm: &str| format!("{day}T{hm}:00+09:00").parse().unwrap();
        PastDuty {
            staff: n.clone(),
            date,
            start: at(date, "17:30"),
            end: at(date.succ_opt().unwrap(), "08:30"),
            counts: false,
            night: true,
            nurse_night: true,
            on_site: false,
            key: None,
        }
    };
    let h = History {
        before: vec![past(30), past(31)],
        ..History::default()
    };
    let s = solve(&net(&body), feb(), &h);
    assert_eq!(count_on(&s, "n", "2027-02-01"), 0);
}

#[test]
fn minimum_days_off() {
    let svc = service(
        "p",
        "pharmacist",
        "duty = \"permitted_duty\"",
        &format!("{DAY}\nmin = 0\nideal = 1"),
    );
    let s = solve(
        &net(&format!(
            "{}{svc}",
            person("a", "pharmacist", "min_days_off = 8")
        )),
        feb(),
        &History::default(),
    );
    assert_eq!(s.of("a").len(), 20);
    let s = solve(
        &net(&format!(
            "{}{svc}",
            person("a", "pharmacist", "min_days_off = 0")
        )),
        feb(),
        &History::default(),
    );
    assert_eq!(s.of("a").len(), 28);
}

#[test]
fn attending_pair_never_both_unavailable() {
    let body = format!(
        "{}{}{}{}{}",
        person("primary", "physician", "min_days_off = 0"),
        person("backup", "physician", "min_days_off = 0"),
        person("other", "physician", "min_days_off = 0"),
        service(
            "onsite",
            "physician",
            "mode = \"on_site\"\nduty = \"permitted_duty\"",
            DAY
        ),
        "\n[[absences]]\nstaff = \"backup\"\nfrom = 2027-02-01\nto = 2027-02-28\n\n[[requests]]\nstaff = \"primary\"\ndate = 2027-02-05\nkind = \"on\"\nweight = 10\n",
    );
    let pair = "\n[[attending_pairs]]\nprimary = \"primary\"\nbackup = \"backup\"\n";
    let without = solve(&net(&body), feb(), &History::default());
    assert_eq!(
        count_on(&without, "primary", "2027-02-05"),
        1,
        "without the pair, the request wins"
    );
    let with = solve(&net(&format!("{body}{pair}")), feb(), &History::default());
    assert!(
        with.of("primary").is_empty(),
        "the backup is away all month, so the primary takes no on-site duty"
    );
    assert_eq!(with.of("other").len(), 28);
}

#[test]
fn soft_rules_change_the_answer() {
    // Fairness: two equal pharmacists share nights evenly.
    let body = format!(
        "{}{}{}",
        person("a", "pharmacist", "min_days_off = 0"),
        person("b", "pharmacist", "min_days_off = 0"),
        service("p", "pharmacist", "duty = \"permitted_duty\"", NIGHT),
    );
    let s = solve(&net(&body), feb(), &History::default());
    assert_eq!(s.of("a").len(), 14);
    assert_eq!(s.of("b").len(), 14);
    // …and a carried-over surplus shifts the split. (a's surplus is b's
    // shortfall: with a surplus alone the targets would sum to fewer than
    // the month's nights, and every split would cost the same.)
    let mut h = History::default();
    h.carry.insert(
        touban_domain::StaffId::parse("a").unwrap(),
        [2.0, 0.0, 0.0, 2.0],
    );
    h.carry.insert(
        touban_domain::StaffId::parse("b").unwrap(),
        [-2.0, 0.0, 0.0, -2.0],
    );
    let s = solve(&net(&body), feb(), &h);
    assert!(
        s.of("a").len() < 14,
        "a did 4 nights too many last month: {}",
        s.of("a").len()
    );
    // Requests: an off request is honoured.
    let off = "\n[[requests]]\nstaff = \"a\"\ndate = 2027-02-03\nkind = \"off\"\nweight = 5\n";
    let s = solve(&net(&format!("{body}{off}")), feb(), &History::default());
    assert_eq!(count_on(&s, "a", "2027-02-03"), 0);
    // Distance: the far pharmacist is used only when needed.
    let body = format!(
        "{}{}{}",
        person("near", "pharmacist", "min_days_off = 0"),
        person(
            "away",
            "pharmacist",
            "min_days_off = 0\nalso_at = [\"far-clinic\"]\nlat = 35.6\nlon = 138.2"
        ),
        service(
            "p",
            "pharmacist",
            "duty = \"permitted_duty\"\narea = [\"m\"]\nmax_travel_minutes = 20",
            &format!("{DAY}\nmin = 0\nideal = 1")
        ),
    );
    let mut n = net(&body);
    n.weights.fairness_nights = 0.0;
    n.weights.fairness_holidays = 0.0;
    n.weights.fairness_year_end = 0.0;
    n.weights.fairness_shifts = 0.0;
    let s = solve(&n, feb(), &History::default());
    assert!(s.of("away").is_empty() && s.of("near").len() == 28);
}

#[test]
fn backup_hospital_one_night_duty_a_week() {
    let body = format!(
        "{}{}{}",
        person("a", "physician", "institution = \"h\"\nmin_days_off = 0")
            .replace("institution = \"c\"\n", ""),
        person("b", "physician", "institution = \"h\"\nmin_days_off = 0")
            .replace("institution = \"c\"\n", ""),
        service(
            "bh",
            "physician",
            "host = \"h\"\ninstitutions = [\"h\"]\nmode = \"on_site\"\nduty = \"permitted_duty\"",
            &format!("{NIGHT}\nmin = 0\nideal = 1")
        ),
    );
    let mut n = net(&body);
    // An extra 宿直 (10) must cost more than an empty optional slot: ideal
    // shortfall 5, and no fairness pull towards filling it.
    n.weights.ideal_headcount = 5.0;
    n.weights.fairness_nights = 0.0;
    n.weights.fairness_shifts = 0.0;
    let s = solve(&n, feb(), &History::default());
    let inst = Instance::new(&n, feb());
    let weeks = |who: &str| {
        let mut w: std::collections::BTreeMap<u32, usize> = Default::default();
        for a in s.of(who) {
            *w.entry(chrono::Datelike::iso_week(&a.shift.date).week())
                .or_default() += 1;
        }
        w
    };
    assert!(
        weeks("a").values().all(|&n| n <= 1) && weeks("b").values().all(|&n| n <= 1),
        "{:?} {:?}",
        weeks("a"),
        weeks("b")
    );
    assert!(inst.shifts.len() > s.assignments.len());
}

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
        count_on(&s, "a", "2027-02-01"),
        0,
        "a is still on duty until 08:30"
    );
    assert_eq!(count_on(&s, "b", "2027-02-01"), 1);
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
