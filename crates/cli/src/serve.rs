//! `touban serve` and `touban token`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use touban_api::auth::issue;
use touban_api::conv;

use crate::DbArg;
use crate::config::Config;
use crate::store::{database_url, open};

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("touban: stopping; finishing the work in flight…");
}

pub async fn serve(cfg: &Config, db: &DbArg, listen: Option<&str>) -> anyhow::Result<ExitCode> {
    let url = database_url(cfg, db);
    let store: Arc<dyn touban_store::Store> =
        Arc::from(crate::store::open_pool(&url, cfg.database.max_connections).await?);
    let addr = listen.unwrap_or(&cfg.server.listen);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--listen {addr}: cannot listen there"))?;
    let local = listener.local_addr()?;
    eprintln!(
        "touban serve: listening on http://{local} (database {url}); API docs at http://{local}/api/v1/docs"
    );
    if let Some(w) = public_url_warning(local, &cfg.api.public_url) {
        eprintln!("{w}");
        tracing::warn!("{w}");
    }
    // The notifier runs beside the API and stops with it, after finishing
    // the batch it is sending.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let notifier = if cfg.notify.in_server {
        let w = crate::notify::worker(cfg, store.clone()).await?;
        eprintln!(
            "touban serve: notifier {} sending through {}",
            w.owner(),
            crate::notify::redact(&cfg.smtp.url)
        );
        let mut rx = stop_rx.clone();
        Some(tokio::spawn(async move {
            w.run(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await;
        }))
    } else {
        None
    };
    // The web app at `/`, beside the API. Without an SMTP server (the
    // default loopback one not answering) sign-in links are printed here
    // too, so the demo works on a laptop without mail.
    let print_links = !smtp_reachable(&cfg.smtp.url).await;
    let jobs = touban_app::jobs::Jobs::new(cfg.api.max_jobs_per_region);
    let web = touban_web::WebState::new(
        store.clone(),
        &cfg.api.public_url,
        print_links,
        jobs.clone(),
        cfg.web.templates_dir.as_deref(),
    )
    .await?;
    eprintln!(
        "touban serve: web app at {}/ (sign in with a coordinator's address{})",
        cfg.api.public_url.trim_end_matches('/'),
        if print_links {
            "; no SMTP server answers, so sign-in links are printed here"
        } else {
            ""
        }
    );
    touban_api::serve_with(
        store,
        cfg.api.clone(),
        listener,
        shutdown_signal(),
        touban_web::router(web),
        jobs,
    )
    .await?;
    let _ = stop_tx.send(true);
    if let Some(n) = notifier {
        let _ = n.await;
    }
    drop(stop_rx);
    eprintln!("touban serve: stopped");
    Ok(ExitCode::SUCCESS)
}

pub async fn token_create(
    cfg: &Config,
    db: &DbArg,
    role: &str,
    region: Option<&str>,
    scope: Option<&str>,
    label: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    let g = touban_api::auth::grant(store.as_ref(), role, region, scope)
        .await
        .map_err(|(field, msg)| anyhow::anyhow!("--{field}: {msg}"))?;
    let label = label.map_or_else(|| g.role().to_string(), str::to_string);
    let issued =
        issue(g, &label, "touban token create").map_err(|p| anyhow::anyhow!(p.detail.clone()))?;
    store.create_credential(&issued.credential).await?;
    eprintln!(
        "token {} created; it is shown only now, keep it secret:",
        issued.credential.id
    );
    println!("{}", issued.token);
    Ok(ExitCode::SUCCESS)
}

pub async fn token_list(cfg: &Config, db: &DbArg) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    println!("id\trole\tregion\tscope\tlabel\tstate");
    for c in store.credentials(None).await? {
        let t = conv::token(&c);
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            t.id,
            t.role,
            t.region.unwrap_or_default(),
            t.scope.unwrap_or_default(),
            t.label,
            t.revoked_at
                .map_or_else(|| "active".to_string(), |r| format!("revoked {r}"))
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token_revoke(cfg: &Config, db: &DbArg, id: &str) -> anyhow::Result<ExitCode> {
    let store = open(&database_url(cfg, db)).await?;
    let c = store
        .revoke_credential(id, "touban token revoke")
        .await
        .with_context(|| format!("token \"{id}\""))?;
    println!(
        "token {} revoked at {}",
        c.id,
        c.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether something listens at the SMTP URL's host and port (a quick
/// connect, no mail sent).
async fn smtp_reachable(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let hostport = rest.rsplit('@').next().unwrap_or(rest);
    let hostport = hostport.split(['/', '?']).next().unwrap_or(hostport);
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else if url.starts_with("smtps") {
        format!("{hostport}:465")
    } else {
        format!("{hostport}:25")
    };
    matches!(
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            tokio::net::TcpStream::connect(addr)
        )
        .await,
        Ok(Ok(_))
    )
}

/// A warning when the server is reachable from other machines while the
/// links it puts in e-mails and feeds still point at this machine's
/// loopback (nobody else can open them).
pub fn public_url_warning(local: std::net::SocketAddr, public_url: &str) -> Option<String> {
    let loopback_link = ["//127.", "//localhost", "//[::1]"]
        .iter()
        .any(|p| public_url.contains(p));
    (!local.ip().is_loopback() && loopback_link).then(|| {
        format!(
            "touban serve: 警告 / warning: listening on {local}, beyond this machine, but [api] public_url is \"{public_url}\": links in e-mails and calendar feeds point at this machine's loopback and will not open elsewhere. Set public_url (or TOUBAN_API__PUBLIC_URL) to the address people reach this server at, e.g. https://touban.example.jp"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::public_url_warning;

    #[test]
    fn warns_only_when_listening_beyond_loopback_with_loopback_links() {
        let any = "0.0.0.0:8080".parse().unwrap();
        let lo = "127.0.0.1:8080".parse().unwrap();
        assert!(public_url_warning(any, "http://127.0.0.1:8080").is_some());
        assert!(public_url_warning(any, "http://localhost:8080/").is_some());
        assert!(public_url_warning(any, "https://touban.example.jp").is_none());
        assert!(public_url_warning(lo, "http://127.0.0.1:8080").is_none());
    }
}
