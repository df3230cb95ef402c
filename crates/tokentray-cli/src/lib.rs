//! The command-line face of Tokentray, for scripts and terminals, as a
//! library with two thin programs over it: `tokentray` ([`front`], what
//! users and scripts run) and `tokentray-cli` (the whole command line,
//! [`main`]). `main` only sets up logging, parses arguments and turns the
//! outcome into an exit code; the commands live in their own modules and
//! every one of them is a thin call into `tokentray-core`.
//!
//! The hot path is `tokentray token` with an agent running: parse the
//! arguments, one frame to the agent's socket and one back, print. No async
//! runtime, TLS stack or profiles file is touched on that path, and on Unix
//! not even the code of the other commands is loaded (see [`front`]).

mod access_cmd;
mod agent;
mod audit_cmd;
mod cli;
mod decode;
mod direct;
mod doctor;
mod exit;
mod format;
pub mod front;
mod import_cmd;
mod login_cmd;
mod output;
mod parse;
mod profile_cmd;
mod ssh_cmd;
mod status_cmd;
mod store;
mod token_cmd;
mod tokens;

use clap::CommandFactory;
use output::Failure;
use std::process::ExitCode;

/// The whole command line: every command, option and help text.
pub fn main() -> ExitCode {
    take_passphrase();
    harden();
    init_logging();
    let cli = parse::parse();
    let json = cli.wants_json();
    match run(cli) {
        Ok(code) => code,
        Err(error) => output::report_error(&error, json),
    }
}

fn run(cli: cli::Cli) -> Result<ExitCode, Failure> {
    use cli::Command;
    let store = store::Store::new(cli.store);
    match cli.command {
        Command::Token(args) => token_cmd::token(&args, &store),
        Command::Exec(args) => token_cmd::exec(&args, &store),
        Command::GitCredential(args) => token_cmd::git_credential(&args, &store),
        Command::Login(args) => login_cmd::login(&args, &store),
        Command::Logout(args) => login_cmd::logout(&args, &store),
        Command::Status(args) => status_cmd::run(&args, &store),
        Command::Decode(args) => decode::run(&args),
        Command::Agent => agent::run(&store),
        Command::Ssh(args) => ssh_cmd::run(&args),
        Command::Audit(args) => Ok(audit_cmd::run(&args)?),
        Command::Access(command) => Ok(access_cmd::run(command)?),
        Command::Profile(command) => Ok(profile_cmd::run(command, &store)?),
        Command::Doctor(args) => Ok(doctor::run(&args, &store)?),
        Command::Import(cli::ImportCommand::Msal(args)) => import_cmd::msal(&args, &store),
        Command::Completions(args) => {
            // Into a buffer first: clap_complete panics on a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(
                args.shell,
                &mut cli::Cli::command(),
                "tokentray",
                &mut script,
            );
            output::print_text(&String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `TOKENTRAY_PASSPHRASE` leaves the environment before anything can
/// inherit or read it (on Unix the process re-executes itself for that).
fn take_passphrase() {
    if let Err(error) = tokentray_core::vault::passphrase::take_from_environment() {
        eprintln!("warning: {error}");
    }
}

/// S29: no core dumps and no ptrace attach by other processes of the same
/// user while tokens are in memory. (The flag resets when `exec` runs a
/// command.)
fn harden() {
    if let Err(error) = tokentray_core::hardening::make_non_dumpable() {
        eprintln!("warning: cannot make the process non-dumpable: {error}");
    }
}

/// Logs go to stderr, off unless `RUST_LOG` asks for them. Without
/// `RUST_LOG` no subscriber is installed at all: with none, every `tracing`
/// call site is disabled, as an `off` filter would have it, and a fresh
/// `tokentray token` does not build a registry and filter it never uses
/// (36 KB of allocations, a dozen page faults).
fn init_logging() {
    if std::env::var_os(tracing_subscriber::EnvFilter::DEFAULT_ENV).is_none() {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    // colours only for a terminal, never escape codes in a log file
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
