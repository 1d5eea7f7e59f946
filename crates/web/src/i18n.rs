//! Japanese first, English by a switch the browser remembers (a cookie).
//! Templates say both and `t(ja, en)` picks one; dates read 12月6日(日).

use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use minijinja::{Environment, State};

/// The page's language, from the `lang` cookie: `ja` unless it says `en`.
pub fn lang(jar: &CookieJar) -> &'static str {
    match jar.get("lang").map(Cookie::value) {
        Some("en") => "en",
        _ => "ja",
    }
}

fn t(state: &State, ja: String, en: String) -> String {
    match state.lookup("lang").as_ref().and_then(|v| v.as_str()) {
        Some("en") => en,
        _ => ja,
    }
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "layout.html",
    "bare.html",
    "sign_in.html",
    "sign_in_sent.html",
    "sign_in_confirm.html",
    "message.html",
    "home.html",
    "month.html",
    "grid.html",
    "cell.html",
    "print.html",
    "audit.html",
    "generate.html",
    "job.html",
    "job_status.html",
    "versions.html",
    "diff.html",
    "fairness.html",
    "person.html",
    "absence_done.html",
    "network.html",
    "staff_edit.html",
    "second_factor.html",
    "account.html",
    "patients.html",
    "me.html",
    "me_calendar.html",
    "me_absence.html",
    "me_requests.html",
    "me_offers.html",
    "absence_form.html",
    "clinic.html",
    "clinic_cover_new.html",
    "clinic_cover.html",
    "clinic_cover_status.html",
    "requests.html",
    "me_swap.html",
    "swap_respond.html",
    "swaps.html",
);

/// The built-in templates, with those in `dir` (if any) in their place,
/// by file name (as the notifier's `templates_dir`).
pub fn environment(dir: Option<&std::path::Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, src) in TEMPLATES {
        let src = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(p) => std::fs::read_to_string(&p)
                .map_err(|e| anyhow::anyhow!("reading template {}: {e}", p.display()))?,
            None => (*src).to_string(),
        };
        env.add_template_owned(*name, src)
            .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
    }
    env.add_function("t", t);
    Ok(env)
}

/// `POST /lang/{ja|en}`: remembers the choice for a year, back to the page.
pub async fn switch(Path(to): Path<String>, jar: CookieJar, headers: HeaderMap) -> Response {
    let to = if to == "en" { "en" } else { "ja" };
    let c = Cookie::parse(format!("lang={to}; Path=/; Max-Age=31536000; SameSite=Lax"))
        .expect("a well-formed cookie");
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| &r[i + 3 + j..]))
        })
        .unwrap_or("/")
        .to_string();
    (jar.add(c), Redirect::to(&back)).into_response()
}

/// The English text when `en`, else the Japanese.
pub fn pick(en: bool, ja: &'static str, en_text: &'static str) -> &'static str {
    if en { en_text } else { ja }
}

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// `12月6日(日)` or `Sun 6 Dec`.
pub fn date(d: chrono::NaiveDate, lang: &str) -> String {
    use chrono::Datelike;
    if lang == "en" {
        d.format("%a %-d %b").to_string()
    } else {
        format!(
            "{}月{}日({})",
            d.month(),
            d.day(),
            WEEKDAYS[d.weekday().num_days_from_monday() as usize]
        )
    }
}

/// `2027年1月` or `January 2027`.
pub fn month(m: touban_domain::Month, lang: &str) -> String {
    if lang == "en" {
        m.first_day().format("%B %Y").to_string()
    } else {
        format!("{}年{}月", m.year, m.month)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_template_in_the_directory_replaces_the_built_in_one() {
        let dir = std::env::temp_dir().join(format!("touban-web-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("bare.html"),
            "<p>{{ t('当院の表示', 'our wording') }}</p>",
        )
        .unwrap();
        let env = super::environment(Some(&dir)).unwrap();
        let out = env
            .get_template("bare.html")
            .unwrap()
            .render(minijinja::context! { lang => "ja" })
            .unwrap();
        assert_eq!(out, "<p>当院の表示</p>");
        let built_in = super::environment(None).unwrap();
        assert!(built_in.get_template("layout.html").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_template_file_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut known: Vec<String> = super::TEMPLATES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        known.sort();
        assert_eq!(files, known, "add new templates to TEMPLATES");
    }
}
