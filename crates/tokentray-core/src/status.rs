//! Where every profile stands: signed in, signed out or in need of a
//! sign-in, with its account, expiries and what the broker is doing for it
//! (refreshing, or the last refresh's failure). Computed once, here, for
//! every face: the agent's `status` answer, the CLI without an agent, the
//! tray menu and the accounts window.

use crate::account::AccountInfo;
use crate::account::AccountStore;
use crate::broker::{Activity, Broker, Grants};
use crate::error::{Error, Result};
use crate::profile::{LoginMode, Preset, ProfileStore};
use crate::token::{now, EpochSecs, ScopeSet};
use serde::{Deserialize, Serialize};

/// Every profile's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReply {
    /// One entry per profile, in file order.
    pub profiles: Vec<ProfileStatus>,
}

/// Whether a profile can get tokens without the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInState {
    /// An account is signed in and usable (or, for client credentials, no
    /// account is needed).
    SignedIn,
    /// No account.
    SignedOut,
    /// The account needs an interactive sign-in again (see `reason`).
    SignInRequired,
}

/// One profile's state. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileStatus {
    /// The profile's name.
    pub name: String,
    /// Its provider preset.
    pub provider: Preset,
    /// How it signs in.
    pub login: LoginMode,
    /// The signed-in account, if any.
    pub account: Option<AccountInfo>,
    /// Signed in, out, or in need of a sign-in.
    pub state: SignInState,
    /// Why a sign-in is required, when it is.
    pub reason: Option<String>,
    /// Expiry of the cached access token for the profile's default scopes,
    /// when one is cached and still valid.
    pub access_expires_on: Option<EpochSecs>,
    /// Expiry of the refresh token, when the provider said.
    pub refresh_expires_on: Option<EpochSecs>,
    /// Whether getting a token will need the user (a script can check this
    /// before it runs).
    pub needs_interaction: bool,
    /// A refresh request is out at the provider now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refreshing: bool,
    /// The error kind or provider code of the last refresh, when it failed
    /// (the account may recover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_failed: Option<String>,
}

/// Every profile's state, from the profiles file, the vault and the
/// broker's activity. The account list is read from the vault afresh: a
/// sign-in or sign-out by another process must show.
pub fn collect<G: Grants>(broker: &Broker<G>) -> Result<StatusReply> {
    collect_from(broker.profiles(), broker.accounts(), |profile| {
        broker.activity(profile)
    })
}

/// The same from the profiles file and the vault alone, for a process
/// that runs no broker (`tokentray status` without an agent: no refresh of
/// its own is in flight, so `activity` says nothing); no HTTP client is
/// built for it.
pub fn collect_from(
    profiles: &ProfileStore,
    store: &AccountStore,
    activity: impl Fn(&str) -> Activity,
) -> Result<StatusReply> {
    store.reload();
    let accounts = store.list()?;
    let at = now();
    let profiles = profiles
        .load()?
        .into_iter()
        .map(|profile| {
            let activity = activity(&profile.name);
            let mut entry = ProfileStatus {
                name: profile.name.clone(),
                provider: profile.provider.preset(),
                login: profile.login,
                account: None,
                state: SignInState::SignedOut,
                reason: None,
                access_expires_on: None,
                refresh_expires_on: None,
                needs_interaction: true,
                refreshing: activity.refreshing,
                refresh_failed: activity.failed,
            };
            if profile.login == LoginMode::ClientCredentials {
                // No account and no user: the client secret is the sign-in.
                entry.state = SignInState::SignedIn;
                entry.needs_interaction = false;
                return Ok(entry);
            }
            let Some(account) = accounts
                .iter()
                .filter(|a| a.profile == profile.name)
                .max_by_key(|a| a.signed_in_at)
            else {
                return Ok(entry);
            };
            entry.account = Some(account.into());
            // A missing or damaged record is this profile's trouble only:
            // reported on its line, the other profiles are listed as usual.
            let record = match store.record(account) {
                Ok(Some(record)) => record,
                Ok(None) => return Ok(needs_sign_in(entry, account.missing_record_reason())),
                Err(error @ Error::VaultCorrupt { .. }) => {
                    return Ok(needs_sign_in(entry, error.to_string()))
                }
                Err(error) => return Err(error),
            };
            entry.access_expires_on = record
                .access_token(&ScopeSet::new(&profile.scopes))
                .map(|t| t.expires_at)
                .filter(|&expiry| expiry > at);
            entry.refresh_expires_on = record.refresh_expires_at;
            let refresh_usable = record.refresh_token.is_some()
                && record.refresh_expires_at.is_none_or(|expiry| expiry > at);
            if let Some(reason) = &account.sign_in_required {
                entry.state = SignInState::SignInRequired;
                entry.reason = Some(reason.clone());
                entry.refreshing = false;
                entry.refresh_failed = None;
            } else {
                entry.state = SignInState::SignedIn;
                entry.needs_interaction = !refresh_usable && entry.access_expires_on.is_none();
            }
            Ok(entry)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(StatusReply { profiles })
}

/// `entry` in need of a sign-in, for `reason`.
fn needs_sign_in(mut entry: ProfileStatus, reason: String) -> ProfileStatus {
    entry.state = SignInState::SignInRequired;
    entry.reason = Some(reason);
    entry.needs_interaction = true;
    entry.refreshing = false;
    entry.refresh_failed = None;
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::testing::{setup, sign_in};
    use crate::secret::Secret;
    use crate::vault::Vault;

    // S24: a damaged or deleted record is reported on its profile's line,
    // with the reason; `status` itself still answers.
    #[tokio::test]
    async fn a_damaged_or_deleted_record_is_reported_on_its_line() {
        let s = setup(LoginMode::Device, false);
        let account = sign_in(&s, 3600);
        let line = || {
            let reply = collect(&s.broker).unwrap();
            let entry = reply.profiles.into_iter().next().unwrap();
            assert_eq!(entry.state, SignInState::SignInRequired);
            assert!(entry.needs_interaction);
            entry.reason.unwrap()
        };
        s.vault
            .put(&account.record_key(), &Secret::new("{"))
            .unwrap();
        assert!(line().contains("is damaged"));
        s.vault.delete(&account.record_key()).unwrap();
        assert!(line().contains("missing from the vault"));
    }

    #[tokio::test]
    async fn a_refresh_in_flight_shows_as_refreshing_then_the_new_expiry() {
        let s = setup(LoginMode::Device, false);
        sign_in(&s, 10);
        s.grants.set_slow(std::time::Duration::from_millis(300));
        let refreshing = {
            let broker = s.broker.clone();
            tokio::spawn(async move {
                broker
                    .token(&crate::broker::TokenRequest::for_profile("p"))
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let line = || collect(&s.broker).unwrap().profiles.remove(0);
        assert!(line().refreshing);
        let served = refreshing.await.unwrap().unwrap();
        let after = line();
        assert!(!after.refreshing);
        assert_eq!(after.access_expires_on, Some(served.token.expires_at));
    }

    #[tokio::test]
    async fn a_failed_refresh_shows_with_its_code_until_one_works() {
        let s = setup(LoginMode::Device, false);
        sign_in(&s, 10);
        s.grants.set_failure(Some("temporarily_unavailable"));
        let request = crate::broker::TokenRequest {
            force_refresh: true,
            ..crate::broker::TokenRequest::for_profile("p")
        };
        assert!(s.broker.token(&request).await.is_err());
        let line = || collect(&s.broker).unwrap().profiles.remove(0);
        assert_eq!(
            line().refresh_failed.as_deref(),
            Some("temporarily_unavailable")
        );
        assert!(!line().refreshing);
        s.grants.set_failure(None);
        s.broker.token(&request).await.unwrap();
        assert_eq!(line().refresh_failed, None);
        assert_eq!(line().state, SignInState::SignedIn);
    }
}
