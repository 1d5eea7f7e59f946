//! A generated network of a given size, for `touban bench synth`: a realistic
//! mix of professions, institutions spread over municipalities, services of
//! each kind the demo has (24/365 on call, holiday clinics, night pharmacy,
//! visiting-nurse on call, backup-hospital duty), absences and requests.
//! Deterministic for a seed.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use touban_domain::{
    Absence, AbsenceKind, ClockTime, CoverageService, DayClass, DutyKind, Email, Fte, Headcount,
    Institution, InstitutionId, InstitutionKind, Labour, LabourRegime, LatLon, Municipality,
    MunicipalityId, Network, Policy, Profession, Region, RegionId, Request, RequestKind,
    RestPolicy, ServiceId, ServiceMode, ShiftTemplate, Skill, SoftWeights, StaffId, StaffMember,
    TemplateId, TravelModel,
};

fn id<T>(parse: fn(&str) -> Result<T, touban_domain::ParseError>, s: &str) -> T {
    parse(s).expect("generated ids are valid")
}

fn template(
    t: &str,
    classes: &[DayClass],
    start: &str,
    end: &str,
    end_day: u8,
    min: u8,
    ideal: u8,
) -> ShiftTemplate {
    ShiftTemplate {
        id: id(TemplateId::parse, t),
        name: t.to_string(),
        name_en: None,
        day_classes: classes.iter().copied().collect(),
        start: ClockTime::parse(start).expect("valid"),
        end: ClockTime::parse(end).expect("valid"),
        end_day,
        headcount: Headcount::new(min, ideal, ideal.max(min)).expect("valid"),
    }
}

/// A network of about `staff` people and `services` services over `days`
/// days from `start` (absences and requests fall in that window).
pub fn network(staff: usize, services: usize, start: NaiveDate, days: u32, seed: u64) -> Network {
    use DayClass::*;
    let mut rng = fastrand::Rng::with_seed(seed);
    let n_muni = (staff / 50).clamp(4, 40);
    let municipalities: Vec<Municipality> = (0..n_muni)
        .map(|i| Municipality {
            id: id(MunicipalityId::parse, &format!("m{i}")),
            name: format!("村{i}"),
            name_en: None,
            location: LatLon::new(35.0 + 0.5 * rng.f64(), 137.5 + 0.5 * rng.f64()).ok(),
        })
        .collect();
    // Institutions: a hospital per eight municipalities, clinics, pharmacies, stations.
    let kinds = [
        (InstitutionKind::Hospital, 8usize),
        (InstitutionKind::Clinic, 1),
        (InstitutionKind::Pharmacy, 1),
        (InstitutionKind::VisitingNurseStation, 2),
    ];
    let mut institutions = Vec::new();
    for (kind, every) in kinds {
        for m in (0..n_muni).step_by(every) {
            let muni = &municipalities[m];
            institutions.push(Institution {
                id: id(InstitutionId::parse, &format!("{}-{m}", kind.as_str())),
                name: format!("{}{m}", kind.label_ja()),
                name_en: None,
                kind,
                municipality: muni.id.clone(),
                location: muni.location,
                address: None,
                phone: None,
                email: None,
                hours: Vec::new(),
                backup_hospital: kind == InstitutionKind::Hospital,
            });
        }
    }
    let of_kind = |k: InstitutionKind| -> Vec<&Institution> {
        institutions.iter().filter(|i| i.kind == k).collect()
    };
    let (hospitals, clinics, pharmacies, stations) = (
        of_kind(InstitutionKind::Hospital),
        of_kind(InstitutionKind::Clinic),
        of_kind(InstitutionKind::Pharmacy),
        of_kind(InstitutionKind::VisitingNurseStation),
    );
    let mut people = Vec::new();
    for i in 0..staff {
        let r = rng.f64();
        let (profession, home) = if r < 0.4 {
            let pool = if rng.f64() < 0.5 {
                &hospitals
            } else {
                &clinics
            };
            (Profession::Physician, pool[rng.usize(..pool.len())])
        } else if r < 0.75 {
            (Profession::Nurse, stations[rng.usize(..stations.len())])
        } else {
            (
                Profession::Pharmacist,
                pharmacies[rng.usize(..pharmacies.len())],
            )
        };
        let regime = match (profession, home.kind) {
            (Profession::Physician, InstitutionKind::Hospital) if rng.f64() < 0.5 => {
                LabourRegime::B
            }
            (Profession::Physician, InstitutionKind::Clinic) if rng.f64() < 0.5 => {
                LabourRegime::NotEmployed
            }
            _ => LabourRegime::A,
        };
        let fte = if rng.f64() < 0.2 { 0.5 } else { 1.0 };
        let mut skills = BTreeSet::new();
        if rng.f64() < 0.8 {
            skills.insert(id(Skill::parse, "home-visits"));
        }
        people.push(StaffMember {
            id: id(StaffId::parse, &format!("s{i:05}")),
            name: format!("職員{i:05} 太郎"),
            name_en: None,
            profession,
            skills,
            home_institution: home.id.clone(),
            other_institutions: BTreeSet::new(),
            email: Email::parse(&format!("s{i:05}@synth.example.jp")).expect("valid"),
            phone: None,
            fte: Fte::new(fte).expect("valid"),
            labour: Labour::new(regime, RestPolicy::Enforced, 40.0 * fte).expect("valid"),
            base: None,
            reminders: true,
            retired_from: None,
        });
    }
    // Services: cycle through the five kinds, each over a window of nearby
    // municipalities.
    let all = [Weekday, Saturday, Holiday, YearEnd];
    let mut svcs = Vec::new();
    for k in 0..services {
        let centre = k % n_muni;
        let width = 3.min(n_muni);
        let area: BTreeSet<MunicipalityId> = (0..width)
            .map(|j| municipalities[(centre + j) % n_muni].id.clone())
            .collect();
        let (name, profession, skills, mode, duty, continuous, templates) = match k % 5 {
            0 => (
                "homecare",
                Profession::Physician,
                true,
                ServiceMode::OnCall,
                DutyKind::PermittedDuty,
                true,
                vec![
                    template("day", &[Weekday, Saturday], "08:30", "17:30", 0, 1, 1),
                    template(
                        "holiday-day",
                        &[Holiday, YearEnd],
                        "08:30",
                        "17:30",
                        0,
                        1,
                        1,
                    ),
                    template("night", &all, "17:30", "08:30", 1, 1, 2),
                ],
            ),
            1 => (
                "holiday-clinic",
                Profession::Physician,
                false,
                ServiceMode::OnSite,
                DutyKind::CountsAsWork,
                false,
                vec![template(
                    "holiday-day",
                    &[Holiday, YearEnd],
                    "09:00",
                    "17:00",
                    0,
                    1,
                    1,
                )],
            ),
            2 => (
                "pharmacy",
                Profession::Pharmacist,
                false,
                ServiceMode::OnCall,
                DutyKind::PermittedDuty,
                false,
                vec![
                    template("night", &all, "18:00", "08:30", 1, 1, 1),
                    template(
                        "holiday-day",
                        &[Holiday, YearEnd],
                        "08:30",
                        "18:00",
                        0,
                        1,
                        1,
                    ),
                ],
            ),
            3 => (
                "vns",
                Profession::Nurse,
                true,
                ServiceMode::OnCall,
                DutyKind::PermittedDuty,
                true,
                vec![
                    template("day", &all, "08:30", "17:15", 0, 1, 1),
                    template("night", &all, "17:15", "08:30", 1, 1, 1),
                ],
            ),
            _ => (
                "backup",
                Profession::Physician,
                false,
                ServiceMode::OnSite,
                DutyKind::PermittedDuty,
                false,
                vec![
                    template("shukuchoku", &all, "17:15", "08:30", 1, 1, 1),
                    template("nitchoku", &[Holiday, YearEnd], "08:30", "17:15", 0, 1, 1),
                ],
            ),
        };
        let host = (k % 5 == 4).then(|| hospitals[centre % hospitals.len()].id.clone());
        svcs.push(CoverageService {
            id: id(ServiceId::parse, &format!("{name}-{k}")),
            name: format!("{name}{k}"),
            name_en: None,
            profession,
            skills: if skills {
                [id(Skill::parse, "home-visits")].into_iter().collect()
            } else {
                BTreeSet::new()
            },
            area: if host.is_some() {
                BTreeSet::new()
            } else {
                area
            },
            institutions: host.iter().cloned().collect(),
            host,
            mode,
            duty,
            continuous,
            max_travel_minutes: Some(40),
            fallback_phone: None,
            patient_contact: None,
            overrides: Vec::new(),
            templates,
        });
    }
    // About 5 % of staff away 2–5 days; about 10 % with a request.
    let mut absences = Vec::new();
    let mut requests = Vec::new();
    let tz = chrono_tz::Asia::Tokyo;
    for p in &people {
        if rng.f64() < 0.05 {
            let from = start + Duration::days(i64::from(rng.u32(..days)));
            let len = i64::from(rng.u32(2..=5));
            let at = |d: NaiveDate| {
                use chrono::TimeZone;
                tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                    .single()
                    .expect("JST has no gaps")
                    .fixed_offset()
            };
            absences.push(
                Absence::new(
                    p.id.clone(),
                    at(from),
                    at(from + Duration::days(len)),
                    AbsenceKind::Leave,
                    None,
                )
                .expect("valid"),
            );
        }
        if rng.f64() < 0.1 {
            requests.push(Request {
                staff: p.id.clone(),
                date: start + Duration::days(i64::from(rng.u32(..days))),
                kind: if rng.bool() {
                    RequestKind::Off
                } else {
                    RequestKind::On
                },
                service: None,
                weight: rng.u8(1..=10),
            });
        }
    }
    Network {
        region: Region {
            id: id(RegionId::parse, "synth"),
            name: "合成ネットワーク".into(),
            name_en: None,
            time_zone: tz,
            closures: Vec::new(),
            overtime_year_starts: 1,
            fallback_phone: None,
        },
        municipalities,
        institutions,
        staff: people,
        services: svcs,
        attending_pairs: Vec::new(),
        absences,
        requests,
        weights: SoftWeights::default(),
        policy: Policy::default(),
        travel: TravelModel::default(),
        rules: Vec::new(),
        pinned: Vec::new(),
    }
}
