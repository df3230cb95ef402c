//! The token path: memory, then the vault under the locks, then one
//! refresh (client credentials: `client_credentials.rs`), with the retries and the
//! "sign-in required" marking around it.

use super::pending::Rotation;
use super::{Broker, Event, Grants, Served, TokenRequest, TERMINAL_CODES};
use crate::account::{Account, CachedToken, Record};
use crate::error::{Error, Result};
use crate::fault::fault_point;
use crate::lock::ProfileLock;
use crate::profile::{LoginMode, Profile};
use crate::secret::RefreshToken;
use crate::token::{now, AccessToken, EpochSecs, ScopeSet, TokenSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What a caller asks of a cached token.
pub(super) struct Freshness {
    margin: EpochSecs,
    min_valid: EpochSecs,
    force: bool,
    /// A forced refresh still takes a token issued after this
    /// instant ([`TokenRequest::force_cooldown`]).
    cooldown_from: Option<EpochSecs>,
    /// Set when a forced request was served a token under the cooldown.
    cooled: AtomicBool,
    /// The instant freshness is judged at; now when `None`.
    at: Option<EpochSecs>,
}

impl Freshness {
    pub(super) fn accepts(&self, token: &CachedToken) -> bool {
        let at = self.at.unwrap_or_else(now);
        if !token.is_fresh(at, self.margin, self.min_valid) {
            return false;
        }
        if !self.force {
            return true;
        }
        let cooled = self
            .cooldown_from
            .is_some_and(|from| token.issued_at > from);
        if cooled {
            self.cooled.store(true, Ordering::Relaxed);
        }
        cooled
    }
}

impl<G: Grants> Broker<G> {
    /// [`Broker::token`], with freshness judged at `at` instead of now.
    pub(super) async fn serve(
        &self,
        request: &TokenRequest,
        at: Option<EpochSecs>,
    ) -> Result<Served> {
        let profile = self.inner.profiles.get(&request.profile)?;
        let scopes = request.scopes_of(&profile);
        let wanted = ScopeSet::new(&scopes);
        let want = Freshness {
            margin: i64::try_from(profile.refresh_margin_secs).unwrap_or(i64::MAX),
            min_valid: request
                .min_valid
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            force: request.force_refresh,
            cooldown_from: request
                .force_cooldown
                .map(|c| now().saturating_sub(i64::try_from(c.as_secs()).unwrap_or(i64::MAX))),
            cooled: AtomicBool::new(false),
            at,
        };
        let served = if profile.login == LoginMode::ClientCredentials {
            self.serve_client_credentials(&profile, &scopes, &wanted, &want)
                .await
        } else {
            self.serve_account(&profile, &scopes, &wanted, &want).await
        };
        served.map(|mut served| {
            served.rate_limited = want.cooled.load(Ordering::Relaxed);
            served
        })
    }

    /// The token path of an account's profile.
    async fn serve_account(
        &self,
        profile: &Profile,
        scopes: &[String],
        wanted: &ScopeSet,
        want: &Freshness,
    ) -> Result<Served> {
        let account = self.usable_account(profile)?;
        let seen = self.in_memory(&account.id, wanted);
        if let Some(token) = seen.as_ref().filter(|t| want.accepts(t)) {
            return Ok(served(profile, &account, token));
        }

        let flight = self.flight(&account.id);
        let _in_flight = flight.lock().await;
        // Whoever held the lock before us may have refreshed already: a
        // different token than the one we saw is taken as long as it is valid.
        if let Some(token) = self.in_memory(&account.id, wanted) {
            let newer = seen.as_ref().is_none_or(|s| s.token != token.token);
            if (newer && token.expires_at > now()) || want.accepts(&token) {
                return Ok(served(profile, &account, &token));
            }
        }
        let Rotation {
            account,
            mut record,
            lock,
        } = match self.inner.pending.take(&account.id) {
            // A rotation the vault refused before: its record is the one to
            // use, and its lock is still ours.
            Some(kept) => self.store_kept(kept).await?,
            None => self.read_under_lock(profile).await?,
        };
        if let Some(token) = record.access_token(wanted).filter(|t| want.accepts(t)) {
            let answer = served(profile, &account, token);
            self.remember(&account.id, std::mem::take(&mut record.access_tokens));
            return Ok(answer);
        }
        self.refresh(profile, account, record, lock, scopes, wanted)
            .await
    }

    /// Takes the profile's cross-process lock, then reads the account and
    /// its record afresh: another process may have refreshed, signed out
    /// or marked the account while we waited (a refresh token it just saw
    /// refused must not be replayed once more).
    async fn read_under_lock(&self, profile: &Profile) -> Result<Rotation> {
        let lock = self.lock_across_processes(&profile.name).await?;
        if lock.is_some() {
            self.inner.accounts.reload();
        }
        let account = self.usable_account(profile)?;
        let Some(record) = self.inner.accounts.record(&account)? else {
            return Err(self.sign_in_required(profile, &account, &account.missing_record_reason()));
        };
        Ok(Rotation {
            account,
            record,
            lock,
        })
    }

    /// The account a profile signs in with, unless it needs a sign-in. When
    /// the in-memory account list says there is none (or it needs a
    /// sign-in), the vault is asked again: another process (`tokentray
    /// login`) may have signed in since.
    pub(super) fn usable_account(&self, profile: &Profile) -> Result<Account> {
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

    /// Redeems the record's refresh token (the caller holds the flight and
    /// `lock`) and stores the outcome before anything is handed out.
    async fn refresh(
        &self,
        profile: &Profile,
        account: Account,
        mut record: Record,
        lock: Option<ProfileLock>,
        scopes: &[String],
        wanted: &ScopeSet,
    ) -> Result<Served> {
        let Some(refresh_token) = record.refresh_token.clone() else {
            return Err(self.sign_in_required(
                profile,
                &account,
                "the provider gave no refresh token",
            ));
        };
        fault_point!("refresh-before-request");
        self.inner.activity.refreshing(&profile.name, true);
        self.emit(Event::Refreshing {
            profile: profile.name.clone(),
        });
        let outcome = self
            .with_retries(|| {
                self.inner
                    .grants
                    .refresh(profile, &refresh_token, scopes, Some(&account.identity))
            })
            .await;
        self.inner.activity.refreshing(&profile.name, false);
        match outcome {
            Ok(tokens) => {
                fault_point!("refresh-before-store");
                record.absorb(&tokens, wanted);
                if !self.still_signed_in(&account) {
                    // Signed out meanwhile by a process that took no lock:
                    // the new refresh token is never written back.
                    self.revoke_quietly(profile, record.refresh_token.as_ref())
                        .await;
                    return Err(Error::SignInRequired {
                        profile: profile.name.clone(),
                        reason: "the account was signed out while it was refreshed".into(),
                    });
                }
                // S15: stored and read back before anything is handed out.
                if let Err(error) = self.write_with_retries(&account, &record).await {
                    let rotation = Rotation {
                        account,
                        record,
                        lock,
                    };
                    return Err(self.keep_refused(rotation, error));
                }
                drop(lock);
                self.inner.activity.failed(&profile.name, None);
                let token =
                    self.hand_out_new(profile, &account.id, record.access_tokens, tokens, wanted);
                fault_point!("refresh-after-handout");
                Ok(Served {
                    token,
                    profile: profile.name.clone(),
                    account: Some((&account).into()),
                    rate_limited: false,
                })
            }
            Err(Error::Provider { code, .. }) if TERMINAL_CODES.contains(&code.as_str()) => {
                Err(self.sign_in_required(profile, &account, &code))
            }
            Err(error) => {
                self.failed(profile, &error);
                // A token that is still valid, if only within the margin,
                // is better than none while the provider is unreachable.
                match record.access_token(wanted).filter(|t| t.expires_at > now()) {
                    Some(cached) if matches!(error, Error::Network(_)) => {
                        Ok(served(profile, &account, cached))
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// Whether `account` is still in the vault's account list (a vault
    /// that cannot be read says yes: the write that follows will tell).
    fn still_signed_in(&self, account: &Account) -> bool {
        self.inner.accounts.reload();
        match self.inner.accounts.list() {
            Ok(accounts) => accounts.iter().any(|a| a.id == account.id),
            Err(_) => true,
        }
    }

    /// Revokes a refresh token where the provider can; a failure is logged.
    pub(super) async fn revoke_quietly(&self, profile: &Profile, refresh: Option<&RefreshToken>) {
        let Some(refresh) = refresh else {
            return;
        };
        if let Err(error) = self.inner.grants.revoke(profile, refresh).await {
            tracing::warn!(profile = %profile.name, kind = %error.kind(), "revocation failed: {error}");
        }
    }

    /// Keeps the new cache in memory, announces the refresh and hands the
    /// new access token out.
    pub(super) fn hand_out_new(
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

    /// Records and announces a refresh that failed but may recover.
    pub(super) fn failed(&self, profile: &Profile, error: &Error) {
        let code = failure_code(error);
        self.inner
            .activity
            .failed(&profile.name, Some(code.clone()));
        self.emit(Event::RefreshFailed {
            profile: profile.name.clone(),
            code,
        });
    }

    /// Runs `attempt` again on network errors, with jittered exponential
    /// backoff, at most `retry.attempts` times.
    pub(super) async fn with_retries<F, Fut>(&self, mut attempt: F) -> Result<TokenSet>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<TokenSet>>,
    {
        let policy = self.inner.options.retry;
        let mut delay = policy.first_delay;
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(Error::Network(error)) if tries < policy.attempts.max(1) => {
                    tracing::debug!(tries, %error, "network error; retrying");
                    tokio::time::sleep(jitter(delay)).await;
                    delay = delay.saturating_mul(2);
                    tries += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// Marks the account as needing a sign-in, announces it, and returns
    /// the error to give.
    pub(super) fn sign_in_required(
        &self,
        profile: &Profile,
        account: &Account,
        reason: &str,
    ) -> Error {
        if let Err(error) = self
            .inner
            .accounts
            .mark_sign_in_required(&account.id, reason)
        {
            tracing::warn!(profile = %profile.name, kind = %error.kind(), "could not mark the account");
        }
        self.forget(&account.id);
        self.inner.activity.clear(&profile.name);
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
}

fn served(profile: &Profile, account: &Account, token: &CachedToken) -> Served {
    Served {
        token: handed_out(token),
        profile: profile.name.clone(),
        account: Some(account.into()),
        rate_limited: false,
    }
}

pub(super) fn handed_out(cached: &CachedToken) -> AccessToken {
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
