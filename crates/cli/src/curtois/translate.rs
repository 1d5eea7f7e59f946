//! `touban bench curtois`: a Curtois & Qu instance as a
//! Touban network, solved by the same `generate` a coordinator's month uses,
//! translated back to a roster and scored by the benchmark's independent
//! evaluator.
//!
//! The translation: the horizon starts on a Monday (the benchmark's day 0;
//! its weekends are days 5 and 6 of each week); each shift type is a service
//! of one template, every template starting at 06:00 so that any two
//! overlap (one shift a day per person); per-date cover is a per-date
//! headcount (`min 0`, `ideal` the requirement, `max` the staff, the
//! benchmark's under and over weights); each employee's limits are rules of
//! their own (`max_duties` per type, `max_hours`/`min_hours` from minutes,
//! `max_consecutive_days`, `min_consecutive_days`,
//! `min_consecutive_days_off`, `max_weekends`), the forbidden successions
//! network rules, fixed days off absences, and on/off requests requests
//! with the benchmark's weights. Every other soft weight is 0, so that the
//! product's objective is the benchmark's.

use std::collections::BTreeSet;

use super::{Problem, Roster};
use anyhow::{Context, bail};
use chrono::{Duration, NaiveDate, TimeZone};
use touban_domain::{
    Absence, AbsenceKind, ClockTime, CoverageService, DateOverride, DayClass, Duties, DutyKind,
    Email, Fte, Headcount, Institution, InstitutionId, InstitutionKind, Labour, LabourRegime,
    Limit, Municipality, MunicipalityId, Network, Period, Policy, Profession, Region, RegionId,
    Request, RequestKind, RestPolicy, RuleScope, ServiceId, ServiceMode, ShiftTemplate,
    SoftWeights, StaffId, StaffMember, StaffRule, TemplateId, TravelModel,
};

/// The benchmark's day 0 (a Monday, so that days 5 and 6 are a weekend).
pub fn day_zero() -> NaiveDate {
    NaiveDate::from_ymd_opt(2029, 1, 1).expect("a date")
}

fn id<T>(parse: fn(&str) -> Result<T, touban_domain::ParseError>, s: &str) -> anyhow::Result<T> {
    parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}"))
}

/// Ids of the benchmark are letters and digits; Touban's slugs are lower
/// case, so each is prefixed and lower-cased, keeping them apart.
fn slug(prefix: &str, raw: &str, i: usize) -> String {
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}{i}-{clean}")
}

fn rule(staff: &StaffId, limit: Limit) -> StaffRule {
    StaffRule {
        label: None,
        scope: RuleScope::Staff(vec![staff.clone()]),
        limit,
        weight: None,
    }
}

/// The instance as a network (see the module's comment).
#[allow(clippy::too_many_lines)]
pub fn network(p: &Problem) -> anyhow::Result<Network> {
    let start = day_zero();
    let tz = touban_domain::chrono_tz::Asia::Tokyo;
    let muni = id(MunicipalityId::parse, "m")?;
    let inst_id = id(InstitutionId::parse, "ward")?;
    let all: BTreeSet<DayClass> = DayClass::ALL.into_iter().collect();
    let max_staff = u8::try_from(p.staff.len().min(50)).unwrap_or(50);
    let mut services = Vec::new();
    for (t, st) in p.shifts.iter().enumerate() {
        let minutes = u16::try_from(st.minutes).context("shift length")?;
        if !(1..=18 * 60).contains(&minutes) {
            bail!("shift {} is {} minutes: not translated", st.id, st.minutes);
        }
        let end = 6 * 60 + minutes;
        let template = ShiftTemplate {
            id: id(TemplateId::parse, "shift")?,
            name: st.id.clone(),
            name_en: None,
            day_classes: all.clone(),
            start: ClockTime::parse("06:00").map_err(|e| anyhow::anyhow!("{e}"))?,
            end: ClockTime::parse(&format!("{:02}:{:02}", (end / 60) % 24, end % 60))
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            end_day: u8::from(end >= 24 * 60),
            headcount: Headcount::new(0, 0, max_staff).map_err(|e| anyhow::anyhow!("{e}"))?,
        };
        let overrides = p
            .cover
            .iter()
            .filter(|c| c.shift == t)
            .map(|c| -> anyhow::Result<DateOverride> {
                let ideal = u8::try_from(c.requirement).context("cover requirement")?;
                Ok(DateOverride {
                    date: start + Duration::days(i64::try_from(c.day)?),
                    template: None,
                    min: Some(0),
                    ideal: Some(ideal.min(max_staff)),
                    max: Some(max_staff),
                    #[allow(clippy::cast_precision_loss)]
                    under_weight: Some(c.under as f64),
                    #[allow(clippy::cast_precision_loss)]
                    over_weight: Some(c.over as f64),
                    note: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        services.push(CoverageService {
            id: id(ServiceId::parse, &slug("t", &st.id, t))?,
            name: st.id.clone(),
            name_en: None,
            profession: Profession::Nurse,
            skills: BTreeSet::new(),
            area: BTreeSet::new(),
            institutions: BTreeSet::new(),
            host: None,
            mode: ServiceMode::OnCall,
            duty: DutyKind::PermittedDuty,
            continuous: false,
            max_travel_minutes: None,
            templates: vec![template],
            fallback_phone: None,
            patient_contact: None,
            overrides,
        });
    }
    let service_of = |t: usize| Duties::Service {
        service: services[t].id.clone(),
        template: None,
    };
    let mut rules = Vec::new();
    for (a, st) in p.shifts.iter().enumerate() {
        for &b in &st.not_followed_by {
            rules.push(StaffRule {
                label: None,
                scope: RuleScope::Network,
                limit: Limit::ForbiddenSuccession {
                    first: service_of(a),
                    then: service_of(b),
                },
                weight: None,
            });
        }
    }
    let at = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("JST has no gaps")
            .fixed_offset()
    };
    let mut staff = Vec::new();
    let mut absences = Vec::new();
    let horizon = u8::try_from(p.days.min(255)).unwrap_or(255);
    for (i, e) in p.staff.iter().enumerate() {
        let sid = id(StaffId::parse, &slug("e", &e.id, i))?;
        let mut labour = Labour::new(LabourRegime::NotEmployed, RestPolicy::Off, 40.0)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        labour.min_days_off_per_month = 0;
        staff.push(StaffMember {
            id: sid.clone(),
            name: e.id.clone(),
            name_en: None,
            profession: Profession::Nurse,
            skills: BTreeSet::new(),
            home_institution: inst_id.clone(),
            other_institutions: BTreeSet::new(),
            email: Email::parse(&format!("e{i}@bench.example.jp"))
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            phone: None,
            fte: Fte::new(1.0).map_err(|e| anyhow::anyhow!("{e}"))?,
            labour,
            base: None,
            reminders: false,
            retired_from: None,
        });
        for (t, max) in e.max_shifts.iter().enumerate() {
            let n = u16::try_from(*max).unwrap_or(u16::MAX);
            if usize::from(n) < p.days {
                rules.push(rule(
                    &sid,
                    Limit::MaxDuties {
                        n,
                        of: service_of(t),
                        per: Period::Month,
                    },
                ));
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let hours = |m: i64| m as f64 / 60.0;
        rules.push(rule(
            &sid,
            Limit::MaxHours {
                hours: hours(e.max_minutes),
                per: Period::Month,
            },
        ));
        if e.min_minutes > 0 {
            rules.push(rule(
                &sid,
                Limit::MinHours {
                    hours: hours(e.min_minutes),
                    per: Period::Month,
                },
            ));
        }
        let n8 = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        if e.max_consecutive < p.days {
            rules.push(rule(
                &sid,
                Limit::MaxConsecutiveDays {
                    n: n8(e.max_consecutive).min(horizon),
                },
            ));
        }
        if e.min_consecutive > 1 {
            rules.push(rule(
                &sid,
                Limit::MinConsecutiveDays {
                    n: n8(e.min_consecutive),
                },
            ));
        }
        if e.min_days_off > 1 {
            rules.push(rule(
                &sid,
                Limit::MinConsecutiveDaysOff {
                    n: n8(e.min_days_off),
                },
            ));
        }
        if usize::try_from(e.max_weekends).unwrap_or(0) < p.days / 7 {
            rules.push(rule(
                &sid,
                Limit::MaxWeekends {
                    n: n8(usize::try_from(e.max_weekends).unwrap_or(0)),
                },
            ));
        }
        for &d in &e.days_off {
            let day = start + Duration::days(i64::try_from(d)?);
            absences.push(
                Absence::new(
                    sid.clone(),
                    at(day),
                    at(day + Duration::days(1)),
                    AbsenceKind::Leave,
                    None,
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
    }
    let mut requests = Vec::new();
    for (list, kind) in [(&p.on, RequestKind::On), (&p.off, RequestKind::Off)] {
        for r in list {
            let weight = u8::try_from(r.weight).context("request weight")?;
            if !(1..=10).contains(&weight) {
                bail!("a request of weight {weight}: Touban's requests weigh 1–10");
            }
            requests.push(Request {
                staff: staff[r.employee].id.clone(),
                date: start + Duration::days(i64::try_from(r.day)?),
                kind,
                service: Some(services[r.shift].id.clone()),
                weight,
            });
        }
    }
    let weights = SoftWeights {
        ideal_headcount: 0.0,
        fairness_nights: 0.0,
        fairness_holidays: 0.0,
        fairness_year_end: 0.0,
        fairness_shifts: 0.0,
        requests: 1.0,
        distance: 0.0,
        backup_hospital_limits: 0.0,
        max_nights: 0.0,
        stability: 0.0,
    };
    Ok(Network {
        region: Region {
            id: id(RegionId::parse, "curtois")?,
            name: "Curtois & Qu".into(),
            name_en: None,
            time_zone: tz,
            closures: Vec::new(),
            overtime_year_starts: 1,
            fallback_phone: None,
        },
        municipalities: vec![Municipality {
            id: muni.clone(),
            name: "ward".into(),
            name_en: None,
            location: None,
        }],
        institutions: vec![Institution {
            id: inst_id,
            name: "ward".into(),
            name_en: None,
            kind: InstitutionKind::Hospital,
            municipality: muni,
            location: None,
            address: None,
            phone: None,
            email: None,
            hours: Vec::new(),
            backup_hospital: false,
        }],
        staff,
        services,
        attending_pairs: Vec::new(),
        absences,
        requests,
        weights,
        policy: Policy::default(),
        travel: TravelModel::default(),
        rules,
        pinned: Vec::new(),
    })
}

/// The product's assignments as the benchmark's roster.
pub fn roster(p: &Problem, net: &Network, assignments: &[touban_domain::Assignment]) -> Roster {
    let mut r: Roster = vec![vec![None; p.days]; p.staff.len()];
    for a in assignments {
        let (Some(e), Some(t)) = (
            net.staff.iter().position(|s| s.id == a.staff),
            net.services.iter().position(|s| s.id == a.shift.service),
        ) else {
            continue;
        };
        if let Ok(d) = usize::try_from((a.shift.date - day_zero()).num_days())
            && d < p.days
        {
            r[e][d] = Some(t);
        }
    }
    r
}

/// What the product's `generate` made of an instance.
#[derive(Debug)]
pub struct Solved {
    pub roster: Roster,
    pub seconds: f64,
    pub optimal: bool,
    /// The product's own objective (its checker's soft cost), which the
    /// translation makes the benchmark's.
    pub objective: f64,
    pub gap: f64,
    pub variables: usize,
}

/// Solves an instance with the product's `generate`, as a coordinator's
/// month is solved (the same options but the time and the gap at which it
/// may stop).
pub fn solve(p: &Problem, time_limit: f64, threads: u32, gap: f32) -> anyhow::Result<Solved> {
    let net = network(p)?;
    let days = u32::try_from(p.days)?;
    let inst = touban_solver::Instance::span(&net, day_zero(), days);
    let variables = inst.candidates.iter().map(Vec::len).sum();
    let out = touban_solver::generate(
        &inst,
        &touban_solver::History::default(),
        &touban_solver::SolveOptions {
            time_limit,
            threads,
            mip_gap: gap,
            progress: true,
        },
    )?;
    Ok(Solved {
        roster: roster(p, &net, &out.assignments),
        seconds: out.elapsed.as_secs_f64(),
        optimal: out.quality == touban_solver::Quality::Optimal,
        objective: out.objective,
        gap: out.gap,
        variables,
    })
}
