//! Swap messages: a proposal to the colleague (with signed accept and
//! decline links), and the news of it to either side (accepted, declined,
//! refused, withdrawn). An approval is told by the change notices of the
//! version it publishes.

use anyhow::anyhow;
use chrono::Utc;
use touban_domain::{Network, ShiftKey, StaffId};
use touban_store::{Message, MessageKind, Swap, SwapStatus};

use super::{Composer, Part};
use crate::format::{date_en, date_ja};

fn duty(net: &Network, k: &ShiftKey) -> (String, String) {
    let svc = net.service(&k.service);
    let t = svc.and_then(|s| s.template(&k.template));
    let time = t
        .map(|t| format!("{}–{}", t.start, t.end))
        .unwrap_or_default();
    (
        format!(
            "{} {time} {}{}",
            date_ja(k.date),
            svc.map_or_else(|| k.service.to_string(), |s| s.name.clone()),
            t.map(|t| format!("・{}", t.name)).unwrap_or_default()
        ),
        format!(
            "{} {time} {}{}",
            date_en(k.date),
            svc.map_or_else(
                || k.service.to_string(),
                |s| s.name_en.clone().unwrap_or_else(|| s.name.clone())
            ),
            t.map(|t| format!(", {}", t.name_en.clone().unwrap_or_else(|| t.name.clone())))
                .unwrap_or_default()
        ),
    )
}

fn person(net: &Network, s: &StaffId) -> (String, String) {
    net.staff_member(s).map_or_else(
        || (s.to_string(), s.to_string()),
        |p| {
            (
                p.name.clone(),
                p.name_en.clone().unwrap_or_else(|| p.name.clone()),
            )
        },
    )
}

fn outcome(s: &Swap) -> (&'static str, &'static str) {
    match s.status {
        SwapStatus::Proposed => ("返事待ち", "waiting for an answer"),
        SwapStatus::Accepted => (
            "相手が承諾しました。コーディネーターの承認を待っています",
            "accepted; waiting for the coordinator",
        ),
        SwapStatus::Approved => ("承認され、当番表に反映しました", "approved and in the rota"),
        SwapStatus::Declined => (
            "相手がお断りしました。当番はそのままです",
            "declined; your duty stays as it was",
        ),
        SwapStatus::Refused => (
            "コーディネーターが認めませんでした。当番はそのままです",
            "refused by the coordinator; the duties stay as they were",
        ),
        SwapStatus::Withdrawn => (
            "取り下げられました。当番はそのままです",
            "withdrawn; the duties stay as they were",
        ),
    }
}

impl Composer {
    pub(super) async fn swap_notice(&self, net: &Network, m: &Message) -> Part {
        let id = m.payload["swap"]
            .as_i64()
            .ok_or_else(|| anyhow!("swap message without a swap"))?;
        let s = self.store().swap(id).await?;
        let (give_ja, give_en) = duty(net, &s.give);
        let take = s.take.as_ref().map(|t| duty(net, t));
        let (from_ja, from_en) = person(net, &s.from_staff);
        let (to_ja, to_en) = person(net, &s.to_staff);
        let (outcome_ja, outcome_en) = outcome(&s);
        let mut v = serde_json::json!({
            "swap": {
                "id": s.id,
                "give_ja": give_ja, "give_en": give_en,
                "take_ja": take.as_ref().map(|t| t.0.clone()),
                "take_en": take.as_ref().map(|t| t.1.clone()),
                "from": from_ja, "from_en": from_en,
                "to": to_ja, "to_en": to_en,
                "note": s.note,
                "reason": s.reason,
                "outcome_ja": outcome_ja, "outcome_en": outcome_en,
            },
        });
        if m.kind == MessageKind::SwapProposed {
            if s.status != SwapStatus::Proposed {
                return Ok(Err(format!(
                    "the swap is {} now; nothing to ask",
                    s.status.as_str()
                )));
            }
            // Valid until the duty given begins (at most the links' usual
            // life).
            let begins = s
                .give
                .date
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now);
            let exp = (Utc::now() + chrono::Duration::hours(self.links.valid_hours)).min(begins);
            let base = self.links.public_url.trim_end_matches('/');
            let link = |a: &str| {
                format!(
                    "{base}{}",
                    touban_app::links::swap_link(&self.links.key, s.id, a, exp)
                )
            };
            v["accept_url"] = link("accept").into();
            v["decline_url"] = link("decline").into();
            v["offers_url"] = format!("{base}/me/offers").into();
        }
        Ok(Ok(v))
    }
}
