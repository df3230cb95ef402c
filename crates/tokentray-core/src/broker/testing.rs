//! Scripted grants for unit tests of the broker and of what drives it.

use super::*;
use crate::account::Account;
use crate::error::Error;
use crate::profile::{LoginMode, Preset, ProfileFields, FILE_NAME};
use crate::token::now;
use crate::vault::MemoryVault;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub(crate) struct Script {
    refreshes: AtomicUsize,
    /// Error code to fail refreshes with (`"network"` for a network error).
    fail_with: Mutex<Option<String>>,
    /// Extra time a refresh takes at the provider.
    slow: Mutex<Duration>,
    /// Refresh tokens revoked, in order.
    revoked: Mutex<Vec<String>>,
}

#[derive(Clone, Default)]
pub(crate) struct FakeGrants(pub(crate) Arc<Script>);

impl FakeGrants {
    pub(crate) fn set_failure(&self, code: Option<&str>) {
        *self.0.fail_with.lock().unwrap() = code.map(str::to_string);
    }
    pub(crate) fn refreshes(&self) -> usize {
        self.0.refreshes.load(Ordering::SeqCst)
    }
    pub(crate) fn set_slow(&self, extra: Duration) {
        *self.0.slow.lock().unwrap() = extra;
    }
    pub(crate) fn revoked(&self) -> Vec<String> {
        self.0.revoked.lock().unwrap().clone()
    }
}

pub(crate) fn token_set(n: usize, lifetime: i64) -> TokenSet {
    TokenSet {
        access_token: Secret::new(format!("access-{n}")),
        token_type: "Bearer".into(),
        expires_at: now() + lifetime,
        scopes: vec![],
        refresh_token: Some(Secret::new(format!("refresh-{n}"))),
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
        _refresh_token: &Secret,
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
        secret: &Secret,
        _: &[String],
    ) -> Result<TokenSet> {
        assert_eq!(secret.expose(), "client-secret");
        let n = self.0.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(token_set(n, 3600))
    }

    async fn revoke(&self, _: &Profile, refresh_token: &Secret) -> Result<bool> {
        let token = refresh_token.expose().to_string();
        self.0.revoked.lock().unwrap().push(token);
        Ok(true)
    }
}

pub(crate) struct Setup {
    pub(crate) broker: Broker<FakeGrants>,
    pub(crate) grants: FakeGrants,
    pub(crate) vault: Arc<MemoryVault>,
    pub(crate) profile: Profile,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// The broker's token for `profile`'s default scopes.
    pub(crate) async fn token(&self, profile: &str) -> Result<AccessToken> {
        self.broker
            .token(&TokenRequest::for_profile(profile))
            .await
            .map(|served| served.token)
    }
}

/// A broker over scripted grants and an in-memory vault, with one profile
/// `p` (scope `api.read`).
pub(crate) fn setup(login: LoginMode, keep_fresh: bool) -> Setup {
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
pub(crate) fn sign_in(s: &Setup, expires_in: i64) -> Account {
    let asked = ScopeSet::new(&s.profile.scopes);
    let accounts = s.broker.accounts();
    let account = accounts
        .save_sign_in(&s.profile.name, &token_set(0, expires_in), &asked)
        .unwrap();
    let mut record = accounts.record(&account).unwrap().unwrap();
    for token in &mut record.access_tokens {
        token.issued_at = token.expires_at - 3600;
    }
    accounts.write_record(&account, &record).unwrap();
    account
}
