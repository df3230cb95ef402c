//! Scripted grants for tests of the broker and of what drives it, and a
//! broker set up over them (re-exported as [`crate::testing`]).

// fakes: a failed step is a failed test, also in a `testing` build that
// is not `cfg(test)` (the other crates' tests)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::account::{Account, AccountStore};
use crate::error::Error;
use crate::profile::{LoginMode, Preset, ProfileFields, FILE_NAME};
use crate::secret::AccessTokenSecret;
use crate::token::now;
use crate::vault::MemoryVault;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the fake provider does, and what it saw.
#[derive(Default)]
pub struct Script {
    refreshes: AtomicUsize,
    /// Error code to fail refreshes with (`"network"` for a network error).
    fail_with: Mutex<Option<String>>,
    /// Extra time a refresh takes at the provider.
    slow: Mutex<Duration>,
    /// Refresh tokens revoked, in order.
    revoked: Mutex<Vec<String>>,
}

/// Scripted [`Grants`]: every refresh (or client-credentials grant) hands
/// out `access-N` / `refresh-N` (N counts from 1), after 20 ms plus
/// [`FakeGrants::set_slow`]; it fails as told by
/// [`FakeGrants::set_failure`]; revocations are recorded. Clones share the
/// script.
#[derive(Clone, Default)]
pub struct FakeGrants(pub(crate) Arc<Script>);

impl FakeGrants {
    /// Fail refreshes with this provider error code (`"network"`: a
    /// network error); `None`: succeed again.
    pub fn set_failure(&self, code: Option<&str>) {
        *self.0.fail_with.lock().unwrap() = code.map(str::to_string);
    }
    /// Refreshes and client-credentials grants so far.
    pub fn refreshes(&self) -> usize {
        self.0.refreshes.load(Ordering::SeqCst)
    }
    /// Extra time each refresh takes.
    pub fn set_slow(&self, extra: Duration) {
        *self.0.slow.lock().unwrap() = extra;
    }
    /// The refresh tokens revoked, in order.
    pub fn revoked(&self) -> Vec<String> {
        self.0.revoked.lock().unwrap().clone()
    }
}

/// Tokens `access-{n}` / `refresh-{n}` for alice at `https://idp.example`,
/// expiring in `lifetime` seconds.
pub fn token_set(n: usize, lifetime: i64) -> TokenSet {
    TokenSet {
        access_token: AccessTokenSecret::new(format!("access-{n}")),
        token_type: "Bearer".into(),
        expires_at: now() + lifetime,
        scopes: vec![],
        refresh_token: Some(RefreshToken::new(format!("refresh-{n}"))),
        refresh_expires_at: None,
        id_token: None,
        id_token_validated_at: None,
        identity: Some(Identity {
            issuer: "https://idp.example".into(),
            subject: "alice".into(),
            name: None,
            username: Some("alice".into()),
            email: None,
            tenant: None,
        }),
    }
}

impl Grants for FakeGrants {
    async fn refresh(
        &self,
        _profile: &Profile,
        _refresh_token: &RefreshToken,
        _scopes: &[String],
        _previous: Option<&Identity>,
    ) -> Result<TokenSet> {
        let n = self.0.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        let slow = *self.0.slow.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(20) + slow).await;
        let failure = self.0.fail_with.lock().unwrap().clone();
        match failure.as_deref() {
            Some("network") => Err(Error::Network("connection refused".into())),
            Some(code) => Err(Error::Provider {
                provider: "fake".into(),
                code: code.into(),
                description: None,
            }),
            None => Ok(token_set(n, 3600)),
        }
    }

    async fn client_credentials(
        &self,
        _: &Profile,
        secret: &ClientSecret,
        _: &[String],
    ) -> Result<TokenSet> {
        assert_eq!(secret.expose(), "client-secret");
        let n = self.0.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(token_set(n, 3600))
    }

    async fn revoke(&self, _: &Profile, refresh_token: &RefreshToken) -> Result<bool> {
        let token = refresh_token.expose().to_string();
        self.0.revoked.lock().unwrap().push(token);
        Ok(true)
    }
}

/// A broker over [`FakeGrants`] and a [`MemoryVault`] (see [`setup`]).
pub struct Setup {
    pub broker: Broker<FakeGrants>,
    pub grants: FakeGrants,
    pub vault: Arc<MemoryVault>,
    pub profile: Profile,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// The broker's token for `profile`'s default scopes.
    pub async fn token(&self, profile: &str) -> Result<AccessToken> {
        self.broker
            .token(&TokenRequest::for_profile(profile))
            .await
            .map(|served| served.token)
    }
}

/// A broker over scripted grants and an in-memory vault, with one profile
/// `p` (scope `api.read`).
pub fn setup(login: LoginMode, keep_fresh: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let profiles = ProfileStore::at(dir.path().join(FILE_NAME));
    let profile = Profile::from_fields(
        "p",
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some("https://idp.example".into()),
            client_id: Some("c".into()),
            scopes: Some(vec!["api.read".into()]),
            login: Some(login),
            keep_fresh: Some(keep_fresh),
            ..Default::default()
        },
    )
    .unwrap();
    profiles.add(&profile).unwrap();
    let vault = Arc::new(MemoryVault::in_memory());
    let grants = FakeGrants::default();
    let retry = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
    };
    let broker = Broker::with_retry(grants.clone(), vault.clone(), profiles, retry);
    Setup {
        broker,
        grants,
        vault,
        profile,
        _dir: dir,
    }
}

/// Signs in with an hour-long access token that expires in `expires_in`
/// seconds (so `3600` is brand new, `10` is due for a refresh, `-1` has
/// expired). Written to the vault only, as a sign-in by another process.
pub fn sign_in(s: &Setup, expires_in: i64) -> Account {
    let asked = ScopeSet::new(&s.profile.scopes);
    let accounts = s.broker.accounts();
    let account = accounts
        .save_sign_in(&s.profile.name, &token_set(0, expires_in), &asked)
        .unwrap();
    age_access_tokens(accounts, &account);
    account
}

/// Rewrites `account`'s cached access tokens as hour-long tokens with the
/// same expiry (so one with 10 s left is near the end of its life and due
/// for a refresh, as the broker judges by the lifetime).
pub fn age_access_tokens(accounts: &AccountStore, account: &Account) {
    let mut record = accounts.record(account).unwrap().unwrap();
    for token in &mut record.access_tokens {
        token.issued_at = token.expires_at - 3600;
    }
    accounts.write_record(account, &record).unwrap();
}
