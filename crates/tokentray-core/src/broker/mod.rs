//! The broker: the façade every face calls for a token.
//!
//! `token(profile, scopes, min_valid)` answers from memory while the cached
//! token is fresh (before expiry minus the margin, or before half its
//! lifetime when that is later), else from the vault, else refreshes —
//! once per account however many callers ask at the same time (single
//! flight, S14): callers queue on the account's async lock and, once inside,
//! look at the cache again before refreshing. A rotated refresh token is
//! stored and read back before the new access token is handed out (S15).
//!
//! Terminal provider answers (`invalid_grant`, `interaction_required`, …)
//! mark the account "sign-in required" and are never retried (S13);
//! network failures are retried a bounded number of times with jittered
//! backoff, and a still-valid cached token keeps being served meanwhile.
//! Every change is published on a broadcast channel of [`Event`]s.

use crate::account::{Account, AccountStore, CachedToken, Record};
use crate::error::{Error, Result};
use crate::profile::{LoginMode, Profile, ProfileStore};
use crate::secret::{ClientSecret, RefreshToken};
use crate::token::{now, AccessToken, EpochSecs, Identity, ScopeSet, TokenSet};
use crate::vault::{client_secret_key, Vault};
use fault::fault_point;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

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

/// What happened, for the faces (menus, notifications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Accounts were added, removed or changed state.
    AccountsChanged,
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
}

impl TokenRequest {
    /// A request for the profile's default scopes.
    pub fn for_profile(profile: &str) -> Self {
        Self {
            profile: profile.to_string(),
            ..Self::default()
        }
    }
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
    events: broadcast::Sender<Event>,
    retry: RetryPolicy,
    /// Where the cross-process refresh locks live, when this broker shares
    /// the vault with other processes ([`lock`]).
    refresh_locks: Mutex<Option<PathBuf>>,
}

impl<G: Grants> Broker<G> {
    /// A broker over these grants, vault and profiles.
    pub fn new(grants: G, vault: Arc<dyn Vault>, profiles: ProfileStore) -> Self {
        Self::with_retry(grants, vault, profiles, RetryPolicy::default())
    }

    /// Same, with a retry policy of its own (tests use short delays).
    pub fn with_retry(
        grants: G,
        vault: Arc<dyn Vault>,
        profiles: ProfileStore,
        retry: RetryPolicy,
    ) -> Self {
        let (events, _) = broadcast::channel(64);
        Self {
            inner: Arc::new(Inner {
                grants,
                accounts: AccountStore::new(Arc::clone(&vault)),
                vault,
                profiles,
                memory: Mutex::new(HashMap::new()),
                flights: Mutex::new(HashMap::new()),
                events,
                retry,
                refresh_locks: Mutex::new(None),
            }),
        }
    }

    /// Makes every refresh take the profile's file lock in `dir` (shared with
    /// the other Tokentray processes: see [`lock`]).
    pub fn lock_refreshes_in(&self, dir: PathBuf) {
        *self
            .inner
            .refresh_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(dir);
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The grants (for sign-in flows run by the faces).
    pub fn grants(&self) -> &G {
        &self.inner.grants
    }

    /// The account store.
    pub fn accounts(&self) -> &AccountStore {
        &self.inner.accounts
    }

    /// The profile store.
    pub fn profiles(&self) -> &ProfileStore {
        &self.inner.profiles
    }

    /// Stores a completed interactive sign-in and announces it.
    pub fn complete_sign_in(&self, profile: &Profile, tokens: &TokenSet) -> Result<Account> {
        let asked = ScopeSet::new(&profile.scopes);
        let account = self
            .inner
            .accounts
            .save_sign_in(&profile.name, tokens, &asked)?;
        self.remember(
            &account.id,
            self.inner
                .accounts
                .record(&account)?
                .unwrap_or_default()
                .access_tokens,
        );
        self.emit(Event::AccountsChanged);
        Ok(account)
    }

    /// When the access token cached for `account` and `scopes` expires: from
    /// memory, or read from the vault once and then kept in memory, so a
    /// face redrawing a countdown does not read secrets every minute. When
    /// nothing is cached for those scopes, the latest expiry of any cached
    /// token.
    pub fn cached_expiry(&self, account: &Account, scopes: &ScopeSet) -> Result<Option<EpochSecs>> {
        let known = {
            let memory = self.inner.memory.lock().unwrap_or_else(|p| p.into_inner());
            memory
                .get(&account.id)
                .map(|tokens| expiry_of(tokens, scopes))
        };
        if let Some(expiry) = known {
            return Ok(expiry);
        }
        let tokens = self
            .inner
            .accounts
            .record(account)?
            .unwrap_or_default()
            .access_tokens;
        let expiry = expiry_of(&tokens, scopes);
        self.remember(&account.id, tokens);
        Ok(expiry)
    }

    /// Signs out: revokes the refresh token where the provider can, then
    /// deletes the account's vault entries. A failed revocation does not
    /// keep the tokens: they are deleted all the same.
    pub async fn sign_out(&self, profile_name: &str) -> Result<Option<Account>> {
        // Another process may have signed in since the list was read.
        self.inner.accounts.reload();
        let Some(account) = self.inner.accounts.for_profile(profile_name)? else {
            return Ok(None);
        };
        let profile = self.inner.profiles.get(profile_name)?;
        let record = self.inner.accounts.record(&account).unwrap_or_default();
        if let Some(refresh) = record.and_then(|r| r.refresh_token) {
            if let Err(error) = self.inner.grants.revoke(&profile, &refresh).await {
                tracing::warn!(profile = %profile_name, kind = %error.kind(), "revocation failed; deleting the tokens anyway");
            }
        }
        self.inner.accounts.remove(&account)?;
        self.forget(&account.id);
        self.emit(Event::AccountsChanged);
        Ok(Some(account))
    }

    /// An access token for the request: from memory, the vault, or one
    /// refresh shared by every concurrent caller.
    pub async fn token(&self, request: &TokenRequest) -> Result<AccessToken> {
        self.serve(request, None).await
    }

    /// A proactive refresh planned for the instant `due` (by the
    /// scheduler's clock): refreshes unless the cached token is still fresh
    /// at that instant, i.e. a caller refreshed it since the refresh was
    /// planned. Decided under the account's single-flight lock, so a
    /// planned refresh and a caller's at the same deadline make one request
    /// at the provider, not two (S14).
    pub async fn refresh_due(&self, profile: &str, due: EpochSecs) -> Result<AccessToken> {
        self.serve(&TokenRequest::for_profile(profile), Some(due))
            .await
    }

    /// [`Broker::token`], with freshness judged at `at` instead of now.
    async fn serve(&self, request: &TokenRequest, at: Option<EpochSecs>) -> Result<AccessToken> {
        let profile = self.inner.profiles.get(&request.profile)?;
        let scopes = request
            .scopes
            .clone()
            .unwrap_or_else(|| profile.scopes.clone());
        let wanted = ScopeSet::new(&scopes);
        let want = Freshness {
            margin: i64::try_from(profile.refresh_margin_secs).unwrap_or(i64::MAX),
            min_valid: request
                .min_valid
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            force: request.force_refresh,
            at,
        };
        let id = match profile.login {
            LoginMode::ClientCredentials => format!("cc/{}", profile.name),
            _ => self.usable_account(&profile)?.id,
        };
        let seen = self.in_memory(&id, &wanted);
        if let Some(token) = seen.as_ref().filter(|t| want.accepts(t)) {
            return Ok(handed_out(token));
        }

        let flight = self.flight(&id);
        let _in_flight = flight.lock().await;
        // Whoever held the lock before us may have refreshed already: a
        // different token than the one we saw is taken as long as it is valid.
        if let Some(token) = self.in_memory(&id, &wanted) {
            let newer = seen.as_ref().is_none_or(|s| s.token != token.token);
            if (newer && token.expires_at > now()) || want.accepts(&token) {
                return Ok(handed_out(&token));
            }
        }
        if profile.login == LoginMode::ClientCredentials {
            return self
                .client_credentials_token(&profile, &id, &scopes, &wanted)
                .await;
        }
        let across_processes = self.lock_across_processes(&profile.name).await?;
        // The account may have changed while we waited (signed out, marked).
        // Another process may have done it: read the list again, or a
        // refresh token it just saw refused would be replayed once more.
        if across_processes.is_some() {
            self.inner.accounts.reload();
        }
        let account = self.usable_account(&profile)?;
        let Some(mut record) = self.inner.accounts.record(&account)? else {
            return Err(self.sign_in_required(
                &profile,
                &account,
                &account.missing_record_reason(),
            ));
        };
        if let Some(token) = record.access_token(&wanted).filter(|t| want.accepts(t)) {
            let token = handed_out(token);
            self.remember(&account.id, record.access_tokens);
            return Ok(token);
        }
        self.refresh(&profile, &account, &mut record, &scopes, &wanted)
            .await
    }

    /// Takes the profile's cross-process lock when this broker has one.
    async fn lock_across_processes(&self, profile: &str) -> Result<Option<lock::ProfileLock>> {
        let dir = self
            .inner
            .refresh_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(dir) = dir else {
            return Ok(None);
        };
        let profile = profile.to_string();
        tokio::task::spawn_blocking(move || lock::lock_profile(&dir, &profile))
            .await
            .map_err(|e| Error::internal(format!("the lock task failed: {e}")))?
            .map(Some)
    }

    /// The account a profile signs in with, unless it needs a sign-in. When
    /// the in-memory account list says there is none (or it needs a
    /// sign-in), the vault is asked again: another process (`tokentray
    /// login`) may have signed in since.
    fn usable_account(&self, profile: &Profile) -> Result<Account> {
        let usable = |a: &Option<Account>| a.as_ref().is_some_and(|a| a.sign_in_required.is_none());
        let mut account = self.inner.accounts.for_profile(&profile.name)?;
        if !usable(&account) {
            self.inner.accounts.reload();
            account = self.inner.accounts.for_profile(&profile.name)?;
        }
        let account = account.ok_or_else(|| Error::SignInRequired {
            profile: profile.name.clone(),
            reason: "no account is signed in".into(),
        })?;
        match &account.sign_in_required {
            Some(reason) => Err(Error::SignInRequired {
                profile: profile.name.clone(),
                reason: reason.clone(),
            }),
            None => Ok(account),
        }
    }

    async fn refresh(
        &self,
        profile: &Profile,
        account: &Account,
        record: &mut Record,
        scopes: &[String],
        wanted: &ScopeSet,
    ) -> Result<AccessToken> {
        let Some(refresh_token) = record.refresh_token.clone() else {
            return Err(self.sign_in_required(
                profile,
                account,
                "the provider gave no refresh token",
            ));
        };
        fault_point!("refresh-before-request");
        let outcome = self
            .with_retries(|| {
                self.inner
                    .grants
                    .refresh(profile, &refresh_token, scopes, Some(&account.identity))
            })
            .await;
        match outcome {
            Ok(tokens) => {
                fault_point!("refresh-before-store");
                record.absorb(&tokens, wanted);
                // S15: stored and read back before anything is handed out.
                self.inner.accounts.write_record(account, record)?;
                let token = self.hand_out_new(
                    profile,
                    &account.id,
                    record.access_tokens.clone(),
                    tokens,
                    wanted,
                );
                fault_point!("refresh-after-handout");
                Ok(token)
            }
            Err(Error::Provider { code, .. }) if TERMINAL_CODES.contains(&code.as_str()) => {
                Err(self.sign_in_required(profile, account, &code))
            }
            Err(error) => {
                self.emit(Event::RefreshFailed {
                    profile: profile.name.clone(),
                    code: failure_code(&error),
                });
                // A token that is still valid, if only within the margin,
                // is better than none while the provider is unreachable.
                match record.access_token(wanted).filter(|t| t.expires_at > now()) {
                    Some(cached) if matches!(error.kind(), crate::ErrorKind::Network) => {
                        Ok(handed_out(cached))
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// Fetches a client-credentials token (the caller holds the flight).
    async fn client_credentials_token(
        &self,
        profile: &Profile,
        id: &str,
        scopes: &[String],
        wanted: &ScopeSet,
    ) -> Result<AccessToken> {
        let secret = self.inner.vault.get(&client_secret_key(&profile.name))?.map(ClientSecret::from_secret).ok_or_else(|| Error::NotFound {
            what: format!(
                "client secret of profile `{}` in the vault (add it again with `tokentray profile add … --client-secret-stdin`)",
                profile.name
            ),
        })?;
        let tokens = self
            .with_retries(|| {
                self.inner
                    .grants
                    .client_credentials(profile, &secret, scopes)
            })
            .await
            .inspect_err(|error| {
                self.emit(Event::RefreshFailed {
                    profile: profile.name.clone(),
                    code: failure_code(error),
                })
            })?;
        let mut record = Record::default();
        record.absorb(&tokens, wanted);
        Ok(self.hand_out_new(profile, id, record.access_tokens, tokens, wanted))
    }

    /// Keeps the new cache in memory, announces the refresh and hands the
    /// new access token out.
    fn hand_out_new(
        &self,
        profile: &Profile,
        id: &str,
        cache: Vec<CachedToken>,
        tokens: TokenSet,
        wanted: &ScopeSet,
    ) -> AccessToken {
        self.remember(id, cache);
        self.emit(Event::Refreshed {
            profile: profile.name.clone(),
            expires_at: tokens.expires_at,
        });
        AccessToken {
            token: tokens.access_token,
            token_type: tokens.token_type,
            expires_at: tokens.expires_at,
            scopes: wanted.to_vec(),
        }
    }

    /// Runs `attempt` again on network errors, with jittered exponential
    /// backoff, at most `retry.attempts` times.
    async fn with_retries<F, Fut>(&self, mut attempt: F) -> Result<TokenSet>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<TokenSet>>,
    {
        let policy = self.inner.retry;
        let mut delay = policy.first_delay;
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(error)
                    if matches!(error.kind(), crate::ErrorKind::Network)
                        && tries < policy.attempts.max(1) =>
                {
                    tracing::debug!(tries, "network error; retrying");
                    tokio::time::sleep(jitter(delay)).await;
                    delay = delay.saturating_mul(2);
                    tries += 1;
                }
                outcome => return outcome,
            }
        }
    }

    fn sign_in_required(&self, profile: &Profile, account: &Account, reason: &str) -> Error {
        if let Err(error) = self
            .inner
            .accounts
            .mark_sign_in_required(&account.id, reason)
        {
            tracing::warn!(profile = %profile.name, kind = %error.kind(), "could not mark the account");
        }
        self.forget(&account.id);
        self.emit(Event::SignInRequired {
            profile: profile.name.clone(),
            reason: reason.to_string(),
        });
        self.emit(Event::AccountsChanged);
        Error::SignInRequired {
            profile: profile.name.clone(),
            reason: reason.to_string(),
        }
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

    /// Publishes an event on behalf of a helper (the scheduler's
    /// reminders).
    pub fn announce(&self, event: Event) {
        self.emit(event);
    }

    fn emit(&self, event: Event) {
        // No subscriber is fine: nobody is listening yet.
        let _ = self.inner.events.send(event);
    }
}

/// What a caller asks of a cached token.
struct Freshness {
    margin: EpochSecs,
    min_valid: EpochSecs,
    force: bool,
    /// The instant freshness is judged at; now when `None`.
    at: Option<EpochSecs>,
}

impl Freshness {
    fn accepts(&self, token: &CachedToken) -> bool {
        let at = self.at.unwrap_or_else(now);
        !self.force && token.is_fresh(at, self.margin, self.min_valid)
    }
}

/// The expiry of the token for `scopes`, else the latest of any.
fn expiry_of(tokens: &[CachedToken], scopes: &ScopeSet) -> Option<EpochSecs> {
    tokens
        .iter()
        .find(|t| &t.scopes == scopes)
        .or_else(|| tokens.iter().max_by_key(|t| t.expires_at))
        .map(|t| t.expires_at)
}

fn handed_out(cached: &CachedToken) -> AccessToken {
    AccessToken {
        token: cached.token.clone(),
        token_type: cached.token_type.clone(),
        expires_at: cached.expires_at,
        scopes: cached.scopes.to_vec(),
    }
}

fn failure_code(error: &Error) -> String {
    match error {
        Error::Provider { code, .. } => code.clone(),
        other => other.kind().to_string(),
    }
}

/// `delay` ± 50 %, from the clock's sub-second noise (good enough to spread
/// retries; not for anything secret).
fn jitter(delay: Duration) -> Duration {
    let noise = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let factor = 0.5 + f64::from(noise % 1000) / 1000.0;
    delay.mul_f64(factor)
}

pub mod fault;
pub mod lock;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
