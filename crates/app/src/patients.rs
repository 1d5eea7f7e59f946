//! The list handed to patients for one service: each time slot of the
//! month, who to call and their number. A place nobody holds yet is a row
//! of its own (未定, with the number to call instead), never left out. For
//! a service whose patients are given the institution (a holiday duty
//! clinic, a pharmacy), the row names the institution, its number and
//! address, with the person on duty.

use chrono::{DateTime, FixedOffset, NaiveDate};
use touban_domain::{Assignment, Network, PatientContact, Role, ServiceId};
use touban_solver::Instance;

/// One row of the list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PatientRow {
    pub date: NaiveDate,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// The shift template's name (日中, 夜間, …).
    pub template: String,
    /// Who to ask for: the person, or the institution with the person.
    pub name: String,
    pub backup: bool,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Nobody holds this place yet (未定): `phone` is the fallback number.
    pub unfilled: bool,
    /// The day is a holiday, year-end day or regional closure: its name.
    pub holiday: Option<String>,
}

/// The rows of `service` in the month of `inst`, for `assignments` (any
/// version), in time order; empty when the service is not in the network.
pub fn rows(
    inst: &Instance<'_>,
    assignments: &[Assignment],
    service: &ServiceId,
) -> Vec<PatientRow> {
    let net: &Network = inst.net;
    let Some(svc) = net.service(service) else {
        return Vec::new();
    };
    let mut shifts: Vec<&touban_solver::ShiftInfo> = inst
        .shifts
        .iter()
        .filter(|s| &s.shift.service == service)
        .collect();
    shifts.sort_by_key(|s| (s.shift.start, s.shift.template.clone()));
    let mut out = Vec::new();
    for info in shifts {
        let key = info.shift.key();
        let template = svc
            .template(&key.template)
            .map_or_else(|| key.template.to_string(), |t| t.name.clone());
        let holiday = inst.cal.day_off(key.date).map(|d| d.name);
        let mut people: Vec<&Assignment> = assignments.iter().filter(|a| a.shift == key).collect();
        people.sort_by_key(|a| (a.role != Role::Primary, a.staff.clone()));
        for a in &people {
            let person = net.staff_member(&a.staff);
            let person_name = person.map_or_else(|| a.staff.to_string(), |p| p.name.clone());
            let place = (svc.patient_contact() == PatientContact::Institution)
                .then(|| {
                    svc.host
                        .clone()
                        .or_else(|| person.map(|p| p.home_institution.clone()))
                })
                .flatten()
                .and_then(|i| net.institution(&i));
            let (name, phone, address) = match place {
                Some(i) => (
                    format!("{}（担当 {person_name}）", i.name),
                    i.phone
                        .as_ref()
                        .or_else(|| person.and_then(|p| p.phone.as_ref()))
                        .map(ToString::to_string),
                    i.address.clone(),
                ),
                None => (
                    person_name,
                    person
                        .and_then(|p| p.phone.as_ref())
                        .map(ToString::to_string),
                    None,
                ),
            };
            out.push(PatientRow {
                date: key.date,
                start: info.shift.start,
                end: info.shift.end,
                template: template.clone(),
                name,
                backup: a.role == Role::Backup,
                phone,
                address,
                unfilled: false,
                holiday: holiday.clone(),
            });
        }
        for _ in people.len()..usize::from(info.min) {
            out.push(PatientRow {
                date: key.date,
                start: info.shift.start,
                end: info.shift.end,
                template: template.clone(),
                name: "未定".into(),
                backup: false,
                phone: net.fallback_phone(svc).map(ToString::to_string),
                address: None,
                unfilled: true,
                holiday: holiday.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_is_a_row_and_a_missing_person_is_undecided() {
        let start = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let net = touban_solver::synth::network(40, 5, start, 31, 7);
        let month = touban_domain::Month::new(2027, 1).unwrap();
        let inst = Instance::shifts_only(&net, month);
        let svc = net.services[0].id.clone();
        let empty = rows(&inst, &[], &svc);
        let places: usize = inst
            .shifts
            .iter()
            .filter(|s| s.shift.service == svc)
            .map(|s| usize::from(s.min))
            .sum();
        assert_eq!(empty.len(), places);
        assert!(empty.iter().all(|r| r.unfilled && r.name == "未定"));
        assert!(empty.windows(2).all(|w| w[0].start <= w[1].start));
        // One place filled: that row names the person, the rest stay 未定.
        let first = inst.shifts.iter().find(|s| s.shift.service == svc).unwrap();
        let person = net
            .staff
            .iter()
            .find(|p| net.eligible(p, net.service(&svc).unwrap()))
            .unwrap();
        let a = Assignment {
            shift: first.shift.key(),
            staff: person.id.clone(),
            role: Role::Primary,
        };
        let one = rows(&inst, &[a], &svc);
        assert_eq!(one.len(), places.max(1));
        assert!(
            one.iter()
                .any(|r| !r.unfilled && r.name.contains(&person.name))
        );
        assert_eq!(one.iter().filter(|r| r.unfilled).count(), places - 1);
    }
}
