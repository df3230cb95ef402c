//! One set of test fakes for the core's unit tests and for the tests of
//! every crate of the workspace: scripted grants and a broker over them
//! with an in-memory vault ([`FakeGrants`], [`setup`], [`sign_in`]), a
//! clock that follows tokio's pausable time ([`TokioClock`]), and a vault
//! wrapper that refuses writes on demand ([`RefusingVault`]).
//!
//! Built for `cfg(test)` and with the `testing` feature, which only
//! dev-dependencies turn on (`tokentray-core = { …, features =
//! ["testing"] }`); no release build has it, and `layers` keeps every
//! other module from using it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::schedule::Clock;
use crate::secret::Secret;
use crate::token::EpochSecs;
use crate::vault::Vault;

pub use crate::broker::testing::{
    age_access_tokens, setup, sign_in, token_set, FakeGrants, Script, Setup,
};

/// A wall clock that advances with tokio's clock (so a paused test clock
/// moves it), starting at `start`.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: EpochSecs,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: EpochSecs) -> Self {
        Self {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> EpochSecs {
        let elapsed = tokio::time::Instant::now()
            .duration_since(self.origin)
            .as_secs();
        self.start + i64::try_from(elapsed).unwrap_or(i64::MAX)
    }
}

/// Any vault, refusing every write while told to (a collection locked
/// behind our back, a full disk): `put` fails with `vault_locked`, reads
/// and deletes go through.
pub struct RefusingVault<V> {
    inner: V,
    refuse: AtomicBool,
}

impl<V: Vault> RefusingVault<V> {
    /// `inner`, taking writes until [`RefusingVault::refuse`] says not to.
    pub fn new(inner: V) -> Self {
        Self {
            inner,
            refuse: AtomicBool::new(false),
        }
    }

    /// Refuse writes from now on (`true`) or take them again (`false`).
    pub fn refuse(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }

    /// The wrapped vault.
    pub fn inner(&self) -> &V {
        &self.inner
    }
}

impl<V: Vault> Vault for RefusingVault<V> {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.inner.get(key)
    }
    fn put(&self, key: &str, value: &Secret) -> Result<()> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(Error::VaultLocked {
                reason: "the collection was locked for the test".into(),
                fix: "unlock it".into(),
            });
        }
        self.inner.put(key, value)
    }
    fn delete(&self, key: &str) -> Result<bool> {
        self.inner.delete(key)
    }
    fn lock_dir(&self) -> Option<PathBuf> {
        self.inner.lock_dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MemoryVault;

    #[test]
    fn a_refusing_vault_refuses_writes_only_while_told_to() {
        let vault = RefusingVault::new(MemoryVault::in_memory());
        vault.put("k", &Secret::new("one")).unwrap();
        vault.refuse(true);
        let err = vault.put("k", &Secret::new("two")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultLocked);
        assert_eq!(vault.get("k").unwrap().unwrap().expose(), "one");
        vault.refuse(false);
        vault.put("k", &Secret::new("two")).unwrap();
        assert_eq!(vault.get("k").unwrap().unwrap().expose(), "two");
        assert!(vault.delete("k").unwrap());
    }
}
