//! How results and errors are printed: human text on a terminal, one JSON
//! document with `--json`. Errors go to stderr as `error: …`, or to stdout
//! as `{"error": {"kind", "message"}}` in JSON mode. A closed stdout (e.g.
//! `tokentray profile list | head -1`) is not an error.

use crate::exit;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use tokentray_core::ErrorKind;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> tokentray_core::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| tokentray_core::Error::internal(format!("cannot encode JSON: {e}")))?;
    print_text(&format!("{text}\n"))
}

/// Prints text on stdout; a broken pipe ends quietly.
pub fn print_text(text: &str) -> tokentray_core::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::BrokenPipe) => Ok(()),
        Err(e) => Err(tokentray_core::Error::io("cannot write", "<stdout>", e)),
    }
}

/// A failed command: an error of the core, or the error the agent
/// answered with (its kind and message).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// An error of this process.
    #[error(transparent)]
    Core(#[from] tokentray_core::Error),
    /// The agent's answer.
    #[error("{message}")]
    Agent {
        /// The error kind ([`tokentray_core::Error::kind`], or
        /// [`ErrorKind::Busy`]).
        kind: ErrorKind,
        /// What went wrong (never a token).
        message: String,
    },
}

impl Failure {
    /// The stable error kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Failure::Core(error) => error.kind(),
            Failure::Agent { kind, .. } => *kind,
        }
    }

    /// Adds how to sign in to a "sign-in required" error about `profile`.
    pub fn with_login_hint(self, profile: &str) -> Self {
        if !matches!(self.kind(), ErrorKind::SignInRequired)
            || self.to_string().contains("tokentray login")
        {
            return self;
        }
        Failure::Agent {
            kind: self.kind(),
            message: format!("{self}. Run `tokentray login {profile}`"),
        }
    }
}

impl From<tokentray_core::ipc::client::ClientError> for Failure {
    fn from(error: tokentray_core::ipc::client::ClientError) -> Self {
        use tokentray_core::ipc::client::ClientError;
        match error {
            ClientError::Agent(reply) => Failure::Agent {
                kind: reply.kind,
                message: reply.message,
            },
            ClientError::Local(error) => Failure::Core(error),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    kind: ErrorKind,
    message: String,
}

#[derive(Serialize)]
struct ErrorDoc {
    error: ErrorBody,
}

/// Prints `error` (on stderr, or as JSON on stdout) and returns its exit
/// code.
pub fn report_error(error: &Failure, json: bool) -> ExitCode {
    let printed = json
        && print_json(&ErrorDoc {
            error: ErrorBody {
                kind: error.kind(),
                message: error.to_string(),
            },
        })
        .is_ok();
    if !printed {
        eprintln!("error: {error}");
    }
    exit::for_kind(error.kind())
}
