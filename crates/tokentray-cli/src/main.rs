//! `tokentray`: the command-line face of Tokentray, for scripts and
//! terminals. `main` only sets up logging, parses arguments and turns the
//! outcome into an exit code; the commands live in their own modules and
//! every one of them is a thin call into `tokentray-core`.

mod cli;
mod doctor;
mod exit;
mod output;
mod profile_cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    init_logging();
    let cli = cli::Cli::parse();
    let json = cli.wants_json();
    match run(cli) {
        Ok(code) => code,
        Err(error) => output::report_error(&error, json),
    }
}

fn run(cli: cli::Cli) -> tokentray_core::Result<ExitCode> {
    match cli.command {
        cli::Command::Profile(command) => profile_cmd::run(command),
        cli::Command::Doctor(args) => doctor::run(&args),
    }
}

/// Logs go to stderr, off unless `RUST_LOG` asks for them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
