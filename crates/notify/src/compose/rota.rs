//! Notices of a published month, of changes to it, and reminders.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, anyhow};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use touban_calendar::Calendar;
use touban_domain::{Month, Network, Role, Rota, Shift, ShiftKey, StaffId};
use touban_store::Message;
use touban_store::outbox::RotaPayload;

use super::{Attachment, Composer, DutyView, Part, holders};
use crate::format::{date_en, date_ja, month_en, month_ja};

/// How long before a duty its announcement must come for a reminder to
/// follow it; a duty announced later than this has had its notice.
const ANNOUNCED_AHEAD: chrono::Duration = chrono::Duration::hours(24);

impl Composer {
    /// `Published` (every duty of the month) or `Changed` (what changed for
    /// the person since the version they last heard of: duties lost, with
    /// who holds them now; duties gained, with who had them; duties kept
    /// with someone new beside them).
    pub(super) async fn rota_notice(
        &self,
        net: &Network,
        m: &Message,
        attachments: &mut Vec<Attachment>,
    ) -> Part {
        let p: RotaPayload = serde_json::from_value(m.payload.clone())
            .context("outbox payload of a rota message")?;
        let staff = m
            .staff
            .as_ref()
            .ok_or_else(|| anyhow!("rota message without a person"))?;
        let new = self.rota(&m.region, p.month, p.to).await?;
        let now_duties = self.duties_of(net, &new, staff, |_| true);
        let mut extra = serde_json::json!({
            "month_ja": month_ja(p.month),
            "month_en": month_en(p.month),
            "urgent": p.urgent,
            "version": p.to,
        });
        let Some(from) = p
            .from
            .filter(|_| m.kind == touban_store::MessageKind::Changed)
        else {
            if now_duties.is_empty() {
                return Ok(Err("no duties in this version".into()));
            }
            attachments.push(Attachment {
                filename: "duties.ics".into(),
                method: "PUBLISH",
                body: self.ics(net, staff, &now_duties, p.to, false),
            });
            extra["duties"] =
                serde_json::to_value(self.views_with_others(net, &new, staff, &now_duties))?;
            return Ok(Ok(extra));
        };
        let old = self.rota(&m.region, p.month, from).await?;
        let before = self.duties_of(net, &old, staff, |_| true);
        let key = |(s, r): &(Shift, Role)| (s.key(), *r);
        let before_set: BTreeSet<_> = before.iter().map(key).collect();
        let after_set: BTreeSet<_> = now_duties.iter().map(key).collect();
        let removed: Vec<_> = before
            .iter()
            .filter(|d| !after_set.contains(&key(d)))
            .cloned()
            .collect();
        let added: Vec<_> = now_duties
            .iter()
            .filter(|d| !before_set.contains(&key(d)))
            .cloned()
            .collect();
        let (h_old, h_new) = (holders(&old), holders(&new));
        let others = |h: &HashMap<ShiftKey, Vec<(StaffId, Role)>>, k: &ShiftKey| {
            let mut v: Vec<_> = h
                .get(k)
                .into_iter()
                .flatten()
                .filter(|(s, _)| s != staff)
                .cloned()
                .collect();
            v.sort();
            v
        };
        // Kept duties whose colleagues changed.
        let beside: Vec<_> = now_duties
            .iter()
            .filter(|d| before_set.contains(&key(d)))
            .filter(|(s, _)| others(&h_old, &s.key()) != others(&h_new, &s.key()))
            .cloned()
            .collect();
        if removed.is_empty() && added.is_empty() && beside.is_empty() {
            return Ok(Err(format!(
                "versions {from} and {} give this person the same duties with the same colleagues",
                p.to
            )));
        }
        // A duty whose role changed stays (same UID, new SEQUENCE); only
        // duties gone altogether are cancelled.
        let kept: BTreeSet<ShiftKey> = added.iter().map(|(s, _)| s.key()).collect();
        let cancelled: Vec<_> = removed
            .iter()
            .filter(|(s, _)| !kept.contains(&s.key()))
            .cloned()
            .collect();
        if !added.is_empty() {
            attachments.push(Attachment {
                filename: "duties.ics".into(),
                method: "PUBLISH",
                body: self.ics(net, staff, &added, p.to, false),
            });
        }
        if !cancelled.is_empty() {
            attachments.push(Attachment {
                filename: "cancel.ics".into(),
                method: "CANCEL",
                body: self.ics(net, staff, &cancelled, p.to, true),
            });
        }
        let cal = Calendar::for_region(&net.region);
        let view = |v: &[(Shift, Role)], now: bool, was: bool| -> Vec<DutyView> {
            v.iter()
                .map(|(s, r)| {
                    let k = s.key();
                    let mut d = self.duty_view(net, &cal, s, *r);
                    if now {
                        d.now = Some(Self::people_on(net, &h_new, &k, |x| x != staff));
                    } else {
                        d.others = Self::people_on(net, &h_new, &k, |x| x != staff);
                    }
                    if was {
                        // Those who left the shift: whom the person replaces,
                        // or who worked beside them before.
                        let stayed = |x: &StaffId| {
                            h_new.get(&k).is_some_and(|v| v.iter().any(|(s, _)| s == x))
                        };
                        d.before = Some(Self::people_on(net, &h_old, &k, |x| {
                            x != staff && !stayed(x)
                        }));
                    }
                    d
                })
                .collect()
        };
        extra["removed"] = serde_json::to_value(view(&removed, true, false))?;
        extra["added"] = serde_json::to_value(view(&added, false, true))?;
        extra["beside"] = serde_json::to_value(view(&beside, false, true))?;
        extra["has_added"] = (!added.is_empty()).into();
        extra["has_cancel"] = (!cancelled.is_empty()).into();
        Ok(Ok(extra))
    }

    /// The reminder of a day's duties: "today" or "tomorrow" as it is when
    /// sent; duties already begun, or announced less than a day ahead (their
    /// announcement was the notice), are left out.
    pub(super) async fn reminder(&self, net: &Network, m: &Message) -> Part {
        let date: NaiveDate = serde_json::from_value(m.payload["date"].clone())
            .context("outbox payload of a reminder")?;
        let staff = m
            .staff
            .as_ref()
            .ok_or_else(|| anyhow!("reminder without a person"))?;
        let person = net.staff_member(staff);
        if !net.policy.reminders || person.is_some_and(|p| !p.reminders) {
            return Ok(Err("reminders are switched off".into()));
        }
        let month = Month::new(date.year(), date.month())?;
        let Some(rota) = self.store.published_rota(&m.region, month).await? else {
            return Ok(Err("the month is no longer published".into()));
        };
        let now = Utc::now();
        let mut duties = self.duties_of(net, &rota, staff, |s| s.date == date && s.start > now);
        if duties.is_empty() {
            return Ok(Err(format!("no duty still to come on {date}")));
        }
        let told = self.first_told(net, month, &rota, staff).await?;
        duties.retain(|(s, r)| {
            told.get(&(s.key(), *r))
                .is_none_or(|at| s.start.with_timezone(&Utc) - *at >= ANNOUNCED_AHEAD)
        });
        if duties.is_empty() {
            return Ok(Err(format!(
                "the duties on {date} were announced less than a day ahead; the announcement was the notice"
            )));
        }
        let today = now.with_timezone(&net.region.time_zone).date_naive();
        let (word_ja, word_en) = day_words(date, today);
        Ok(Ok(serde_json::json!({
            "day_ja": date_ja(date),
            "day_en": date_en(date),
            "day_word_ja": word_ja,
            "day_word_en": word_en,
            "duties": self.views_with_others(net, &rota, staff, &duties),
        })))
    }

    /// When the person was first told of each duty of theirs in `rota` (the
    /// published version): the publication of the earliest version of an
    /// unbroken run of published versions, up to this one, that all had it.
    async fn first_told(
        &self,
        net: &Network,
        month: Month,
        rota: &Rota,
        staff: &StaffId,
    ) -> anyhow::Result<HashMap<(ShiftKey, Role), DateTime<Utc>>> {
        let mut published: Vec<(u32, DateTime<Utc>)> = self
            .store
            .rota_history(&net.region.id, month)
            .await?
            .into_iter()
            .filter(|c| c.action == "published")
            .map(|c| (c.version, c.at))
            .collect();
        published.sort_by_key(|(_, at)| *at);
        let Some(pos) = published.iter().rposition(|(v, _)| *v == rota.version) else {
            return Ok(HashMap::new());
        };
        let mine = |r: &Rota| -> BTreeSet<(ShiftKey, Role)> {
            r.assignments
                .iter()
                .filter(|a| &a.staff == staff)
                .map(|a| (a.shift.clone(), a.role))
                .collect()
        };
        let mut out = HashMap::new();
        let mut alive = mine(rota);
        for (v, at) in published[..=pos].iter().rev() {
            let r = self.rota(&net.region.id, month, *v).await?;
            let had = mine(&r);
            alive.retain(|k| had.contains(k));
            if alive.is_empty() {
                break;
            }
            for k in &alive {
                out.insert(k.clone(), *at);
            }
        }
        Ok(out)
    }
}

/// "今日" / "today" or "明日" / "tomorrow" when true, else nothing (the
/// date alone).
fn day_words(date: NaiveDate, today: NaiveDate) -> (&'static str, &'static str) {
    match (date - today).num_days() {
        0 => ("今日", "today"),
        1 => ("明日", "tomorrow"),
        _ => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::day_words;
    use chrono::NaiveDate;

    #[test]
    fn today_and_tomorrow_only_when_true() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        assert_eq!(day_words(d(30), d(30)), ("今日", "today"));
        assert_eq!(day_words(d(30), d(29)), ("明日", "tomorrow"));
        assert_eq!(day_words(d(30), d(28)), ("", ""));
        assert_eq!(day_words(d(29), d(30)), ("", ""));
    }
}
