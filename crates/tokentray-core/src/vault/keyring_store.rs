//! The OS vault as an [`EntryStore`], through the `keyring` crate: Secret
//! Service over D-Bus on Linux (gnome-keyring, KWallet), the Keychain on
//! macOS, Credential Manager on Windows. Each entry is the keyring
//! credential (service, entry name).
//!
//! Platform errors are sorted into what the user can act on: no D-Bus
//! session or no Secret Service (`vault_unavailable`), a locked collection
//! or a dismissed unlock prompt (`vault_locked`), an unreadable entry
//! (`vault_corrupt`). "No such entry" is `Ok(None)`. Never a silent fallback
//! to another store (S24).

use super::chunked::EntryStore;
use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// The keyring service name under which Tokentray's entries are stored.
pub const DEFAULT_SERVICE: &str = "dev.tokentray";

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
}

const FIX_NO_SERVICE: &str = "run Tokentray inside a desktop session with a Secret Service \
(GNOME Keyring or KWallet); in an SSH or headless session start one first: \
`dbus-run-session -- bash`, then `printf %s \"$PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets`";
const FIX_LOCKED: &str =
    "unlock the keyring: sign in to the desktop session, open \"Passwords and Keys\" \
(seahorse) and unlock the Login keyring, or run \
`printf %s \"$PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets`";
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

#[cfg(target_os = "linux")]
fn platform_error(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
    use dbus_secret_service::Error as Ss;
    let unavailable = |reason: String| Error::VaultUnavailable {
        reason,
        fix: FIX_NO_SERVICE.into(),
    };
    match inner.downcast_ref::<Ss>() {
        Some(Ss::Locked) => Error::VaultLocked {
            reason: "the Secret Service collection is locked".into(),
            fix: FIX_LOCKED.into(),
        },
        Some(Ss::Prompt) => Error::VaultLocked {
            reason: "the keyring's unlock prompt was dismissed or could not be shown".into(),
            fix: FIX_LOCKED.into(),
        },
        Some(Ss::Unavailable) => {
            unavailable("no D-Bus session or no Secret Service provider".into())
        }
        Some(Ss::NoResult) => unavailable("the Secret Service has no default collection".into()),
        Some(Ss::Dbus(e)) => match e.name() {
            Some("org.freedesktop.Secret.Error.IsLocked") => Error::VaultLocked {
                reason: format!(
                    "the Secret Service collection is locked ({})",
                    e.message().unwrap_or("locked")
                ),
                fix: FIX_LOCKED.into(),
            },
            Some("org.freedesktop.DBus.Error.ServiceUnknown") => {
                unavailable("no Secret Service provider is running on the D-Bus session bus".into())
            }
            Some(
                "org.freedesktop.DBus.Error.NotSupported"
                | "org.freedesktop.DBus.Error.NoServer"
                | "org.freedesktop.DBus.Error.FileNotFound"
                | "org.freedesktop.DBus.Error.Spawn.ExecFailed",
            ) => unavailable(format!(
                "no D-Bus session bus ({})",
                e.message().unwrap_or("cannot connect")
            )),
            _ => Error::VaultUnavailable {
                reason: format!("D-Bus error: {e}"),
                fix: FIX_PLATFORM.into(),
            },
        },
        _ => Error::VaultUnavailable {
            reason: inner.to_string(),
            fix: FIX_PLATFORM.into(),
        },
    }
}

#[cfg(not(target_os = "linux"))]
fn platform_error(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> Error {
    Error::VaultUnavailable {
        reason: inner.to_string(),
        fix: FIX_PLATFORM.into(),
    }
}
