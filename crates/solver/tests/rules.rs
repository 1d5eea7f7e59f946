//! Each constraint family shown binding: the same network with and without
//! the rule gives a different answer, and the checker agrees with the solver.

mod common;

use chrono::NaiveDate;
use common::*;
use touban_solver::{History, Instance, PastDuty, Rule, explain};

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
        s.count_on("a", "2027-02-10"),
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
        assert_eq!(s.count_on("a", d), 0, "{d}");
        assert_eq!(s.count_on("b", d), 1, "{d}");
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
    assert_eq!(s.count_on("n", "2027-02-01"), 0);
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
        without.count_on("primary", "2027-02-05"),
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
    assert_eq!(s.count_on("a", "2027-02-03"), 0);
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
