//! Issue 14, item 15: what a coordinator does with the API, from the
//! terminal — show a stored version, edit a cell (checked, refused or
//! overridden on record), publish (checked, notices queued).

#[path = "support/cli.rs"]
mod support;

use support::*;
use touban_domain::Profession;

#[test]
fn show_edit_and_publish_a_stored_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let dbs = db.to_str().unwrap();
    let net = touban_netfile::load(&demo()).unwrap();
    assert!(
        touban(&["import", demo().to_str().unwrap(), "--db", dbs])
            .status
            .success()
    );

    // Nothing to show or publish yet: the message says what to do.
    let none = touban(&["show", "--month", "2027-01", "--db", dbs]);
    assert!(!none.status.success());
    assert!(
        stderr(&none).contains("touban generate --month 2027-01"),
        "{}",
        stderr(&none)
    );

    let g = touban(&["generate", "--month", "2027-01", "--db", dbs]);
    assert!(g.status.success(), "{}", stderr(&g));

    // show --month: the versions, then the grid, costs and fairness of the
    // newest, as right after generating.
    let s = touban(&["show", "--month", "2027-01", "--db", dbs]);
    assert!(s.status.success(), "{}", stderr(&s));
    let out = stdout(&s);
    assert!(out.contains("▶1 draft"), "{out}");
    assert!(
        out.contains("01/31(") && out.contains("ソフト制約のコスト"),
        "{out}"
    );
    assert!(out.contains("必須ルール違反なし"), "{out}");
    let bad = touban(&["show", "--month", "2027-01", "--version", "9", "--db", dbs]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("--version 9") && stderr(&bad).contains("1 (draft)"),
        "{}",
        stderr(&bad)
    );

    // The home-care night of the 5th, and a physician with no duty from the
    // 4th to the 6th who is away that night.
    let export = touban(&["export", "--month", "2027-01", "--db", dbs]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&export)).unwrap();
    let rows = doc["assignments"].as_array().unwrap();
    let primary = rows
        .iter()
        .find(|r| {
            r["service"] == "homecare-oncall"
                && r["template"] == "night"
                && r["date"] == "2027-01-05"
                && r["role"] == "primary"
        })
        .unwrap()["staff"]
        .as_str()
        .unwrap()
        .to_string();
    let busy = |id: &str| {
        rows.iter().any(|r| {
            r["staff"] == id
                && ["2027-01-04", "2027-01-05", "2027-01-06"].contains(&r["date"].as_str().unwrap())
        })
    };
    let away = net
        .staff
        .iter()
        .find(|p| {
            p.profession == Profession::Physician
                && net.eligible(
                    p,
                    net.services
                        .iter()
                        .find(|s| s.id.as_str() == "homecare-oncall")
                        .unwrap(),
                )
                && !busy(p.id.as_str())
        })
        .unwrap()
        .id
        .to_string();
    let a = touban(&[
        "absence",
        "add",
        &away,
        "2027-01-05",
        "2027-01-05",
        "--db",
        dbs,
    ]);
    assert!(a.status.success(), "{}", stderr(&a));

    // Putting the absent physician on that night is refused, with the rule
    // in Japanese first, and nothing is saved.
    let shift = "homecare-oncall/night/2027-01-05";
    let args = [
        "edit", "--month", "2027-01", "--shift", shift, "--remove", &primary, "--add", &away,
        "--db", dbs,
    ];
    let e = touban(&args);
    assert_eq!(e.status.code(), Some(4), "{}", stderr(&e));
    assert!(
        stderr(&e).contains("規則3 / rule 3") && stderr(&e).contains("不在（"),
        "{}",
        stderr(&e)
    );
    assert!(stdout(&touban(&["show", "--month", "2027-01", "--db", dbs])).contains("▶1 draft"));
    // A misspelt shift names the flag and the form.
    let e = touban(&[
        "edit",
        "--month",
        "2027-01",
        "--shift",
        "homecare-oncall/night",
        "--add",
        &away,
        "--db",
        dbs,
    ]);
    assert!(
        stderr(&e).contains("--shift") && stderr(&e).contains("SERVICE/TEMPLATE/DATE"),
        "{}",
        stderr(&e)
    );
    let e = touban(&[
        "edit",
        "--month",
        "2027-01",
        "--shift",
        shift,
        "--add",
        "nobody-here",
        "--db",
        dbs,
    ]);
    assert!(
        stderr(&e).contains("--add") && stderr(&e).contains("nobody-here"),
        "{}",
        stderr(&e)
    );

    // With a reason it is saved as version 2, the violation on record.
    let mut with_reason = args.to_vec();
    with_reason.extend(["--override-reason", "本人から出勤可能と連絡"]);
    let e = touban(&with_reason);
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(
        stdout(&e).contains("version 2") && stdout(&e).contains("accepted on record"),
        "{}",
        stdout(&e)
    );

    // Publish: the newest version by default; its accepted violation does
    // not stop it; notices are queued in the same step.
    let p = touban(&["publish", "--month", "2027-01", "--db", dbs]);
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(stdout(&p).contains("published version 2"), "{}", stdout(&p));
    let st = touban(&["notify", "status", "--db", dbs]);
    assert!(stdout(&st).contains("queued"), "{}", stdout(&st));
    let shown = stdout(&touban(&[
        "show",
        "--month",
        "2027-01",
        "--version",
        "1",
        "--db",
        dbs,
    ]));
    assert!(
        shown.contains("▶1 draft") && shown.contains("2 published"),
        "{shown}"
    );

    // Version 1 is not based on the published version 2: refused, and told
    // why, unless a reason is given.
    let p = touban(&[
        "publish",
        "--month",
        "2027-01",
        "--version",
        "1",
        "--db",
        dbs,
    ]);
    assert_eq!(p.status.code(), Some(4), "{}", stderr(&p));
    assert!(
        stderr(&p).contains("version 2 of the 2027-01 rota is published now"),
        "{}",
        stderr(&p)
    );
}
