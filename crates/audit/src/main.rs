//! `ticketflow-audit`: reads the booking saga's stores and prints each violation of its
//! invariants. Exit status: 0 clean, 1 violations found, 2 a store could not be read (or the
//! configuration is missing).

use std::process::ExitCode;

use clap::Parser;
use ticketflow_audit::{check, read, Snapshot, Stores, Violation, DEFAULT_PAYMENTS_DB};

/// Checks the booking saga's invariants across bookings, inventory and payments.
///
/// The payments database is payment-service's (`ticketflow_payments` unless that service runs
/// with another `MONGODB_DB`). `MONGODB_DB` itself is not read here: every Mongo service reads
/// it for its own database, so in a shared environment it does not name the payments one;
/// set `AUDIT_PAYMENTS_DB` (or `--payments-db`) instead.
#[derive(Parser)]
#[command(name = "ticketflow-audit", version)]
struct Cli {
    /// booking-service's PostgreSQL.
    #[arg(long, env = "BOOKING_DB_URL", hide_env_values = true)]
    booking_db_url: String,
    /// inventory-service's PostgreSQL.
    #[arg(long, env = "INVENTORY_DB_URL", hide_env_values = true)]
    inventory_db_url: String,
    /// The MongoDB (FerretDB) payment-service uses.
    #[arg(long, env = "MONGODB_URL", hide_env_values = true)]
    mongodb_url: String,
    /// payment-service's database on MONGODB_URL.
    #[arg(long, env = "AUDIT_PAYMENTS_DB", default_value = DEFAULT_PAYMENTS_DB)]
    payments_db: String,
    /// Seconds a saga step may lag behind its booking's change, and a PENDING booking may
    /// outlive its expires_at, before either is reported.
    #[arg(long, default_value_t = ticketflow_audit::GRACE.num_seconds())]
    grace_secs: i64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok((snapshot, violations)) => {
            report(&snapshot, &violations);
            if violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("ticketflow-audit: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<(Snapshot, Vec<Violation>)> {
    let grace = chrono::TimeDelta::try_seconds(cli.grace_secs.max(0))
        .ok_or_else(|| anyhow::anyhow!("--grace-secs is out of range"))?;
    let stores = Stores::connect(
        &cli.booking_db_url,
        &cli.inventory_db_url,
        &cli.mongodb_url,
        &cli.payments_db,
    )
    .await?;
    let snapshot = read(&stores).await?;
    let violations = check(&snapshot, chrono::Utc::now(), grace);
    Ok((snapshot, violations))
}

// The report is the program's output: one line per violation, then the summary.
#[allow(clippy::print_stdout)]
fn report(snapshot: &Snapshot, violations: &[Violation]) {
    for violation in violations {
        println!("{violation}");
    }
    println!(
        "checked {} bookings, {} seat holds, {} event counts, {} payments: {} violations",
        snapshot.bookings.len(),
        snapshot.holds.len(),
        snapshot.events.len(),
        snapshot.payments.len(),
        violations.len()
    );
}
