//! Getting a token for `token`, `exec` and `git-credential`: from the
//! agent over its socket when one listens (the blocking std client: no
//! async runtime, no TLS, nothing but one frame each way), else from the
//! core directly ([`crate::direct`]). Never starts a sign-in (S8): a token
//! request that needs one fails with "sign-in required" (exit 3).

use crate::cli::TokenOptions;
use crate::output::Failure;
use crate::store::Store;
use tokentray_core::ipc::protocol::{TokenParams, TokenReply};

/// A token for `profile`, from the agent or the vault.
pub fn get(profile: &str, options: &TokenOptions, store: &Store) -> Result<TokenReply, Failure> {
    let params = params(profile, options);
    let served = match from_agent(&params) {
        Ok(Some(reply)) => Ok(reply),
        Ok(None) => crate::direct::token(params, store),
        Err(failure) => Err(failure),
    };
    served.map_err(|failure| failure.with_login_hint(profile))
}

/// The request for `profile` with these options.
pub fn params(profile: &str, options: &TokenOptions) -> TokenParams {
    TokenParams {
        profile: profile.to_string(),
        scopes: (!options.scopes.is_empty()).then(|| options.scopes.clone()),
        min_valid: options.min_valid,
        force_refresh: options.force_refresh,
    }
}

/// The agent's answer; `Ok(None)` when no agent listens. A busy agent is
/// asked again a few times.
pub fn from_agent(params: &TokenParams) -> Result<Option<TokenReply>, Failure> {
    use tokentray_core::ipc::client::{Client, ClientError};
    let client = Client::from_env()?;
    let mut tries = 0;
    loop {
        match client.token(params.clone()) {
            Err(ClientError::Agent(reply))
                if matches!(reply.kind, tokentray_core::ErrorKind::Busy) && tries < 5 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 << tries));
            }
            other => return Ok(other?),
        }
    }
}
