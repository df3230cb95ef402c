//! The encrypted file store, for machines with no usable OS vault (SSH
//! sessions, WSL, containers, headless Linux): chosen explicitly
//! (`--store file`, `TOKENTRAY_STORE=file`), never a silent fallback (S24).
//!
//! One file ([`super::choice::file_path`]: `$TOKENTRAY_VAULT_FILE`, else
//! `$XDG_DATA_HOME/tokentray/vault.bin`) holds every entry, sealed with
//! XChaCha20-Poly1305 under a key that Argon2id derives from a passphrase
//! ([`format`]). The key is derived ONCE, when the store is unlocked, and
//! kept in memory (zeroized on drop): a write costs an encryption and an
//! atomic file replacement, never another Argon2 pass.
//!
//! Several processes may share the file (the agent, `tokentray` commands
//! run without it): every write takes the file's advisory lock, re-reads
//! the file if another process changed it since (its bytes differ: each
//! write has a fresh nonce), applies its change and replaces the file
//! ([`disk`]). A wrong passphrase is refused before anything is read or
//! written; a damaged file is reported with its path and never overwritten.

mod disk;
mod format;
mod private;

pub use format::KdfParams;

use super::{check_key, Vault};
use crate::error::{Error, Result};
use crate::secret::Secret;
use disk::Disk;
use format::{Entries, Key};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use zeroize::Zeroizing;

const FIX_DAMAGED: &str = "restore the file from a backup, or move it aside and sign in again (`tokentray --store file login PROFILE`)";

/// Whether the vault file at `path` exists yet (to know whether a new
/// passphrase is being chosen). Refuses a symbolic link.
pub fn exists(path: &Path) -> Result<bool> {
    Disk::new(path)?.exists()
}

/// The encrypted file store. See the module documentation.
pub struct FileVault {
    disk: Disk,
    state: Mutex<State>,
}

struct State {
    key: Key,
    /// What the file held when we last read or wrote it.
    seen: Option<Seen>,
    /// Argon2 passes run by this store (for tests and measurements).
    derivations: usize,
}

struct Seen {
    /// The file's bytes (sealed): any other bytes mean the file changed
    /// (each write has a fresh nonce) or was damaged.
    sealed: Vec<u8>,
    entries: Entries,
}

impl std::fmt::Debug for FileVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileVault")
            .field("path", &self.disk.path())
            .finish_non_exhaustive()
    }
}

impl FileVault {
    /// Unlocks the store at `path` with `passphrase`, creating it (with
    /// [`KdfParams::DEFAULT`]) when there is none. This is where the key is
    /// derived, once.
    pub fn unlock(path: &Path, passphrase: &Secret) -> Result<Self> {
        Self::unlock_with(path, passphrase, KdfParams::DEFAULT)
    }

    /// [`unlock`](Self::unlock), with the Argon2id costs a NEW store gets
    /// (an existing file's header says its own).
    pub fn unlock_with(path: &Path, passphrase: &Secret, params: KdfParams) -> Result<Self> {
        let disk = Disk::new(path)?;
        disk.ensure_dir()?;
        let mut derivations = 0;
        let mut derive = |salt: Option<[u8; 16]>, params: KdfParams| {
            derivations += 1;
            match salt {
                Some(salt) => Key::derive(passphrase, salt, params),
                None => Key::derive_new(passphrase, params),
            }
            .map_err(|reason| Error::InvalidInput(format!("{}: {reason}", path.display())))
        };
        // An existing file: its salt and costs, checked before anything
        // else happens.
        if let Some(bytes) = disk.read()? {
            let sealed = format::parse(&bytes).map_err(|reason| damaged(path, reason))?;
            let key = derive(Some(sealed.header.salt), sealed.header.params)?;
            return Self::opened(disk, key, bytes, derivations);
        }
        // A new one: created now, under the lock, so that its salt is fixed
        // before any other process can pick another.
        let key = derive(None, params)?;
        let _lock = disk.lock()?;
        if let Some(bytes) = disk.read()? {
            // Someone created it meanwhile: use theirs.
            let sealed = format::parse(&bytes).map_err(|reason| damaged(path, reason))?;
            let key = derive(Some(sealed.header.salt), sealed.header.params)?;
            return Self::opened(disk, key, bytes, derivations);
        }
        let empty = Entries::new();
        let file = key.seal(&empty).map_err(|reason| damaged(path, reason))?;
        disk.replace(&file)?;
        tracing::info!(path = %path.display(), "created the encrypted vault file");
        Ok(Self {
            disk,
            state: Mutex::new(State {
                key,
                seen: Some(Seen {
                    sealed: file,
                    entries: empty,
                }),
                derivations,
            }),
        })
    }

    /// A store whose key was derived for the file's current `bytes`.
    fn opened(disk: Disk, key: Key, bytes: Vec<u8>, derivations: usize) -> Result<Self> {
        let state = State {
            key,
            seen: None,
            derivations,
        };
        let seen = state.decrypt(disk.path(), bytes)?;
        Ok(Self {
            disk,
            state: Mutex::new(State {
                seen: Some(seen),
                ..state
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.disk.path()
    }

    /// How many times this store ran Argon2 (1 for its whole life, unless
    /// another process re-created the file with another salt).
    pub fn key_derivations(&self) -> usize {
        self.lock().derivations
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entries as the file holds them now: from memory when the file's
    /// bytes are the ones we last saw, else read and decrypted again.
    fn current<'s>(&self, state: &'s mut State) -> Result<&'s Entries> {
        let seen = match (self.disk.read()?, state.seen.take()) {
            // Deleted behind our back: an empty store (a write creates it
            // again with our salt).
            (None, _) => Seen {
                sealed: Vec::new(),
                entries: Entries::new(),
            },
            (Some(bytes), Some(seen)) if seen.sealed == bytes => seen,
            // Changed (or never seen): on failure nothing stays remembered.
            (Some(bytes), _) => state.decrypt(self.disk.path(), bytes)?,
        };
        Ok(&state.seen.insert(seen).entries)
    }

    /// Read-modify-write under the file lock; `change` returns whether it
    /// changed anything (nothing is written otherwise).
    fn update<T>(&self, change: impl FnOnce(&mut Entries) -> (bool, T)) -> Result<T> {
        let mut state = self.lock();
        let _file_lock = self.disk.lock()?;
        let mut entries = self.current(&mut state)?.clone();
        let (changed, outcome) = change(&mut entries);
        if !changed {
            return Ok(outcome);
        }
        let file = state
            .key
            .seal(&entries)
            .map_err(|reason| damaged(self.disk.path(), reason))?;
        // Forget what we saw first: if the write fails half-way, the next
        // access reads the file again.
        state.seen = None;
        self.disk.replace(&file)?;
        state.seen = Some(Seen {
            sealed: file,
            entries,
        });
        Ok(outcome)
    }
}

impl State {
    /// Checks the file's header against our key and decrypts it.
    fn decrypt(&self, path: &Path, bytes: Vec<u8>) -> Result<Seen> {
        let sealed = format::parse(&bytes).map_err(|reason| damaged(path, reason))?;
        if !self.key.matches(&sealed.header) {
            let same_salt = sealed.header.salt == self.key.header.salt
                && sealed.header.params == self.key.header.params;
            return Err(if same_salt {
                wrong_passphrase(path)
            } else {
                Error::VaultFileLocked {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the vault file {} was re-created (new salt) since this process unlocked it",
                        path.display()
                    ),
                    fix: "restart this process (the agent or the tray app) to unlock it again"
                        .into(),
                }
            });
        }
        let entries = self
            .key
            .open(&sealed)
            .map_err(|reason| damaged(path, reason))?;
        Ok(Seen {
            sealed: bytes,
            entries,
        })
    }
}

fn damaged(path: &Path, reason: String) -> Error {
    Error::VaultFileDamaged {
        path: path.to_path_buf(),
        reason,
        fix: FIX_DAMAGED.into(),
    }
}

fn wrong_passphrase(path: &Path) -> Error {
    Error::VaultFileLocked {
        path: path.to_path_buf(),
        reason: format!(
            "wrong passphrase for {} (or the file was damaged)",
            path.display()
        ),
        fix: "give the passphrase the file was created with (TOKENTRAY_PASSPHRASE, TOKENTRAY_PASSPHRASE_FILE or the prompt); the file was not changed".into(),
    }
}

impl Vault for FileVault {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        check_key(key)?;
        let mut state = self.lock();
        let entries = self.current(&mut state)?;
        Ok(entries.get(key).map(|value| Secret::new(value.as_str())))
    }

    fn put(&self, key: &str, value: &Secret) -> Result<()> {
        check_key(key)?;
        self.update(|entries| {
            let value = Zeroizing::new(value.expose().to_string());
            let changed = entries.get(key) != Some(&value);
            if changed {
                entries.insert(key.to_string(), value);
            }
            (changed, ())
        })
    }

    fn delete(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        self.update(|entries| {
            let existed = entries.remove(key).is_some();
            (existed, existed)
        })
    }

    /// Next to the vault file: `vault.bin.locks/`.
    fn lock_dir(&self) -> Option<std::path::PathBuf> {
        let mut name = self.disk.path().as_os_str().to_os_string();
        name.push(".locks");
        Some(name.into())
    }
}

#[cfg(test)]
mod tests;
