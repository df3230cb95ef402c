//! The store this run keeps secrets in (`--store`, `$TOKENTRAY_STORE`),
//! opened on first use and at most once per process: the file store's
//! passphrase is asked for once and its key derived once, however many
//! parts of a command use the vault, and not at all by a command that
//! turns out not to need it.

use std::sync::{Arc, OnceLock};
use tokentray_core::vault::passphrase::Ask;
use tokentray_core::vault::{choice, StoreKind, Vault};
use tokentray_core::{Error, Result, Secret};

/// The chosen store, opened on first use. It is itself a [`Vault`] that
/// opens the store when first read or written.
pub struct Store {
    kind: StoreKind,
    opened: OnceLock<Arc<dyn Vault>>,
}

impl Store {
    /// The store named on the command line (or by `$TOKENTRAY_STORE`).
    pub fn new(kind: StoreKind) -> Self {
        Self {
            kind,
            opened: OnceLock::new(),
        }
    }

    /// Which store it is.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The vault, for a command that reads or writes it itself. The memory
    /// store lives only inside an agent, so here it is an error that says
    /// so.
    pub fn vault(&self) -> Result<Arc<dyn Vault>> {
        if self.kind == StoreKind::Memory {
            return Err(memory_needs_agent());
        }
        self.open()
    }

    /// The vault the agent serves from (the memory store included).
    pub fn agent_vault(&self) -> Result<Arc<dyn Vault>> {
        self.open()
    }

    fn open(&self) -> Result<Arc<dyn Vault>> {
        if let Some(vault) = self.opened.get() {
            return Ok(Arc::clone(vault));
        }
        let vault = choice::open(self.kind, Ask::Terminal)?;
        Ok(Arc::clone(self.opened.get_or_init(|| vault)))
    }
}

impl Vault for Store {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.vault()?.get(key)
    }

    fn put(&self, key: &str, value: &Secret) -> Result<()> {
        self.vault()?.put(key, value)
    }

    fn delete(&self, key: &str) -> Result<bool> {
        self.vault()?.delete(key)
    }
}

/// What a command that needs the memory store says when no agent holds it.
pub fn memory_needs_agent() -> Error {
    Error::InvalidInput(format!(
        "`--store memory` keeps tokens only inside a running `tokentray agent --store memory`, and no agent answers on {}: start one (`tokentray agent --store memory &`), then sign in through it (`tokentray --store memory login PROFILE --device`)",
        socket_name()
    ))
}

fn socket_name() -> String {
    tokentray_core::ipc::endpoint::from_env()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "its socket".into())
}
