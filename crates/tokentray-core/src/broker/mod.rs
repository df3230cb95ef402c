//! The broker: the façade every face calls, for a token and for every
//! change to accounts and profiles.
//!
//! `token(request)` answers from memory while the cached token is fresh
//! (before expiry minus the margin, or before half its lifetime when that
//! is later), else from the vault, else refreshes — once per account
//! however many callers ask at the same time (single flight, S14): callers
//! queue on the account's async lock and, once inside, look at the cache
//! again before refreshing. Across processes the profile's file lock
//! ([`crate::lock`], in the directory the vault names) does the same. A
//! rotated refresh token is stored and read back before the new access
//! token is handed out (S15); when the vault refuses that write, the new
//! record stays in memory as the one to use and its write is retried
//! ([`pending`]), so the retired refresh token is never replayed. The
//! answer says which account served ([`Served`]).
//!
//! Sign-in, sign-out, import and profile changes go through the broker
//! too, under the same locks (a sign-out waits for a refresh in flight),
//! and every change is published on a broadcast channel of [`Event`]s.
//!
//! Terminal provider answers (`invalid_grant`, `interaction_required`, …)
//! mark the account "sign-in required" and are never retried (S13);
//! network failures are retried a bounded number of times with jittered
//! backoff, and a still-valid cached token keeps being served meanwhile.

use crate::account::{AccountInfo, AccountStore, CachedToken};
use crate::error::Result;
use crate::lock::{LockDir, ProfileLock, DEFAULT_WAIT};
use crate::profile::{Profile, ProfileStore};
use crate::secret::{ClientSecret, RefreshToken};
use crate::token::{AccessToken, EpochSecs, Identity, ScopeSet, TokenSet};
use crate::vault::Vault;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

mod activity;
mod changes;
mod client_credentials;
mod oauth;
mod pending;
mod serve;

pub use activity::Activity;

/// Provider error codes after which only an interactive sign-in helps.
pub const TERMINAL_CODES: [&str; 4] = [
    "invalid_grant",
    "interaction_required",
    "consent_required",
    "login_required",
];

/// The grants the broker needs from the OAuth layer.
pub trait Grants: Send + Sync + 'static {
    /// Redeems a refresh token for `scopes`; validates any ID token against
    /// `previous` (same issuer and subject).
    fn refresh(
        &self,
        profile: &Profile,
        refresh_token: &RefreshToken,
        scopes: &[String],
        previous: Option<&Identity>,
    ) -> impl Future<Output = Result<TokenSet>> + Send;

    /// Client credentials grant with the profile's client secret.
    fn client_credentials(
        &self,
        profile: &Profile,
        client_secret: &ClientSecret,
        scopes: &[String],
    ) -> impl Future<Output = Result<TokenSet>> + Send;

    /// Revokes a refresh token (RFC 7009); `Ok(false)` when the provider has
    /// no revocation endpoint.
    fn revoke(
        &self,
        profile: &Profile,
        refresh_token: &RefreshToken,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// What happened, for the faces (menus, notifications) and the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Accounts were added, removed or changed state.
    AccountsChanged,
    /// Profiles were added, changed or removed.
    ProfilesChanged,
    /// A refresh request went out to the provider.
    Refreshing {
        /// The profile.
        profile: String,
    },
    /// A token was refreshed.
    Refreshed {
        /// The profile.
        profile: String,
        /// The new access token's expiry.
        expires_at: EpochSecs,
    },
    /// A refresh failed but the account may recover (network, provider
    /// trouble).
    RefreshFailed {
        /// The profile.
        profile: String,
        /// The error kind, or the provider's error code.
        code: String,
    },
    /// The provider rotated the refresh token and the vault refused to
    /// store it: it is kept in memory and the write retried; if this
    /// process ends first, the account needs a new sign-in.
    VaultWriteFailed {
        /// The profile.
        profile: String,
        /// What the vault said.
        message: String,
    },
    /// A token the user copied expires soon (a reminder they asked for).
    ExpiringSoon {
        /// The profile.
        profile: String,
        /// When the copied token expires.
        expires_at: EpochSecs,
    },
    /// The refresh token ends soon: a sign-in will be needed then.
    RefreshTokenExpiring {
        /// The profile.
        profile: String,
        /// When it ends.
        expires_at: EpochSecs,
    },
    /// Only an interactive sign-in can help.
    SignInRequired {
        /// The profile.
        profile: String,
        /// Why, e.g. the provider's `invalid_grant`.
        reason: String,
    },
    /// A program took a token of an `access = "any"` profile for the
    /// first time (first in the audit trail): the user may want to know.
    NewProgram {
        /// The profile.
        profile: String,
        /// The program and its parents (`python3 /home/a/sync.py ← bash`).
        program: String,
    },
}

/// How network failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (≥ 1).
    pub attempts: u32,
    /// First delay; doubled each time, with ±50 % jitter.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// A broker's tunables.
#[derive(Debug, Clone, Copy)]
pub struct BrokerOptions {
    /// Retries of network failures.
    pub retry: RetryPolicy,
    /// How long to wait for another process's refresh lock.
    pub lock_wait: Duration,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lock_wait: DEFAULT_WAIT,
        }
    }
}

/// A request for an access token.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// The profile's name.
    pub profile: String,
    /// Scopes; `None` means the profile's default scopes.
    pub scopes: Option<Vec<String>>,
    /// The token must stay valid at least this long; a cached token with
    /// less time left is refreshed.
    pub min_valid: Option<Duration>,
    /// Refresh even if the cached token is still fine ("Refresh now").
    pub force_refresh: bool,
    /// With `force_refresh`: a token issued less than this long ago is
    /// served instead of refreshing again (a profile's
    /// `force_refresh_interval`, for requests of programs; the tray's
    /// "Refresh now" sets none).
    pub force_cooldown: Option<Duration>,
}

impl TokenRequest {
    /// This request as a program's (through the agent or the CLI):
    /// forced refreshes limited by the profile's `force_refresh_interval`.
    pub fn for_program(mut self, profile: &Profile) -> Self {
        self.force_cooldown = Some(Duration::from_secs(profile.force_refresh_interval_secs));
        self
    }

    /// The scopes it gets: its own, else the profile's defaults.
    pub fn scopes_of(&self, profile: &Profile) -> Vec<String> {
        self.scopes
            .clone()
            .unwrap_or_else(|| profile.scopes.clone())
    }

    /// A request for the profile's default scopes.
    pub fn for_profile(profile: &str) -> Self {
        Self {
            profile: profile.to_string(),
            ..Self::default()
        }
    }
}

/// A token the broker handed out, with what served it: the one answer
/// every face renders (the socket's reply, the CLI's formats, the tray's
/// clipboard).
#[derive(Debug, Clone)]
pub struct Served {
    /// The token.
    pub token: AccessToken,
    /// The profile it is for.
    pub profile: String,
    /// The account it belongs to; `None` for client credentials.
    pub account: Option<AccountInfo>,
    /// A forced refresh was asked within the cooldown: this is the token
    /// the last refresh brought.
    pub rate_limited: bool,
}

/// The token broker. Cheap to clone; all clones share one cache.
pub struct Broker<G> {
    inner: Arc<Inner<G>>,
}

impl<G> Clone for Broker<G> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<G> {
    grants: G,
    vault: Arc<dyn Vault>,
    accounts: AccountStore,
    profiles: ProfileStore,
    /// Access tokens in memory, by cache id (account id, or `cc/PROFILE`).
    memory: Mutex<HashMap<String, Vec<CachedToken>>>,
    /// One async lock per cache id: the single flight.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Rotated records the vault refused, by account id.
    pending: pending::Pending,
    /// What each profile is doing (refreshing, last failure).
    activity: activity::Board,
    events: broadcast::Sender<Event>,
    options: BrokerOptions,
}

impl<G: Grants> Broker<G> {
    /// A broker over these grants, vault and profiles.
    pub fn new(grants: G, vault: Arc<dyn Vault>, profiles: ProfileStore) -> Self {
        Self::with_options(grants, vault, profiles, BrokerOptions::default())
    }

    /// Same, with a retry policy of its own (tests use short delays).
    pub fn with_retry(
        grants: G,
        vault: Arc<dyn Vault>,
        profiles: ProfileStore,
        retry: RetryPolicy,
    ) -> Self {
        let options = BrokerOptions {
            retry,
            ..BrokerOptions::default()
        };
        Self::with_options(grants, vault, profiles, options)
    }

    /// Same, with every tunable.
    pub fn with_options(
        grants: G,
        vault: Arc<dyn Vault>,
        profiles: ProfileStore,
        options: BrokerOptions,
    ) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                grants,
                accounts: AccountStore::new(Arc::clone(&vault)),
                vault,
                profiles,
                memory: Mutex::new(HashMap::new()),
                flights: Mutex::new(HashMap::new()),
                pending: pending::Pending::default(),
                activity: activity::Board::default(),
                events,
                options,
            }),
        }
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The grants (for sign-in flows run by the faces).
    pub fn grants(&self) -> &G {
        &self.inner.grants
    }

    /// The account store (reads; changes go through the broker).
    pub fn accounts(&self) -> &AccountStore {
        &self.inner.accounts
    }

    /// The profile store (reads; changes go through the broker).
    pub fn profiles(&self) -> &ProfileStore {
        &self.inner.profiles
    }

    /// The vault the broker keeps its secrets in.
    pub fn vault(&self) -> &Arc<dyn Vault> {
        &self.inner.vault
    }

    /// What `profile` is doing now: refreshing, or failed last time.
    pub fn activity(&self, profile: &str) -> Activity {
        self.inner.activity.get(profile)
    }

    /// The label of the account signed in to `profile`, when there is one
    /// (what the audit trail and the consent dialog name).
    pub fn account_label(&self, profile: &str) -> Option<String> {
        self.inner
            .accounts
            .for_profile(profile)
            .ok()
            .flatten()
            .map(|account| account.label().to_string())
    }

    /// The directory of this vault's refresh locks, if other processes can
    /// share the vault.
    pub fn lock_dir(&self) -> Option<LockDir> {
        self.inner
            .vault
            .lock_dir()
            .map(|dir| LockDir::new(dir).waiting(self.inner.options.lock_wait))
    }

    /// An access token for the request: from memory, the vault, or one
    /// refresh shared by every concurrent caller; with the account that
    /// served it.
    pub async fn token(&self, request: &TokenRequest) -> Result<Served> {
        self.serve(request, None).await
    }

    /// A proactive refresh planned for the instant `due` (by the
    /// scheduler's clock): refreshes unless the cached token is still fresh
    /// at that instant, i.e. a caller refreshed it since the refresh was
    /// planned. Decided under the account's single-flight lock, so a
    /// planned refresh and a caller's at the same deadline make one request
    /// at the provider, not two (S14).
    pub async fn refresh_due(&self, profile: &str, due: EpochSecs) -> Result<Served> {
        self.serve(&TokenRequest::for_profile(profile), Some(due))
            .await
    }

    /// Takes the profile's cross-process lock when the vault has one.
    async fn lock_across_processes(&self, profile: &str) -> Result<Option<ProfileLock>> {
        match self.lock_dir() {
            Some(dir) => dir.lock_async(profile).await.map(Some),
            None => Ok(None),
        }
    }

    /// Publishes an event on behalf of a helper (the scheduler's
    /// reminders).
    pub fn announce(&self, event: Event) {
        self.emit(event);
    }

    fn emit(&self, event: Event) {
        // No subscriber is fine: nobody is listening yet.
        let _ = self.inner.events.send(event);
    }

    fn in_memory(&self, id: &str, wanted: &ScopeSet) -> Option<CachedToken> {
        let memory = self.inner.memory.lock().unwrap_or_else(|p| p.into_inner());
        memory
            .get(id)?
            .iter()
            .find(|t| &t.scopes == wanted)
            .cloned()
    }

    fn remember(&self, id: &str, tokens: Vec<CachedToken>) {
        let mut memory = self.inner.memory.lock().unwrap_or_else(|p| p.into_inner());
        memory.insert(id.to_string(), tokens);
    }

    fn forget(&self, id: &str) {
        let mut memory = self.inner.memory.lock().unwrap_or_else(|p| p.into_inner());
        memory.remove(id);
    }

    fn flight(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.inner.flights.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(flights.entry(id.to_string()).or_default())
    }
}

#[cfg(any(test, feature = "testing"))]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
