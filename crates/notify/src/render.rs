//! Templates (minijinja). The built-in ones live in `crates/notify/templates/`
//! and are compiled into the binary; a `templates_dir` in `[notify]` replaces
//! any of them by file name. Each kind of message has `KIND.txt`, whose first
//! line is `Subject: …`, and `KIND.html`, which extends `layout.html`; HTML is
//! escaped automatically, text is not.

use std::path::Path;

use anyhow::{Context, anyhow};
use minijinja::Environment;
use serde::Serialize;
use touban_store::MessageKind;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const BUILTIN: &[(&str, &str)] = builtin!(
    "layout.html",
    "_duties.txt",
    "_duties_en.txt",
    "_duties.html",
    "_duties_en.html",
    "_failed.txt",
    "_failed.html",
    "_footer.txt",
    "_footer.html",
    "published.txt",
    "published.html",
    "changed.txt",
    "changed.html",
    "reminder.txt",
    "reminder.html",
    "offer.txt",
    "offer.html",
    "offer_taken.txt",
    "offer_taken.html",
    "escalation.txt",
    "escalation.html",
    "delivery_failed.txt",
    "delivery_failed.html",
    "digest.txt",
    "digest.html",
    "repair_pending.txt",
    "repair_pending.html",
    "late_acceptance.txt",
    "late_acceptance.html",
    "cover_cancelled.txt",
    "cover_cancelled.html",
    "cover_filled.txt",
    "cover_filled.html",
    "cover_confirmed.txt",
    "cover_confirmed.html",
    "cover_unfilled.txt",
    "cover_unfilled.html",
    "sign_in.txt",
    "sign_in.html",
    "swap_proposed.txt",
    "swap_proposed.html",
    "swap_update.txt",
    "swap_update.html",
);

/// Subject, plain text and HTML of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// The built-in templates, with those in `dir` (if any) in their place.
    pub fn new(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        for (name, src) in BUILTIN {
            let src = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(p) => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading template {}", p.display()))?,
                None => (*src).to_string(),
            };
            env.add_template_owned(*name, src)
                .map_err(|e| anyhow!("template {name}: {e}"))?;
        }
        let r = Self { env };
        Ok(r)
    }

    pub fn render(&self, kind: MessageKind, ctx: &impl Serialize) -> anyhow::Result<Rendered> {
        let ctx = minijinja::Value::from_serialize(ctx);
        let name = kind.as_str();
        let text = self
            .env
            .get_template(&format!("{name}.txt"))?
            .render(&ctx)
            .map_err(|e| anyhow!("template {name}.txt: {e:#}"))?;
        let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or_else(|| anyhow!("template {name}.txt must start with a \"Subject: …\" line"))?
            .trim()
            .to_string();
        // Every message ends with whom to ask and where the calendar is.
        let footer = self
            .env
            .get_template("_footer.txt")?
            .render(&ctx)
            .map_err(|e| anyhow!("template _footer.txt: {e:#}"))?;
        let body = format!("{}\n{footer}", body.trim_start_matches('\n').trim_end());
        let with_subject = minijinja::context! { subject => &subject, ..ctx };
        let html = self
            .env
            .get_template(&format!("{name}.html"))?
            .render(with_subject)
            .map_err(|e| anyhow!("template {name}.html: {e:#}"))?;
        Ok(Rendered {
            subject,
            text: body,
            html,
        })
    }
}
