//! `tokentray`, the program users and scripts run: on Unix a small front
//! that serves `tokentray token PROFILE …` from a running agent itself and
//! hands everything else to the whole command line, `tokentray-cli`, by
//! `exec` (same process, pid, arguments, standard streams and exit code).
//!
//! Why two programs: a script pays the dynamic loader's work on every call,
//! and that work grows with the executable, not with what it runs. The
//! whole command line carries every command (TLS, the vault back-ends, the
//! sign-in flows, clap's full tree) and its start-up relocates some 160 KB
//! of pointers, ~45 page faults of copy-on-write before `main`; the front
//! is built from the same modules but links only the token path, so the
//! agent-served call, what scripts run in loops, costs a fraction of it
//! (figures in `scripts/bench warm` and README). Nothing is answered
//! differently: the front parses with [`crate::parse`]'s short cut, asks
//! the agent with [`crate::tokens`], prints with [`crate::format`] and
//! reports errors with [`crate::output`], exactly as `tokentray-cli` does;
//! when no agent listens, when the passphrase hand-over or logs (`RUST_LOG`)
//! are asked for, or for any other command line, `tokentray-cli` runs
//! instead.
//!
//! `tokentray-cli` is looked for beside the front (a build directory,
//! `/usr/bin`) and in `../libexec/tokentray/` (a package). Windows has no
//! `exec` (a child would be a second process for signals and for whoever
//! waits on the pid), so there the front is the whole command line.

use std::process::ExitCode;

/// The front's entry point.
pub fn main() -> ExitCode {
    #[cfg(unix)]
    {
        unix::main()
    }
    #[cfg(not(unix))]
    {
        crate::main()
    }
}

#[cfg(unix)]
mod unix {
    use crate::output::{self, Failure};
    use crate::{cli, format, parse, tokens};
    use std::ffi::OsString;
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use tokentray_core::caller::requester::CLI_PROGRAM;
    use tokentray_core::vault::passphrase::{PASSPHRASE_ENV, PASSPHRASE_FILE_ENV};
    use tracing_subscriber::EnvFilter;

    const LOG_ENV: &str = EnvFilter::DEFAULT_ENV;

    pub fn main() -> ExitCode {
        crate::harden();
        let args: Vec<OsString> = std::env::args_os().collect();
        if let Some(code) = served_here(&args) {
            return code;
        }
        run_full(&args)
    }

    /// The exit code of a `token` command line the agent answered (with a
    /// token or an error); `None` for anything the whole command line must
    /// run: another command, no agent, a passphrase to take over, logs
    /// asked for with `RUST_LOG` (the front has no log output).
    fn served_here(args: &[OsString]) -> Option<ExitCode> {
        let handed_over = [PASSPHRASE_ENV, PASSPHRASE_FILE_ENV, LOG_ENV];
        if handed_over
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            return None;
        }
        let cli = parse::token_only(args)?;
        let json = cli.wants_json();
        let cli::Command::Token(args) = cli.command else {
            return None;
        };
        let served = match tokens::from_agent(&tokens::params(&args.profile, &args.options)) {
            Ok(None) => return None,
            Ok(Some(reply)) => format::render(&reply, args.format)
                .and_then(|text| output::print_text(&text))
                .map_err(Failure::from),
            Err(failure) => Err(failure.with_login_hint(&args.profile)),
        };
        Some(match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => output::report_error(&failure, json),
        })
    }

    /// Replaces this process with `tokentray-cli`, given the same
    /// arguments and the same `argv[0]` (so its messages name the command
    /// the user typed).
    fn run_full(args: &[OsString]) -> ExitCode {
        let full = match full_program() {
            Ok(path) => path,
            Err(looked) => {
                eprintln!(
                    "error: `{CLI_PROGRAM}`, which runs every command but an agent-served token, is not at {}: reinstall Tokentray, or build both programs with `cargo build -p tokentray-cli`",
                    looked.display()
                );
                return ExitCode::from(crate::exit::FAILURE);
            }
        };
        let mut command = std::process::Command::new(&full);
        if let Some(arg0) = args.first() {
            command.arg0(arg0);
        }
        let error = command.args(args.iter().skip(1)).exec();
        eprintln!("error: cannot run {}: {error}", full.display());
        ExitCode::from(crate::exit::FAILURE)
    }

    /// `tokentray-cli` beside this program, else in
    /// `../libexec/tokentray/`; the place looked first when neither is
    /// there.
    fn full_program() -> Result<PathBuf, PathBuf> {
        let dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let beside = dir.join(CLI_PROGRAM);
        let packaged = dir.join("../libexec/tokentray").join(CLI_PROGRAM);
        if beside.is_file() {
            Ok(beside)
        } else if packaged.is_file() {
            Ok(packaged)
        } else {
            Err(beside)
        }
    }
}
