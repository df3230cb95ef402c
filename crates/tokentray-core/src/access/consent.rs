//! Asking the user whether a program may take a profile's tokens: what a
//! face shows ([`Question`]), what the user can answer ([`Answer`]) and
//! the face's side ([`Consent`]: the tray app's dialog; [`NoConsent`] for
//! the headless agent and the CLI, which have nobody to ask).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long a question waits for its answer before it counts as "Deny".
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// How long "Allow for 8 hours" allows.
pub const FOR_HOURS: Duration = Duration::from_secs(8 * 3600);

/// What the user is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The profile.
    pub profile: String,
    /// The account's label, when one is signed in.
    pub account: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// `token` or `sign-out`.
    pub action: &'static str,
    /// The program's name (`python3`, `deploy`).
    pub name: String,
    /// The executable's full path, when the OS tells.
    pub path: Option<String>,
    /// For an interpreter, the script it runs.
    pub script: Option<String>,
    /// The SSH connection a forwarded request came through.
    pub ssh: Option<String>,
    /// The program's parents, nearest first (`bash`, `tmux`).
    pub parents: Vec<String>,
    /// Its pid.
    pub pid: u32,
}

/// What the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// No.
    Deny,
    /// This request (and those waiting on the same question) only.
    Once,
    /// A rule that holds for [`FOR_HOURS`].
    ForHours,
    /// A rule that holds until revoked (for this binary: its SHA-256).
    Always,
    /// Nobody answered within [`TIMEOUT`].
    TimedOut,
    /// This face cannot ask anybody.
    Unasked,
}

/// A face that can ask the user.
pub trait Consent: Send + Sync + 'static {
    /// Shows `question` and waits for the answer; the caller gives up
    /// after [`TIMEOUT`] (the face should close its dialog when the
    /// future is dropped).
    fn ask<'a>(
        &'a self,
        question: &'a Question,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;
}

/// Nobody to ask: every unknown program is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoConsent;

impl Consent for NoConsent {
    fn ask<'a>(
        &'a self,
        _question: &'a Question,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
        Box::pin(async { Answer::Unasked })
    }
}
