//! Using the core directly, for when no agent runs: the core's broker over
//! the chosen store on a current-thread runtime. Its refreshes, sign-ins
//! and sign-outs take the per-profile lock of the vault
//! (`tokentray_core::lock`), shared with every other Tokentray process on
//! the same vault, so two processes never refresh the same account at once.

use crate::output::Failure;
use crate::store::Store;
use tokentray_core::agent;
use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::ipc::protocol::{TokenParams, TokenReply};
use tokentray_core::profile::ProfileStore;
use tokentray_core::{Error, Result};

/// The core's broker over the chosen store and the default profiles file.
pub fn broker(store: &Store) -> Result<Broker<OAuth>> {
    agent::broker(store.vault()?, ProfileStore::open_default()?)
}

/// A runtime on this thread only: one command, one task at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))
}

/// A token from the vault, refreshed when due.
pub fn token(params: TokenParams, store: &Store) -> std::result::Result<TokenReply, Failure> {
    let broker = broker(store)?;
    let served = runtime()?.block_on(broker.token(&params.into()))?;
    Ok(served.into())
}
