//! `tokentray token`, `tokentray exec` and `tokentray git-credential`: the
//! three ways a script gets a token. The token goes to stdout, a child's
//! environment or git's pipe — never to stderr, an error or an argument
//! list (S29).

use crate::cli::{ExecArgs, GitCredentialArgs, GitOperation, TokenArgs};
use crate::format;
use crate::output::{print_text, Failure};
use crate::store::Store;
use crate::tokens;
use std::io::BufRead;
use std::process::ExitCode;
use tokentray_core::Error;

/// Environment variable `exec` puts the token in.
pub const TOKEN_ENV: &str = "TOKENTRAY_ACCESS_TOKEN";
/// Environment variable `exec` puts the expiry in (epoch seconds).
pub const EXPIRES_ENV: &str = "TOKENTRAY_EXPIRES_ON";

/// Longest credential request read from git.
const MAX_GIT_REQUEST: u64 = 64 * 1024;

pub fn token(args: &TokenArgs, store: &Store) -> Result<ExitCode, Failure> {
    let reply = tokens::get(&args.profile, &args.options, store)?;
    print_text(&format::render(&reply, args.format)?)?;
    Ok(ExitCode::SUCCESS)
}

pub fn exec(args: &ExecArgs, store: &Store) -> Result<ExitCode, Failure> {
    let Some((program, rest)) = args.command.split_first() else {
        return Err(Error::InvalidInput("give the command to run after `--`".into()).into());
    };
    let reply = tokens::get(&args.profile, &args.options, store)?;
    let mut command = tokentray_core::hardening::child_command(program);
    command
        .args(rest)
        .env(TOKEN_ENV, reply.access_token.expose())
        .env(EXPIRES_ENV, reply.expires_on.to_string());
    drop(reply);
    run_child(command, program)
}

/// Replaces this process with the command, so signals and the exit code are
/// the command's own; a command that cannot start exits 127 (not found) or
/// 126, like `env` does.
#[cfg(unix)]
fn run_child(
    mut command: std::process::Command,
    program: &std::ffi::OsStr,
) -> Result<ExitCode, Failure> {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    eprintln!(
        "error: cannot run {}: {error}",
        std::path::Path::new(program).display()
    );
    Ok(ExitCode::from(
        if matches!(error.kind(), std::io::ErrorKind::NotFound) {
            127
        } else {
            126
        },
    ))
}

#[cfg(not(unix))]
fn run_child(
    mut command: std::process::Command,
    program: &std::ffi::OsStr,
) -> Result<ExitCode, Failure> {
    match command.status() {
        Ok(status) => Ok(ExitCode::from(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        )),
        Err(error) => {
            eprintln!(
                "error: cannot run {}: {error}",
                std::path::Path::new(program).display()
            );
            Ok(ExitCode::from(127))
        }
    }
}

pub fn git_credential(args: &GitCredentialArgs, store: &Store) -> Result<ExitCode, Failure> {
    // git writes its request and closes stdin; read it whole (it says which
    // host, but the helper is configured per host, so the profile decides).
    let request = read_git_request(std::io::stdin().lock())?;
    tracing::debug!(fields = ?request.iter().map(|(k, _)| k).collect::<Vec<_>>(), "git credential request");
    match args.operation {
        GitOperation::Get => {
            let reply = tokens::get(&args.profile, &args.options, store)?;
            print_text(&format::git_credential(&reply, &args.username)?)?;
        }
        // The token lives in the vault and is refreshed there: nothing to
        // store, and erasing (git's reaction to a rejected password) must
        // not sign the user out.
        GitOperation::Store | GitOperation::Erase => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads `key=value` lines until a blank line or the end of input.
fn read_git_request(input: impl BufRead) -> Result<Vec<(String, String)>, Failure> {
    let mut fields = Vec::new();
    for line in input.take(MAX_GIT_REQUEST).lines() {
        let line = line.map_err(|e| Error::io("cannot read git's request from", "<stdin>", e))?;
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::InvalidInput(
                "git credential request: expected `key=value` lines".into(),
            )
            .into());
        };
        fields.push((key.to_string(), value.to_string()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_requests_end_at_a_blank_line() {
        let input = b"protocol=https\nhost=git.example\n\nignored=1\n";
        let fields = read_git_request(&input[..]).unwrap();
        assert_eq!(
            fields,
            [
                ("protocol".to_string(), "https".to_string()),
                ("host".to_string(), "git.example".to_string())
            ]
        );
        assert!(read_git_request(&b"garbage\n"[..]).is_err());
        assert!(read_git_request(&b""[..]).unwrap().is_empty());
    }
}
