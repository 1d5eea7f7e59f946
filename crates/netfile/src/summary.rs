//! The one-screen summary `touban validate` prints for a valid file.

use std::fmt::Write;

use touban_domain::{DayClass, Network};

/// Hours of cover per ordinary week (5 weekdays, a Saturday and a Sunday):
/// (hours during which at least one person is on duty, person-hours at the
/// minimum headcount).
pub fn weekly_hours(svc: &touban_domain::CoverageService) -> (f64, f64) {
    let week = [
        (DayClass::Weekday, 5.0),
        (DayClass::Saturday, 1.0),
        (DayClass::Holiday, 1.0),
    ];
    let mut hours = 0.0;
    let mut person_hours = 0.0;
    for (class, n) in week {
        for t in svc
            .templates
            .iter()
            .filter(|t| t.applies_to(class) && t.headcount.min > 0)
        {
            let h = f64::from(t.nominal_minutes()) / 60.0;
            hours += h * n;
            person_hours += h * n * f64::from(t.headcount.min);
        }
    }
    (hours, person_hours)
}

pub fn summary(net: &Network) -> String {
    let mut s = String::new();
    let r = &net.region;
    let _ = writeln!(s, "{} ({}) — {}", r.name, r.id, r.time_zone);
    let counts: Vec<String> = net
        .counts()
        .into_iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(s, "{}", counts.join(", "));
    let _ = writeln!(s, "\nservices (hours of cover in an ordinary week):");
    for svc in &net.services {
        let (h, ph) = weekly_hours(svc);
        let eligible = net.staff.iter().filter(|st| net.eligible(st, svc)).count();
        let _ = writeln!(
            s,
            "  {:<28} {:>6.1} h/week {:>7.1} person-h  {:>2} eligible  {}{}",
            svc.id.as_str(),
            h,
            ph,
            eligible,
            svc.name,
            if svc.continuous { "  [24/365]" } else { "" }
        );
    }
    s
}
