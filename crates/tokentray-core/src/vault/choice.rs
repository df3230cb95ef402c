//! Which store holds the secrets, always chosen explicitly (S24): the OS
//! vault unless `--store` or `$TOKENTRAY_STORE` names another, and never a
//! silent fallback from one to another.

use super::passphrase::Ask;
use super::{KeyringVault, MemoryVault, Vault};
use crate::error::{Error, Result};
use std::sync::Arc;

/// Environment variable that chooses the store (a `--store` option wins).
pub const STORE_ENV: &str = "TOKENTRAY_STORE";

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

/// Opens the store: for the file store, finds the passphrase (`ask` says
/// whether the terminal may be asked) and derives the key, once.
pub fn open(kind: StoreKind, ask: Ask) -> Result<Arc<dyn Vault>> {
    match kind {
        StoreKind::Keyring => Ok(Arc::new(KeyringVault::os())),
        StoreKind::Memory => Ok(Arc::new(MemoryVault::in_memory())),
        StoreKind::File => open_file(ask),
    }
}

#[cfg(unix)]
fn open_file(ask: Ask) -> Result<Arc<dyn Vault>> {
    let path = super::file::default_path()?;
    let creating = !super::file::exists(&path)?;
    let passphrase = super::passphrase::passphrase_for(&path, creating, ask)?;
    Ok(Arc::new(super::FileVault::unlock(&path, &passphrase)?))
}

#[cfg(not(unix))]
fn open_file(_ask: Ask) -> Result<Arc<dyn Vault>> {
    Err(Error::InvalidInput(
        "the encrypted file store is available on Linux and the BSDs; use the OS vault (--store keyring)".into(),
    ))
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
