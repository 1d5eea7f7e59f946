//! Calendar files attached to e-mails (iTIP, RFC 5546): METHOD PUBLISH or
//! CANCEL, Touban's PRODID, and an ORGANIZER (required for both methods):
//! the region's coordinators, or the sender when none is named.

use chrono::Utc;
use icalendar::{Component, Event, EventLike, EventStatus, Property};
use touban_calendar::Calendar;
use touban_domain::{Network, Role, Shift, StaffId};
use touban_store::StoredCover;

use super::Composer;

impl Composer {
    fn organizer(&self, net: &Network) -> Property {
        let (addr, cn) = match net.policy.coordinator_emails.first() {
            Some(e) => (
                e.to_string(),
                format!("{} コーディネーター", net.region.name),
            ),
            None => (
                self.links.sender.clone(),
                format!("当番 Touban {}", net.region.name),
            ),
        };
        let mut p = Property::new("ORGANIZER", format!("mailto:{addr}"));
        p.add_parameter("CN", &cn);
        p
    }

    fn calendar(&self, net: &Network, cancel: bool) -> icalendar::Calendar {
        let mut cal = touban_app::ical::new_calendar();
        cal.append_property(("METHOD", if cancel { "CANCEL" } else { "PUBLISH" }));
        cal.timezone(net.region.time_zone.name());
        cal
    }

    /// A person's duties as events (cancelled ones with `cancel`).
    pub(super) fn ics(
        &self,
        net: &Network,
        staff: &StaffId,
        duties: &[(Shift, Role)],
        seq: u32,
        cancel: bool,
    ) -> String {
        let cal_days = Calendar::for_region(&net.region);
        let mut cal = self.calendar(net, cancel);
        for (s, role) in duties {
            let v = self.duty_view(net, &cal_days, s, *role);
            let mut e = Event::new();
            e.uid(&touban_app::ical::uid(
                net.region.id.as_str(),
                &s.key(),
                staff.as_str(),
            ))
            .sequence(seq)
            .timestamp(Utc::now())
            .starts(s.start.with_timezone(&Utc))
            .ends(s.end.with_timezone(&Utc))
            .summary(&format!("当番 {}（{}）{}", v.service, v.shift, v.role_ja))
            .description(&format!(
                "{} {} {} / {} ({}), {}",
                v.service, v.shift, v.role_ja, v.service_en, v.shift_en, v.role_en
            ))
            .status(if cancel {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            })
            .append_property(self.organizer(net));
            if let Some(p) = &v.place {
                e.location(p);
            }
            cal.push(e.done());
        }
        cal.done().to_string()
    }

    /// Accepted cover as an event, with the UID the person's feed uses.
    pub(super) fn cover_ics(&self, net: &Network, c: &StoredCover, staff: &StaffId) -> String {
        let mut cal = self.calendar(net, false);
        if let Some(person) = net.staff_member(staff) {
            let mut e = touban_app::ical::cover_event(net, c, person);
            e.append_property(self.organizer(net));
            cal.push(e);
        }
        cal.done().to_string()
    }
}
