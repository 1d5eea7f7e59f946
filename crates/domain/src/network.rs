//! The whole of one region's network: what a network file describes and what
//! the solver schedules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Absence, AttendingPair, CoverageService, Institution, InstitutionId, Municipality,
    MunicipalityId, Region, Request, ServiceId, StaffId, StaffMember, TravelModel,
};

/// Weights of the soft rules. Costs are "points"; one point is roughly one
/// unit of unfairness a coordinator would notice. Defaults were chosen so
/// that an unmet ideal headcount outweighs a single request, and a request
/// outweighs a few kilometres of travel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoftWeights {
    /// Per person below a shift's ideal headcount.
    pub ideal_headcount: f64,
    /// Per night above or below a person's FTE-weighted fair share.
    pub fairness_nights: f64,
    /// Per holiday duty above or below the fair share.
    pub fairness_holidays: f64,
    /// Per year-end duty above or below the fair share.
    pub fairness_year_end: f64,
    /// Per duty of any kind above or below the fair share (so that ordinary
    /// day duty is shared out too).
    pub fairness_shifts: f64,
    /// Multiplied by a request's own weight when it is not met.
    pub requests: f64,
    /// Per 10 minutes of travel beyond a service's limit.
    pub distance: f64,
    /// Per 宿直 beyond one a week / 日直 beyond one a month at a backup hospital.
    pub backup_hospital_limits: f64,
    /// Per night beyond a person's `max_nights_per_month`.
    pub max_nights: f64,
    /// Per assignment changed from the previous version (repair).
    pub stability: f64,
}

impl Default for SoftWeights {
    fn default() -> Self {
        Self {
            ideal_headcount: 20.0,
            fairness_nights: 4.0,
            fairness_holidays: 4.0,
            fairness_year_end: 8.0,
            fairness_shifts: 2.0,
            requests: 3.0,
            distance: 1.0,
            backup_hospital_limits: 10.0,
            max_nights: 10.0,
            stability: 50.0,
        }
    }
}

/// Network-wide settings that are not soft weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Publish a repaired rota without a coordinator's approval.
    pub auto_publish_repairs: bool,
    /// Minutes an unanswered cover request waits before escalating.
    pub escalate_after_minutes: u32,
    /// Local time the day-before reminder is sent, minutes after midnight.
    pub reminder_minute_of_day: u16,
    /// Send day-before reminders at all (each person can also opt out).
    pub reminders: bool,
    /// Who hears of escalated cover requests, failed deliveries and the
    /// daily digest of unfilled shifts.
    pub coordinator_emails: Vec<crate::Email>,
    /// The coordinators' telephone, printed in every e-mail beside their
    /// address (the region's `fallback_phone` when not set).
    pub coordinator_phone: Option<crate::Phone>,
    /// Coordinators must pass a second factor (TOTP) after the e-mail link
    /// to open the web app; they set one up at their next sign-in.
    pub require_second_factor: bool,
    /// Staff enter their requests for a month until the end of this day
    /// (1–31, the month's last day at most) of the month before, in the
    /// region's time zone; unset, until the month starts.
    pub requests_close_day: Option<u8>,
    /// A swap the colleague accepted is applied at once (a new published
    /// version) when the rule checker finds nothing against it; otherwise
    /// a coordinator approves each.
    pub auto_approve_swaps: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            auto_publish_repairs: false,
            escalate_after_minutes: 30,
            reminder_minute_of_day: 17 * 60,
            reminders: true,
            coordinator_emails: Vec::new(),
            coordinator_phone: None,
            require_second_factor: false,
            requests_close_day: None,
            auto_approve_swaps: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub region: Region,
    pub municipalities: Vec<Municipality>,
    pub institutions: Vec<Institution>,
    pub staff: Vec<StaffMember>,
    pub services: Vec<CoverageService>,
    pub attending_pairs: Vec<AttendingPair>,
    pub absences: Vec<Absence>,
    pub requests: Vec<Request>,
    pub weights: SoftWeights,
    pub policy: Policy,
    pub travel: TravelModel,
    /// Rules set on people's duties (counts, consecutive days, 当直明け…).
    #[serde(default)]
    pub rules: Vec<crate::StaffRule>,
    /// Duties a coordinator fixed.
    #[serde(default)]
    pub pinned: Vec<crate::Pin>,
}

impl Network {
    pub fn staff_member(&self, id: &StaffId) -> Option<&StaffMember> {
        self.staff.iter().find(|s| &s.id == id)
    }
    pub fn institution(&self, id: &InstitutionId) -> Option<&Institution> {
        self.institutions.iter().find(|i| &i.id == id)
    }
    pub fn service(&self, id: &ServiceId) -> Option<&CoverageService> {
        self.services.iter().find(|s| &s.id == id)
    }
    pub fn municipality(&self, id: &MunicipalityId) -> Option<&Municipality> {
        self.municipalities.iter().find(|m| &m.id == id)
    }

    /// What patients call for a slot of the service nobody holds yet (未定):
    /// the service's own fallback, else its host institution's phone, else
    /// the region's fallback.
    pub fn fallback_phone<'a>(&'a self, service: &'a CoverageService) -> Option<&'a crate::Phone> {
        service
            .fallback_phone
            .as_ref()
            .or_else(|| {
                service
                    .host
                    .as_ref()
                    .and_then(|h| self.institution(h))
                    .and_then(|i| i.phone.as_ref())
            })
            .or(self.region.fallback_phone.as_ref())
    }

    /// Whether a staff member may take a service's duty (rule 2): profession,
    /// skills, and an institution the service accepts.
    pub fn eligible(&self, staff: &StaffMember, service: &CoverageService) -> bool {
        if staff.profession != service.profession || !staff.has_skills(&service.skills) {
            return false;
        }
        if !service.institutions.is_empty() {
            return staff
                .institutions()
                .any(|i| service.institutions.contains(i));
        }
        if service.area.is_empty() {
            return true;
        }
        let by_id: BTreeMap<_, _> = self.institutions.iter().map(|i| (&i.id, i)).collect();
        staff
            .institutions()
            .filter_map(|i| by_id.get(i))
            .any(|i| service.area.contains(&i.municipality))
    }

    /// A one-line count of each kind, for summaries and import reports.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("municipalities", self.municipalities.len()),
            ("institutions", self.institutions.len()),
            ("staff", self.staff.len()),
            ("services", self.services.len()),
            (
                "templates",
                self.services.iter().map(|s| s.templates.len()).sum(),
            ),
            ("attending pairs", self.attending_pairs.len()),
            ("absences", self.absences.len()),
            ("requests", self.requests.len()),
            ("rules", self.rules.len()),
            ("pinned duties", self.pinned.len()),
        ]
    }
}
