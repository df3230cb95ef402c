//! Where the agent listens, on every platform: a Unix socket path
//! ([`super::path`]) or a Windows named pipe, `\\.\pipe\tokentray-<SID>`.
//! `$TOKENTRAY_SOCKET` overrides either (on Windows it must name a pipe).
//!
//! The Windows rules are plain functions here — the pipe's name from the
//! user's SID, the security descriptor that lets only that user open it,
//! the decision on a peer's owner — so they are tested on every platform;
//! the calls into Windows that feed them live in `ipc::windows`.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Environment variable that overrides the agent's endpoint.
pub const ENDPOINT_ENV: &str = "TOKENTRAY_SOCKET";

/// The prefix of every local named pipe.
pub const PIPE_PREFIX: &str = r"\\.\pipe\";

/// The agent's endpoint from the environment: the socket path on Unix, the
/// pipe name on Windows.
pub fn from_env() -> Result<PathBuf> {
    #[cfg(unix)]
    {
        super::path::socket_path()
    }
    #[cfg(windows)]
    {
        let sid = super::windows::current_user_sid()
            .map_err(|e| Error::io("cannot read the user's SID for", "the agent pipe", e))?;
        pipe_from(std::env::var(ENDPOINT_ENV).ok(), &sid).map(PathBuf::from)
    }
}

/// The pipe's name: `$TOKENTRAY_SOCKET` when set (it must be a local pipe,
/// `\\.\pipe\NAME`), else `\\.\pipe\tokentray-<SID>`, one per user, so two
/// users of one machine never meet.
pub fn pipe_from(overridden: Option<String>, sid: &str) -> Result<String> {
    if let Some(name) = overridden.filter(|n| !n.is_empty()) {
        let rest = name.strip_prefix(PIPE_PREFIX).unwrap_or_default();
        if rest.is_empty() || rest.contains('\\') || name.len() > 256 {
            return Err(Error::InvalidInput(format!(
                r"{ENDPOINT_ENV}={name} is not a local pipe name (`\\.\pipe\NAME`, at most 256 characters)"
            )));
        }
        return Ok(name);
    }
    checked_sid(sid)?;
    Ok(format!("{PIPE_PREFIX}tokentray-{sid}"))
}

/// The pipe's security descriptor in SDDL: a protected DACL (nothing
/// inherited) with one entry, full access for the user's SID. No
/// `Everyone`, no `Authenticated Users`, no administrators.
pub fn pipe_security(sid: &str) -> Result<String> {
    checked_sid(sid)?;
    Ok(format!("D:P(A;;GA;;;{sid})"))
}

/// A SID in its string form (`S-1-5-21-…`): anything else is refused, so
/// nothing odd reaches a pipe name or a security descriptor.
fn checked_sid(sid: &str) -> Result<&str> {
    let mut parts = sid.split('-');
    let well_formed = parts.next() == Some("S")
        && parts.clone().count() >= 2
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        Ok(sid)
    } else {
        Err(Error::internal(format!(
            "Windows named the user by {sid:?}, which is not a SID"
        )))
    }
}

/// Who the other end of a connection runs as, against who we are: the
/// peer checks in both directions (S26). `theirs` is an error when the OS
/// would not tell; that refuses too (fail closed). `Err` carries the
/// reason to log or show.
pub fn check_owner(
    role: &str,
    ours: &str,
    theirs: std::io::Result<String>,
) -> std::result::Result<(), String> {
    match theirs {
        Ok(theirs) if theirs == ours => Ok(()),
        Ok(theirs) => Err(format!(
            "the {role} runs as {theirs}, not as us ({ours}); someone may be impersonating it"
        )),
        Err(error) => Err(format!("cannot tell who the {role} runs as: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1000";

    // S25: one endpoint per user
    #[test]
    fn the_pipe_is_named_after_the_users_sid() {
        assert_eq!(
            pipe_from(None, SID).unwrap(),
            r"\\.\pipe\tokentray-S-1-5-21-1004336348-1177238915-682003330-1000"
        );
        assert_eq!(
            pipe_from(Some(String::new()), SID).unwrap(),
            pipe_from(None, SID).unwrap()
        );
    }

    #[test]
    fn an_override_must_be_a_local_pipe() {
        assert_eq!(
            pipe_from(Some(r"\\.\pipe\tt-test".into()), SID).unwrap(),
            r"\\.\pipe\tt-test"
        );
        for bad in [
            r"C:\tmp\agent.sock",
            r"\\server\pipe\tokentray",
            r"\\.\pipe\",
            r"\\.\pipe\a\b",
            "tokentray",
        ] {
            assert!(pipe_from(Some(bad.into()), SID).is_err(), "{bad} was taken");
        }
        let long = format!(r"\\.\pipe\{}", "x".repeat(250));
        assert!(pipe_from(Some(long), SID).is_err());
    }

    // S26: only the user may open the pipe
    #[test]
    fn the_descriptor_grants_the_user_alone_and_inherits_nothing() {
        assert_eq!(pipe_security(SID).unwrap(), format!("D:P(A;;GA;;;{SID})"));
        assert_eq!(pipe_security("S-1-5-18").unwrap(), "D:P(A;;GA;;;S-1-5-18)");
    }

    #[test]
    fn what_is_not_a_sid_reaches_no_name_or_descriptor() {
        for bad in [
            "",
            "S-1",
            "S-1-5-)(A;;GA;;;WD",
            "WD",
            "S-1-5-21-x",
            "s-1-5-18",
            "S-1--5",
        ] {
            assert!(pipe_security(bad).is_err(), "{bad:?} was taken");
            assert!(pipe_from(None, bad).is_err(), "{bad:?} was taken");
        }
    }

    // S26: peer checks
    #[test]
    fn only_the_same_sid_passes_and_an_unknown_owner_is_refused() {
        assert!(check_owner("agent", SID, Ok(SID.into())).is_ok());
        let other = check_owner("agent", SID, Ok("S-1-5-21-1-2-3-1001".into())).unwrap_err();
        assert!(
            other.contains("S-1-5-21-1-2-3-1001") && other.contains("impersonating"),
            "{other}"
        );
        let system = check_owner("client", SID, Ok("S-1-5-18".into())).unwrap_err();
        assert!(system.contains("S-1-5-18"), "{system}");
        let unknown = check_owner(
            "agent",
            SID,
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        )
        .unwrap_err();
        assert!(unknown.contains("cannot tell"), "{unknown}");
    }
}
