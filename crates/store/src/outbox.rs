//! The notification outbox. A row is written in the same transaction as the
//! change that needs telling (a publish, a cover offer, an acceptance, an
//! escalation), so a crash between the change and the e-mail loses nothing.
//! Rows carry ids, not text: the notifier renders each message when it sends
//! it, from the stored network and rotas.
//!
//! A worker *claims* due rows with a lease; a row whose worker died is
//! claimed again once its lease has run out. The outcome of a send is then
//! *settled* by the worker that holds the lease.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use touban_domain::{Month, RegionId, StaffId};

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A month's rota was published for the first time: the person's duties.
    Published,
    /// A later published version changed the person's duties.
    Changed,
    /// A cover offer with accept and decline links.
    Offer,
    /// Someone else accepted a cover offer this person had.
    OfferTaken,
    /// A cover request nobody accepted in time (to the coordinators).
    Escalation,
    /// The day before a duty.
    Reminder,
    /// Daily digest of unfilled shifts and failed deliveries (coordinators).
    Digest,
    /// Messages that could not be delivered (coordinators).
    DeliveryFailed,
    /// An absence was reported and its repair waits for a coordinator to
    /// publish it (coordinators, at once).
    RepairPending,
    /// Someone accepted a cover request after it was escalated to the
    /// coordinators (coordinators, at once: do not send a second person).
    LateAcceptance,
    /// A cover request was cancelled: to each person offered it.
    CoverCancelled,
    /// Cover was found: to the institution that asked (who, their phone,
    /// when they come).
    CoverFilled,
    /// To the person who accepted cover: what, where, whom to call, with a
    /// calendar file.
    CoverConfirmed,
    /// Nobody was found in time: to the institution that asked (the
    /// coordinators have been told and take over).
    CoverUnfilled,
    /// A one-time sign-in link for the web app (to the address asked).
    SignIn,
    /// A colleague proposes a swap or give-away: to the one asked, with
    /// signed accept and decline links.
    SwapProposed,
    /// A swap was accepted, declined, refused or withdrawn: to those it
    /// concerns.
    SwapUpdate,
}

impl MessageKind {
    pub const ALL: [Self; 17] = [
        Self::Published,
        Self::Changed,
        Self::Offer,
        Self::OfferTaken,
        Self::Escalation,
        Self::Reminder,
        Self::Digest,
        Self::DeliveryFailed,
        Self::RepairPending,
        Self::LateAcceptance,
        Self::CoverCancelled,
        Self::CoverFilled,
        Self::CoverConfirmed,
        Self::CoverUnfilled,
        Self::SignIn,
        Self::SwapProposed,
        Self::SwapUpdate,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Changed => "changed",
            Self::Offer => "offer",
            Self::OfferTaken => "offer_taken",
            Self::Escalation => "escalation",
            Self::Reminder => "reminder",
            Self::Digest => "digest",
            Self::DeliveryFailed => "delivery_failed",
            Self::RepairPending => "repair_pending",
            Self::LateAcceptance => "late_acceptance",
            Self::CoverCancelled => "cover_cancelled",
            Self::CoverFilled => "cover_filled",
            Self::CoverConfirmed => "cover_confirmed",
            Self::CoverUnfilled => "cover_unfilled",
            Self::SignIn => "sign_in",
            Self::SwapProposed => "swap_proposed",
            Self::SwapUpdate => "swap_update",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Whether the message goes to the region's coordinators rather than to
    /// one staff member.
    pub fn to_coordinators(self) -> bool {
        matches!(
            self,
            Self::Escalation
                | Self::Digest
                | Self::DeliveryFailed
                | Self::RepairPending
                | Self::LateAcceptance
        )
    }
    /// Whether the message goes to the institution that asked for cover
    /// (its `email`; the coordinators when it has none).
    pub fn to_institution(self) -> bool {
        matches!(self, Self::CoverFilled | Self::CoverUnfilled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its first attempt.
    Queued,
    /// Claimed by a worker (leased).
    Sending,
    /// Handed to the SMTP server.
    Sent,
    /// A transient failure; another attempt is due at `next_attempt_at`.
    Retrying,
    /// A permanent failure, or too many transient ones.
    Failed,
    /// Nothing left to say (e.g. a change that a later change undid).
    Cancelled,
}

impl MessageState {
    pub const ALL: [Self; 6] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Retrying,
        Self::Failed,
        Self::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A message about to be queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub region: RegionId,
    pub kind: MessageKind,
    /// The person it goes to; `None` for messages to the coordinators.
    pub staff: Option<StaffId>,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    /// Queue at most one message with this key, ever (reminders, digests).
    pub dedupe_key: Option<String>,
    /// A message with the same merge key still queued absorbs this one
    /// (several changes to one person become one e-mail).
    pub merge_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub region: RegionId,
    pub kind: MessageKind,
    pub staff: Option<StaffId>,
    pub payload: serde_json::Value,
    pub state: MessageState,
    /// Attempts started so far (a claim counts as one).
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the next attempt may start (queued and retrying messages).
    pub due_at: DateTime<Utc>,
    pub merge_key: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure, as the SMTP server or the network reported it.
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Where it was sent.
    pub sent_to: Option<String>,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settle {
    Sent {
        to: String,
    },
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
    },
    /// Nothing to send after all (the change was undone, the duty is gone).
    Cancelled {
        reason: String,
    },
}

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub region: Option<RegionId>,
    pub state: Option<MessageState>,
    pub staff: Option<StaffId>,
    /// Only ids above this.
    pub after: i64,
    pub limit: u32,
}

/// Payload of `Published` and `Changed`: the month, and for a change the
/// published version the person last heard about (`from`) and the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotaPayload {
    pub month: Month,
    pub from: Option<u32>,
    pub to: u32,
    /// A duty of the person that is new or changed starts within about a
    /// day: sent at once (not held to merge) and marked urgent.
    #[serde(default)]
    pub urgent: bool,
}

/// Payload of `RepairPending`: the absence, and the draft that repairs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairPayload {
    pub month: Month,
    /// The published version and the repair waiting to replace it.
    pub from: u32,
    pub to: u32,
    pub absent: StaffId,
    pub start: DateTime<chrono::FixedOffset>,
    pub end: DateTime<chrono::FixedOffset>,
    pub changes: usize,
    pub unfilled: usize,
    /// The person retires from `start` (rather than being absent).
    #[serde(default)]
    pub retired: bool,
}

/// The message that tells the coordinators a repair waits for them.
pub fn repair_pending_message(
    region: &RegionId,
    p: &RepairPayload,
    now: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        region: region.clone(),
        kind: MessageKind::RepairPending,
        staff: None,
        payload: serde_json::to_value(p).expect("plain data serialises"),
        due_at: now,
        dedupe_key: Some(format!("repair:{region}:{}:{}", p.month, p.to)),
        merge_key: None,
    }
}

/// Payload of `Offer`, `OfferTaken`, `Escalation`, `LateAcceptance` and
/// `CoverCancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverPayload {
    pub request: i64,
    pub offer: Option<i64>,
}

/// The merge key of change notices: one per person and month.
pub fn change_merge_key(region: &RegionId, month: Month, staff: &StaffId) -> String {
    format!("changed:{region}:{month}:{staff}")
}

/// What a queued message becomes when another with its merge key arrives:
/// the older one's starting point with the newer one's end, so the person
/// gets old → new across every change in the window; for other kinds the
/// older payload stands (it already says "since").
pub fn merge_payload(
    kind: MessageKind,
    old: &serde_json::Value,
    new: &serde_json::Value,
) -> serde_json::Value {
    match kind {
        MessageKind::Changed => {
            let mut merged = old.clone();
            if let (Some(m), Some(to)) = (merged.as_object_mut(), new.get("to")) {
                m.insert("to".into(), to.clone());
            }
            merged
        }
        _ => old.clone(),
    }
}

/// The messages a publish queues: the person's duties on the first publish
/// of a month; on a later one, a change notice to each person whose duties
/// differ from the version published before. `people` pairs each person
/// with the date of their earliest new or changed duty; a person with one
/// on or before `urgent_until` is told at once (no merge hold) and the
/// notice says it is urgent.
pub fn publish_messages(
    region: &RegionId,
    month: Month,
    version: u32,
    previous: Option<u32>,
    people: &[(StaffId, chrono::NaiveDate)],
    urgent_until: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Vec<NewMessage> {
    people
        .iter()
        .map(|(s, first)| {
            let urgent = *first <= urgent_until;
            let (kind, merge_key) = match previous {
                None => (MessageKind::Published, None),
                Some(_) if urgent => (MessageKind::Changed, None),
                Some(_) => (
                    MessageKind::Changed,
                    Some(change_merge_key(region, month, s)),
                ),
            };
            NewMessage {
                region: region.clone(),
                kind,
                staff: Some(s.clone()),
                payload: serde_json::to_value(RotaPayload {
                    month,
                    from: previous,
                    to: version,
                    urgent,
                })
                .expect("plain data serialises"),
                due_at: now,
                dedupe_key: None,
                merge_key,
            }
        })
        .collect()
}

/// A cover message to one person, or to the coordinators.
pub fn cover_message(
    region: &RegionId,
    kind: MessageKind,
    staff: Option<StaffId>,
    request: i64,
    offer: Option<i64>,
    now: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        region: region.clone(),
        kind,
        staff,
        payload: serde_json::to_value(CoverPayload { request, offer })
            .expect("plain data serialises"),
        due_at: now,
        dedupe_key: None,
        merge_key: None,
    }
}

/// The message telling coordinators of failed deliveries since `since`;
/// failures in quick succession merge into one.
pub fn delivery_failed_message(region: &RegionId, since: DateTime<Utc>) -> NewMessage {
    NewMessage {
        region: region.clone(),
        kind: MessageKind::DeliveryFailed,
        staff: None,
        // A second early: stored times are rounded to microseconds.
        payload: serde_json::json!({ "since": since - chrono::Duration::seconds(1) }),
        due_at: since,
        dedupe_key: None,
        merge_key: Some(format!("failed:{region}")),
    }
}

/// What an accepted cover offer is told by, in the acceptance's
/// transaction: the institution hears who comes; the person who accepted
/// gets a confirmation with a calendar file; the coordinators hear of an
/// acceptance after the request was escalated to them; everyone else who
/// had been asked hears that it is taken (`taken`: their offers).
pub fn acceptance_messages(
    region: &RegionId,
    request: i64,
    offer: i64,
    accepted_by: StaffId,
    was_escalated: bool,
    taken: &[(i64, StaffId)],
) -> Vec<NewMessage> {
    let now = Utc::now();
    let mut msgs = vec![
        cover_message(
            region,
            MessageKind::CoverFilled,
            None,
            request,
            Some(offer),
            now,
        ),
        cover_message(
            region,
            MessageKind::CoverConfirmed,
            Some(accepted_by),
            request,
            Some(offer),
            now,
        ),
    ];
    if was_escalated {
        msgs.push(cover_message(
            region,
            MessageKind::LateAcceptance,
            None,
            request,
            Some(offer),
            now,
        ));
    }
    for (id, staff) in taken {
        msgs.push(cover_message(
            region,
            MessageKind::OfferTaken,
            Some(staff.clone()),
            request,
            Some(*id),
            now,
        ));
    }
    msgs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_change_spans_both() {
        let a = serde_json::json!({"month": "2027-01", "from": 1, "to": 2});
        let b = serde_json::json!({"month": "2027-01", "from": 2, "to": 3});
        let m = merge_payload(MessageKind::Changed, &a, &b);
        assert_eq!(
            m,
            serde_json::json!({"month": "2027-01", "from": 1, "to": 3})
        );
        assert_eq!(merge_payload(MessageKind::DeliveryFailed, &a, &b), a);
    }

    #[test]
    fn names_round_trip() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
        }
        for s in MessageState::ALL {
            assert_eq!(MessageState::parse(s.as_str()), Some(s));
        }
    }
}
