//! The month as files: CSV (UTF-8 with a BOM, so that Excel opens it in
//! Japanese) and an Excel workbook (.xlsx, written with rust_xlsxwriter),
//! both the grid of the screen with full names.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook};
use touban_solver::Instance;

use crate::grid::{self, Cell, Grid};
use crate::pages::{VersionQuery, failure, shown};
use crate::session::SignedIn;
use crate::{WebState, i18n};

/// A cell as text: the people (backups marked), and 未定 for each missing
/// place.
fn cell_text(c: &Cell, lang: &str) -> String {
    let en = lang == "en";
    let mut parts: Vec<String> = c
        .people
        .iter()
        .map(|p| {
            let mut s = p.name.clone();
            if p.backup {
                s.push_str(if en { " (backup)" } else { "（副）" });
            }
            if p.absent {
                s.push_str(if en { " [ABSENT]" } else { "【不在】" });
            }
            s
        })
        .collect();
    for _ in 0..c.missing {
        parts.push(if en { "UNFILLED" } else { "未定" }.into());
    }
    parts.join(if en { ", " } else { "、" })
}

/// The header's column names: service and shift.
fn column_names(g: &Grid) -> Vec<String> {
    let mut names = Vec::new();
    let mut groups = g
        .groups
        .iter()
        .flat_map(|gr| std::iter::repeat_n(&gr.name, gr.span));
    for c in &g.columns {
        let service = groups.next().cloned().unwrap_or_default();
        names.push(format!("{service} {}", c.name));
    }
    names
}

fn file_name(region: &str, month: &str, version: u32, ext: &str) -> String {
    format!("touban-{region}-{month}-v{version}.{ext}")
}

fn attachment(kind: &'static str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The month and version asked for, with the network and the grid with
/// full names; or the page to show instead.
async fn full_grid(
    st: &WebState,
    me: &SignedIn,
    m: &str,
    version: Option<u32>,
) -> Result<
    (
        touban_domain::Month,
        touban_domain::Rota,
        touban_domain::Network,
        Grid,
    ),
    Box<Response>,
> {
    let (month, rota, _, net) = shown(st, me, m, version).await?;
    let inst = Instance::shifts_only(&net, month);
    let g = grid::build_named(&inst, &rota.assignments, me.lang, true);
    Ok((month, rota, net, g))
}

/// `GET /months/{m}/rota.csv?version=N`.
pub async fn csv(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let (month, rota, _, g) = match full_grid(&st, &me, &m, q.version).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let en = me.lang == "en";
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut head = vec![
        if en { "date" } else { "日付" }.to_string(),
        if en { "day" } else { "曜日・休日" }.to_string(),
    ];
    head.extend(column_names(&g));
    let mut rows = vec![head];
    for r in &g.rows {
        let mut line = vec![r.date.clone(), r.label.clone()];
        if let Some(off) = &r.off {
            line[1] = format!("{} {off}", r.label);
        }
        line.extend(r.cells.iter().map(|c| {
            if c.none {
                String::new()
            } else {
                cell_text(c, me.lang)
            }
        }));
        rows.push(line);
    }
    for line in rows {
        if let Err(e) = w.write_record(&line) {
            return failure(&st, me.lang, &format!("csv: {e}"));
        }
    }
    match w.into_inner() {
        Ok(body) => attachment(
            "text/csv; charset=utf-8",
            &file_name(me.region.as_str(), &month.to_string(), rota.version, "csv"),
            body,
        ),
        Err(e) => failure(&st, me.lang, &format!("csv: {e}")),
    }
}

/// `GET /months/{m}/rota.xlsx?version=N`: one sheet, the grid, days off
/// shaded, header and date column frozen, set to print on A4 landscape.
pub async fn xlsx(
    State(st): State<WebState>,
    me: SignedIn,
    Path(m): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let (month, rota, net, g) = match full_grid(&st, &me, &m, q.version).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let title = format!(
        "{} {} {}",
        net.region.name,
        i18n::month(month, me.lang),
        if me.lang == "en" {
            format!("v{} ({})", rota.version, rota.status.as_str())
        } else {
            format!(
                "第{}版（{}）",
                rota.version,
                if rota.status == touban_domain::RotaStatus::Published {
                    "公開"
                } else {
                    "下書き"
                }
            )
        }
    );
    match workbook(&g, &title, me.lang) {
        Ok(body) => attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &file_name(me.region.as_str(), &month.to_string(), rota.version, "xlsx"),
            body,
        ),
        Err(e) => failure(&st, me.lang, &format!("xlsx: {e}")),
    }
}

fn workbook(g: &Grid, title: &str, lang: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let en = lang == "en";
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(if en { "Rota" } else { "当番表" })?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0x00EC_EAE4))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let plain = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    let off = plain.clone().set_background_color(Color::RGB(0x00F1_EEE6));
    let missing = plain
        .clone()
        .set_font_color(Color::RGB(0x009A_2C00))
        .set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    // Row 1: the services (merged over their shifts); row 2: the shifts.
    sheet.write_string_with_format(1, 0, if en { "Date" } else { "日付" }, &head)?;
    sheet.write_string_with_format(2, 0, "", &head)?;
    let mut col: u16 = 1;
    for gr in &g.groups {
        let span = u16::try_from(gr.span).unwrap_or(1).max(1);
        if span > 1 {
            sheet.merge_range(1, col, 1, col + span - 1, &gr.name, &head)?;
        } else {
            sheet.write_string_with_format(1, col, &gr.name, &head)?;
        }
        col += span;
    }
    for (i, c) in g.columns.iter().enumerate() {
        let i = u16::try_from(i + 1).unwrap_or(u16::MAX);
        sheet.write_string_with_format(2, i, &c.name, &head)?;
        sheet.set_column_width(i, 16)?;
    }
    sheet.set_column_width(0, 14)?;
    for (r, row) in g.rows.iter().enumerate() {
        let r = u32::try_from(r + 3).unwrap_or(u32::MAX);
        let f = if row.shaded { &off } else { &plain };
        let label = match &row.off {
            Some(o) => format!("{} {o}", row.label),
            None => row.label.clone(),
        };
        sheet.write_string_with_format(r, 0, &label, f)?;
        for (i, c) in row.cells.iter().enumerate() {
            let i = u16::try_from(i + 1).unwrap_or(u16::MAX);
            let text = if c.none {
                String::new()
            } else {
                cell_text(c, lang)
            };
            sheet.write_string_with_format(
                r,
                i,
                &text,
                if c.missing > 0 { &missing } else { f },
            )?;
        }
    }
    sheet.set_freeze_panes(3, 1)?;
    book.save_to_buffer()
}
