//! Where every profile stands: signed in, signed out or in need of a
//! sign-in, with its account and expiries. One answer for the agent's
//! `status` request, the CLI without an agent and the tray.

use crate::account::AccountStore;
use crate::error::{Error, Result};
use crate::ipc::protocol::{AccountInfo, ProfileStatus, SignInState, StatusReply};
use crate::profile::{LoginMode, ProfileStore};
use crate::token::{now, ScopeSet};

/// Every profile's state, from the profiles file and the vault. The account
/// list is read from the vault afresh: a sign-in or sign-out by another
/// process must show.
pub fn collect(profiles: &ProfileStore, accounts: &AccountStore) -> Result<StatusReply> {
    accounts.reload();
    let store = accounts;
    let accounts = store.list()?;
    let at = now();
    let profiles = profiles
        .load()?
        .into_iter()
        .map(|profile| {
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
            entry.account = Some(AccountInfo {
                label: account.label().to_string(),
                issuer: account.identity.issuer.clone(),
                subject: account.identity.subject.clone(),
            });
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
    #[test]
    fn a_damaged_or_deleted_record_is_reported_on_its_line() {
        let s = setup(LoginMode::Device, false);
        let account = sign_in(&s, 3600);
        let line = || {
            let reply = collect(s.broker.profiles(), s.broker.accounts()).unwrap();
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
}
