//! Instances of the Curtois & Qu format in shapes the public 24 do not
//! have (`touban bench curtois-gen`), for checking the method on instances
//! it was not tuned on. Nothing here is fitted to the public instances.

use super::Roster;

/// An instance in the benchmark's format, of any shape, deterministic for a
/// seed: `loose` (below) or, with `tight`, [`planted`].
pub fn generate(days: usize, staff: usize, types: usize, seed: u64, tight: bool) -> String {
    if tight {
        planted(days, staff, types, seed).0
    } else {
        loose(days, staff, types, seed)
    }
}

/// The first shape: `days` (a multiple
/// of 7 reads best), `staff`, `types` shift types (lengths 8–10 h; later
/// types may not be followed by earlier ones the next day, as a night may
/// not be followed by an early), each person's limits scaled to the
/// horizon, one fixed day off in three weeks, requests on about 5 % of
/// (person, day) pairs, and cover asking for about four fifths of what the
/// staff can give. Deterministic for a seed. Nothing here is fitted to the
/// public instances: it is how such rosters are usually described.
fn loose(days: usize, staff: usize, types: usize, seed: u64) -> String {
    use std::fmt::Write;
    let mut rng = fastrand::Rng::with_seed(seed);
    let types = types.clamp(1, 8);
    let names: Vec<String> = (0..types).map(|t| format!("S{t}")).collect();
    let minutes: Vec<i64> = (0..types).map(|_| 60 * rng.i64(8..=10)).collect();
    let weeks = days.div_ceil(7);
    let mut s = header(
        &format!("--days {days} --staff {staff} --types {types} --seed {seed}"),
        days,
        &names,
        &minutes,
    );
    let _ = writeln!(s, "\nSECTION_STAFF");
    let mean = minutes.iter().sum::<i64>() / i64::try_from(types).unwrap_or(1);
    let mut capacity = 0i64;
    let mut offs = Vec::new();
    for e in 0..staff {
        // Full time works about five days in seven; some part time.
        let part = if rng.f64() < 0.2 { 0.6 } else { 1.0 };
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let shifts = ((days as f64) * 5.0 / 7.0 * part).round() as i64;
        let max_minutes = shifts * mean;
        let min_minutes = max_minutes * 3 / 4;
        capacity += shifts;
        let per_type: Vec<String> = (0..types)
            .map(|t| {
                let cap = if t + 1 == types && types > 1 {
                    (days / 4).max(1)
                } else {
                    days
                };
                format!("{}={cap}", names[t])
            })
            .collect();
        let _ = writeln!(
            s,
            "E{e},{},{max_minutes},{min_minutes},{},{},{},{}",
            per_type.join("|"),
            rng.usize(4..=6),
            rng.usize(1..=2),
            rng.usize(1..=2),
            (weeks / 2).max(1) + usize::from(part < 1.0),
        );
        let mut mine: Vec<usize> = (0..days.div_ceil(21)).map(|_| rng.usize(..days)).collect();
        mine.sort_unstable();
        mine.dedup();
        offs.push(mine);
    }
    days_off_and_requests(&mut s, &offs, days, &names, 0.025, &mut rng);
    let _ = writeln!(s, "\nSECTION_COVER");
    // Four fifths of the shifts the staff can give, spread over the days
    // and types, weekends a little lighter.
    #[allow(clippy::cast_precision_loss)]
    let per_slot = 0.8 * capacity as f64 / (days * types) as f64;
    for d in 0..days {
        let weekend = d % 7 >= 5;
        for name in &names {
            let base = if weekend { per_slot * 0.8 } else { per_slot };
            #[allow(clippy::cast_possible_truncation)]
            let need = (base * (0.8 + 0.4 * rng.f64())).round().max(1.0) as i64;
            let _ = writeln!(s, "{d},{name},{need},100,1");
        }
    }
    s
}

/// A hard shape the way real wards are, and feasible by construction: a
/// roster is drawn first (the *planted* roster, returned beside the text)
/// and every hard limit is set around it. Each person takes about half the
/// types (at least one besides the last, a night, capped at a quarter of
/// the days); works in runs of their own minimum (2–3) to maximum (4–6)
/// days, each run of one type (so no forbidden succession inside it),
/// with rests of their minimum days off (2–3; part time, a fifth of the
/// staff, longer); hours within one average shift of the planted row's;
/// as many weekends as it works; fixed days off on a few of its rest days.
/// Cover is the planted roster's own count per day and type, one more or
/// one less here and there (under 100, over 1 per person), and requests on
/// about 5 % of (person, day) pairs each way, so the planted roster is one
/// good answer among many and rarely the best.
pub fn planted(days: usize, staff: usize, types: usize, seed: u64) -> (String, Roster) {
    use std::fmt::Write;
    let mut rng = fastrand::Rng::with_seed(seed);
    let types = types.clamp(1, 8);
    let names: Vec<String> = (0..types).map(|t| format!("S{t}")).collect();
    let minutes: Vec<i64> = (0..types).map(|_| 60 * rng.i64(8..=10)).collect();
    let night = usize::from(types > 1);
    let mut s = header(
        &format!("--days {days} --staff {staff} --types {types} --seed {seed} --tight"),
        days,
        &names,
        &minutes,
    );
    let _ = writeln!(s, "\nSECTION_STAFF");
    let mut roster: Roster = Vec::with_capacity(staff);
    let mut offs = Vec::with_capacity(staff);
    for e in 0..staff {
        let part = rng.f64() < 0.2;
        let max_run = rng.usize(4..=6);
        let min_run = rng.usize(2..=3);
        let min_off = rng.usize(2..=3);
        let mut takes: Vec<bool> = (0..types).map(|_| rng.bool()).collect();
        if !takes[..types - night].contains(&true) {
            takes[rng.usize(..types - night)] = true;
        }
        let kinds: Vec<usize> = (0..types).filter(|&t| takes[t]).collect();
        let cap_night = (days / 4).max(1);
        let mut row: Vec<Option<usize>> = vec![None; days];
        let mut nights = 0;
        // A rest before the first run (touching the first day, it is
        // exempt from the minimum), then runs and rests in turn.
        let mut d = rng.usize(0..=min_off + 1);
        while d < days {
            let len = rng.usize(min_run..=max_run);
            let mut t = kinds[rng.usize(..kinds.len())];
            let end = (d + len).min(days);
            if night == 1 && t == types - 1 && nights + (end - d) > cap_night {
                t = kinds[0];
            }
            if night == 1 && t == types - 1 {
                nights += end - d;
            }
            row[d..end].fill(Some(t));
            d = end + rng.usize(min_off..=min_off + if part { 4 } else { 1 });
        }
        let worked = |t: usize| row.iter().filter(|x| **x == Some(t)).count();
        let total: i64 = row.iter().flatten().map(|&t| minutes[t]).sum();
        let mean = kinds.iter().map(|&t| minutes[t]).sum::<i64>()
            / i64::try_from(kinds.len()).unwrap_or(1);
        let weekends = (0..days.div_ceil(7))
            .filter(|w| (7 * w + 5..(7 * w + 7).min(days)).any(|d| row[d].is_some()))
            .count();
        let per_type: Vec<String> = (0..types)
            .map(|t| {
                let cap = if !takes[t] {
                    0
                } else if night == 1 && t == types - 1 {
                    cap_night.max(worked(t))
                } else {
                    days
                };
                format!("{}={cap}", names[t])
            })
            .collect();
        let _ = writeln!(
            s,
            "E{e},{},{},{},{max_run},{min_run},{min_off},{weekends}",
            per_type.join("|"),
            total + mean,
            (total - mean).max(0),
        );
        // Fixed days off: about one in three weeks, on the planted rests.
        let rests: Vec<usize> = (0..days).filter(|&d| row[d].is_none()).collect();
        let mut mine: Vec<usize> = (0..days.div_ceil(21))
            .filter(|_| !rests.is_empty())
            .map(|_| rests[rng.usize(..rests.len())])
            .collect();
        mine.sort_unstable();
        mine.dedup();
        offs.push(mine);
        roster.push(row);
    }
    days_off_and_requests(&mut s, &offs, days, &names, 0.05, &mut rng);
    let _ = writeln!(s, "\nSECTION_COVER");
    for d in 0..days {
        for (t, name) in names.iter().enumerate() {
            let count = roster.iter().filter(|r| r[d] == Some(t)).count();
            let need = match rng.usize(..10) {
                0..=2 => count + 1,
                3 | 4 => count.saturating_sub(1),
                _ => count,
            };
            let _ = writeln!(s, "{d},{name},{need},100,1");
        }
    }
    (s, roster)
}

/// The instance's first lines: a comment with the command, the horizon and
/// the shift types (later types may not be followed by earlier ones).
fn header(args: &str, days: usize, names: &[String], minutes: &[i64]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# Generated by touban bench curtois-gen {args}");
    let _ = writeln!(s, "SECTION_HORIZON\n{days}\n\nSECTION_SHIFTS");
    for (t, name) in names.iter().enumerate() {
        let not_after: Vec<&str> = names[..t].iter().map(String::as_str).collect();
        let _ = writeln!(s, "{name},{},{}", minutes[t], not_after.join("|"));
    }
    s
}

/// Each person's fixed days off, then on and off requests on about `rate`
/// of their other days each way (a random type, weight 1–3).
fn days_off_and_requests(
    s: &mut String,
    offs: &[Vec<usize>],
    days: usize,
    names: &[String],
    rate: f64,
    rng: &mut fastrand::Rng,
) {
    use std::fmt::Write;
    let _ = writeln!(s, "\nSECTION_DAYS_OFF");
    for (e, mine) in offs.iter().enumerate() {
        let list: Vec<String> = mine.iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "E{e},{}", list.join(","));
    }
    for section in ["SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS"] {
        let _ = writeln!(s, "\n{section}");
        for (e, off) in offs.iter().enumerate() {
            for d in 0..days {
                if rng.f64() < rate && !off.contains(&d) {
                    let _ = writeln!(
                        s,
                        "E{e},{d},{},{}",
                        names[rng.usize(..names.len())],
                        rng.i64(1..=3)
                    );
                }
            }
        }
    }
}
