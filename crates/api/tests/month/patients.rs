//! The patient list through the API: a CSV with a BOM and printable HTML,
//! opened with the region's viewing key, and its print on A4 checked in
//! Chromium's PDF.

use crate::common::REGION;
use crate::helpers::{Month, published};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_list_is_csv_with_bom_and_printable_html() {
    let m = published().await;
    let Month { srv, c, .. } = &m;
    // Patient list: CSV with BOM, printable HTML, opened with the region's
    // viewing key (a clinic's desk has no token).
    let key = m.viewing_key().await;
    let pl = |fmt: &str| {
        srv.url(&format!("/api/v1/regions/{REGION}/services/homecare-oncall/patient-list?from=2027-01-14&to=2027-01-16&format={fmt}&key={key}"))
    };
    let bytes = c
        .get(pl("csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let csv = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(csv.starts_with("開始 start,"), "{csv}");
    assert!(csv.contains("090-"));
    let html = c
        .get(pl("html"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("当番表") && html.contains("<table>"));
    m.srv.stop().await;
}

/// Prints a page to PDF with Debian's headless Chromium (as a coordinator's
/// browser would); returns the PDF's page size in points and its text.
fn print_to_pdf(html: &str, dir: &std::path::Path) -> ((f64, f64), String) {
    let page = dir.join("page.html");
    let pdf = dir.join("page.pdf");
    std::fs::write(&page, html).unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", page.display()),
        ])
        .output()
        .expect("chromium (installed by scripts/setup.sh)");
    assert!(
        pdf.exists(),
        "no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    let raw = String::from_utf8_lossy(&bytes);
    let mb = raw.split("/MediaBox [").nth(1).expect("a MediaBox");
    let nums: Vec<f64> = mb
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils, installed by scripts/setup.sh)");
    let _ = std::fs::copy(&pdf, std::env::temp_dir().join("touban-patient-list.pdf"));
    (
        (nums[2], nums[3]),
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

/// Issue 14, items 6 and 8: the patient list prints on A4 (checked in
/// Chromium's PDF), with the issue date, the rota version and holidays
/// marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_list_prints_on_a4_with_version_and_holidays() {
    let m = published().await;
    let key = m.viewing_key().await;
    let html = m
        .c
        .get(m.srv.url(&format!(
            "/api/v1/regions/{REGION}/services/homecare-oncall/patient-list?from=2027-01-01&to=2027-01-03&format=html&key={key}"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ((w, h), text) = print_to_pdf(&html, dir.path());
    assert!(
        (w - 595.0).abs() < 2.0 && (h - 842.0).abs() < 2.0,
        "not A4 portrait: {w} x {h}"
    );
    for want in ["当番表", "発行日", "2027-01 v1", "元日"] {
        assert!(text.contains(want), "{want} missing in the PDF:\n{text}");
    }
    m.srv.stop().await;
}
