//! The Linux vault as an [`EntryStore`]: the freedesktop Secret Service
//! (GNOME Keyring, KWallet) over D-Bus, through `dbus-secret-service`,
//! with ONE connection and one encrypted session kept for the life of the
//! store.
//!
//! Why not the `keyring` crate here (it serves macOS and Windows): it opens
//! a new D-Bus connection and negotiates a new Diffie-Hellman session for
//! every operation, about 6 ms each on a desktop machine, while an
//! operation on a kept session takes about 0.3 ms. A refresh with rotation
//! is four vault operations, so that is most of its cost.
//!
//! Entries are stored exactly as `keyring` v3 stores them (attributes
//! `service`, `username`, `target=default`, `application=rust-keyring`, in
//! the default collection), so entries written by either are read by both
//! and `secret-tool search --all service dev.tokentray` lists them. A
//! locked collection is reported, never unlocked through a prompt that could
//! wait on a screen nobody watches.

use super::chunked::EntryStore;
use crate::error::{Error, Result};
use dbus_secret_service::{EncryptionType, Error as Ss, SecretService};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use zeroize::Zeroizing;

const FIX_NO_SERVICE: &str = "run Tokentray inside a desktop session with a Secret Service \
(GNOME Keyring or KWallet); in an SSH or headless session start one first: \
`dbus-run-session -- bash`, then `printf %s \"$PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets`. \
Where no vault can run (SSH, WSL, containers), choose the encrypted file store instead: \
`tokentray --store file …` or TOKENTRAY_STORE=file";
const FIX_LOCKED: &str =
    "unlock the keyring: sign in to the desktop session, open \"Passwords and Keys\" \
(seahorse) and unlock the Login keyring, or run \
`printf %s \"$PASSWORD\" | gnome-keyring-daemon --replace --unlock --components=secrets`. \
Where the keyring cannot be unlocked, choose the encrypted file store instead: \
`tokentray --store file …` or TOKENTRAY_STORE=file";
const FIX_PLATFORM: &str =
    "check that the Secret Service is running and reachable; `tokentray doctor` repeats this check";

/// Entries under one service name, over one kept Secret Service session.
pub struct SecretServiceEntries {
    service: String,
    session: Mutex<Option<SecretService>>,
}

impl std::fmt::Debug for SecretServiceEntries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretServiceEntries")
            .field("service", &self.service)
            .finish()
    }
}

impl SecretServiceEntries {
    /// Entries under `service`; connects on first use.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            session: Mutex::new(None),
        }
    }

    fn attributes<'a>(&'a self, name: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([("service", self.service.as_str()), ("username", name)])
    }

    /// Runs `op` on the kept session, connecting first when needed. A D-Bus
    /// failure drops the session and tries once more on a new one (the
    /// daemon may have restarted since).
    fn with_session<T>(
        &self,
        name: &str,
        op: impl Fn(&SecretService) -> Result<T, Ss>,
    ) -> Result<T> {
        let mut session = self.lock();
        for attempt in 0..2 {
            let service = match session.as_ref() {
                Some(service) => service,
                None => session.insert(
                    SecretService::connect(EncryptionType::Dh).map_err(|e| classify(name, e))?,
                ),
            };
            match op(service) {
                Err(Ss::Dbus(_)) if attempt == 0 => {
                    tracing::debug!("Secret Service connection lost; reconnecting");
                    *session = None;
                }
                outcome => return outcome.map_err(|e| classify(name, e)),
            }
        }
        Err(Error::VaultUnavailable {
            reason: "the Secret Service connection failed twice".into(),
            fix: FIX_PLATFORM.into(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<SecretService>> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a read found.
enum Found {
    Value(Zeroizing<Vec<u8>>),
    Nothing,
    /// Only locked entries match, or none does while the default
    /// collection is locked: whether the entry exists cannot be told.
    Locked,
    Several(usize),
}

impl EntryStore for SecretServiceEntries {
    fn read(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        let found = self.with_session(name, |ss| {
            let items = ss.search_items(self.attributes(name))?;
            match (items.unlocked.as_slice(), items.locked.len()) {
                // A locked collection may hide what it holds: "no entry"
                // would read as "signed out" when it means "unlock first".
                ([], 0) if ss.get_default_collection()?.is_locked()? => Ok(Found::Locked),
                ([], 0) => Ok(Found::Nothing),
                ([], _) => Ok(Found::Locked),
                ([item], _) => Ok(Found::Value(Zeroizing::new(item.get_secret()?))),
                (several, _) => Ok(Found::Several(several.len())),
            }
        })?;
        match found {
            Found::Nothing => Ok(None),
            Found::Locked => Err(locked("the Secret Service collection is locked")),
            Found::Several(count) => Err(Error::VaultCorrupt {
                key: name.to_string(),
                reason: format!("{count} entries match this name"),
                fix: format!(
                    "remove the duplicates: `secret-tool search --all service {}`, then `secret-tool clear service {} username NAME`",
                    self.service, self.service
                ),
            }),
            Found::Value(bytes) => match String::from_utf8(bytes.to_vec()) {
                Ok(text) => Ok(Some(Zeroizing::new(text))),
                Err(_) => Err(Error::VaultCorrupt {
                    key: name.to_string(),
                    reason: "the stored value is not UTF-8 text".into(),
                    fix: "sign out of the account and sign in again".into(),
                }),
            },
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<()> {
        let label = format!("{name}@{}", self.service);
        self.with_session(name, |ss| {
            let collection = ss.get_default_collection()?;
            if collection.is_locked()? {
                return Err(Ss::Locked);
            }
            let mut attributes = self.attributes(name);
            attributes.insert("target", "default");
            attributes.insert("application", "rust-keyring");
            collection.create_item(&label, attributes, value.as_bytes(), true, "text/plain")?;
            Ok(())
        })
    }

    fn remove(&self, name: &str) -> Result<bool> {
        let outcome = self.with_session(name, |ss| {
            let items = ss.search_items(self.attributes(name))?;
            if items.unlocked.is_empty() && !items.locked.is_empty() {
                return Err(Ss::Locked);
            }
            for item in &items.unlocked {
                item.delete()?;
            }
            Ok(!items.unlocked.is_empty())
        })?;
        Ok(outcome)
    }

    fn lock_dir(&self) -> Option<std::path::PathBuf> {
        super::keyring_lock_dir(&self.service)
    }
}

fn locked(reason: &str) -> Error {
    Error::VaultLocked {
        reason: reason.to_string(),
        fix: FIX_LOCKED.into(),
    }
}

/// Sorts a Secret Service error into one the user can act on.
fn classify(name: &str, error: Ss) -> Error {
    let unavailable = |reason: String| Error::VaultUnavailable {
        reason,
        fix: FIX_NO_SERVICE.into(),
    };
    match error {
        Ss::Locked => locked("the Secret Service collection is locked"),
        Ss::Prompt => locked("the keyring's unlock prompt was dismissed or could not be shown"),
        Ss::Unavailable => unavailable("no D-Bus session or no Secret Service provider".into()),
        Ss::NoResult => unavailable("the Secret Service has no default collection".into()),
        Ss::Dbus(e) => match e.name() {
            Some("org.freedesktop.Secret.Error.IsLocked") => locked(&format!(
                "the Secret Service collection is locked ({})",
                e.message().unwrap_or("locked")
            )),
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
        Ss::UnsupportedSecretFormat | Ss::Parse => Error::VaultCorrupt {
            key: name.to_string(),
            reason: "the Secret Service returned a value in an unexpected format".into(),
            fix: "sign out of the account and sign in again".into(),
        },
        other => Error::VaultUnavailable {
            reason: other.to_string(),
            fix: FIX_PLATFORM.into(),
        },
    }
}
