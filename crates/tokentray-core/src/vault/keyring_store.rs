//! The macOS and Windows vaults as an [`EntryStore`], through the `keyring`
//! crate: the Keychain on macOS, Credential Manager on Windows. Each entry is
//! the keyring credential (service, entry name). (Linux and the BSDs use
//! [`super::secret_service`], which keeps its D-Bus session open.)
//!
//! Platform errors are sorted into what the user can act on; "no such
//! entry" is `Ok(None)`. Never a silent fallback to another store (S24).

use super::chunked::EntryStore;
use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// Entries in the OS vault under one service name.
#[derive(Debug, Clone)]
pub struct KeyringEntries {
    service: String,
}

impl KeyringEntries {
    /// Entries under `service`.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, name).map_err(|e| classify(name, e))
    }
}

impl EntryStore for KeyringEntries {
    fn read(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Zeroizing::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(name, e)),
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<()> {
        self.entry(name)?
            .set_password(value)
            .map_err(|e| classify(name, e))
    }

    fn remove(&self, name: &str) -> Result<bool> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(classify(name, e)),
        }
    }

    fn lock_dir(&self) -> Option<std::path::PathBuf> {
        super::keyring_lock_dir(&self.service)
    }
}

const FIX_PLATFORM: &str = "check that the OS credential store is running and reachable; `tokentray doctor` repeats this check";

/// Sorts a keyring error into one of ours. Never includes a value.
fn classify(name: &str, error: keyring::Error) -> Error {
    match error {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            platform_error(inner.as_ref())
        }
        keyring::Error::BadEncoding(_) => Error::VaultCorrupt {
            key: name.to_string(),
            reason: "the stored value is not UTF-8 text".into(),
            fix: "sign out of the account and sign in again".into(),
        },
        keyring::Error::Ambiguous(found) => Error::VaultCorrupt {
            key: name.to_string(),
            reason: format!("{} entries match this name", found.len()),
            fix:
                "remove the duplicates (on Linux: `secret-tool search --all service dev.tokentray`)"
                    .into(),
        },
        keyring::Error::TooLong(attribute, limit) => Error::InvalidInput(format!(
            "vault {attribute} is longer than the platform's limit of {limit}"
        )),
        keyring::Error::Invalid(attribute, reason) => {
            Error::InvalidInput(format!("invalid vault {attribute}: {reason}"))
        }
        keyring::Error::NoEntry => Error::NotFound {
            what: format!("vault entry `{name}`"),
        },
        other => Error::VaultUnavailable {
            reason: other.to_string(),
            fix: FIX_PLATFORM.into(),
        },
    }
}

fn platform_error(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
    Error::VaultUnavailable {
        reason: inner.to_string(),
        fix: FIX_PLATFORM.into(),
    }
}
