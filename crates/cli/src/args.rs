//! The command line's arguments: every command and its options, as clap
//! reads them (`main.rs` dispatches them).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "touban",
    version,
    about = "当番 — on-call and absence-cover rotas for regional healthcare networks"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DbArg {
    /// Database: a SQLite file path or sqlite: URL (default from config:
    /// ./touban.db). Also TOUBAN_DATABASE_URL.
    #[arg(long, global = true)]
    pub db: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print every non-working day of a year: date, class, name (tab-separated).
    Calendar {
        year: i32,
        /// Add the regional closures (e.g. Obon) of this network file.
        #[arg(long)]
        network: Option<PathBuf>,
    },
    /// Check a network file; print every problem with file, line and field.
    Validate { file: PathBuf },
    /// Validate a network file and load it into the database (idempotent).
    Import {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Show a region's network as stored; with --month, a stored rota
    /// version (grid, costs, fairness, unfilled shifts).
    Show {
        /// Region id (needed only when the database holds several).
        #[arg(long)]
        region: Option<String>,
        /// Show this month's rota (YYYY-MM) instead of the network.
        #[arg(long)]
        month: Option<String>,
        /// With --month: the version to show (default: the newest).
        #[arg(long, requires = "month")]
        version: Option<u32>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Publish a version of a month (default: the newest) after checking
    /// it; everyone concerned is notified by e-mail.
    Publish {
        #[arg(long)]
        month: String,
        #[arg(long)]
        version: Option<u32>,
        /// Publish although the version breaks hard rules or is not based
        /// on the published one; the reason is kept in the rota history.
        #[arg(long)]
        override_reason: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Change one shift of a version (default: the newest) and save the
    /// result as a new draft version, checked against every hard rule.
    Edit {
        #[arg(long)]
        month: String,
        #[arg(long)]
        version: Option<u32>,
        /// The shift: SERVICE/TEMPLATE/DATE, e.g. homecare-oncall/night/2027-01-14.
        #[arg(long)]
        shift: String,
        /// Take this person off the shift.
        #[arg(long)]
        remove: Option<String>,
        /// Put this person on the shift.
        #[arg(long)]
        add: Option<String>,
        /// Role of the person added: primary or backup.
        #[arg(long)]
        role: Option<String>,
        /// Save although the edit breaks hard rules; kept on record.
        #[arg(long)]
        override_reason: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Load the Southern Shimoina demo network, generate next month and print it.
    Demo {
        /// A network file to use instead of the Southern Shimoina demo
        /// network built into the binary.
        #[arg(long)]
        network: Option<PathBuf>,
        /// Month to generate (YYYY-MM); default next month.
        #[arg(long)]
        month: Option<String>,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        db: DbArg,
    },
    /// Build a draft rota for a month and store it as a new version.
    Generate {
        #[arg(long)]
        month: String,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        db: DbArg,
    },
    /// Make a new version that keeps the rules again (after an absence),
    /// changing as few assignments as possible.
    Repair {
        #[arg(long)]
        month: String,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        solve: SolveArgs,
        #[command(flatten)]
        db: DbArg,
    },
    /// Absences reported after the network was imported.
    #[command(subcommand)]
    Absence(AbsenceCmd),
    /// Benchmarks (figures for docs/BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Serve the HTTP API (see docs/api.md) until Ctrl-C or SIGTERM, then
    /// finish the requests in flight.
    Serve {
        /// Address to listen on (default from config: 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// API tokens: create (printed once), list, revoke.
    #[command(subcommand)]
    Token(TokenCmd),
    /// The web app's admins (they sign in by e-mail link and may work in
    /// every region): add, remove, list.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// The database's schema: status (changes nothing) and migrate, for a
    /// SQLite file or a postgres:// URL.
    #[command(subcommand)]
    Db(crate::db::DbCmd),
    /// E-mail notices: run the outbox worker alone, see message states,
    /// queue a failed message again.
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// Write a rota's assignments: service, start, end, person, role, phone.
    Export {
        #[arg(long)]
        month: String,
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// Version to export; default the published one, else the latest.
        #[arg(long)]
        version: Option<u32>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Generate the demo month (and repair it after one absence), timed.
    Demo {
        #[arg(long, default_value = "config/networks/southern-shimoina.toml")]
        network: PathBuf,
        #[arg(long, default_value = "2027-01")]
        month: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[command(flatten)]
        solve: SolveArgs,
    },
    /// A generated network of a given size: first rota, then a solve to a gap.
    Synth {
        #[arg(long, default_value_t = 1000)]
        staff: usize,
        #[arg(long, default_value_t = 60)]
        services: usize,
        #[arg(long, default_value_t = 31)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time limit for the first rota, seconds.
        #[arg(long, default_value_t = 30.0)]
        first_limit: f64,
        /// Time limit for reaching the gap, seconds.
        #[arg(long, default_value_t = 120.0)]
        gap_limit: f64,
        #[arg(long, default_value_t = 0.02)]
        gap: f32,
    },
    /// The web app against the real server: the month grid, a cell's
    /// panel and an edit, on the demo network and a 1,000-staff generated one.
    Web {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// A month's notices for a generated network, sent to a local SMTP
    /// server (see scripts/bench-notify.sh, which starts one).
    Notify {
        #[arg(long, default_value_t = 2000)]
        staff: usize,
        #[arg(long, default_value_t = 120)]
        services: usize,
        /// The SMTP server to send to, e.g. smtp://127.0.0.1:2525.
        #[arg(long)]
        smtp: String,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// The database: a SQLite path or an empty PostgreSQL database's
        /// URL (default: a temporary SQLite file).
        #[arg(long)]
        db: Option<String>,
        /// Workers sending at once, each with its own connections (as
        /// separate `touban notify run` processes would).
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
    /// Coordinators editing and publishing one month at once through
    /// several API servers on one database: answers by status, latency
    /// p50/p99 (issue 17).
    Edits {
        /// An empty database: a new SQLite file or an empty PostgreSQL
        /// database's URL.
        #[arg(long)]
        db: String,
        #[arg(long, default_value_t = 2)]
        instances: usize,
        #[arg(long, default_value_t = 20)]
        coordinators: usize,
        /// Published edits each coordinator makes.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// `db copy` of a generated network with a year of published rotas
    /// into an empty PostgreSQL database, timed.
    Copy {
        #[arg(long, default_value_t = 1000)]
        staff: usize,
        #[arg(long, default_value_t = 60)]
        services: usize,
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// The empty PostgreSQL database to copy into.
        #[arg(long)]
        to: String,
    },
    /// Writes a Curtois & Qu instance of another shape (for the method's
    /// check on instances it was not tuned on).
    CurtoisGen {
        #[arg(long, default_value_t = 28)]
        days: usize,
        #[arg(long, default_value_t = 30)]
        staff: usize,
        #[arg(long, default_value_t = 3)]
        types: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A hard shape, feasible by construction: a roster is drawn first
        /// and every limit set tight around it (people take only some
        /// types; cover is its counts, one more or less here and there).
        #[arg(long)]
        tight: bool,
    },
    /// Scores a roster file (one line per employee: its ID, then a shift ID
    /// or `-` per day, tab-separated) against a Curtois & Qu instance with
    /// the independent evaluator: objective and every broken hard rule.
    CurtoisEval {
        /// The instance.
        file: PathBuf,
        /// The roster, e.g. one written by `bench curtois --out` or another
        /// solver.
        roster: PathBuf,
    },
    /// Curtois & Qu shift-scheduling instances, each translated into a
    /// network and solved by the same generate as a coordinator's month:
    /// objective (the evaluator's and the product's), time, gap to best known.
    Curtois {
        /// Instance files (e.g. ../shared/bench/curtois/Instance1.txt).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 60.0)]
        time_limit: f64,
        #[arg(long, default_value_t = 1)]
        threads: u32,
        /// Write each roster as DIR/InstanceN.roster.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Relative gap at which the solve may stop. The benchmark asks
        /// for the best roster, so 0; a coordinator's month stops at 0.005.
        #[arg(long, default_value_t = 0.0)]
        gap: f32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCmd {
    /// Send queued messages until Ctrl-C or SIGTERM (what `touban serve`
    /// does too, unless [notify] in_server = false).
    Run {
        /// Queue due reminders, send everything due now, then stop.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// Counts by state, then each message: queued, sending, sent, retrying
    /// (with the next attempt's time), failed (with the server's answer).
    Status {
        #[arg(long)]
        region: Option<String>,
        /// Only messages in this state.
        #[arg(long)]
        state: Option<String>,
        /// Only messages with an id above this.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        db: DbArg,
    },
    /// Queue a failed (or skipped) message again.
    Retry {
        id: i64,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCmd {
    /// Create a token and print it (it is stored only as a hash).
    Create {
        /// admin, coordinator, institution or staff.
        #[arg(long)]
        role: String,
        /// Region of a coordinator, institution or staff token.
        #[arg(long)]
        region: Option<String>,
        /// Institution id (role institution) or staff id (role staff).
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke a token by its id (the part before the dot).
    Revoke {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCmd {
    /// Make EMAIL an admin of the web app.
    Add {
        email: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Take EMAIL's admin rights away (their sessions end).
    Remove {
        email: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the admins.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AbsenceCmd {
    /// Record that STAFF is unavailable FROM – TO (dates inclusive, or date-times).
    Add {
        staff: String,
        from: String,
        to: String,
        #[arg(long)]
        reason: Option<String>,
        /// leave, conference, sickness, sudden, other.
        #[arg(long, default_value = "sudden")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// Wall-clock limit for the solver, seconds.
    #[arg(long, default_value_t = 60.0, value_parser = positive_seconds)]
    pub time_limit: f64,
    /// Relative optimality gap at which the solver may stop (0.005 = 0.5 %).
    #[arg(long, default_value_t = 0.005, value_parser = gap_fraction)]
    pub gap: f32,
    /// Solver threads.
    #[arg(long, default_value_t = 1)]
    pub threads: u32,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(v)
    } else {
        Err(format!(
            "{s} s: the time limit must be more than 0 and at most 86400 (a day)"
        ))
    }
}

fn gap_fraction(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("\"{s}\" is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{s}: the gap is a fraction from 0 to 1 (0.005 = 0.5 %)"
        ))
    }
}

impl SolveArgs {
    pub fn options(&self) -> touban_solver::SolveOptions {
        touban_solver::SolveOptions {
            time_limit: self.time_limit,
            mip_gap: self.gap,
            threads: self.threads,
            progress: true,
        }
    }
}
