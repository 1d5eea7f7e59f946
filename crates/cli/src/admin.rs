//! `touban admin`: the web app's admins. An admin signs in by e-mail link
//! like a coordinator and may work in every region (chosen in the page's
//! header). Each change is written to the audit log.

use std::process::ExitCode;

use anyhow::Context;
use touban_domain::Email;
use touban_store::AuditEntry;

use crate::DbArg;
use crate::config::Config;
use crate::store::{database_url, open};

fn audit(action: &str, email: &str) -> AuditEntry {
    AuditEntry {
        actor: "cli".into(),
        address: None,
        region: None,
        method: "CLI".into(),
        path: format!("touban admin {action}"),
        status: 0,
        action: format!("admin.{action}"),
        detail: email.to_string(),
    }
}

pub async fn add(cfg: &Config, db: &DbArg, email: &str) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("EMAIL: {}", e.message))?;
    let store = open(&database_url(cfg, db)).await?;
    let a = store
        .add_admin(email.as_str(), "cli", chrono::Utc::now())
        .await
        .with_context(|| format!("admin {email}"))?;
    store.append_audit(&audit("add", a.email.as_str())).await?;
    println!(
        "{} is an admin: they sign in at the web app's sign-in page with this address",
        a.email
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn remove(cfg: &Config, db: &DbArg, email: &str) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    store
        .remove_admin(email)
        .await
        .with_context(|| format!("admin {email}"))?;
    // Their open sessions end now.
    store.end_sessions(email, None, chrono::Utc::now()).await?;
    store.append_audit(&audit("remove", email)).await?;
    println!("{email} is no longer an admin; their sessions were ended");
    Ok(ExitCode::SUCCESS)
}

pub async fn list(cfg: &Config, db: &DbArg) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    println!("email\tcreated\tby");
    for a in store.admins().await? {
        println!(
            "{}\t{}\t{}",
            a.email,
            a.created_at.to_rfc3339(),
            a.created_by
        );
    }
    Ok(ExitCode::SUCCESS)
}
