//! Where the agent socket lives, and the checks on its directory (S25).
//!
//! The path is `$TOKENTRAY_SOCKET` when set, else
//! `$XDG_RUNTIME_DIR/tokentray/agent.sock`, else
//! `<temp dir>/tokentray-<uid>/agent.sock`. The directory holding the
//! socket is private: created `0700`, and refused when it is a symlink, is
//! not ours, or grants anything to group or others — a world-writable
//! `/tmp` lets anyone create `/tmp/tokentray-1000` first, so what is found
//! there is checked, never trusted.
//!
//! Inside an SSH session, clients also look for an agent forwarded by
//! `tokentray ssh` ([`discover`]; the rule and why it is this one are in
//! [`super::endpoint`]): a socket of ours named
//! `/tmp/tokentray-ssh-<random>.sock` ([`new_forward_path`]).

use crate::error::{Error, Result};
use crate::private_dir;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Environment variable that overrides the socket path.
pub const SOCKET_ENV: &str = "TOKENTRAY_SOCKET";

/// The socket's file name in its directory.
pub const SOCKET_NAME: &str = "agent.sock";

pub use crate::private_dir::our_uid;

/// The socket path from the environment (no file-system access).
pub fn socket_path() -> Result<PathBuf> {
    socket_path_from(
        std::env::var_os(SOCKET_ENV).map(PathBuf::from),
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
    )
}

/// The socket path given `$TOKENTRAY_SOCKET` and `$XDG_RUNTIME_DIR`.
pub fn socket_path_from(
    overridden: Option<PathBuf>,
    runtime_dir: Option<PathBuf>,
) -> Result<PathBuf> {
    if let Some(path) = overridden.filter(|p| !p.as_os_str().is_empty()) {
        if path.is_relative() || path.file_name().is_none() {
            return Err(Error::InvalidInput(format!(
                "{SOCKET_ENV}={} is not an absolute path to a socket file",
                path.display()
            )));
        }
        return Ok(path);
    }
    // Like the XDG spec says: a relative XDG_RUNTIME_DIR is to be ignored.
    let dir = match runtime_dir.filter(|d| d.is_absolute()) {
        Some(runtime) => runtime.join("tokentray"),
        None => std::env::temp_dir().join(format!("tokentray-{}", our_uid())),
    };
    Ok(dir.join(SOCKET_NAME))
}

/// The variable sshd sets in every session it starts
/// (`CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT`): where it is set, a
/// client looks for a forwarded agent too.
pub const SSH_SESSION_ENV: &str = "SSH_CONNECTION";

/// Where `tokentray ssh` has the remote sshd bind the forwarded socket:
/// a directory every Unix has, whatever the remote user's uid and home
/// (which the local side does not know), sticky, so that nobody else can
/// remove or replace a socket of ours in it.
pub const FORWARD_DIR: &str = "/tmp";

/// How a forwarded socket's file name starts.
pub const FORWARD_PREFIX: &str = "tokentray-ssh-";

/// How a forwarded socket's file name ends.
pub const FORWARD_SUFFIX: &str = ".sock";

/// A forwarded socket that nobody listens on any more and is at least
/// this old is removed when found (sshd leaves the file behind when the
/// session ends). The age keeps a socket that sshd bound a moment ago and
/// has not started listening on yet.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// How many forwarded sockets are tried at most, newest first.
const MAX_FORWARDS: usize = 32;

/// A fresh name for a forwarded socket on the remote machine:
/// `/tmp/tokentray-ssh-<128 random bits in hex>.sock`. One per connection,
/// so a file left by an earlier session never blocks the next (sshd binds
/// over an existing file only when its own `StreamLocalBindUnlink` is set,
/// which the client cannot ask for) and nobody can create it beforehand.
pub fn new_forward_path() -> PathBuf {
    let bits: u128 = rand::random();
    Path::new(FORWARD_DIR).join(format!("{FORWARD_PREFIX}{bits:032x}{FORWARD_SUFFIX}"))
}

/// Whether `path` is a forwarded socket's: `/tmp/tokentray-ssh-….sock`.
pub fn is_forward_path(path: &Path) -> bool {
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(FORWARD_PREFIX) && n.ends_with(FORWARD_SUFFIX));
    named && path.parent() == Some(Path::new(FORWARD_DIR))
}

/// What a connection attempt tells about a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Something listens.
    Answers,
    /// Nothing listens, or the file is gone.
    Dead,
    /// Cannot tell (no permission, …).
    Unknown,
}

/// Connects to `path` and hangs up at once (an agent takes a connection
/// that sends nothing without a word).
pub fn probe(path: &Path) -> Probe {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Probe::Answers,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            ) =>
        {
            Probe::Dead
        }
        Err(_) => Probe::Unknown,
    }
}

/// Where a client finds the agent, from the environment: the rule of
/// [`super::endpoint`] (`$TOKENTRAY_SOCKET`; else, outside an SSH session,
/// the usual socket; inside one, the usual socket when an agent answers
/// there, else the newest forwarded socket of ours that answers, else the
/// usual socket).
pub fn discover() -> Result<PathBuf> {
    let overridden = std::env::var_os(SOCKET_ENV)
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty());
    let is_overridden = overridden.is_some();
    let usual = socket_path_from(
        overridden,
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
    )?;
    if is_overridden {
        return Ok(usual);
    }
    let in_ssh_session = std::env::var_os(SSH_SESSION_ENV).is_some_and(|v| !v.is_empty());
    Ok(choose(usual, in_ssh_session, Path::new(FORWARD_DIR), probe))
}

/// [`discover`]'s choice, given the usual socket, whether this is an SSH
/// session, the directory of forwarded sockets and how to probe one.
pub fn choose(
    usual: PathBuf,
    in_ssh_session: bool,
    forward_dir: &Path,
    probe: impl Fn(&Path) -> Probe,
) -> PathBuf {
    if !in_ssh_session {
        return usual;
    }
    if std::fs::symlink_metadata(&usual).is_ok() && probe(&usual) == Probe::Answers {
        return usual;
    }
    for (path, age) in forwarded_sockets(forward_dir) {
        match probe(&path) {
            Probe::Answers => {
                tracing::debug!(path = %path.display(), "agent socket: using the one forwarded over SSH");
                return path;
            }
            Probe::Dead if age >= STALE_AFTER => match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::debug!(path = %path.display(), "agent socket: removed a forwarded socket left by an ended SSH session");
                }
                Err(error) => {
                    tracing::debug!(path = %path.display(), %error, "agent socket: cannot remove a dead forwarded socket");
                }
            },
            Probe::Dead | Probe::Unknown => {}
        }
    }
    usual
}

/// The forwarded sockets in `dir` that may be ours to use, newest first,
/// with their age: named [`FORWARD_PREFIX`]`…`[`FORWARD_SUFFIX`], a socket
/// (not a link to one), owned by us, nothing for group or others. What
/// another user put there is never touched.
pub fn forwarded_sockets(dir: &Path) -> Vec<(PathBuf, Duration)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let uid = our_uid();
    let now = SystemTime::now();
    let mut found: Vec<(PathBuf, SystemTime)> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(FORWARD_PREFIX) && name.ends_with(FORWARD_SUFFIX)
        })
        .filter_map(|entry| {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).ok()?;
            let private = meta.permissions().mode() & 0o077 == 0;
            (meta.file_type().is_socket() && meta.uid() == uid && private)
                .then(|| Some((path, meta.modified().ok()?)))
                .flatten()
        })
        .collect();
    found.sort_by_key(|(_, modified)| std::cmp::Reverse(*modified));
    found
        .into_iter()
        .take(MAX_FORWARDS)
        .map(|(path, modified)| (path, now.duration_since(modified).unwrap_or_default()))
        .collect()
}

/// Creates the socket's directory (`0700`) when missing, then checks it:
/// not a symlink, a directory, owned by us, nothing for group or others.
/// Each refusal names the directory and the fix. A forwarded socket's
/// path ([`is_forward_path`]) is refused first: it is another agent's,
/// reached over SSH, never a place for one of this machine's own.
pub fn ensure_private_dir(socket: &Path) -> Result<PathBuf> {
    if is_forward_path(socket) {
        return Err(Error::InvalidInput(format!(
            "{} is an agent forwarded over SSH (by `tokentray ssh`), serving this session already; to run an agent of this machine's own, set {SOCKET_ENV} to the path it should listen on (e.g. $XDG_RUNTIME_DIR/tokentray/agent.sock), or start it outside the SSH session",
            socket.display()
        )));
    }
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "the agent socket path {} has no directory",
                socket.display()
            ))
        })?
        .to_path_buf();
    private_dir::ensure(&dir, ROLE, &elsewhere())?;
    Ok(dir)
}

/// Checks that `dir` is a private directory of ours.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    private_dir::check(dir, ROLE, &elsewhere())
}

/// How the socket's directory is named in refusals.
const ROLE: &str = "the agent socket directory";

fn elsewhere() -> String {
    format!("set {SOCKET_ENV} to a path in a directory of yours")
}

/// Sets the socket file to `0600` (after bind; the directory is already
/// private, this is belt and braces).
pub fn restrict_socket(socket: &Path) -> Result<()> {
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("cannot restrict the permissions of", socket, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // S25: socket location and modes
    #[test]
    fn the_override_wins_then_the_runtime_dir_then_temp() {
        assert_eq!(
            socket_path_from(Some("/x/s.sock".into()), Some("/run/user/1".into())).unwrap(),
            PathBuf::from("/x/s.sock")
        );
        assert_eq!(
            socket_path_from(None, Some("/run/user/1".into())).unwrap(),
            PathBuf::from("/run/user/1/tokentray/agent.sock")
        );
        let fallback = socket_path_from(Some("".into()), Some("relative".into())).unwrap();
        assert_eq!(
            fallback,
            std::env::temp_dir()
                .join(format!("tokentray-{}", our_uid()))
                .join("agent.sock")
        );
        assert!(socket_path_from(Some("rel.sock".into()), None).is_err());
    }

    #[test]
    fn each_forward_gets_a_fresh_name_in_tmp() {
        let (a, b) = (new_forward_path(), new_forward_path());
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/tmp")));
        let name = a.file_name().unwrap().to_str().unwrap();
        let bits = name
            .strip_prefix(FORWARD_PREFIX)
            .and_then(|n| n.strip_suffix(FORWARD_SUFFIX))
            .unwrap();
        assert_eq!(bits.len(), 32);
        assert!(bits.bytes().all(|b| b.is_ascii_hexdigit()));
        // within every platform's sun_path, and nothing ssh would expand
        // or split on (`%`, `${`, `:`)
        let shown = a.display().to_string();
        assert!(shown.len() < 100 && !shown.contains(['%', '$', ':']));
    }

    /// A socket bound at `dir/name`, `0600`, aged `age`; listening while
    /// the returned listener lives.
    fn socket(
        dir: &Path,
        name: &str,
        age: Duration,
    ) -> (PathBuf, std::os::unix::net::UnixListener) {
        let path = dir.join(name);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let then = SystemTime::now() - age;
        let since = then.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        let at = rustix::fs::Timespec {
            tv_sec: i64::try_from(since.as_secs()).unwrap(),
            tv_nsec: i64::from(since.subsec_nanos()),
        };
        let times = rustix::fs::Timestamps {
            last_access: at,
            last_modification: at,
        };
        rustix::fs::utimensat(
            rustix::fs::CWD,
            &path,
            &times,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .unwrap();
        (path, listener)
    }

    fn forward_name(n: u8) -> String {
        format!("{FORWARD_PREFIX}{n:032x}{FORWARD_SUFFIX}")
    }

    #[test]
    fn outside_an_ssh_session_the_usual_socket_is_used_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let (_forwarded, _live) = socket(dir.path(), &forward_name(1), Duration::ZERO);
        let usual = dir.path().join("missing/agent.sock");
        let chosen = choose(usual.clone(), false, dir.path(), |_| {
            panic!("no probe and no scan outside an SSH session")
        });
        assert_eq!(chosen, usual);
    }

    #[test]
    fn in_an_ssh_session_a_local_agent_wins_then_the_newest_live_forward() {
        let dir = tempfile::tempdir().unwrap();
        let (older, _older_live) = socket(dir.path(), &forward_name(1), Duration::from_secs(3600));
        let (newer, newer_live) = socket(dir.path(), &forward_name(2), Duration::from_secs(5));
        let (dead, dead_listener) = socket(dir.path(), &forward_name(3), Duration::ZERO);
        drop(dead_listener);

        // no local agent: the newest forward that answers (not the dead one,
        // though it is newer)
        let usual = dir.path().join("agent.sock");
        assert_eq!(choose(usual.clone(), true, dir.path(), probe), newer);

        // a live local agent comes first
        let (_, _local) = socket(dir.path(), "agent.sock", Duration::ZERO);
        assert_eq!(choose(usual.clone(), true, dir.path(), probe), usual);
        std::fs::remove_file(&usual).unwrap();

        // the newest gone: the older one
        drop(newer_live);
        assert_eq!(choose(usual.clone(), true, dir.path(), probe), older);
        // a dead forward is kept for a minute (sshd may not listen yet),
        // then removed
        assert!(
            dead.exists() && newer.exists(),
            "younger than a minute: kept"
        );
        let (stale, stale_listener) =
            socket(dir.path(), &forward_name(4), Duration::from_secs(120));
        drop(stale_listener);
        choose(usual.clone(), true, dir.path(), probe);
        assert!(!stale.exists(), "a dead forward past a minute is removed");
        assert!(dead.exists(), "a young dead one is not");
    }

    // S42: only a private, live socket of ours counts as a forward
    #[test]
    fn only_private_sockets_of_ours_with_the_forward_name_count() {
        let dir = tempfile::tempdir().unwrap();
        let (open, _a) = socket(dir.path(), &forward_name(1), Duration::ZERO);
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
        let (_other_name, _b) = socket(dir.path(), "ssh-agent.sock", Duration::ZERO);
        std::fs::write(dir.path().join(forward_name(2)), "not a socket").unwrap();
        let (target, _c) = socket(dir.path(), "target.sock", Duration::ZERO);
        std::os::unix::fs::symlink(&target, dir.path().join(forward_name(3))).unwrap();
        assert_eq!(forwarded_sockets(dir.path()), Vec::new());
        let usual = dir.path().join("agent.sock");
        assert_eq!(choose(usual.clone(), true, dir.path(), probe), usual);
        assert_eq!(
            forwarded_sockets(&dir.path().join("missing")),
            Vec::new(),
            "no directory, no forwards"
        );
        // a file another user owns is left alone (only root can make one
        // here)
        if our_uid() == 0 {
            let (foreign, _d) = socket(dir.path(), &forward_name(5), Duration::from_secs(600));
            rustix::fs::chown(&foreign, Some(rustix::process::Uid::from_raw(65534)), None).unwrap();
            drop(_d);
            assert_eq!(forwarded_sockets(dir.path()), Vec::new());
            choose(usual, true, dir.path(), probe);
            assert!(foreign.exists(), "never removed: not ours");
        }
    }

    #[test]
    fn an_agent_never_serves_a_forwarded_socket() {
        let forwarded = new_forward_path();
        assert!(is_forward_path(&forwarded));
        let refused = ensure_private_dir(&forwarded).unwrap_err().to_string();
        assert!(
            refused.contains("forwarded over SSH") && refused.contains(SOCKET_ENV),
            "{refused}"
        );
        assert!(!is_forward_path(Path::new(
            "/run/user/1/tokentray/agent.sock"
        )));
        assert!(!is_forward_path(
            &Path::new("/home/a").join(forwarded.file_name().unwrap())
        ));
    }

    // S25: socket location and modes
    #[test]
    fn a_missing_dir_is_created_private() {
        let tmp = tempfile::tempdir().unwrap();
        let socket = tmp.path().join("a/b/agent.sock");
        let dir = ensure_private_dir(&socket).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
