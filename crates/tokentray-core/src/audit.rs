//! The audit trail: one JSON line per token the agent hands out and per
//! sign-out it runs, with who asked ([`crate::caller`]) and what decided
//! it. Never a token, a prefix of one or its hash: the entry type has no
//! field that could hold one.
//!
//! The file is `$TOKENTRAY_AUDIT_LOG`, else `audit.jsonl` in the user's
//! state directory (`~/.local/state/tokentray/` on Linux, the local app
//! data directory elsewhere), created owner-only. It is rotated by size:
//! past [`MAX_BYTES`] it becomes `audit.jsonl.1` (replacing the previous
//! one), so the trail never takes more than twice that. A line that cannot
//! be written is logged as a warning and never fails the request.

use crate::caller::Caller;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Environment variable that overrides the audit file.
pub const AUDIT_ENV: &str = "TOKENTRAY_AUDIT_LOG";

/// Size past which the file is rotated.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Handed out to any program (`access = "any"`).
    Allowed,
    /// Handed out: a rule of the profile names the program.
    AllowedByRule,
    /// Handed out: the user said yes when asked.
    AllowedByUser,
    /// Refused: no rule and nobody to ask, or the user said no.
    Denied,
    /// Refused: nobody answered in time.
    TimedOut,
    /// Refused: a scope outside the profile's.
    ScopeRefused,
    /// A forced refresh asked too soon after the last one: served the
    /// fresh token instead.
    RateLimited,
    /// A sign-out was run (before access decisions were recorded: an
    /// `any` profile's sign-out).
    SignedOut,
}

impl Decision {
    /// Whether the request was served.
    pub fn served(self) -> bool {
        !matches!(
            self,
            Decision::Denied | Decision::TimedOut | Decision::ScopeRefused
        )
    }
}

/// One line of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// When, RFC 3339 in UTC.
    pub time: String,
    /// The profile.
    pub profile: String,
    /// The account's label, when there is one.
    pub account: Option<String>,
    /// The scopes of the token handed out.
    pub scopes: Vec<String>,
    /// What was asked: `token` or `sign-out`.
    #[serde(default = "token_action")]
    pub action: String,
    /// What was decided.
    pub decision: Decision,
    /// What decided it (`access = any`: every program of the user may).
    pub rule: String,
    /// The requesting program (`python3 /home/alice/sync.py`).
    pub program: String,
    /// The pid of the process connected to the agent.
    pub pid: u32,
    /// The requesting program's parents, nearest first (short names).
    pub parents: Vec<String>,
    /// How the request came: `unix socket`, `named pipe`, or `direct`
    /// (the CLI reading the vault itself).
    pub transport: String,
}

fn token_action() -> String {
    "token".into()
}

impl Entry {
    /// An entry for `caller`, now, of a token allowed by `access = any`
    /// (callers set what differs).
    pub fn new(caller: &Caller, profile: &str, decision: Decision) -> Entry {
        Entry {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            profile: profile.to_string(),
            account: None,
            scopes: Vec::new(),
            action: token_action(),
            decision,
            rule: "access = any".into(),
            program: caller.program().display_name(),
            pid: caller.pid(),
            parents: caller.parent_names(),
            transport: match caller.forwarded() {
                Some(_) => format!("{TRANSPORT}, ssh forward"),
                None => TRANSPORT.into(),
            },
        }
    }
}

/// How requests reach the agent on this platform.
#[cfg(unix)]
pub const TRANSPORT: &str = "unix socket";
/// How requests reach the agent on this platform.
#[cfg(windows)]
pub const TRANSPORT: &str = "named pipe";

/// The trail's file, appended to by one agent (a lock keeps its lines
/// whole).
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    writing: Mutex<()>,
}

impl AuditLog {
    /// The trail at `path`.
    pub fn at(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog {
            path: path.into(),
            writing: Mutex::new(()),
        }
    }

    /// The trail named by the environment ([`default_path`]).
    pub fn from_env() -> Result<AuditLog> {
        default_path().map(AuditLog::at)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry`; a failure is logged, never returned.
    pub fn append(&self, entry: &Entry) {
        let _one_at_a_time = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(error) = self.try_append(entry) {
            tracing::warn!(path = %self.path.display(), %error, "cannot write the audit trail");
        }
    }

    fn try_append(&self, entry: &Entry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::private_dir::ensure(
                dir,
                "the audit trail's directory",
                &format!("set {AUDIT_ENV} to a file in a private directory of yours"),
            )
            .map_err(std::io::Error::other)?;
        }
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() >= MAX_BYTES) {
            std::fs::rename(&self.path, rotated(&self.path))?;
        }
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        crate::private_dir::private_file_options(&mut options);
        // one write of the whole line: appends of one process never interleave
        options.open(&self.path)?.write_all(&line)
    }
}

/// `$TOKENTRAY_AUDIT_LOG`, else `audit.jsonl` in the state directory.
pub fn default_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(AUDIT_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dirs =
        directories::ProjectDirs::from("dev", "tokentray", "tokentray").ok_or_else(|| {
            Error::InvalidInput(format!(
                "cannot find a home directory for the audit trail; set {AUDIT_ENV}"
            ))
        })?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Ok(base.join("audit.jsonl"))
}

/// Every entry of the trail at `path`, oldest first (the rotated file's,
/// then the current one's); lines that are not entries are skipped.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for file in [rotated(path), path.to_path_buf()] {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("cannot read the audit trail", &file, e)),
        };
        entries.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    Ok(entries)
}

fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".1");
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Process;

    fn caller() -> Caller {
        let process = |pid: u32, exe: &str, script: Option<&str>| Process {
            pid,
            exe: Some(exe.into()),
            name: exe.rsplit('/').next().unwrap_or(exe).into(),
            script: script.map(PathBuf::from),
            started: None,
        };
        Caller::from_chain(vec![
            process(30, "/usr/bin/tokentray", None),
            process(20, "/usr/bin/python3", Some("/home/a/sync.py")),
            process(10, "/usr/bin/bash", None),
        ])
        .unwrap()
    }

    #[test]
    fn entries_are_appended_read_back_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path().join("state/audit.jsonl"));
        let mut entry = Entry::new(&caller(), "corp", Decision::Allowed);
        entry.scopes = vec!["api.read".into()];
        log.append(&entry);
        log.append(&Entry::new(&caller(), "corp", Decision::SignedOut));
        let back = read(log.path()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], entry);
        assert_eq!(back[0].program, "python3 /home/a/sync.py");
        assert_eq!(back[0].parents, vec!["bash".to_string()]);
        assert_eq!(back[0].pid, 30);
        assert_eq!(back[1].decision, Decision::SignedOut);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(log.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // past the limit, the file moves aside and a new one starts
        let big = std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        big.set_len(MAX_BYTES).unwrap();
        log.append(&entry);
        assert_eq!(
            std::fs::read_to_string(log.path()).unwrap().lines().count(),
            1
        );
        assert!(rotated(log.path()).is_file());
        // the rotated file's padding is skipped, its entries kept
        assert_eq!(read(log.path()).unwrap().len(), 3);
    }

    // S32: no token material in the audit trail
    #[test]
    fn an_entry_has_no_room_for_a_token() {
        let text =
            serde_json::to_string(&Entry::new(&caller(), "corp", Decision::Allowed)).unwrap();
        let fields: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut names: Vec<&str> = fields
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "account",
                "action",
                "decision",
                "parents",
                "pid",
                "profile",
                "program",
                "rule",
                "scopes",
                "time",
                "transport"
            ]
        );
        let smuggled = text.replace("\"rule\"", "\"token\":\"x\",\"rule\"");
        assert!(serde_json::from_str::<Entry>(&smuggled).is_err());
    }
}
