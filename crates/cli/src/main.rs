//! `touban`: the command-line entry point. Wiring only: parsing arguments,
//! loading configuration, opening the store, and calling the crates.
#![forbid(unsafe_code)]

mod admin;
mod args;
mod bench;
mod bench_scale;
mod bench_web;
mod commands;
mod config;
mod curtois;
mod db;
mod grid;
mod notify;
mod print;
mod rota;
mod serve;
mod store;
mod version;

use std::process::ExitCode;

use clap::Parser;

use args::{AbsenceCmd, AdminCmd, BenchCmd, Cli, Command, NotifyCmd, TokenCmd};
pub use args::{DbArg, SolveArgs};

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // HiGHS reports a stop at its time limit as a warning; that is the
        // normal end of a timed solve, not something to show.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},highs=error")));
    // Colour only for a person at a terminal: a log written to a file or
    // a journal gets no escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

/// A command whose reader goes away (`touban calendar 2027 | head`) stops
/// quietly instead of panicking with a backtrace: Rust ignores SIGPIPE, so
/// printing to a closed pipe is a panic in `print!`, caught here.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.contains("Broken pipe") || text.contains("os error 32") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let cfg = match config::Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&cfg.log.level);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Calendar { year, network } => commands::calendar(year, network.as_deref()),
            Command::Validate { file } => commands::validate(&file),
            Command::Import { file, db } => commands::import(&cfg, &db, &file).await,
            Command::Show {
                region,
                month: None,
                db,
                ..
            } => commands::show(&cfg, &db, region.as_deref()).await,
            Command::Show {
                region,
                month: Some(month),
                version: v,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    version::show(store, &region, rota::parse_month(&month)?, v).await
                })
                .await
            }
            Command::Publish {
                month,
                version: v,
                override_reason,
                region,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    version::publish(
                        store,
                        &region,
                        rota::parse_month(&month)?,
                        v,
                        override_reason.as_deref(),
                        "touban publish",
                    )
                    .await
                })
                .await
            }
            Command::Edit {
                month,
                version: v,
                shift,
                remove,
                add,
                role,
                override_reason,
                region,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    let input = version::EditInput {
                        version: v,
                        shift,
                        remove,
                        add,
                        role,
                        override_reason,
                    };
                    version::edit(
                        store,
                        &region,
                        rota::parse_month(&month)?,
                        input,
                        "touban edit",
                    )
                    .await
                })
                .await
            }
            Command::Demo {
                network,
                month,
                solve,
                db,
            } => commands::demo(&cfg, &db, network.as_deref(), month.as_deref(), &solve).await,
            Command::Generate {
                month,
                region,
                solve,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    rota::generate(
                        store,
                        &region,
                        rota::parse_month(&month)?,
                        &solve.options(),
                        "touban generate",
                    )
                    .await
                })
                .await
            }
            Command::Repair {
                month,
                region,
                solve,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    rota::repair(
                        store,
                        &region,
                        rota::parse_month(&month)?,
                        &solve.options(),
                        "touban repair",
                    )
                    .await
                })
                .await
            }
            Command::Absence(AbsenceCmd::Add {
                staff,
                from,
                to,
                reason,
                kind,
                region,
                db,
            }) => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    let input = rota::AbsenceInput {
                        staff,
                        from,
                        to,
                        kind,
                        reason,
                    };
                    rota::absence_add(store, &region, input, "touban absence add").await
                })
                .await
            }
            Command::Bench(BenchCmd::Demo {
                network,
                month,
                runs,
                solve,
            }) => {
                let opts = touban_solver::SolveOptions {
                    progress: false,
                    ..solve.options()
                };
                bench::demo(&network, rota::parse_month(&month)?, &opts, runs)
            }
            Command::Bench(BenchCmd::Synth {
                staff,
                services,
                days,
                seed,
                first_limit,
                gap_limit,
                gap,
            }) => bench::synth(staff, services, days, seed, first_limit, gap_limit, gap),
            Command::Bench(BenchCmd::Web { runs }) => bench_web::web(runs.max(1)).await,
            Command::Bench(BenchCmd::Notify {
                staff,
                services,
                smtp,
                concurrency,
                db,
                workers,
            }) => bench::notify(staff, services, &smtp, concurrency, db.as_deref(), workers).await,
            Command::Bench(BenchCmd::Edits {
                db,
                instances,
                coordinators,
                rounds,
            }) => {
                bench_scale::edits(
                    &config::DatabaseUrl::new(&db),
                    instances,
                    coordinators,
                    rounds,
                )
                .await
            }
            Command::Bench(BenchCmd::Copy {
                staff,
                services,
                months,
                to,
            }) => bench_scale::copy(staff, services, months, &to).await,
            Command::Bench(BenchCmd::CurtoisGen {
                days,
                staff,
                types,
                seed,
                tight,
            }) => {
                print!(
                    "{}",
                    curtois::shapes::generate(days, staff, types, seed, tight)
                );
                Ok(ExitCode::SUCCESS)
            }
            Command::Bench(BenchCmd::CurtoisEval { file, roster }) => {
                bench::curtois_eval(&file, &roster)
            }
            Command::Bench(BenchCmd::Curtois {
                files,
                time_limit,
                threads,
                out,
                gap,
            }) => bench::curtois(&files, time_limit, threads, gap, out.as_deref()),
            Command::Serve { listen, db } => serve::serve(&cfg, &db, listen.as_deref()).await,
            Command::Token(TokenCmd::Create {
                role,
                region,
                scope,
                label,
                db,
            }) => {
                serve::token_create(
                    &cfg,
                    &db,
                    &role,
                    region.as_deref(),
                    scope.as_deref(),
                    label.as_deref(),
                )
                .await
            }
            Command::Token(TokenCmd::List { db }) => serve::token_list(&cfg, &db).await,
            Command::Db(cmd) => db::run(&cfg, &cmd).await,
            Command::Admin(AdminCmd::Add { email, db }) => admin::add(&cfg, &db, &email).await,
            Command::Admin(AdminCmd::Remove { email, db }) => {
                admin::remove(&cfg, &db, &email).await
            }
            Command::Admin(AdminCmd::List { db }) => admin::list(&cfg, &db).await,
            Command::Notify(NotifyCmd::Run { once, db }) => notify::run(&cfg, &db, once).await,
            Command::Notify(NotifyCmd::Status {
                region,
                state,
                after,
                limit,
                db,
            }) => {
                notify::status(&cfg, &db, region.as_deref(), state.as_deref(), after, limit).await
            }
            Command::Notify(NotifyCmd::Retry { id, db }) => notify::retry(&cfg, &db, id).await,
            Command::Token(TokenCmd::Revoke { id, db }) => {
                serve::token_revoke(&cfg, &db, &id).await
            }
            Command::Export {
                month,
                format,
                version,
                out,
                region,
                db,
            } => {
                commands::with_region(&cfg, &db, region.as_deref(), async |store, region| {
                    rota::export(
                        store,
                        &region,
                        rota::parse_month(&month)?,
                        version,
                        &format,
                        out.as_deref(),
                    )
                    .await
                })
                .await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
