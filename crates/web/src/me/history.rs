//! What "my duties" adds about the past: this year's counted hours against
//! the annual cap, and each later published version's changes to my duties
//! with when I was told.

use std::collections::{BTreeSet, HashMap};

use touban_domain::{DutyKind, Month, Network, RegionId, Rota, RotaStatus, ShiftKey, StaffId};
use touban_store::outbox::RotaPayload;
use touban_store::{MessageFilter, MessageKind, MessageState, Store, StoreError};

use crate::i18n;

/// Counted hours of `id` in the published rotas of `month`'s year up to
/// and including it, plus the hours worked elsewhere that the network file
/// records. `loaded` holds rotas already read.
pub async fn year_hours(
    store: &dyn Store,
    net: &Network,
    id: &StaffId,
    month: Month,
    loaded: &HashMap<Month, Rota>,
) -> Result<f64, StoreError> {
    let cal = touban_calendar::Calendar::for_region(&net.region);
    let mut hours = net
        .staff_member(id)
        .map_or(0.0, |p| p.labour.hours_elsewhere_this_year);
    let mut m = Month::new(month.year, 1).map_err(|e| StoreError::Invalid(e.message))?;
    while m <= month {
        let read;
        let rota = match loaded.get(&m) {
            Some(r) => Some(r),
            None => {
                read = store.published_rota(&net.region.id, m).await?;
                read.as_ref()
            }
        };
        for a in rota
            .iter()
            .flat_map(|r| r.assignments.iter())
            .filter(|a| &a.staff == id)
        {
            let Some(svc) = net.service(&a.shift.service) else {
                continue;
            };
            if svc.duty != DutyKind::CountsAsWork {
                continue;
            }
            if let Some(t) = svc.template(&a.shift.template) {
                let (s, e) = cal.window(a.shift.date, t);
                #[allow(clippy::cast_precision_loss)]
                {
                    hours += (e - s).num_minutes() as f64 / 60.0;
                }
            }
        }
        m = m.next();
    }
    Ok(hours)
}

/// Each published version of `month` after the first that changed my
/// duties: what left, what came, and when the notice was sent.
pub async fn changes(
    store: &dyn Store,
    region: &RegionId,
    net: &Network,
    id: &StaffId,
    month: Month,
    lang: &str,
) -> Result<Vec<serde_json::Value>, StoreError> {
    let en = lang == "en";
    let mut versions: Vec<u32> = store
        .rota_versions(region, month)
        .await?
        .iter()
        .filter(|v| matches!(v.status, RotaStatus::Published | RotaStatus::Superseded))
        .map(|v| v.version)
        .collect();
    versions.sort_unstable();
    if versions.len() < 2 {
        return Ok(Vec::new());
    }
    let notices: Vec<_> = store
        .messages(&MessageFilter {
            region: Some(region.clone()),
            state: None,
            staff: Some(id.clone()),
            after: 0,
            limit: 1000,
        })
        .await?
        .into_iter()
        .filter(|m| m.kind == MessageKind::Changed)
        .filter_map(|m| {
            let p: RotaPayload = serde_json::from_value(m.payload.clone()).ok()?;
            (p.month == month).then_some((p, m))
        })
        .collect();
    let tz = net.region.time_zone;
    let mine = |r: &Rota| -> BTreeSet<ShiftKey> {
        r.assignments
            .iter()
            .filter(|a| &a.staff == id)
            .map(|a| a.shift.clone())
            .collect()
    };
    let mut out = Vec::new();
    let mut before = mine(&store.rota(region, month, Some(versions[0])).await?);
    for &v in &versions[1..] {
        let after = mine(&store.rota(region, month, Some(v)).await?);
        let gone: Vec<String> = before
            .difference(&after)
            .map(|k| super::describe(net, k, lang))
            .collect();
        let came: Vec<String> = after
            .difference(&before)
            .map(|k| super::describe(net, k, lang))
            .collect();
        if !gone.is_empty() || !came.is_empty() {
            let told = notices
                .iter()
                .find(|(p, _)| p.to >= v && p.from.is_none_or(|f| f < v))
                .map(|(_, m)| match m.state {
                    MessageState::Sent => m.sent_at.map_or_else(String::new, |t| {
                        let l = t.with_timezone(&tz);
                        format!(
                            "{} {} {}",
                            i18n::pick(en, "お知らせ送信", "told on"),
                            i18n::date(l.date_naive(), lang),
                            l.format("%H:%M")
                        )
                    }),
                    MessageState::Failed => i18n::pick(
                        en,
                        "お知らせを送れませんでした",
                        "the notice could not be sent",
                    )
                    .into(),
                    MessageState::Cancelled => i18n::pick(
                        en,
                        "お知らせは不要になりました",
                        "no notice needed any more",
                    )
                    .into(),
                    _ => i18n::pick(en, "お知らせ送信待ち", "notice not sent yet").into(),
                })
                .unwrap_or_else(|| {
                    i18n::pick(en, "お知らせの記録なし", "no notice on record").into()
                });
            out.push(serde_json::json!({
                "version": v,
                "gone": gone,
                "came": came,
                "told": told,
            }));
        }
        before = after;
    }
    out.reverse();
    Ok(out)
}
