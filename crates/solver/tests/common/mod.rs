//! A tiny network builder for solver tests, and a solve-and-check helper.
#![allow(dead_code)]

use touban_domain::{Assignment, Month, Network};
use touban_solver::{CheckReport, History, Instance, SolveOptions, check, generate};

pub const HEADER: &str = r#"
[region]
id = "t"
name = "テスト"

[[municipalities]]
id = "m"
name = "村"
lat = 35.3
lon = 137.8

[[municipalities]]
id = "far"
name = "遠い村"
lat = 35.6
lon = 138.2

[[institutions]]
id = "c"
name = "診療所"
kind = "clinic"
municipality = "m"
lat = 35.3
lon = 137.8

[[institutions]]
id = "h"
name = "病院"
kind = "hospital"
municipality = "m"
lat = 35.3
lon = 137.8
backup_hospital = true

[[institutions]]
id = "far-clinic"
name = "遠い診療所"
kind = "clinic"
municipality = "far"
lat = 35.6
lon = 138.2
"#;

/// A staff member: id, profession, then extra `key = value` lines.
pub fn person(id: &str, profession: &str, extra: &str) -> String {
    format!(
        "\n[[staff]]\nid = \"{id}\"\nname = \"{id} 太郎\"\nprofession = \"{profession}\"\ninstitution = \"c\"\nemail = \"{id}@c.example.jp\"\n{extra}\n"
    )
}

/// A service with one template.
pub fn service(id: &str, profession: &str, extra: &str, template: &str) -> String {
    format!(
        "\n[[services]]\nid = \"{id}\"\nname = \"{id}\"\nprofession = \"{profession}\"\n{extra}\n\n[[services.templates]]\n{template}\n"
    )
}

pub const DAY: &str = "id = \"day\"\nname = \"日中\"\ndays = [\"weekday\", \"saturday\", \"holiday\", \"year_end\"]\nstart = \"09:00\"\nend = \"19:00\"";
pub const NIGHT: &str = "id = \"night\"\nname = \"夜間\"\ndays = [\"weekday\", \"saturday\", \"holiday\", \"year_end\"]\nstart = \"17:30\"\nend = \"08:30\"\nend_day = 1";

pub fn net(body: &str) -> Network {
    let src = format!("{HEADER}{body}");
    touban_netfile::parse("test.toml", &src).unwrap_or_else(|p| panic!("{p}\n{src}"))
}

pub fn feb() -> Month {
    Month::new(2027, 2).unwrap()
}

pub struct Solved {
    pub assignments: Vec<Assignment>,
    pub report: CheckReport,
}

impl Solved {
    /// How many duties `staff` has on `date` (YYYY-MM-DD).
    pub fn count_on(&self, staff: &str, date: &str) -> usize {
        let d: chrono::NaiveDate = date.parse().unwrap();
        self.of(staff).iter().filter(|a| a.shift.date == d).count()
    }

    pub fn of(&self, staff: &str) -> Vec<&Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.staff.as_str() == staff)
            .collect()
    }
    /// Hard violations other than coverage shortfalls.
    pub fn broken_rules(&self) -> Vec<String> {
        self.report
            .violations
            .iter()
            .filter(|v| v.rule != touban_solver::Rule::Coverage)
            .map(ToString::to_string)
            .collect()
    }
    pub fn unfilled(&self) -> usize {
        self.report
            .violations
            .iter()
            .filter(|v| v.rule == touban_solver::Rule::Coverage)
            .count()
    }
}

/// Solves a month and runs the checker on the answer; the solver must never
/// break a hard rule other than leaving a shift short.
pub fn solve(net: &Network, month: Month, history: &History) -> Solved {
    let inst = Instance::new(net, month);
    let out = generate(
        &inst,
        history,
        &SolveOptions {
            time_limit: 30.0,
            ..SolveOptions::default()
        },
    )
    .unwrap();
    let report = check(&inst, &out.assignments, history);
    let s = Solved {
        assignments: out.assignments,
        report,
    };
    assert!(
        s.broken_rules().is_empty(),
        "the solver broke hard rules: {:#?}",
        s.broken_rules()
    );
    s
}
