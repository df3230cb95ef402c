//! An in-memory [`EntryStore`] for unit tests of logic. It enforces the same
//! entry size limit as the OS vault and can be told to fail, so the chunking
//! and crash-safety rules are testable without a desktop session. Never the
//! only test of storage: the real vault has its own integration tests.

use super::chunked::{EntryStore, MAX_ENTRY_BYTES};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Entries in a map.
#[derive(Default)]
pub struct MemoryEntries {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: BTreeMap<String, Zeroizing<String>>,
    writes_left: Option<usize>,
}

impl std::fmt::Debug for MemoryEntries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryEntries([redacted])")
    }
}

impl MemoryEntries {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every entry's name and value (for tests).
    pub fn snapshot(&self) -> Vec<(String, String)> {
        self.lock()
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }

    /// Lets `count` more writes succeed, then fails every write (for tests of
    /// interrupted writes); `usize::MAX` lifts the limit.
    pub fn fail_writes_after(&self, count: usize) {
        self.lock().writes_left = (count != usize::MAX).then_some(count);
    }
}

impl EntryStore for MemoryEntries {
    fn read(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        Ok(self.lock().entries.get(name).cloned())
    }

    fn write(&self, name: &str, value: &str) -> Result<()> {
        let mut inner = self.lock();
        if let Some(left) = inner.writes_left.as_mut() {
            if *left == 0 {
                return Err(Error::VaultUnavailable {
                    reason: "simulated write failure".into(),
                    fix: "none: this is a test".into(),
                });
            }
            *left -= 1;
        }
        if value.len() > MAX_ENTRY_BYTES {
            return Err(Error::InvalidInput(format!(
                "entry {name} exceeds {MAX_ENTRY_BYTES} bytes"
            )));
        }
        inner
            .entries
            .insert(name.to_string(), Zeroizing::new(value.to_string()));
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<bool> {
        Ok(self.lock().entries.remove(name).is_some())
    }
}
