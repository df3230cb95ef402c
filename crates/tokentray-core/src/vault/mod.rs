//! The vault: where refresh tokens, cached access tokens and client secrets
//! live, and nowhere else.
//!
//! [`Vault`] is the one interface the rest of the core uses: get, put and
//! delete a [`Secret`] by key, with "no entry" as `Ok(None)`. Values of any
//! size go through [`chunked`], which splits them over several OS entries
//! when one entry would exceed the platform's limit (S23) and makes every
//! write whole or not at all. Backends:
//! - [`KeyringVault`]: the OS vault — the Secret Service over one kept D-Bus
//!   session on Linux and the BSDs ([`SecretServiceEntries`]), the Keychain
//!   on macOS and Credential Manager on Windows through the `keyring` crate;
//! - [`FileVault`]: one encrypted file (Argon2id + XChaCha20-Poly1305), for
//!   machines with no usable OS vault, chosen explicitly (S24);
//! - [`MemoryVault`]: a map in memory, for unit tests of logic and for
//!   `tokentray agent --store memory` (secrets die with the process).
//!
//! [`choice`] picks one (`--store`, `$TOKENTRAY_STORE`); [`passphrase`]
//! finds the file store's passphrase (`handover` keeps it out of the
//! environment block).

pub mod choice;
mod chunked;
pub mod file;
#[cfg(target_os = "linux")]
mod handover;
#[cfg(any(target_os = "macos", target_os = "windows"))]
mod keyring_store;
mod memory;
pub mod passphrase;
#[cfg(all(unix, not(target_os = "macos")))]
mod secret_service;

pub use choice::StoreKind;
pub use chunked::{Chunked, EntryStore, MAX_ENTRY_BYTES};
pub use file::FileVault;
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub use keyring_store::KeyringEntries as OsEntries;
pub use memory::MemoryEntries;
#[cfg(all(unix, not(target_os = "macos")))]
pub use secret_service::SecretServiceEntries as OsEntries;

/// The service name under which Tokentray's entries are stored.
pub const DEFAULT_SERVICE: &str = "dev.tokentray";

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::path::PathBuf;

/// Longest key a caller may use (chunk suffixes are added to it).
pub const MAX_KEY_LEN: usize = 200;

/// A store of secrets by key.
pub trait Vault: Send + Sync {
    /// The value under `key`, or `Ok(None)` when there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>>;
    /// Stores `value` under `key`, replacing any previous value whole.
    fn put(&self, key: &str, value: &Secret) -> Result<()>;
    /// Deletes the value under `key`; `Ok(false)` when there was none.
    fn delete(&self, key: &str) -> Result<bool>;
    /// Where the processes sharing this vault take their per-profile
    /// refresh locks ([`crate::lock`]); `None` for a vault no other process
    /// can see (memory).
    fn lock_dir(&self) -> Option<PathBuf> {
        None
    }
}

/// The refresh locks of the OS vault's entries under `service`: in the
/// user's state directory (`$XDG_STATE_HOME/tokentray/locks/SERVICE` on
/// Linux, the local data directory elsewhere), the same for every process
/// of the user whatever its runtime directory or socket.
pub fn keyring_lock_dir(service: &str) -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("dev", "tokentray", "tokentray")?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    let name: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(base.join("locks").join(name))
}

/// The OS vault.
pub type KeyringVault = Chunked<OsEntries>;
/// The in-memory vault (unit tests, `--store memory`).
pub type MemoryVault = Chunked<MemoryEntries>;

/// Environment variable that overrides the keyring service name (tests,
/// or two independent setups on one machine).
pub const SERVICE_ENV: &str = "TOKENTRAY_VAULT_SERVICE";

impl KeyringVault {
    /// The OS vault under our service name: `$TOKENTRAY_VAULT_SERVICE`, or
    /// [`DEFAULT_SERVICE`].
    pub fn os() -> Self {
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE.to_string());
        Self::with_service(&service)
    }

    /// The OS vault under another service name (tests use their own).
    pub fn with_service(service: &str) -> Self {
        Self::new(OsEntries::new(service))
    }
}

impl MemoryVault {
    /// An empty in-memory vault with the same entry size limit as the OS.
    pub fn in_memory() -> Self {
        Self::new(MemoryEntries::default())
    }
}

/// The vault key of a profile's client secret (S9, S22).
pub fn client_secret_key(profile: &str) -> String {
    format!("profile/{profile}/client-secret")
}

/// Keys are short ASCII paths like `account/graph/1f3a…`: letters, digits
/// and `-_./:@`.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid vault key {key:?}: use up to {MAX_KEY_LEN} ASCII letters, digits or -_./:@"
        )))
    }
}

/// Checks that `vault` works end to end: writes a throwaway entry large
/// enough to need chunking, reads it back, compares, deletes it and checks
/// that it is gone. Used by `tokentray doctor`.
pub fn probe(vault: &dyn Vault) -> Result<()> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let key = format!("doctor/probe-{}-{nonce}", std::process::id());
    let value = Secret::new(format!("probe-{nonce}-").repeat(200));
    let outcome = (|| {
        vault.put(&key, &value)?;
        let back = vault.get(&key)?;
        if back.as_ref() != Some(&value) {
            return Err(Error::VaultCorrupt {
                key: key.clone(),
                reason: "the value read back differs from the value written".into(),
                fix: "check the OS credential store; another program may be rewriting entries"
                    .into(),
            });
        }
        Ok(())
    })();
    let deleted = vault.delete(&key);
    outcome?;
    deleted?;
    match vault.get(&key)? {
        None => Ok(()),
        Some(_) => Err(Error::VaultCorrupt {
            key,
            reason: "a deleted entry can still be read".into(),
            fix: "check the OS credential store".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_passes_on_a_working_vault_and_leaves_nothing() {
        let vault = MemoryVault::in_memory();
        probe(&vault).unwrap();
        assert!(vault.entries().snapshot().is_empty());
    }

    // S24: linux vault states
    #[test]
    fn probe_reports_a_failing_vault() {
        let vault = MemoryVault::in_memory();
        vault.entries().fail_writes_after(0);
        assert_eq!(
            probe(&vault).unwrap_err().kind(),
            crate::ErrorKind::VaultUnavailable
        );
    }
}
