//! Using the core directly, for when no agent runs: a broker over the OS
//! vault on a current-thread runtime, and the per-profile file lock that
//! keeps two `tokentray` processes from refreshing the same account at
//! once (S14 across processes: a refresh token replayed by a second process
//! would revoke the whole family at providers with reuse detection).
//!
//! The lock is taken before the broker looks at the vault, so a process
//! that waited for it finds the token the one before it just stored.

use crate::output::Failure;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use tokentray_core::broker::{Broker, TokenRequest};
use tokentray_core::flow::OAuth;
use tokentray_core::http::HttpClient;
use tokentray_core::ipc::protocol::{TokenParams, TokenReply};
use tokentray_core::profile::ProfileStore;
use tokentray_core::vault::KeyringVault;
use tokentray_core::{Error, Result};

/// A broker over the OS vault and the default profiles file.
pub fn broker() -> Result<Broker<OAuth>> {
    Ok(Broker::new(
        OAuth::new(HttpClient::with_defaults()?),
        Arc::new(KeyringVault::os()),
        ProfileStore::open_default()?,
    ))
}

/// A runtime on this thread only: one command, one task at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))
}

/// An exclusive lock on a profile, held until dropped (the OS releases it
/// when the process dies, so a crash never leaves it taken).
#[derive(Debug)]
pub struct ProfileLock {
    _file: File,
}

/// Takes the profile's lock, waiting for whoever holds it. The lock file
/// is `locks/PROFILE.lock` (0600) in the agent socket's private directory
/// (0700, checked as the socket's is: S25).
pub fn lock_profile(profile: &str) -> Result<ProfileLock> {
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
    let path = locks_dir()?.join(format!("{profile}.lock"));
    let file = open_lock_file(&path)?;
    file.lock()
        .map_err(|e| Error::io("cannot lock", path.clone(), e))?;
    Ok(ProfileLock { _file: file })
}

#[cfg(unix)]
fn locks_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    use tokentray_core::ipc::path;
    let dir = path::ensure_private_dir(&path::socket_path()?)?.join("locks");
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("cannot create the lock directory", dir, e)),
    }
    path::check_private_dir(&dir)?;
    Ok(dir)
}

#[cfg(not(unix))]
fn locks_dir() -> Result<PathBuf> {
    let dir = tokentray_core::profile::config_dir()?.join("locks");
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

/// A token from the vault, refreshed when due, under the profile's lock.
pub fn token(params: TokenParams) -> std::result::Result<TokenReply, Failure> {
    let broker = broker()?;
    // Unknown profiles fail here, before any lock file is made for them.
    broker.profiles().get(&params.profile)?;
    let _lock = lock_profile(&params.profile)?;
    let request = TokenRequest {
        profile: params.profile,
        scopes: params.scopes,
        min_valid: params.min_valid.map(std::time::Duration::from_secs),
        force_refresh: params.force_refresh,
    };
    let token = runtime()?.block_on(broker.token(&request))?;
    let account = broker
        .accounts()
        .for_profile(&request.profile)
        .ok()
        .flatten()
        .map(|a| a.label().to_string());
    Ok(TokenReply::new(token, &request.profile, account))
}
