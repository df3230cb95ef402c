//! Every change to accounts and profiles, through the broker: each takes
//! the same locks as a refresh (so a sign-out waits for a refresh in
//! flight, and a refresh that ends after a sign-out never writes its
//! account back) and announces itself with the same events, so the
//! scheduler plans imported accounts and every face redraws without being
//! told.

use super::{Broker, Event, Grants};
use crate::account::{Account, CachedToken};
use crate::error::Result;
use crate::profile::{self, Profile};
use crate::secret::ClientSecret;
use crate::token::{ScopeSet, TokenSet};

impl<G: Grants> Broker<G> {
    /// Stores a completed interactive sign-in and announces it.
    pub async fn complete_sign_in(&self, profile: &Profile, tokens: &TokenSet) -> Result<Account> {
        self.store_account(profile, tokens, &ScopeSet::new(&profile.scopes), None)
            .await
    }

    /// Stores an account taken over from another tool's cache (the MSAL
    /// import): its tokens, plus the access tokens that tool still had.
    pub async fn import_account(
        &self,
        profile: &Profile,
        tokens: &TokenSet,
        access_tokens: Vec<CachedToken>,
    ) -> Result<Account> {
        self.store_account(
            profile,
            tokens,
            &ScopeSet::new(&tokens.scopes),
            Some(access_tokens),
        )
        .await
    }

    /// Writes a new account under the profile's locks. A replaced record
    /// of the same identity is never raced by a refresh of the old one.
    async fn store_account(
        &self,
        profile: &Profile,
        tokens: &TokenSet,
        asked: &ScopeSet,
        access_tokens: Option<Vec<CachedToken>>,
    ) -> Result<Account> {
        let flight = tokens
            .identity
            .as_ref()
            .map(|identity| self.flight(&Account::id_for(&profile.name, identity)));
        let _in_flight = match &flight {
            Some(flight) => Some(flight.lock().await),
            None => None,
        };
        // A kept rotation of an earlier sign-in is obsolete now, and holds
        // the profile's lock: let it go first.
        self.inner.pending.drop_profile(&profile.name);
        let _lock = self.lock_across_processes(&profile.name).await?;
        let accounts = &self.inner.accounts;
        let account = accounts.save_sign_in(&profile.name, tokens, asked)?;
        if let Some(access_tokens) = access_tokens {
            let stored = accounts.record(&account).and_then(|record| {
                let mut record = record.unwrap_or_default();
                record.access_tokens = access_tokens;
                accounts.write_record(&account, &record)
            });
            if let Err(error) = stored {
                let _ = accounts.remove(&account);
                return Err(error);
            }
        }
        let cache = accounts.record(&account)?.unwrap_or_default().access_tokens;
        self.remember(&account.id, cache);
        self.inner.activity.clear(&profile.name);
        self.emit(Event::AccountsChanged);
        Ok(account)
    }

    /// Signs out: waits for a refresh in flight (the account's single
    /// flight and the profile's lock), revokes the newest refresh token
    /// where the provider can, then deletes the account's vault entries. A
    /// failed revocation does not keep the tokens: they are deleted all
    /// the same.
    pub async fn sign_out(&self, profile_name: &str) -> Result<Option<Account>> {
        let profile = self.inner.profiles.get(profile_name)?;
        // Another process may have signed in since the list was read.
        self.inner.accounts.reload();
        let Some(first) = self.inner.accounts.for_profile(profile_name)? else {
            return Ok(None);
        };
        let flight = self.flight(&first.id);
        let _in_flight = flight.lock().await;
        let (_lock, kept) = match self.inner.pending.take(&first.id) {
            Some(kept) => (kept.lock, Some(kept.record)),
            None => (self.lock_across_processes(profile_name).await?, None),
        };
        // Read again under the locks: a refresh that ended meanwhile
        // rotated the refresh token, here or in another process.
        self.inner.accounts.reload();
        let account = self.inner.accounts.for_profile(profile_name)?;
        let record = match (&kept, &account) {
            (Some(kept), _) => Some(kept.clone()),
            (None, Some(account)) => self.inner.accounts.record(account).unwrap_or_default(),
            (None, None) => None,
        };
        self.revoke_quietly(
            &profile,
            record.as_ref().and_then(|r| r.refresh_token.as_ref()),
        )
        .await;
        if let Some(account) = &account {
            self.inner.accounts.remove(account)?;
            self.forget(&account.id);
        }
        self.forget(&first.id);
        self.inner.activity.clear(profile_name);
        self.emit(Event::AccountsChanged);
        Ok(account.or(Some(first)))
    }

    /// Removes an account without revoking anything (an import rolled
    /// back: the tool it came from still holds its tokens).
    pub async fn discard(&self, account: &Account) -> Result<()> {
        let flight = self.flight(&account.id);
        let _in_flight = flight.lock().await;
        let _lock = self.lock_across_processes(&account.profile).await?;
        self.inner.accounts.remove(account)?;
        self.forget(&account.id);
        self.emit(Event::AccountsChanged);
        Ok(())
    }

    /// Adds a profile, its client secret (when given) to the vault first.
    pub fn add_profile(
        &self,
        profile: &Profile,
        client_secret: Option<&ClientSecret>,
    ) -> Result<()> {
        profile::add_profile(
            &self.inner.profiles,
            &*self.inner.vault,
            profile,
            client_secret,
        )?;
        self.emit(Event::ProfilesChanged);
        Ok(())
    }

    /// Replaces the profile of the same name.
    pub fn replace_profile(&self, profile: &Profile) -> Result<()> {
        self.inner.profiles.replace(profile)?;
        self.emit(Event::ProfilesChanged);
        Ok(())
    }

    /// Stores or replaces a profile's client secret.
    pub fn set_client_secret(&self, profile: &str, secret: &ClientSecret) -> Result<()> {
        profile::store_client_secret(&*self.inner.vault, profile, secret)?;
        self.emit(Event::ProfilesChanged);
        Ok(())
    }

    /// Removes a profile and its client secret; with `sign_out`, its
    /// account is signed out first (revoked and deleted).
    pub async fn remove_profile(&self, name: &str, sign_out: bool) -> Result<Profile> {
        if sign_out {
            self.sign_out(name).await?;
        }
        let profile = profile::remove_profile(&self.inner.profiles, &*self.inner.vault, name)?;
        self.emit(Event::ProfilesChanged);
        Ok(profile)
    }
}
