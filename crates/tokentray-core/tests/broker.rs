//! The broker end to end: the real local IdP, the real Secret Service
//! (inside `scripts/headless-session`), the real OAuth layer. Request
//! counts are read from the IdP itself (`GET /test/stats`), so "exactly one
//! refresh" is what the provider saw, not what the client believes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{blocking, oauth, run, sign_in};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokentray_core::account::Record;
use tokentray_core::broker::{Broker, Event, RetryPolicy, TokenRequest};
use tokentray_core::flow::OAuth;
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, FILE_NAME};
use tokentray_core::schedule::{self, Schedule, SystemClock};
use tokentray_core::testing::{age_access_tokens, RefusingVault};
use tokentray_core::vault::{client_secret_key, KeyringVault, Vault};
use tokentray_core::Secret;
use tokentray_testkit::{Idp, IdpOptions};
use tokio_util::sync::CancellationToken;

/// A test's world: an IdP, a profiles file, a keyring service of its own.
struct World {
    idp: Arc<Idp>,
    profiles: ProfileStore,
    service: String,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(access_token_ttl: u64) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        assert_eq!(
            std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
            Ok("1"),
            "broker tests use the real Secret Service: run them under scripts/headless-session"
        );
        let idp = Idp::start_with(IdpOptions {
            access_token_ttl: Duration::from_secs(access_token_ttl),
            ..IdpOptions::default()
        })
        .expect("the local IdP starts (npm ci --prefix tests/idp?)");
        let dir = tempfile::tempdir().unwrap();
        Self {
            idp: Arc::new(idp),
            profiles: ProfileStore::at(dir.path().join(FILE_NAME)),
            service: format!(
                "dev.tokentray.brokertest.{}.{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
            _dir: dir,
        }
    }

    fn vault(&self) -> Arc<KeyringVault> {
        Arc::new(KeyringVault::with_service(&self.service))
    }

    fn add_profile(&self, name: &str, login: LoginMode, keep_fresh: bool) -> Profile {
        let client_id = if login == LoginMode::ClientCredentials {
            self.idp.confidential_client_id()
        } else {
            self.idp.public_client_id()
        };
        let profile = Profile::from_fields(
            name,
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some(self.idp.issuer().to_string()),
                client_id: Some(client_id.to_string()),
                scopes: Some(vec!["api.read".into()]),
                login: Some(login),
                keep_fresh: Some(keep_fresh),
                ..Default::default()
            },
        )
        .unwrap();
        self.profiles.add(&profile).unwrap();
        profile
    }

    fn broker(&self) -> Broker<OAuth> {
        let retry = RetryPolicy {
            attempts: 2,
            first_delay: Duration::from_millis(50),
        };
        Broker::with_retry(oauth(), self.vault(), self.profiles.clone(), retry)
    }

    /// Requests of `grant_type` the IdP answered: (succeeded, failed). The
    /// rig's client is blocking, so it runs off the async threads.
    async fn requests(&self, grant_type: &'static str) -> (u64, u64) {
        let idp = Arc::clone(&self.idp);
        blocking(move || idp.token_requests(grant_type).unwrap()).await
    }

    async fn refreshes(&self) -> (u64, u64) {
        self.requests("refresh_token").await
    }

    /// Every entry under this world's keyring service, by `secret-tool`.
    fn vault_entry_count(&self) -> usize {
        let out = std::process::Command::new("secret-tool")
            .args(["search", "--all", "service", &self.service])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr)
            .matches("attribute.username = ")
            .count()
    }
}

/// Rewrites the cached tokens of `profile` to look like hour-long tokens
/// near their end (same expiry), so the next call is due for a refresh.
fn age_cached_tokens(broker: &Broker<OAuth>, profile: &str) {
    let account = broker.accounts().for_profile(profile).unwrap().unwrap();
    age_access_tokens(broker.accounts(), &account);
}

async fn signed_in(world: &World, broker: &Broker<OAuth>, profile: &Profile) {
    let (tokens, _) = sign_in(broker.grants(), &world.idp, profile, "alice").await;
    let account = broker.complete_sign_in(profile, &tokens).await.unwrap();
    assert_eq!(account.label(), "alice");
}

#[test]
fn tokens_survive_a_new_process_and_are_served_without_a_network_call() {
    let world = World::new(3600);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    run(async {
        let broker = world.broker();
        signed_in(&world, &broker, &profile).await;
        let first = broker.token(&TokenRequest::for_profile("p")).await.unwrap();
        // A new broker over the same vault, as a new process would have.
        let fresh = world.broker();
        let again = fresh.token(&TokenRequest::for_profile("p")).await.unwrap();
        assert_eq!(first.token.token, again.token.token);
        assert_eq!(
            world.refreshes().await,
            (0, 0),
            "answered from the vault, not the IdP"
        );
        assert!(
            world.vault_entry_count() >= 2,
            "the account list and the record are in the keyring"
        );
    });
}

// S14: single-flight refresh
#[test]
fn two_hundred_concurrent_callers_cause_one_refresh_at_the_idp() {
    // S14. The cached token is due for a refresh: all 200 callers want one.
    let world = World::new(60);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    run(async {
        let signing_in = world.broker();
        signed_in(&world, &signing_in, &profile).await;
        age_cached_tokens(&signing_in, "p");
        let broker = world.broker();
        let calls: Vec<_> = (0..200)
            .map(|_| {
                let broker = broker.clone();
                tokio::spawn(async move { broker.token(&TokenRequest::for_profile("p")).await })
            })
            .collect();
        let mut tokens = Vec::new();
        for call in calls {
            tokens.push(call.await.unwrap().unwrap().token.token);
        }
        assert_eq!(
            world.refreshes().await,
            (1, 0),
            "exactly one refresh reached the IdP"
        );
        assert!(
            tokens.iter().all(|t| *t == tokens[0]),
            "all 200 got the same token"
        );
        // The grant is still valid: the rotated refresh token works.
        let request = TokenRequest {
            force_refresh: true,
            ..TokenRequest::for_profile("p")
        };
        broker.token(&request).await.unwrap();
        assert_eq!(world.refreshes().await, (2, 0));
    });
}

// S13: refresh rules
#[test]
fn replaying_a_rotated_refresh_token_ends_in_sign_in_required_without_a_loop() {
    // S13, S14: the IdP revokes the whole grant on reuse.
    let world = World::new(3600);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    run(async {
        let broker = world.broker();
        signed_in(&world, &broker, &profile).await;
        let account = broker.accounts().for_profile("p").unwrap().unwrap();
        let original: Record = broker.accounts().record(&account).unwrap().unwrap();
        let force = TokenRequest {
            force_refresh: true,
            ..TokenRequest::for_profile("p")
        };
        broker.token(&force).await.unwrap(); // rotates
        broker.accounts().write_record(&account, &original).unwrap(); // a stale copy comes back
        let mut events = broker.subscribe();
        let err = broker.token(&force).await.unwrap_err();
        assert_eq!(
            err.kind(),
            tokentray_core::ErrorKind::SignInRequired,
            "{err}"
        );
        assert!(err.to_string().contains("invalid_grant"), "{err}");
        assert!(matches!(
            events.recv().await.unwrap(),
            Event::Refreshing { .. }
        ));
        assert!(matches!(
            events.recv().await.unwrap(),
            Event::SignInRequired { .. }
        ));
        let marked = broker.accounts().for_profile("p").unwrap().unwrap();
        assert_eq!(marked.sign_in_required.as_deref(), Some("invalid_grant"));
        for _ in 0..3 {
            assert_eq!(
                broker.token(&force).await.unwrap_err().kind(),
                tokentray_core::ErrorKind::SignInRequired
            );
        }
        assert_eq!(
            world.refreshes().await,
            (1, 1),
            "one replay, then no more requests"
        );
    });
}

#[test]
fn an_idp_that_lost_its_grants_means_sign_in_required() {
    let mut world = World::new(3600);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    let broker = world.broker();
    run(signed_in(&world, &broker, &profile));
    Arc::get_mut(&mut world.idp).unwrap().restart().unwrap();
    run(async {
        let force = TokenRequest {
            force_refresh: true,
            ..TokenRequest::for_profile("p")
        };
        assert_eq!(
            broker.token(&force).await.unwrap_err().kind(),
            tokentray_core::ErrorKind::SignInRequired
        );
    });
}

// S13: refresh rules
#[test]
fn with_the_idp_down_a_valid_token_is_served_and_an_expired_one_is_a_network_error() {
    // A 120 s token due for a refresh: still valid, so still worth serving.
    let mut world = World::new(120);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    let signing_in = world.broker();
    run(signed_in(&world, &signing_in, &profile));
    age_cached_tokens(&signing_in, "p");
    let broker = world.broker();
    let before = run(broker.token(&TokenRequest::for_profile("p"))).unwrap();
    assert_eq!(run(world.refreshes()), (1, 0), "it was due");
    age_cached_tokens(&broker, "p");
    let broker = world.broker();
    Arc::get_mut(&mut world.idp).unwrap().stop();
    run(async {
        let mut events = broker.subscribe();
        let served = broker.token(&TokenRequest::for_profile("p")).await.unwrap();
        assert_eq!(
            served.token.token, before.token.token,
            "the cached token keeps being served"
        );
        assert_eq!(
            events.try_recv().unwrap(),
            Event::Refreshing {
                profile: "p".into()
            }
        );
        assert_eq!(
            events.try_recv().unwrap(),
            Event::RefreshFailed {
                profile: "p".into(),
                code: "network".into()
            }
        );
        // Make the cached token expired.
        let account = broker.accounts().for_profile("p").unwrap().unwrap();
        let mut record = broker.accounts().record(&account).unwrap().unwrap();
        for token in &mut record.access_tokens {
            token.expires_at = tokentray_core::token::now() - 1;
        }
        broker.accounts().write_record(&account, &record).unwrap();
        let fresh = world.broker();
        let err = fresh
            .token(&TokenRequest::for_profile("p"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), tokentray_core::ErrorKind::Network, "{err}");
    });
}

// S15: the vault refuses the write of a rotated refresh token: the caller
// fails cleanly and is told why, the new record is kept in memory, and
// once the vault takes writes again it is stored and used; the IdP never
// sees the retired token again, so the grant stays alive.
#[test]
fn a_refused_rotation_is_kept_stored_later_and_never_replayed() {
    let world = World::new(3600);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    let vault = Arc::new(RefusingVault::new(KeyringVault::with_service(
        &world.service,
    )));
    let retry = RetryPolicy {
        attempts: 2,
        first_delay: Duration::from_millis(50),
    };
    let broker = Broker::with_retry(oauth(), vault.clone(), world.profiles.clone(), retry);
    let force = TokenRequest {
        force_refresh: true,
        ..TokenRequest::for_profile("p")
    };
    run(async {
        signed_in(&world, &broker, &profile).await;
        let mut events = broker.subscribe();
        vault.refuse(true);
        let err = broker.token(&force).await.unwrap_err();
        assert_eq!(err.kind(), tokentray_core::ErrorKind::VaultLocked, "{err}");
        assert!(err.to_string().contains("kept in memory"), "{err}");
        assert_eq!(world.refreshes().await, (1, 0));
        let told = loop {
            match events.recv().await.unwrap() {
                Event::VaultWriteFailed { profile, message } => break (profile, message),
                _ => continue,
            }
        };
        assert_eq!(told.0, "p");
        assert!(told.1.contains("locked for the test"), "{}", told.1);
        // Still refused: nothing more is sent to the IdP.
        assert!(broker.token(&TokenRequest::for_profile("p")).await.is_err());
        assert_eq!(world.refreshes().await, (1, 0));

        vault.refuse(false);
        broker.token(&TokenRequest::for_profile("p")).await.unwrap();
        assert_eq!(
            world.refreshes().await,
            (1, 0),
            "served from the kept record"
        );
        // A new process reads the rotated refresh token from the vault, and
        // the IdP takes it: no replay, the grant is alive.
        world.broker().token(&force).await.unwrap();
        assert_eq!(world.refreshes().await, (2, 0));
    });
}

// S9: client secrets in the vault
#[test]
fn client_credentials_use_the_secret_in_the_vault() {
    let world = World::new(3600);
    world.add_profile("svc", LoginMode::ClientCredentials, false);
    world
        .vault()
        .put(
            &client_secret_key("svc"),
            &Secret::new(world.idp.confidential_client_secret()),
        )
        .unwrap();
    run(async {
        let broker = world.broker();
        let first = broker
            .token(&TokenRequest::for_profile("svc"))
            .await
            .unwrap();
        let second = broker
            .token(&TokenRequest::for_profile("svc"))
            .await
            .unwrap();
        assert_eq!(first.token.token, second.token.token);
        assert_eq!(world.requests("client_credentials").await, (1, 0));
    });
}

#[test]
fn device_sign_in_lands_in_the_vault() {
    let world = World::new(3600);
    let profile = world.add_profile("dev", LoginMode::Device, false);
    run(async {
        let options = tokentray_core::flow::FlowOptions {
            device_interval: Duration::from_millis(300),
            ..Default::default()
        };
        let grants = OAuth::with_options(
            tokentray_core::http::HttpClient::with_defaults().unwrap(),
            tokentray_core::provider::Providers::default(),
            options,
        );
        let broker = Broker::new(grants, world.vault(), world.profiles.clone());
        let device = broker.grants().start_device(&profile).await.unwrap();
        let (idp, code) = (Arc::clone(&world.idp), device.user_code.clone());
        let approve = tokio::spawn(blocking(move || idp.approve_device(&code, "bob")));
        let tokens = broker
            .grants()
            .finish_device(device, CancellationToken::new())
            .await
            .unwrap();
        approve.await.unwrap().unwrap();
        let account = broker.complete_sign_in(&profile, &tokens).await.unwrap();
        assert_eq!(account.label(), "bob");
        let fresh = world.broker();
        assert_eq!(
            fresh
                .token(&TokenRequest::for_profile("dev"))
                .await
                .unwrap()
                .token
                .token,
            tokens.access_token
        );
    });
}

// S22: vault entries and sign-out
#[test]
fn sign_out_revokes_and_deletes_every_entry() {
    // S22
    let world = World::new(3600);
    let profile = world.add_profile("p", LoginMode::Embedded, false);
    run(async {
        let broker = world.broker();
        signed_in(&world, &broker, &profile).await;
        let account = broker.accounts().for_profile("p").unwrap().unwrap();
        let refresh = broker
            .accounts()
            .record(&account)
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap();
        broker.sign_out("p").await.unwrap().unwrap();
        assert!(broker.accounts().list().unwrap().is_empty());
        assert_eq!(
            world.vault_entry_count(),
            1,
            "only the (empty) account list remains"
        );
        let err = broker
            .grants()
            .refresh(&profile, &refresh, &profile.scopes, None)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid_grant"),
            "revoked at the IdP: {err}"
        );
    });
}

// S13: refresh rules
#[test]
fn keep_fresh_refreshes_before_expiry_with_the_real_clock() {
    // 20 s tokens: the scheduler refreshes halfway, with no caller at all.
    let world = World::new(20);
    let profile = world.add_profile("p", LoginMode::Embedded, true);
    run(async {
        let broker = world.broker();
        signed_in(&world, &broker, &profile).await;
        let shutdown = CancellationToken::new();
        let driver = tokio::spawn(schedule::drive(
            broker.clone(),
            Schedule::new(),
            Arc::new(SystemClock),
            shutdown.clone(),
        ));
        let mut events = broker.subscribe();
        let refreshed = tokio::time::timeout(Duration::from_secs(19), async {
            loop {
                match events.recv().await {
                    Ok(Event::Refreshing { .. }) => continue,
                    other => return other,
                }
            }
        })
        .await;
        assert!(
            matches!(refreshed, Ok(Ok(Event::Refreshed { .. }))),
            "refreshed before the 20 s token expired: {refreshed:?}"
        );
        assert_eq!(world.refreshes().await, (1, 0));
        shutdown.cancel();
        driver.await.unwrap();
    });
}
