//! The vault: where refresh tokens, cached access tokens and client secrets
//! live, and nowhere else.
//!
//! [`Vault`] is the one interface the rest of the core uses: get, put and
//! delete a [`Secret`] by key, with "no entry" as `Ok(None)`. Values of any
//! size go through [`chunked`], which splits them over several OS entries
//! when one entry would exceed the platform's limit (S23) and makes every
//! write whole or not at all. Backends:
//! - [`KeyringVault`]: the OS vault (Secret Service on Linux, Keychain on
//!   macOS, Credential Manager on Windows) through the `keyring` crate;
//! - [`MemoryVault`]: a map in memory, for unit tests of logic only.

mod chunked;
mod keyring_store;
mod memory;

pub use chunked::{Chunked, EntryStore, MAX_ENTRY_BYTES};
pub use keyring_store::{KeyringEntries, DEFAULT_SERVICE};
pub use memory::MemoryEntries;

use crate::error::{Error, Result};
use crate::secret::Secret;

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
}

/// The OS vault.
pub type KeyringVault = Chunked<KeyringEntries>;
/// The in-memory vault for unit tests.
pub type MemoryVault = Chunked<MemoryEntries>;

impl KeyringVault {
    /// The OS vault under our service name ([`DEFAULT_SERVICE`]).
    pub fn os() -> Self {
        Self::new(KeyringEntries::new(DEFAULT_SERVICE))
    }

    /// The OS vault under another service name (tests use their own).
    pub fn with_service(service: &str) -> Self {
        Self::new(KeyringEntries::new(service))
    }
}

impl MemoryVault {
    /// An empty in-memory vault with the same entry size limit as the OS.
    pub fn in_memory() -> Self {
        Self::new(MemoryEntries::default())
    }
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
