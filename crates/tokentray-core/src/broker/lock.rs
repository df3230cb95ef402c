//! The refresh lock across processes: an advisory file lock per profile,
//! so that the agent, the tray app and `tokentray` processes without an
//! agent never refresh the same account at once (S14 across processes: a
//! refresh token replayed by a second process would revoke the whole token
//! family at providers with reuse detection). The broker takes it inside
//! its single flight, before it reads the vault, so a process that waited
//! finds the token the one before it just stored. The OS releases the lock
//! when a process dies, so a crash never leaves it taken.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// An exclusive lock on a profile, held until dropped (the OS releases it
/// when the process dies, so a crash never leaves it taken).
#[derive(Debug)]
pub struct ProfileLock {
    _file: File,
}

/// Takes the profile's lock in `dir`, waiting for whoever holds it: the
/// file `PROFILE.lock` (0600). Blocking: call it off the async threads.
pub fn lock_profile(dir: &Path, profile: &str) -> Result<ProfileLock> {
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
    let path = dir.join(format!("{profile}.lock"));
    let file = open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::debug!(%profile, "waiting for the refresh lock another process holds");
            file.lock()
                .map_err(|e| Error::io("cannot lock", path.clone(), e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("cannot lock", path, e)),
    }
    Ok(ProfileLock { _file: file })
}

/// The lock directory every Tokentray process shares: `locks/` in the agent
/// socket's private directory (0700, checked as the socket's is: S25).
#[cfg(unix)]
pub fn default_dir() -> Result<PathBuf> {
    use crate::ipc::path;
    use std::os::unix::fs::DirBuilderExt;
    let dir = path::ensure_private_dir(&path::socket_path()?)?.join("locks");
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), std::io::ErrorKind::AlreadyExists) => {}
        Err(e) => return Err(Error::io("cannot create the lock directory", dir, e)),
    }
    path::check_private_dir(&dir)?;
    Ok(dir)
}

/// The lock directory every Tokentray process shares.
#[cfg(not(unix))]
pub fn default_dir() -> Result<PathBuf> {
    let dir = crate::profile::config_dir()?.join("locks");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io("cannot create the lock directory", dir.clone(), e))?;
    Ok(dir)
}

#[cfg(unix)]
fn open_lock_file(path: &std::path::Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io("cannot open the lock file", path, e))
}

#[cfg(not(unix))]
fn open_lock_file(path: &std::path::Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
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
        let held = lock_profile(dir.path(), "p").unwrap();
        let path = dir.path().join("p.lock");
        let other = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().unwrap();
        assert_eq!(
            lock_profile(dir.path(), "../x").unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }
}
