//! The refresh lock across processes: an advisory file lock per profile,
//! so that the agent, the tray app and `tokentray` processes without an
//! agent never refresh the same account at once (S14 across processes: a
//! refresh token replayed by a second process would revoke the whole token
//! family at providers with reuse detection).
//!
//! The locks follow the vault, not the environment: their directory is the
//! one the vault names ([`crate::vault::Vault::lock_dir`]: the OS vault's
//! in the user's state directory, per service name; the file store's next
//! to its file), so every process that shares a vault shares its locks,
//! whatever its `XDG_RUNTIME_DIR` or `TOKENTRAY_SOCKET`.
//!
//! The broker takes the lock inside its single flight, before it reads the
//! vault, so a process that waited finds the token the one before it just
//! stored; sign-in and sign-out take it too. A wait is bounded
//! ([`DEFAULT_WAIT`]) and its error names the holder where the OS tells
//! (the pid and program in `/proc/locks` on Linux, else what the holder
//! wrote into the file). The OS releases the lock when a process dies, so a
//! crash never leaves it taken.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a refresh, sign-in or sign-out waits for another process's
/// lock before it gives up with [`Error::LockTimeout`].
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// First pause between two tries; doubled up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// An exclusive lock on a profile, held until dropped (the OS releases it
/// when the process dies, so a crash never leaves it taken).
#[derive(Debug)]
pub struct ProfileLock {
    _file: File,
}

/// Where the refresh locks of one vault live, and how long a wait may last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockDir {
    dir: PathBuf,
    wait: Duration,
}

impl LockDir {
    /// Locks in `dir` (created private on first use), waits of
    /// [`DEFAULT_WAIT`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            wait: DEFAULT_WAIT,
        }
    }

    /// The same with another wait limit.
    pub fn waiting(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Takes `profile`'s lock, waiting up to the limit for whoever holds
    /// it. Blocking: call it off the async threads, or use
    /// [`LockDir::lock_async`].
    pub fn lock(&self, profile: &str) -> Result<ProfileLock> {
        let (mut file, path) = self.open(profile)?;
        let deadline = Instant::now() + self.wait;
        let mut pause = FIRST_PAUSE;
        loop {
            if try_take(&mut file, &path)? {
                return Ok(ProfileLock { _file: file });
            }
            if Instant::now() >= deadline {
                return Err(self.timeout(profile, &file, &path));
            }
            waiting(profile, pause);
            std::thread::sleep(pause);
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// [`LockDir::lock`] without blocking a thread: the wait sleeps on the
    /// runtime's timer, so a caller that goes away (a client that
    /// disconnected) stops waiting at once.
    pub async fn lock_async(&self, profile: &str) -> Result<ProfileLock> {
        let (mut file, path) = self.open(profile)?;
        let deadline = tokio::time::Instant::now() + self.wait;
        let mut pause = FIRST_PAUSE;
        loop {
            if try_take(&mut file, &path)? {
                return Ok(ProfileLock { _file: file });
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.timeout(profile, &file, &path));
            }
            waiting(profile, pause);
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    fn open(&self, profile: &str) -> Result<(File, PathBuf)> {
        let valid = !profile.is_empty()
            && !profile.starts_with('.')
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(Error::InvalidInput(format!(
                "invalid profile name {profile:?}"
            )));
        }
        ensure_dir(&self.dir)?;
        let path = self.dir.join(format!("{profile}.lock"));
        let file = open_lock_file(&path)?;
        Ok((file, path))
    }

    fn timeout(&self, profile: &str, file: &File, path: &Path) -> Error {
        Error::LockTimeout {
            profile: profile.to_string(),
            waited_secs: self.wait.as_secs(),
            holder: holder(file, path),
            path: path.to_path_buf(),
        }
    }
}

/// Says once per wait (at its first pause) that another process holds the
/// lock.
fn waiting(profile: &str, pause: Duration) {
    if pause == FIRST_PAUSE {
        tracing::debug!(%profile, "waiting for the refresh lock another process holds");
    }
}

/// One try: whether `file` is now locked (false: another open file holds
/// it). The holder writes who it is into the file for the next waiter's
/// error.
fn try_take(file: &mut File, path: &Path) -> Result<bool> {
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("cannot lock", path, e)),
    }
    let signed = format!("pid {} ({})\n", std::process::id(), program_name());
    // Only a courtesy for the error of whoever waits next: never fatal.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(signed.as_bytes()));
    Ok(true)
}

fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown program".into())
}

/// Who holds the lock on `file`: from `/proc/locks` and the process's name
/// on Linux (exact, even for a holder that is not Tokentray), else what
/// the holder wrote.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
fn holder(file: &File, path: &Path) -> Option<String> {
    #[cfg(target_os = "linux")]
    if let Some(pid) = linux_holder_pid(file) {
        // the program's name only: its arguments may carry anything
        let program = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()
            .map(|name| crate::http::clean(name.trim(), 32))
            .filter(|name| !name.is_empty());
        return Some(match program {
            Some(program) => format!("pid {pid} ({program})"),
            None => format!("pid {pid}"),
        });
    }
    let mut signed = String::new();
    File::open(path)
        .ok()?
        .take(200)
        .read_to_string(&mut signed)
        .ok()?;
    // written by whoever holds the lock: shown cleaned, as any outside text
    let signed = crate::http::clean(signed.trim(), 80);
    (!signed.is_empty()).then_some(signed)
}

/// The pid holding a `flock` on the file, from `/proc/locks`
/// (`N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF`).
#[cfg(target_os = "linux")]
fn linux_holder_pid(file: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = file.metadata().ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in_proc_locks(&locks, inode)
}

#[cfg(target_os = "linux")]
fn holder_in_proc_locks(locks: &str, inode: u64) -> Option<u32> {
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // a waiter's line starts `N: -> FLOCK …`: skip it
        if fields.get(1) != Some(&"FLOCK") {
            return None;
        }
        let file_inode = fields.get(5)?.rsplit(':').next()?.parse::<u64>().ok()?;
        (file_inode == inode).then(|| fields.get(4)?.parse().ok())?
    })
}

fn ensure_dir(dir: &Path) -> Result<()> {
    crate::private_dir::ensure(
        dir,
        "the refresh lock directory",
        "make it a private directory of yours (`mkdir -m 700`)",
    )
}

/// The lock file, created when missing and kept as it is otherwise (`0600`
/// and never through a symbolic link on Unix).
fn open_lock_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    crate::private_dir::private_file_options(&mut options);
    options
        .open(path)
        .map_err(|e| Error::io("cannot open the lock file", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // S14: single-flight refresh
    #[test]
    fn the_lock_is_exclusive_across_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::new(dir.path().join("locks"));
        let held = locks.lock("p").unwrap();
        let path = locks.path().join("p.lock");
        let other = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().unwrap();
        assert!(matches!(
            locks.lock("../x").unwrap_err(),
            Error::InvalidInput(_)
        ));
    }

    #[test]
    fn a_wait_is_bounded_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::new(dir.path().join("l")).waiting(Duration::from_millis(200));
        let _held = locks.lock("p").unwrap();
        let started = Instant::now();
        let err = locks.lock("p").unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        let message = err.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("profile `p`"), "{message}");
    }

    #[tokio::test]
    async fn an_async_wait_ends_when_the_lock_is_freed() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::new(dir.path().join("l"));
        let held = locks.lock("p").unwrap();
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move { locks.lock_async("p").await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_locks_lines_are_read_for_the_holder() {
        let locks = "1: POSIX  ADVISORY  WRITE 77 fd:01:99 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 4343 fd:01:1234 0 EOF\n";
        assert_eq!(holder_in_proc_locks(locks, 1234), Some(4242));
        assert_eq!(holder_in_proc_locks(locks, 99), None);
        assert_eq!(holder_in_proc_locks(locks, 5), None);
    }
}
