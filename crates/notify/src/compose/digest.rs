//! What the coordinators read: failed deliveries and unfilled shifts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use touban_calendar::Calendar;
use touban_domain::{Month, Network, Role, ShiftKey};
use touban_store::{MessageFilter, MessageState};

use super::Composer;

#[derive(Debug, Clone, Serialize)]
pub(super) struct FailedView {
    id: i64,
    kind: &'static str,
    to: String,
    error: String,
}

impl Composer {
    pub(super) async fn failed_since(
        &self,
        net: &Network,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<FailedView>> {
        let list = self
            .store
            .messages(&MessageFilter {
                region: Some(net.region.id.clone()),
                state: Some(MessageState::Failed),
                limit: 10_000,
                ..MessageFilter::default()
            })
            .await?;
        Ok(list
            .into_iter()
            .filter(|f| f.updated_at >= since && !f.kind.to_coordinators())
            .map(|f| FailedView {
                id: f.id,
                kind: f.kind.as_str(),
                to: f
                    .staff
                    .as_ref()
                    .map(|s| match net.staff_member(s) {
                        Some(p) => format!("{} <{}>", p.name, p.email),
                        None => s.to_string(),
                    })
                    .unwrap_or_else(|| "coordinators".into()),
                error: f.last_error.unwrap_or_default(),
            })
            .collect())
    }

    /// Shifts of published rotas from `day` for the digest's days ahead that
    /// have fewer people than their minimum.
    pub async fn unfilled(
        &self,
        net: &Network,
        day: NaiveDate,
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let last = day + chrono::Duration::days(i64::from(self.digest_days));
        let mut months = BTreeSet::new();
        let mut d = day;
        while d < last {
            months.insert(Month::new(d.year(), d.month())?);
            d += chrono::Duration::days(1);
        }
        let cal = Calendar::for_region(&net.region);
        let mut out = Vec::new();
        for month in months {
            let Some(rota) = self.store.published_rota(&net.region.id, month).await? else {
                continue;
            };
            let mut have: BTreeMap<&ShiftKey, u32> = BTreeMap::new();
            for a in &rota.assignments {
                *have.entry(&a.shift).or_default() += 1;
            }
            for svc in &net.services {
                for s in cal.shifts(svc, month) {
                    if s.date < day || s.date >= last {
                        continue;
                    }
                    let Some(t) = svc.template(&s.template) else {
                        continue;
                    };
                    let n = have.get(&s.key()).copied().unwrap_or(0);
                    if n < u32::from(t.headcount.min) {
                        let v = self.duty_view(net, &cal, &s, Role::Primary);
                        out.push(serde_json::json!({
                            "date_ja": v.date_ja, "date_en": v.date_en,
                            "time_ja": v.time_ja, "time_en": v.time_en,
                            "service": v.service, "service_en": v.service_en,
                            "shift": v.shift, "shift_en": v.shift_en,
                            "have": n, "min": t.headcount.min,
                        }));
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Composer {
    /// The coordinators' notice that an absence's repair waits for them.
    pub(super) fn repair_pending(
        net: &Network,
        m: &touban_store::Message,
    ) -> anyhow::Result<serde_json::Value> {
        let p: touban_store::outbox::RepairPayload = serde_json::from_value(m.payload.clone())
            .map_err(|e| anyhow::anyhow!("outbox payload of a pending repair: {e}"))?;
        let who = net.staff_member(&p.absent);
        let tz = net.region.time_zone;
        let (s, e) = (p.start.with_timezone(&tz), p.end.with_timezone(&tz));
        let span = |f: fn(NaiveDate) -> String| {
            format!(
                "{} {} – {} {}",
                f(s.date_naive()),
                s.format("%H:%M"),
                f(e.date_naive()),
                e.format("%H:%M")
            )
        };
        // A retirement is repaired the same way, from its first day.
        Ok(serde_json::json!({
            "retired": p.retired,
            "retired_ja": crate::format::date_ja(s.date_naive()),
            "retired_en": crate::format::date_en(s.date_naive()),
            "month": p.month.to_string(),
            "from": p.from,
            "to": p.to,
            "changes": p.changes,
            "unfilled": p.unfilled,
            "absent": who.map_or_else(|| p.absent.to_string(), |w| w.name.clone()),
            "absent_en": who.and_then(|w| w.name_en.clone()).unwrap_or_else(|| p.absent.to_string()),
            "when_ja": span(crate::format::date_ja),
            "when_en": span(crate::format::date_en),
        }))
    }
}
