//! Reading the region, municipalities and institutions.

use chrono_tz::Tz;
use toml::Table;
use touban_domain::{
    ClockTime, Email, Institution, InstitutionId, InstitutionKind, LatLon, Municipality,
    MunicipalityId, OpenDay, OpeningHours, ParseError, Phone, Region, RegionId, RegionalClosure,
};

use crate::fields::{Ctx, Entry};
use crate::problem::{Msg, msg};
use crate::source::EntryPath;

pub fn at(path: &'static str, index: usize) -> EntryPath {
    EntryPath {
        path,
        index,
        parent_index: None,
    }
}

/// `lat` and `lon` together, or neither.
pub fn read_location(ctx: &mut Ctx<'_>, e: &mut Entry<'_>) -> Option<LatLon> {
    let lat = e.opt_float(ctx, "lat");
    let lon = e.opt_float(ctx, "lon");
    match (lat, lon) {
        (Some(lat), Some(lon)) => e.check(ctx, "lat", LatLon::new(lat, lon)),
        (None, None) => None,
        (Some(_), None) => {
            e.report(
                ctx,
                Some("lat"),
                msg(
                    "`lat` is given without `lon`",
                    "`lat` があって `lon` がありません",
                ),
            );
            None
        }
        (None, Some(_)) => {
            e.report(
                ctx,
                Some("lon"),
                msg(
                    "`lon` is given without `lat`",
                    "`lon` があって `lat` がありません",
                ),
            );
            None
        }
    }
}

fn month_day(s: &str) -> Result<(u32, u32), ParseError> {
    let err = || {
        ParseError::new(
            format!("\"{s}\" is not a month and day (expected MM-DD, e.g. 08-13)"),
            format!("「{s}」は月日ではありません（例：08-13）"),
        )
    };
    let (m, d) = s.split_once('-').ok_or_else(err)?;
    Ok((m.parse().map_err(|_| err())?, d.parse().map_err(|_| err())?))
}

pub fn read_region(ctx: &mut Ctx<'_>, t: Option<&Table>) -> Option<Region> {
    let Some(t) = t else {
        ctx.report(
            &at("region", 0),
            "the file",
            None,
            msg(
                "the `[region]` table is missing",
                "`[region]` の表がありません",
            ),
        );
        return None;
    };
    let mut e = Entry::new(t, at("region", 0), "[region]".into());
    let id = e.req(ctx, "id", RegionId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let tz = e
        .opt(ctx, "time_zone", |s| {
            s.parse::<Tz>().map_err(|_| {
                ParseError::new(
                    format!("\"{s}\" is not an IANA time zone (e.g. Asia/Tokyo)"),
                    format!("「{s}」はタイムゾーンではありません（例：Asia/Tokyo）"),
                )
            })
        })
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let year_start = e.opt_int_in(ctx, "overtime_year_starts", 1, 12);
    let fallback_phone = e.opt(ctx, "fallback_phone", Phone::parse);
    let mut closures = Vec::new();
    for (i, c) in e.tables(ctx, "closures").into_iter().enumerate() {
        let cat = EntryPath {
            path: "region.closures",
            index: i,
            parent_index: None,
        };
        let mut ce = Entry::new(c, cat, format!("region closure {}", i + 1));
        let cname = ce.req_str(ctx, "name");
        let from = ce.req(ctx, "from", month_day);
        let to = ce.req(ctx, "to", month_day);
        if let (Some(n), Some(f), Some(t)) = (cname, from, to)
            && let Some(c) = ce.check(ctx, "from", RegionalClosure::new(n, f, t))
        {
            closures.push(c);
        }
        ce.finish(ctx);
    }
    e.finish(ctx);
    Some(Region {
        id: id?,
        name: name?,
        name_en,
        time_zone: tz,
        closures,
        overtime_year_starts: year_start.and_then(|m| u32::try_from(m).ok()).unwrap_or(1),
        fallback_phone,
    })
}

pub fn read_municipality(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<Municipality> {
    let mut e = Entry::new(
        t,
        at("municipalities", i),
        format!("municipalities[{}]", i + 1),
    );
    let id = e.id(ctx, "municipality", MunicipalityId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let location = read_location(ctx, &mut e);
    e.finish(ctx);
    Some(Municipality {
        id: id?,
        name: name?,
        name_en,
        location,
    })
}

fn read_hours(ctx: &mut Ctx<'_>, e: &mut Entry<'_>) -> Vec<OpeningHours> {
    let mut out = Vec::new();
    for (i, h) in e.tables(ctx, "hours").into_iter().enumerate() {
        let prefix = format!("hours item {}", i + 1);
        let prefix_ja = format!("診療時間の{}行目", i + 1);
        let mut sub = Entry::new(h, e.at.clone(), e.name.clone());
        let days = sub.str_list(ctx, "days", OpenDay::parse);
        let open = sub.req(ctx, "open", ClockTime::parse);
        let close = sub.req(ctx, "close", ClockTime::parse);
        // Sub-tables of an inline list share the parent's line: name the item.
        if let (Some(o), Some(c)) = (open, close) {
            match OpeningHours::new(days, o, c) {
                Ok(h) => out.push(h),
                Err(err) => e.report(
                    ctx,
                    Some("hours"),
                    Msg::from(err).after(&prefix, &prefix_ja),
                ),
            }
        }
        for key in h
            .keys()
            .filter(|k| !matches!(k.as_str(), "days" | "open" | "close"))
        {
            e.report(
                ctx,
                Some("hours"),
                msg(
                    format!("{prefix}: unknown field `{key}`"),
                    format!("{prefix_ja}：`{key}` という項目はありません"),
                ),
            );
        }
    }
    out
}

pub fn read_institution(ctx: &mut Ctx<'_>, i: usize, t: &Table) -> Option<Institution> {
    let mut e = Entry::new(t, at("institutions", i), format!("institutions[{}]", i + 1));
    let id = e.id(ctx, "institution", InstitutionId::parse);
    let name = e.req_str(ctx, "name");
    let name_en = e.opt_str(ctx, "name_en");
    let kind = e.req(ctx, "kind", InstitutionKind::parse);
    let municipality = e.req(ctx, "municipality", MunicipalityId::parse);
    let location = read_location(ctx, &mut e);
    let address = e.opt_str(ctx, "address");
    let phone = e.opt(ctx, "phone", Phone::parse);
    let email = e.opt(ctx, "email", Email::parse);
    let hours = read_hours(ctx, &mut e);
    let backup_hospital = e.opt_bool(ctx, "backup_hospital").unwrap_or(false);
    e.finish(ctx);
    Some(Institution {
        id: id?,
        name: name?,
        name_en,
        kind: kind?,
        municipality: municipality?,
        location,
        address,
        phone,
        email,
        hours,
        backup_hospital,
    })
}
