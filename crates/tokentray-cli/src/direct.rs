//! Using the core directly, for when no agent runs: a broker over the
//! chosen store on a current-thread runtime, with the per-profile file lock
//! (`tokentray_core::broker::lock`) that keeps two Tokentray processes from
//! refreshing the same account at once.

use crate::output::Failure;
use crate::store::Store;
use std::sync::Arc;
use tokentray_core::broker::{lock, Broker, TokenRequest};
use tokentray_core::flow::OAuth;
use tokentray_core::http::HttpClient;
use tokentray_core::ipc::protocol::{TokenParams, TokenReply};
use tokentray_core::profile::ProfileStore;
use tokentray_core::vault::Vault;
use tokentray_core::{Error, Result};

/// A broker over the chosen store and the default profiles file, whose
/// refreshes take the per-profile lock shared with every other Tokentray
/// process.
pub fn broker(store: &Store) -> Result<Broker<OAuth>> {
    broker_over(store.vault()?)
}

/// The same over a given vault (the agent's, which may be in memory).
pub fn broker_over(vault: Arc<dyn Vault>) -> Result<Broker<OAuth>> {
    let broker = Broker::new(
        OAuth::new(HttpClient::with_defaults()?),
        vault,
        ProfileStore::open_default()?,
    );
    broker.lock_refreshes_in(lock::default_dir()?);
    Ok(broker)
}

/// A runtime on this thread only: one command, one task at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))
}

/// Takes the profile's cross-process lock (around a sign-in or sign-out
/// that writes the vault). Blocking.
pub fn lock_profile(profile: &str) -> Result<lock::ProfileLock> {
    lock::lock_profile(&lock::default_dir()?, profile)
}

/// A token from the vault, refreshed when due (the broker takes the
/// profile's lock).
pub fn token(params: TokenParams, store: &Store) -> std::result::Result<TokenReply, Failure> {
    let broker = broker(store)?;
    let request = TokenRequest {
        profile: params.profile,
        scopes: params.scopes,
        min_valid: params.min_valid.map(std::time::Duration::from_secs),
        force_refresh: params.force_refresh,
    };
    let token = runtime()?.block_on(broker.token(&request))?;
    let account = broker
        .accounts()
        .for_profile(&request.profile)
        .ok()
        .flatten()
        .map(|a| a.label().to_string());
    Ok(TokenReply::new(token, &request.profile, account))
}
