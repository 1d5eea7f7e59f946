//! The network file against the demo network and against files with mistakes.

use std::path::PathBuf;

use touban_netfile::{load, parse, summary};

fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/networks/southern-shimoina.toml")
}

#[test]
fn demo_network_is_valid() {
    let net = load(&demo_path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(net.municipalities.len(), 5);
    assert_eq!(net.institutions.len(), 29);
    assert!(net.staff.len() >= 30);
    assert_eq!(net.services.len(), 5);
    let s = summary(&net);
    assert!(s.contains("29 institutions"), "{s}");
    assert!(
        s.contains("homecare-oncall") && s.contains("168.0 h/week"),
        "{s}"
    );
}

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
"#;

#[test]
fn small_valid_file() {
    let net = parse("small.toml", SMALL).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(net.staff[0].labour.min_days_off_per_month, 4);
}

/// Five different mistakes, five precise messages: file, line, entry, field.
#[test]
fn five_mistakes_five_messages() {
    let bad = SMALL
        // 1. unknown institution id
        .replace("institution = \"clinic\"", "institution = \"clinik\"")
        // 2. e-mail not an address
        .replace(
            "municipality = \"anan\"",
            "municipality = \"anan\"\nemail = \"clinic@\"",
        )
        // 3. template ending before it starts
        .replace("end = \"08:30\"\nend_day = 1", "end = \"08:30\"")
        // 4. duplicate id (a second municipality "anan")
        .replace(
            "[[institutions]]",
            "[[municipalities]]\nid = \"anan\"\nname = \"阿南町（重複）\"\n\n[[institutions]]",
        )
        // 5. a service needing a profession nobody has
        .replace(
            "profession = \"physician\"\narea",
            "profession = \"pharmacist\"\narea",
        );
    let problems = parse("bad.toml", &bad).unwrap_err();
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let text = lines.join("\n");
    assert_eq!(problems.len(), 5, "{text}");
    let expect = [
        "bad.toml:11: municipality \"anan\", field `id`: duplicate id: \"anan\" is already used on line 7",
        "bad.toml:19: institution \"clinic\", field `email`: \"clinic@\" is not an e-mail address",
        "bad.toml:25: staff \"doc\", field `institution`: unknown institution \"clinik\"",
        "bad.toml:31: service \"oncall\", field `profession`: needs 1 pharmacist in its area at once, but only 0 staff members qualify",
        "bad.toml:39: service \"oncall\", template \"night\", field `end`: ends at 08:30, not after it starts at 17:30; if it runs past midnight set end_day = 1",
    ];
    for (got, want) in lines.iter().zip(expect) {
        assert!(
            got.starts_with(want),
            "\n got: {got}\nwant: {want}\nall:\n{text}"
        );
    }
}

#[test]
fn unknown_fields_are_reported_with_a_suggestion() {
    let bad = SMALL.replace("email =", "emial =");
    let text = parse("t.toml", &bad).unwrap_err().to_string();
    assert!(
        text.contains(
            "t.toml:21: staff \"doc\", field `emial`: unknown field `emial` (did you mean `email`?)"
        ),
        "{text}"
    );
    assert!(text.contains("`email` is missing"), "{text}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let bad = SMALL.replace("name = \"診療所\"", "name = 診療所");
    let p = parse("s.toml", &bad).unwrap_err();
    assert_eq!(p.len(), 1);
    let first = p.iter().next().unwrap();
    assert_eq!(first.line, 12, "{p}");
}

#[test]
fn continuous_service_with_a_gap_is_refused() {
    let bad = SMALL.replace("area = [\"anan\"]", "area = [\"anan\"]\ncontinuous = true");
    let text = parse("g.toml", &bad).unwrap_err().to_string();
    assert!(
        text.contains(
            "is a 24/365 service but its templates leave gaps: 08:30–17:30 is not covered"
        ),
        "{text}"
    );
}

#[test]
fn wrong_types_and_ranges() {
    let bad = SMALL
        .replace(
            "name = \"医師 一郎\"",
            "name = \"医師 一郎\"\nfte = 1.5\nregime = \"b\"\nrest = \"off\"",
        )
        .replace("end_day = 1", "end_day = 1\nmin = \"one\"");
    let text = parse("w.toml", &bad).unwrap_err().to_string();
    assert!(
        text.contains("field `fte`: FTE 1.5 must be greater than 0 and at most 1"),
        "{text}"
    );
    assert!(
        text.contains("field `rest`: rest intervals are mandatory for labour regime b"),
        "{text}"
    );
    assert!(
        text.contains("field `min`: expected a whole number, found a string"),
        "{text}"
    );
}

#[test]
fn absences_use_the_region_zone_and_inclusive_dates() {
    let with =
        format!("{SMALL}\n[[absences]]\nstaff = \"doc\"\nfrom = 2027-01-10\nto = 2027-01-11\n");
    let net = parse("a.toml", &with).unwrap_or_else(|p| panic!("{p}"));
    let a = &net.absences[0];
    assert_eq!(a.start.to_rfc3339(), "2027-01-10T00:00:00+09:00");
    assert_eq!(a.end.to_rfc3339(), "2027-01-12T00:00:00+09:00");
    let bad =
        format!("{SMALL}\n[[absences]]\nstaff = \"nobody\"\nfrom = 2027-01-10\nto = 2027-01-09\n");
    let text = parse("a.toml", &bad).unwrap_err().to_string();
    assert!(
        text.contains("a.toml:38: absences[1], field `staff`: unknown staff member \"nobody\""),
        "{text}"
    );
    // Issue 14, item 13: named by its person and dates, quoting what was
    // written (not the moved instants).
    assert!(
        text.contains("a.toml:40: absence of \"nobody\" from 2027-01-10 to 2027-01-09, field `to`: to = 2027-01-09 is before from = 2027-01-10"),
        "{text}"
    );
}

/// Issue 13, item 14: an attending pair whose two physicians are away at
/// the same time in the file is named by `validate` (the pair's line, both
/// people, the dates, the absences' lines), not left for `generate`.
#[test]
fn attending_pair_both_away_is_named() {
    let text = include_str!("../../../config/networks/southern-shimoina.toml");
    let both = format!(
        "{text}\n[[absences]]\nstaff = \"nakajima-taro\"\nfrom = 2027-02-03\nto = 2027-02-05\n\n[[absences]]\nstaff = \"yamamoto-hiroshi\"\nfrom = 2027-02-05\nto = 2027-02-06\n"
    );
    let p = parse("net.toml", &both).unwrap_err();
    let all = p.to_string();
    assert_eq!(p.len(), 1, "{all}");
    let line = p.iter().next().unwrap().to_string();
    for want in [
        "attending pair nakajima-taro / yamamoto-hiroshi",
        "2027-02-05 00:00 – 2027-02-06 00:00",
        "\"nakajima-taro\" (absence on line",
        "\"yamamoto-hiroshi\" (absence on line",
        "rule 7",
    ] {
        assert!(line.contains(want), "{want}: {line}");
    }
    // Back to back is fine.
    let apart = both.replace(
        "from = 2027-02-05\nto = 2027-02-06",
        "from = 2027-02-06\nto = 2027-02-07",
    );
    parse("net.toml", &apart).unwrap_or_else(|p| panic!("{p}"));
}

/// Issue 14, item 12: a file saved as Shift-JIS is named by line and byte,
/// with how to convert it.
#[test]
fn a_shift_jis_file_is_named_by_line_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sjis.toml");
    // "[region]\nid = \"r\"\nname = \"" then 南部 in Shift-JIS.
    let mut bytes = b"[region]\nid = \"r\"\nname = \"".to_vec();
    bytes.extend([0x93, 0xEC, 0x95, 0x94, b'"', b'\n']);
    std::fs::write(&path, bytes).unwrap();
    let p = load(&path).unwrap_err();
    let text = p.to_string();
    assert!(text.contains("line 3, byte 9"), "{text}");
    assert!(
        text.contains("Shift-JIS") && text.contains("iconv"),
        "{text}"
    );
}

/// Issue 14, item 12: an impossible TOML date names its line and field.
#[test]
fn an_impossible_date_names_its_field() {
    let with =
        format!("{SMALL}\n[[absences]]\nstaff = \"doc\"\nfrom = 2027-02-30\nto = 2027-03-01\n");
    let text = parse("d.toml", &with).unwrap_err().to_string();
    assert!(
        text.contains("d.toml:39") && text.contains("field `from`") && text.contains("2027-02-30"),
        "{text}"
    );
}

#[test]
fn a_wrong_deadline_day_and_retirement_date_are_named() {
    let bad = SMALL.replace(
        "name = \"医師 一郎\"",
        "name = \"医師 一郎\"\nretired_from = \"2027-02-30\"",
    ) + "\n[policy]\nrequests_close_day = 0\n";
    let text = parse("w.toml", &bad).unwrap_err().to_string();
    assert!(
        text.contains("field `retired_from`: \"2027-02-30\" is not a date"),
        "{text}"
    );
    assert!(
        text.contains("field `requests_close_day`: must be a day of the month, 1 to 31"),
        "{text}"
    );
    // Right ones read back.
    let good = SMALL.replace(
        "name = \"医師 一郎\"",
        "name = \"医師 一郎\"\nretired_from = 2027-04-01",
    ) + "\n[policy]\nrequests_close_day = 20\n";
    let net = parse("w.toml", &good).unwrap();
    assert_eq!(net.policy.requests_close_day, Some(20));
    assert_eq!(
        net.staff[0].retired_from,
        chrono::NaiveDate::from_ymd_opt(2027, 4, 1)
    );
}

/// Every problem is said in Japanese too (the web app shows that one), and
/// the Japanese message keeps the values the English one quotes.
#[test]
fn every_problem_is_also_said_in_japanese() {
    let bad = SMALL
        .replace("institution = \"clinic\"", "institution = \"clinik\"")
        .replace("end = \"08:30\"\nend_day = 1", "end = \"08:30\"")
        .replace("email =", "emial =")
        .replace(
            "name = \"医師 一郎\"",
            "name = \"医師 一郎\"\nfte = 1.5\nregime = \"b\"\nrest = \"off\"\nprofession2 = 1",
        )
        .replace("area = [\"anan\"]", "area = [\"anan\"]\ncontinuous = true");
    let problems = parse("j.toml", &bad).unwrap_err();
    assert!(problems.len() >= 6, "{problems}");
    let japanese = |s: &str| s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
    for p in problems.iter() {
        assert!(japanese(&p.message_ja), "{p}: {}", p.message_ja);
        assert!(!japanese(&p.message), "{p}");
        assert_eq!(p.message_in("en"), p.message);
        assert_eq!(p.message_in("ja"), p.message_ja);
    }
    let ja: Vec<&str> = problems.iter().map(|p| p.message_ja.as_str()).collect();
    let all = ja.join("\n");
    for want in [
        "「clinik」という施設はありません",
        "`emial` という項目はありません（`email` のことですか？）",
        "常勤換算 1.5 は 0 より大きく 1 以下にしてください",
        "終了 08:30 が開始 17:30 より後ではありません",
    ] {
        assert!(all.contains(want), "want {want}\nall:\n{all}");
    }
}
