//! Cover messages: offers, their outcome to everyone concerned (the
//! institution that asked, the person who accepted, the others asked) and
//! escalations to the coordinators.

use anyhow::anyhow;
use chrono::Utc;
use serde::Serialize;
use touban_domain::{Network, OfferMode};
use touban_store::outbox::CoverPayload;
use touban_store::{Message, MessageKind, OfferStatus, StoredCover};

use super::{Attachment, Composer, Part, Permanent};
use crate::format::{date_en, date_ja, when};

#[derive(Debug, Clone, Serialize)]
struct CoverView {
    id: i64,
    institution: String,
    institution_en: String,
    phone: Option<String>,
    address: Option<String>,
    profession_ja: &'static str,
    profession_en: &'static str,
    skills: String,
    when_ja: String,
    when_en: String,
    note: Option<String>,
}

fn cover_view(net: &Network, c: &StoredCover) -> CoverView {
    let inst = net.institution(&c.request.institution);
    let (when_ja, when_en) = when(c.request.start, c.request.end);
    CoverView {
        id: c.id,
        institution: inst.map_or_else(|| c.request.institution.to_string(), |i| i.name.clone()),
        institution_en: inst.map_or_else(
            || c.request.institution.to_string(),
            |i| i.name_en.clone().unwrap_or_else(|| i.name.clone()),
        ),
        phone: inst.and_then(|i| i.phone.as_ref()).map(ToString::to_string),
        // The street address when the network file has one, else at least
        // the municipality.
        address: inst.and_then(|i| {
            i.address
                .clone()
                .or_else(|| net.municipality(&i.municipality).map(|m| m.name.clone()))
        }),
        profession_ja: c.request.profession.label_ja(),
        profession_en: c.request.profession.as_str(),
        skills: c
            .request
            .skills
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        when_ja,
        when_en,
        note: c.request.note.clone(),
    }
}

/// Splits a stored reason, "日本語 / English", into its two languages.
fn split_reason(r: &str) -> (String, String) {
    match r.split_once(" / ") {
        Some((ja, en)) => (ja.to_string(), en.to_string()),
        None => (r.to_string(), r.to_string()),
    }
}

impl Composer {
    /// A cover message: the template's values, and for the institution's
    /// messages its address (None: the person or the coordinators).
    pub(super) async fn cover_notice(
        &self,
        net: &Network,
        m: &Message,
        attachments: &mut Vec<Attachment>,
    ) -> Part<(Option<Vec<String>>, serde_json::Value)> {
        let p: CoverPayload = serde_json::from_value(m.payload.clone())
            .map_err(|e| anyhow!("outbox payload of a cover message: {e}"))?;
        let c = self.store.cover(p.request).await?;
        let mut extra = serde_json::json!({ "cover": cover_view(net, &c) });
        let taker = c.filled_by.as_ref().and_then(|s| net.staff_member(s));
        if let Some(who) = taker {
            let home = net.institution(&who.home_institution);
            extra["taker"] = who.name.clone().into();
            extra["taker_en"] = who
                .name_en
                .clone()
                .unwrap_or_else(|| who.name.clone())
                .into();
            extra["taker_phone"] = who
                .phone
                .as_ref()
                .map_or_else(|| "—".to_string(), ToString::to_string)
                .into();
            extra["taker_profession_ja"] = who.profession.label_ja().into();
            extra["taker_profession_en"] = who.profession.as_str().into();
            extra["taker_home"] = home.map(|i| i.name.clone()).into();
            extra["taker_home_en"] = home
                .map(|i| i.name_en.clone().unwrap_or_else(|| i.name.clone()))
                .into();
        }
        let start = c.request.start;
        extra["arrive_ja"] =
            format!("{} {}", date_ja(start.date_naive()), start.format("%H:%M")).into();
        extra["arrive_en"] =
            format!("{} {}", date_en(start.date_naive()), start.format("%H:%M")).into();
        let mut to = None;
        match m.kind {
            MessageKind::Offer => {
                let offer_id = p
                    .offer
                    .ok_or_else(|| anyhow!("offer message without an offer"))?;
                let Some(o) = c.offers.iter().find(|o| o.id == offer_id) else {
                    return Err(Permanent(format!("offer {offer_id} does not exist")).into());
                };
                if o.status != OfferStatus::Offered {
                    return Ok(Err(format!(
                        "the offer is {} now; nothing to ask",
                        o.status.as_str()
                    )));
                }
                let exp = (Utc::now() + chrono::Duration::hours(self.links.valid_hours))
                    .min(c.request.end.with_timezone(&Utc));
                let base = self.links.public_url.trim_end_matches('/');
                let link = |a| {
                    format!(
                        "{base}{}",
                        touban_app::links::link(&self.links.key, offer_id, a, exp)
                    )
                };
                let exp_local = exp.with_timezone(&net.region.time_zone);
                let (reason_ja, reason_en) = split_reason(&o.reason);
                extra["accept_url"] = link("accept").into();
                extra["decline_url"] = link("decline").into();
                extra["reason_ja"] = reason_ja.into();
                extra["reason_en"] = reason_en.into();
                extra["broadcast"] = (c.request.mode == OfferMode::Broadcast).into();
                extra["expires_ja"] = format!(
                    "{} {}",
                    date_ja(exp_local.date_naive()),
                    exp_local.format("%H:%M")
                )
                .into();
                extra["expires_en"] = format!(
                    "{} {}",
                    date_en(exp_local.date_naive()),
                    exp_local.format("%H:%M")
                )
                .into();
            }
            MessageKind::LateAcceptance | MessageKind::CoverFilled if taker.is_none() => {
                return Ok(Err("the request is not filled any more".into()));
            }
            MessageKind::CoverConfirmed => {
                let (Some(who), Some(staff)) = (taker, m.staff.as_ref()) else {
                    return Ok(Err("the request is not filled any more".into()));
                };
                if &who.id != staff {
                    return Ok(Err("someone else holds this cover now".into()));
                }
                attachments.push(Attachment {
                    filename: "cover.ics".into(),
                    method: "PUBLISH",
                    body: self.cover_ics(net, &c, staff),
                });
            }
            MessageKind::CoverUnfilled if taker.is_some() => {
                return Ok(Err("the request was filled since".into()));
            }
            MessageKind::Escalation => {
                let offers: Vec<_> = c
                    .offers
                    .iter()
                    .map(|o| {
                        let p = net.staff_member(&o.staff);
                        serde_json::json!({
                            "name": p.map_or_else(|| o.staff.to_string(), |p| p.name.clone()),
                            "name_en": p.and_then(|p| p.name_en.clone()).unwrap_or_else(|| o.staff.to_string()),
                            "status": o.status.as_str(),
                            "status_ja": match o.status {
                                OfferStatus::Waiting => "未依頼",
                                OfferStatus::Offered => "返答なし",
                                OfferStatus::Accepted => "引き受け",
                                OfferStatus::Declined => "辞退",
                                OfferStatus::Taken | OfferStatus::Withdrawn => "終了",
                            },
                        })
                    })
                    .collect();
                extra["offers"] = offers.into();
            }
            _ => {}
        }
        if m.kind.to_institution() {
            extra["asked"] = c
                .offers
                .iter()
                .filter(|o| o.status != OfferStatus::Waiting)
                .count()
                .into();
            // The institution's own address; the coordinators pass it on
            // when the institution has none.
            if let Some(i) = net.institution(&c.request.institution)
                && let Some(e) = &i.email
            {
                to = Some(vec![format!("{} <{e}>", i.name)]);
            }
        }
        Ok(Ok((to, extra)))
    }
}
