//! Which store holds the secrets, always chosen explicitly (S24): the OS
//! vault unless `--store` or `$TOKENTRAY_STORE` names another, and never a
//! silent fallback from one to another.

use super::passphrase::Ask;
use super::{KeyringVault, MemoryVault, Vault};
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// Environment variable that chooses the store (a `--store` option wins).
pub const STORE_ENV: &str = "TOKENTRAY_STORE";

/// Environment variable that names the vault file of the file store.
pub const VAULT_FILE_ENV: &str = "TOKENTRAY_VAULT_FILE";

/// The stores a face can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// The OS vault (Secret Service, Keychain, Credential Manager).
    #[default]
    Keyring,
    /// The encrypted file ([`super::FileVault`]).
    File,
    /// Memory only: the secrets die with the process (`tokentray agent
    /// --store memory` for throwaway sessions).
    Memory,
}

impl StoreKind {
    /// The name used by `--store` and `$TOKENTRAY_STORE`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
            StoreKind::Memory => "memory",
        }
    }

    /// `$TOKENTRAY_STORE`, or the OS vault when it is unset or empty.
    pub fn from_env() -> Result<StoreKind> {
        match std::env::var(STORE_ENV) {
            Ok(value) if !value.is_empty() => value
                .parse()
                .map_err(|e: String| Error::InvalidInput(format!("{STORE_ENV}: {e}"))),
            _ => Ok(StoreKind::Keyring),
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StoreKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "keyring" => Ok(StoreKind::Keyring),
            "file" => Ok(StoreKind::File),
            "memory" => Ok(StoreKind::Memory),
            other => Err(format!(
                "unknown store `{other}`: use keyring, file or memory"
            )),
        }
    }
}

/// The file store's file: `$TOKENTRAY_VAULT_FILE`, else `vault.bin` in the
/// data directory (`$XDG_DATA_HOME/tokentray` on Linux).
pub fn file_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(VAULT_FILE_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_absolute() {
            return Err(Error::InvalidInput(format!(
                "{VAULT_FILE_ENV}={} is not an absolute path",
                path.display()
            )));
        }
        return Ok(path);
    }
    // the local data directory: the same as the data directory on Linux
    // and macOS; on Windows `%LOCALAPPDATA%`, never the roaming profile
    directories::ProjectDirs::from("dev", "tokentray", "tokentray")
        .map(|dirs| dirs.data_local_dir().join("vault.bin"))
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "cannot find a home directory for the vault file; set {VAULT_FILE_ENV}"
            ))
        })
}

/// Opens the store: for the file store, finds the passphrase (`ask` says
/// whether the terminal may be asked) and derives the key, once.
pub fn open(kind: StoreKind, ask: Ask) -> Result<Arc<dyn Vault>> {
    match kind {
        StoreKind::Keyring => Ok(Arc::new(KeyringVault::os())),
        StoreKind::Memory => Ok(Arc::new(MemoryVault::in_memory())),
        StoreKind::File => open_file(ask),
    }
}

fn open_file(ask: Ask) -> Result<Arc<dyn Vault>> {
    let path = file_path()?;
    let creating = !super::file::exists(&path)?;
    let passphrase = super::passphrase::passphrase_for(&path, creating, ask)?;
    Ok(Arc::new(super::FileVault::unlock(&path, &passphrase)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_parse_and_print() {
        for kind in [StoreKind::Keyring, StoreKind::File, StoreKind::Memory] {
            assert_eq!(kind.as_str().parse::<StoreKind>().unwrap(), kind);
        }
        let err = "plaintext".parse::<StoreKind>().unwrap_err();
        assert!(err.contains("keyring, file or memory"), "{err}");
    }
}
