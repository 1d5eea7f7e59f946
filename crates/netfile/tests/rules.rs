//! `[[rules]]`, `[[pinned]]` and `[[services.overrides]]`: read, written back
//! the same, and every mistake named by file, line, entry and field.

use touban_domain::{Duties, Limit, Period, RuleScope};
use touban_netfile::{parse, write};

const SMALL: &str = r#"
[region]
id = "r"
name = "テスト地域"

[[municipalities]]
id = "anan"
name = "阿南町"

[[institutions]]
id = "clinic"
name = "診療所"
kind = "clinic"
municipality = "anan"

[[staff]]
id = "doc"
name = "医師 一郎"
profession = "physician"
institution = "clinic"
email = "doc@clinic.example.jp"

[[staff]]
id = "doc2"
name = "医師 二郎"
profession = "physician"
institution = "clinic"
email = "doc2@clinic.example.jp"

[[services]]
id = "oncall"
name = "オンコール"
profession = "physician"
area = ["anan"]

[[services.templates]]
id = "night"
name = "夜間"
days = ["weekday"]
start = "17:30"
end = "08:30"
end_day = 1

[[services.overrides]]
date = 2027-02-10
min = 2
ideal = 2
max = 2
under_weight = 40
note = "試験日"
"#;

const RULES: &str = r#"
[[rules]]
rule = "max_duties"
label = "当直は月4回まで"
n = 4
of = "nights"

[[rules]]
rule = "max_duties"
n = 6
of = { service = "oncall", template = "night" }
per = "week"
staff = ["doc"]
weight = 5

[[rules]]
rule = "forbidden_succession"
first = "nights"
then = "weekends_holidays"
profession = "physician"

[[rules]]
rule = "min_hours"
hours = 40
institution = "clinic"
weight = 1.5

[[rules]]
rule = "day_off_after_night"

[[pinned]]
staff = "doc2"
service = "oncall"
template = "night"
date = 2027-02-09
note = "確定"
"#;

#[test]
fn rules_pins_and_overrides_are_read_and_written_back() {
    let src = format!("{SMALL}{RULES}");
    let net = parse("r.toml", &src).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(net.rules.len(), 5);
    assert_eq!(
        net.rules[0].limit,
        Limit::MaxDuties {
            n: 4,
            of: Duties::Nights,
            per: Period::Month
        }
    );
    assert_eq!(net.rules[0].scope, RuleScope::Network);
    assert_eq!(net.rules[0].weight, None);
    assert_eq!(net.rules[1].weight, Some(5.0));
    assert!(matches!(net.rules[3].scope, RuleScope::Institution(_)));
    assert_eq!(net.pinned.len(), 1);
    assert_eq!(net.services[0].overrides[0].min, Some(2));
    // The most specific setting wins for doc; the network's for doc2.
    let doc = &net.staff[0];
    let mine = touban_domain::rules_for(&net.rules, doc);
    assert_eq!(
        mine.len(),
        5,
        "two max_duties of different kinds both apply"
    );
    let text = write(&net);
    let again = parse("w.toml", &text).unwrap_or_else(|p| panic!("{p}\n{text}"));
    assert_eq!(again, net);
}

#[test]
fn a_persons_own_setting_wins_over_the_networks() {
    let src = format!(
        "{SMALL}{}",
        r#"
[[rules]]
rule = "max_duties"
n = 4
of = "nights"

[[rules]]
rule = "max_duties"
n = 8
of = "nights"
staff = ["doc"]

[[rules]]
rule = "max_duties"
n = 2
of = "nights"
profession = "physician"
"#
    );
    let net = parse("r.toml", &src).unwrap_or_else(|p| panic!("{p}"));
    let n_of = |i: usize| match touban_domain::rules_for(&net.rules, &net.staff[i])[..] {
        [r] => match r.limit {
            Limit::MaxDuties { n, .. } => n,
            _ => panic!(),
        },
        ref other => panic!("{other:?}"),
    };
    assert_eq!(n_of(0), 8, "doc's own");
    assert_eq!(n_of(1), 2, "the profession's, over the network's");
}

#[test]
fn mistakes_are_named_by_line_and_field() {
    let bad = format!(
        "{SMALL}{}",
        r#"
[[rules]]
rule = "max_nights"
n = 4

[[rules]]
rule = "max_duties"
n = 4
of = "evenings"

[[rules]]
rule = "max_weekends"
n = 2
staff = ["doc"]
profession = "physician"

[[rules]]
rule = "max_consecutive_days"
n = 5
staff = ["nobody"]

[[rules]]
rule = "max_hours"
hours = 100
hard = true
weight = 3

[[rules]]
rule = "min_duties"
n = 2
of = { service = "oncall", template = "day" }

[[pinned]]
staff = "doc"
service = "oncall"
template = "night"
date = 2027-02-07

[[pinned]]
staff = "doc"
service = "oncall"
template = "evening"
date = 2027-02-08
"#
    )
    .replace("min = 2\nideal = 2\nmax = 2", "min = 3\nideal = 2\nmax = 2");
    let problems = parse("bad.toml", &bad).unwrap_err();
    let text = problems.to_string();
    let expect = [
        ("field `max`", "min 3, ideal 2, max 2"),
        ("rules[1], field `rule`", "\"max_nights\" is not a rule"),
        ("rules[2], field `of`", "\"evenings\" is not a kind of duty"),
        (
            "rules[3]",
            "give at most one of staff, profession, institution",
        ),
        ("rules[4], field `staff`", "unknown staff member \"nobody\""),
        ("rules[5], field `weight`", "a hard rule has no weight"),
        (
            "rules[6], field `of`",
            "service \"oncall\" has no template \"day\"",
        ),
        ("field `date`", "2027-02-07 is a holiday"),
        (
            "field `template`",
            "service \"oncall\" has no template \"evening\"",
        ),
    ];
    for (entry, message) in expect {
        assert!(
            problems
                .iter()
                .any(|p| p.to_string().contains(entry) && p.to_string().contains(message)),
            "want {entry}: {message}\n{text}"
        );
    }
    // Each names its line.
    for p in problems.iter() {
        assert!(p.line > 1, "{p}");
    }
    // And is said in Japanese too.
    assert!(problems.iter().all(|p| !p.message_ja.is_empty()));
}
