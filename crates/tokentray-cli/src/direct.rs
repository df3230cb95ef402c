//! Using the core directly, for when no agent runs: the core's broker over
//! the chosen store on a current-thread runtime. Its refreshes, sign-ins
//! and sign-outs take the per-profile lock of the vault
//! (`tokentray_core::lock`), shared with every other Tokentray process on
//! the same vault, so two processes never refresh the same account at once.
//! A token passes the profile's access policy first, as in the agent.

use crate::output::Failure;
use crate::store::Store;
use std::sync::Arc;
use tokentray_core::access::{Action, Gate, NoConsent, Outcome, Request};
use tokentray_core::agent;
use tokentray_core::audit::AuditLog;
use tokentray_core::broker::{Broker, TokenRequest};
use tokentray_core::caller::Caller;
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

/// A token from the vault, refreshed when due, when the profile's access
/// policy lets the program that runs this command have it (the same
/// decision the agent makes, [`tokentray_core::access`], with nobody to
/// ask); recorded in the audit trail like the agent's.
pub fn token(params: TokenParams, store: &Store) -> std::result::Result<TokenReply, Failure> {
    let broker = broker(store)?;
    let profile = broker.profiles().get(&params.profile)?;
    let request = TokenRequest::from(params).for_program(&profile);
    let scopes = request.scopes_of(&profile);
    let account = broker.account_label(&profile.name);
    let asked = Request {
        profile: &profile,
        action: Action::Token,
        asked: request.scopes.as_deref(),
        scopes: &scopes,
        account: account.clone(),
    };
    let gate = Gate::new(broker.profiles().clone(), Arc::new(NoConsent));
    let me = std::sync::OnceLock::new();
    let caller = || {
        me.get_or_init(|| Caller::of_pid(std::process::id()))
            .clone()
    };
    let runtime = runtime()?;
    let audit = AuditLog::from_env().ok();
    let record = |outcome: Outcome| {
        if let Some(audit) = &audit {
            audit.append(&outcome.entry(&caller(), Some(TRANSPORT)));
        }
    };
    let outcome = |verdict, scopes| Outcome {
        profile: profile.name.clone(),
        account: account.clone(),
        scopes,
        action: Action::Token,
        verdict,
    };
    let verdict = match runtime.block_on(gate.decide(asked, false, || Some(caller()))) {
        Ok(verdict) => verdict,
        Err(refused) => {
            record(outcome(refused.verdict, scopes.clone()));
            return Err(refused.error.into());
        }
    };
    let served = runtime.block_on(broker.token(&request))?;
    let verdict = if served.rate_limited {
        verdict.rate_limited(&profile)
    } else {
        verdict
    };
    record(outcome(verdict, served.token.scopes.clone()));
    Ok(served.into())
}

/// How the audit trail names this path.
const TRANSPORT: &str = "direct";
