//! The hostile-provider suite (S35): every way `tokentray_testkit::hostile`
//! can misbehave, against the real flows, the real broker and the real
//! Secret Service (inside `scripts/headless-session`).
//!
//! Each case signs two accounts in on two hostile providers that still
//! behave ("good" and "bad"), then makes "bad" misbehave and tries a
//! sign-in, a refresh or a device sign-in on it, while the same broker
//! serves "good". It asserts a typed error whose message says what was
//! wrong, that no entry under the test's keyring service changed (every
//! item, byte for byte, with its modification time), that no token value
//! leaks into the message, that no task panicked, and that nothing waited
//! longer than the HTTP timeout the test configured
//! (`HttpOptions::timeout`). Cases a real, well-behaved provider covers
//! already are in `flows.rs` and `broker.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::run;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokentray_core::account::Account;
use tokentray_core::broker::{Broker, RetryPolicy, TokenRequest};
use tokentray_core::flow::{FlowOptions, OAuth};
use tokentray_core::http::{HttpClient, HttpOptions};
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, FILE_NAME};
use tokentray_core::provider::Providers;
use tokentray_core::vault::{KeyringVault, Vault};
use tokentray_core::Secret;
use tokentray_testkit::hostile::{Endpoint, HostileIdp, IdTokenFault, Misbehaviour, SUBJECT};
use tokio_util::sync::CancellationToken;

/// The HTTP timeout every request of these tests gets.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts the broker makes on network errors.
const ATTEMPTS: u32 = 2;
/// What "no hang" means here: every attempt may take the whole timeout,
/// plus generous slack for a slow machine. A hang lasts minutes.
const NO_HANG: Duration = Duration::from_secs(2 * ATTEMPTS as u64 + 30);
/// Lifetime assumed when a token response has no `expires_in` (set apart
/// from the hostile provider's own 3600 s on purpose).
const ASSUMED_LIFETIME: u64 = 1234;
/// Longest access-token lifetime the core believes
/// (`tokentray_core::flow::MAX_EXPIRES_IN_SECS`).
const MAX_LIFETIME: u64 = tokentray_core::flow::MAX_EXPIRES_IN_SECS;
const CLIENT_ID: &str = "tokentray-hostile";
const REDIRECT_URI: &str = "http://127.0.0.1:4567/callback";

/// What the hostile account tries while its provider misbehaves.
#[derive(Debug, Clone, Copy)]
enum Attempt {
    SignIn,
    Refresh,
    Device,
}

/// Two hostile providers, their profiles, one keyring service.
struct World {
    good: Arc<HostileIdp>,
    bad: Arc<HostileIdp>,
    profiles: ProfileStore,
    service: String,
    _dir: tempfile::TempDir,
}

impl World {
    /// Both accounts signed in while both providers behave; "bad"'s cached
    /// access token is then expired, so that a refresh cannot fall back on
    /// it.
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        assert_eq!(
            std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
            Ok("1"),
            "the hostile suite uses the real Secret Service: run it under scripts/headless-session"
        );
        let dir = tempfile::tempdir().unwrap();
        let world = Self {
            good: Arc::new(HostileIdp::start().unwrap()),
            bad: Arc::new(HostileIdp::start().unwrap()),
            profiles: ProfileStore::at(dir.path().join(FILE_NAME)),
            service: format!(
                "dev.tokentray.hostiletest.{}.{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
            _dir: dir,
        };
        for (name, idp) in [("good", &world.good), ("bad", &world.bad)] {
            let profile = Profile::from_fields(
                name,
                ProfileFields {
                    provider: Some(Preset::Oidc),
                    issuer: Some(idp.issuer().to_owned()),
                    client_id: Some(CLIENT_ID.into()),
                    scopes: Some(vec!["api.read".into()]),
                    login: Some(LoginMode::Embedded),
                    ..Default::default()
                },
            )
            .unwrap();
            world.profiles.add(&profile).unwrap();
        }
        run(async {
            let broker = world.broker();
            for (name, idp) in [("good", &world.good), ("bad", &world.bad)] {
                sign_in(broker.clone(), Arc::clone(idp), world.profile(name))
                    .await
                    .unwrap();
            }
            let bad = broker.accounts().for_profile("bad").unwrap().unwrap();
            let mut record = broker.accounts().record(&bad).unwrap().unwrap();
            for token in &mut record.access_tokens {
                token.expires_at = tokentray_core::token::now() - 1;
            }
            broker.accounts().write_record(&bad, &record).unwrap();
        });
        world
    }

    fn profile(&self, name: &str) -> Profile {
        self.profiles.get(name).unwrap()
    }

    fn vault(&self) -> Arc<KeyringVault> {
        Arc::new(KeyringVault::with_service(&self.service))
    }

    /// A new broker, as a new process would have: nothing cached, not even
    /// discovery documents or keys.
    fn broker(&self) -> Broker<OAuth> {
        let http = HttpClient::new(HttpOptions {
            timeout: TIMEOUT,
            connect_timeout: TIMEOUT,
            ..HttpOptions::default()
        })
        .unwrap();
        let options = FlowOptions {
            device_interval: Duration::from_millis(100),
            default_expires_in_secs: ASSUMED_LIFETIME,
            ..FlowOptions::default()
        };
        let oauth = OAuth::with_options(http, Providers::default(), options);
        let retry = RetryPolicy {
            attempts: ATTEMPTS,
            first_delay: Duration::from_millis(50),
        };
        Broker::with_retry(oauth, self.vault(), self.profiles.clone(), retry)
    }

    /// Everything under this world's keyring service: each item as
    /// `secret-tool` shows it (label, value, created, modified), sorted, and
    /// the account list and records as the core reads them.
    fn vault_snapshot(&self) -> (Vec<String>, Vec<(String, Option<Secret>)>) {
        let out = std::process::Command::new("secret-tool")
            .args(["search", "--all", "service", &self.service])
            .output()
            .unwrap();
        assert!(out.status.success(), "secret-tool search failed");
        // The schema line comes and goes between runs of `secret-tool`.
        let text: String = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with("schema = "))
            .map(|line| format!("{line}\n"))
            .collect();
        let mut items: Vec<String> = text
            .split("\n[")
            .map(|item| item.trim().trim_start_matches('[').to_owned())
            .filter(|item| !item.is_empty())
            .collect();
        items.sort();
        assert!(
            items.len() >= 3,
            "two records and the list: {}",
            items.len()
        );
        let vault = self.vault();
        let mut logical = vec![("accounts".to_owned(), vault.get("accounts").unwrap())];
        let accounts: Vec<Account> =
            serde_json::from_str(logical[0].1.as_ref().unwrap().expose()).unwrap();
        for account in accounts {
            let key = account.record_key();
            let value = vault.get(&key).unwrap();
            logical.push((key, value));
        }
        (items, logical)
    }

    /// Makes "bad" misbehave, runs each of `attempts` on it while the same
    /// broker serves "good", and checks the rules of the suite.
    fn fails(&self, misbehaviour: Misbehaviour, attempts: &[Attempt], kind: &str, says: &str) {
        for attempt in attempts {
            self.fails_once(&misbehaviour, *attempt, kind, says);
        }
    }

    fn fails_once(&self, misbehaviour: &Misbehaviour, attempt: Attempt, kind: &str, says: &str) {
        let before = self.vault_snapshot();
        self.bad.misbehave(misbehaviour.clone());
        let broker = self.broker();
        let (error, took) = run(async {
            let good_before = broker
                .token(&TokenRequest::for_profile("good"))
                .await
                .unwrap();
            let started = Instant::now();
            let failing = tokio::spawn(try_attempt(
                broker.clone(),
                Arc::clone(&self.bad),
                self.profile("bad"),
                attempt,
            ));
            // The broker keeps serving the other account meanwhile.
            for _ in 0..3 {
                let served = broker
                    .token(&TokenRequest::for_profile("good"))
                    .await
                    .unwrap();
                assert_eq!(served.token.token, good_before.token.token);
            }
            let outcome = tokio::time::timeout(NO_HANG, failing)
                .await
                .unwrap_or_else(|_| panic!("{misbehaviour:?}: hung past {NO_HANG:?}"))
                .expect("no panic");
            let error = match outcome {
                Ok(()) => panic!("{misbehaviour:?}: {attempt:?} succeeded"),
                Err(error) => error,
            };
            let took = started.elapsed();
            let good_after = broker
                .token(&TokenRequest::for_profile("good"))
                .await
                .unwrap();
            assert_eq!(good_after.token.token, good_before.token.token);
            (error, took)
        });
        let shown = error.to_string();
        assert_eq!(error.kind().as_str(), kind, "{misbehaviour:?}: {shown}");
        assert!(
            shown.contains(says),
            "{misbehaviour:?}: `{shown}` should say `{says}`"
        );
        assert!(
            !shown.chars().any(char::is_control),
            "{misbehaviour:?}: provider text reached the message raw: {shown:?}"
        );
        for secret in [
            "hostile-at-",
            "hostile-rt-",
            "hostile-code-",
            "hostile-device-",
        ] {
            assert!(!shown.contains(secret), "{misbehaviour:?}: {shown}");
        }
        assert!(took < NO_HANG);
        let after = self.vault_snapshot();
        assert_eq!(after.0, before.0, "{misbehaviour:?}: a vault item changed");
        assert!(after.1 == before.1, "{misbehaviour:?}: a record changed");
    }
}

/// A code-flow sign-in as the app does it: authorize URL, the provider's
/// redirect, the exchange, then the account stored.
async fn sign_in(
    broker: Broker<OAuth>,
    idp: Arc<HostileIdp>,
    profile: Profile,
) -> tokentray_core::Result<Account> {
    let pending = broker
        .grants()
        .begin_sign_in(&profile, REDIRECT_URI)
        .await?;
    let redirect = idp.callback_for(pending.authorize_url().as_str()).unwrap();
    let tokens = broker.grants().finish_sign_in(&pending, &redirect).await?;
    broker.complete_sign_in(&profile, &tokens).await
}

async fn try_attempt(
    broker: Broker<OAuth>,
    idp: Arc<HostileIdp>,
    profile: Profile,
    attempt: Attempt,
) -> tokentray_core::Result<()> {
    match attempt {
        Attempt::SignIn => sign_in(broker, idp, profile).await.map(drop),
        Attempt::Refresh => {
            let request = TokenRequest {
                force_refresh: true,
                ..TokenRequest::for_profile(&profile.name)
            };
            broker.token(&request).await.map(drop)
        }
        Attempt::Device => {
            let device = broker.grants().start_device(&profile).await?;
            let tokens = broker
                .grants()
                .finish_device(device, CancellationToken::new())
                .await?;
            broker.complete_sign_in(&profile, &tokens).await.map(drop)
        }
    }
}

fn evil(path: &str) -> String {
    format!("http://evil.example{path}")
}

fn in_time<T>(future: impl Future<Output = T>) -> T {
    run(async {
        tokio::time::timeout(NO_HANG, future)
            .await
            .expect("no hang")
    })
}

// --- the token endpoint misbehaves -------------------------------------

// S35: a 500 from the token endpoint at sign-in stores nothing
#[test]
fn token_endpoint_500_at_sign_in() {
    let world = World::new();
    world.fails(
        Misbehaviour::Status(Endpoint::Token, 500),
        &[Attempt::SignIn],
        "network",
        "HTTP 500",
    );
}

// S35, S13: a 500 on refresh is retried, then reported; the record stays as it was
#[test]
fn token_endpoint_500_on_refresh() {
    let world = World::new();
    let before = world.bad.requests(Endpoint::Token);
    world.fails(
        Misbehaviour::Status(Endpoint::Token, 500),
        &[Attempt::Refresh],
        "network",
        "HTTP 500",
    );
    assert_eq!(
        world.bad.requests(Endpoint::Token) - before,
        ATTEMPTS as usize,
        "retried as the policy says, then stopped"
    );
}

// S35: a token endpoint that never answers ends at the configured timeout
#[test]
fn token_endpoint_hang_at_sign_in() {
    let world = World::new();
    let started = Instant::now();
    world.fails(
        Misbehaviour::Hang(Endpoint::Token),
        &[Attempt::SignIn],
        "network",
        "timed out",
    );
    assert!(started.elapsed() >= TIMEOUT, "it did wait for the timeout");
}

// S35: a body that trickles in a byte at a time ends at the same timeout
#[test]
fn token_endpoint_trickle() {
    let world = World::new();
    world.fails(
        Misbehaviour::Trickle(Endpoint::Token),
        &[Attempt::SignIn, Attempt::Refresh],
        "network",
        "timed out",
    );
}

// S35, S13: a hanging refresh ends at the timeout on every attempt
#[test]
fn token_endpoint_hang_on_refresh() {
    let world = World::new();
    world.fails(
        Misbehaviour::Hang(Endpoint::Token),
        &[Attempt::Refresh],
        "network",
        "timed out",
    );
}

// S35: malformed JSON from the token endpoint
#[test]
fn token_endpoint_malformed_json() {
    let world = World::new();
    world.fails(
        Misbehaviour::MalformedJson(Endpoint::Token),
        &[Attempt::SignIn, Attempt::Refresh],
        "network",
        "malformed response",
    );
}

// S35: a 50 MB token response is cut off at the body cap
#[test]
fn token_endpoint_50_mb_body() {
    let world = World::new();
    world.fails(
        Misbehaviour::HugeBody(Endpoint::Token),
        &[Attempt::SignIn, Attempt::Refresh],
        "network",
        "larger than",
    );
}

// S35, S7: a redirect to a non-loopback http URL is never followed
#[test]
fn token_endpoint_redirect_to_plain_http() {
    let world = World::new();
    world.fails(
        Misbehaviour::Redirect(Endpoint::Token, evil("/token")),
        &[Attempt::SignIn, Attempt::Refresh],
        "network",
        "redirect (HTTP 302) to http://evil.example",
    );
}

// S35, S12: a token_type other than Bearer is refused, at sign-in and on refresh
#[test]
fn token_type_other_than_bearer() {
    let world = World::new();
    world.fails(
        Misbehaviour::TokenType("mac".into()),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "token_type `mac` is not Bearer",
    );
}

// No expires_in, or one that is huge, negative, fractional or not
// a number: accepted with the documented assumed lifetime
// (FlowOptions::default_expires_in_secs), absurd ones capped
// (flow::MAX_EXPIRES_IN_SECS); stored as an absolute time, no panic, no
// overflow in the scheduler's arithmetic
// S35, S12
#[test]
fn missing_or_absurd_expires_in_is_tamed() {
    let world = World::new();
    let broker = world.broker();
    let expires_in = Misbehaviour::ExpiresIn;
    let cases = [
        (Misbehaviour::NoExpiresIn, ASSUMED_LIFETIME),
        (expires_in(json!(u64::MAX)), MAX_LIFETIME),
        (expires_in(json!(i64::MAX)), MAX_LIFETIME),
        (expires_in(json!("99999999999999999999")), ASSUMED_LIFETIME),
        (expires_in(json!(-5)), ASSUMED_LIFETIME),
        (expires_in(json!(1.5)), ASSUMED_LIFETIME),
        (expires_in(json!("soon")), ASSUMED_LIFETIME),
        (expires_in(json!({"secs": 5})), ASSUMED_LIFETIME),
    ];
    for (misbehaviour, lifetime) in cases {
        world.bad.misbehave(misbehaviour.clone());
        in_time(async {
            let request = TokenRequest {
                force_refresh: true,
                ..TokenRequest::for_profile("bad")
            };
            let now = tokentray_core::token::now();
            let token = broker.token(&request).await.unwrap().token;
            let lifetime = i64::try_from(lifetime).unwrap();
            assert!(
                (now + lifetime..=now + lifetime + 30).contains(&token.expires_at),
                "{misbehaviour:?}: {} vs now {now}",
                token.expires_at
            );
            let fresh = world.broker();
            let stored = fresh
                .token(&TokenRequest::for_profile("bad"))
                .await
                .unwrap()
                .token;
            assert_eq!(
                stored.expires_at, token.expires_at,
                "{misbehaviour:?}: stored"
            );
            let deadline = tokentray_core::schedule::refresh_deadline(now, token.expires_at, 300);
            assert!(
                deadline > now && deadline < token.expires_at,
                "{misbehaviour:?}"
            );
        });
    }
}

// --- ID tokens -----------------------------------------------------------

// S35, S11: an ID token with alg none
#[test]
fn id_token_alg_none() {
    let world = World::new();
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::AlgNone),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "invalid ID token",
    );
}

// S35, S11, S6: an ID token naming another issuer
#[test]
fn id_token_wrong_issuer() {
    let world = World::new();
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::Issuer(world.good.issuer().to_owned())),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "issuer mismatch",
    );
}

// S35, S11: an ID token for another client
#[test]
fn id_token_wrong_audience() {
    let world = World::new();
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::Audience("someone-else".into())),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "not issued for this client (aud)",
    );
}

// S35, S5: an ID token with another nonce than the sign-in sent
#[test]
fn id_token_wrong_nonce() {
    let world = World::new();
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::Nonce("replayed-nonce".into())),
        &[Attempt::SignIn],
        "rejected",
        "nonce mismatch",
    );
}

// An ID token signed by a key the JWKS does not hold; the JWKS is
// fetched again exactly once
// S35, S11
#[test]
fn id_token_signed_by_an_unknown_key() {
    let world = World::new();
    for attempt in [Attempt::SignIn, Attempt::Refresh] {
        let before = world.bad.requests(Endpoint::Jwks);
        world.fails(
            Misbehaviour::IdToken(IdTokenFault::UnknownKey),
            &[attempt],
            "rejected",
            "signed with a key the provider does not publish",
        );
        assert_eq!(
            world.bad.requests(Endpoint::Jwks) - before,
            2,
            "{attempt:?}: one fetch, one refetch"
        );
    }
}

// S11: after a key rotation, an ID token signed by a key the cached JWKS
// lacks is verified after exactly one refetch
#[test]
fn a_rotated_signing_key_costs_one_jwks_refetch() {
    let world = World::new();
    let broker = world.broker();
    let refresh = TokenRequest {
        force_refresh: true,
        ..TokenRequest::for_profile("bad")
    };
    in_time(async {
        // the JWKS (the old key only) is cached by this refresh
        broker.token(&refresh).await.unwrap();
        let before = world.bad.requests(Endpoint::Jwks);
        world
            .bad
            .misbehave(Misbehaviour::IdToken(IdTokenFault::RotatedKey));
        broker.token(&refresh).await.unwrap();
        assert_eq!(
            world.bad.requests(Endpoint::Jwks) - before,
            1,
            "one refetch"
        );
        broker.token(&refresh).await.unwrap();
        assert_eq!(
            world.bad.requests(Endpoint::Jwks) - before,
            1,
            "the new key is cached"
        );
    });
}

// S35, S11: an expired ID token
#[test]
fn id_token_expired() {
    let world = World::new();
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::Expired),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "expired",
    );
}

// Display claims with escape sequences, bidi overrides or absurd
// length are made safe before they reach a menu, a notification or a
// terminal; the subject stays exact
// S35, S32
#[test]
fn display_claims_are_made_safe_to_show() {
    let world = World::new();
    let shown_safe = |text: &str| {
        !text
            .chars()
            .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c))
            && text.chars().count() <= 257
    };
    let cases = [
        ("preferred_username", json!("mal\u{1b}[31mlory\n\u{7}")),
        ("name", json!("\u{202E}gnp.exe")),
        ("email", json!("x".repeat(100_000))),
    ];
    let broker = world.broker();
    for (claim, value) in cases {
        world
            .bad
            .misbehave(Misbehaviour::IdToken(IdTokenFault::Claim(
                claim.into(),
                value,
            )));
        let account = in_time(sign_in(
            broker.clone(),
            Arc::clone(&world.bad),
            world.profile("bad"),
        ))
        .unwrap();
        let identity = &account.identity;
        assert_eq!(identity.subject, SUBJECT);
        for text in [&identity.name, &identity.username, &identity.email]
            .into_iter()
            .flatten()
        {
            assert!(shown_safe(text), "{claim}: {text:?}");
        }
        assert!(shown_safe(&account.label()), "{claim}");
    }
}

// S35, S11: the JWKS endpoint fails
#[test]
fn jwks_500_or_garbage() {
    let world = World::new();
    world.fails(
        Misbehaviour::Status(Endpoint::Jwks, 500),
        &[Attempt::SignIn],
        "network",
        "HTTP 500",
    );
    world.fails(
        Misbehaviour::MalformedJson(Endpoint::Jwks),
        &[Attempt::Refresh],
        "network",
        "malformed response",
    );
}

// --- discovery -----------------------------------------------------------

// S35, S6: discovery naming another issuer than the configured one
#[test]
fn discovery_issuer_differs() {
    let world = World::new();
    world.fails(
        Misbehaviour::DiscoveryIssuer(world.good.issuer().to_owned()),
        &[Attempt::SignIn, Attempt::Refresh, Attempt::Device],
        "invalid_input",
        "must match exactly",
    );
}

// An issuer that carries escape sequences is named in the error
// without them (the CLI prints errors to a terminal)
// S35, S6
#[test]
fn issuers_with_escape_sequences_are_not_echoed_raw() {
    let world = World::new();
    let evil_issuer = format!("{}\u{1b}]0;pwned\u{7}", world.bad.issuer());
    world.fails(
        Misbehaviour::DiscoveryIssuer(evil_issuer.clone()),
        &[Attempt::SignIn],
        "invalid_input",
        "must match exactly",
    );
    world.fails(
        Misbehaviour::IdToken(IdTokenFault::Issuer(evil_issuer)),
        &[Attempt::SignIn, Attempt::Refresh],
        "rejected",
        "invalid ID token",
    );
}

// S35, S7: discovery pointing the token endpoint at plain http elsewhere
#[test]
fn discovery_names_a_plain_http_token_endpoint() {
    let world = World::new();
    world.fails(
        Misbehaviour::TokenEndpoint(evil("/token")),
        &[Attempt::SignIn],
        "invalid_input",
        "refusing plain http to evil.example",
    );
}

// S35, S7: discovery that fails, hangs, is garbage, huge, or redirects
#[test]
fn discovery_misbehaves() {
    let world = World::new();
    let cases = [
        (Misbehaviour::Status(Endpoint::Discovery, 503), "HTTP 503"),
        (Misbehaviour::Hang(Endpoint::Discovery), "timed out"),
        (
            Misbehaviour::MalformedJson(Endpoint::Discovery),
            "malformed response",
        ),
        (Misbehaviour::HugeBody(Endpoint::Discovery), "larger than"),
        (
            Misbehaviour::Redirect(
                Endpoint::Discovery,
                evil("/.well-known/openid-configuration"),
            ),
            "redirect (HTTP 302) to http://evil.example",
        ),
    ];
    for (misbehaviour, says) in cases {
        world.fails(misbehaviour, &[Attempt::SignIn], "network", says);
    }
}

// --- the authorization response (callback) -------------------------------

// An iss mix-up on the callback (RFC 9207) is refused before any
// token request
// S35, S6, S3
#[test]
fn callback_iss_mix_up() {
    let world = World::new();
    let before = world.bad.requests(Endpoint::Token);
    world.fails(
        Misbehaviour::CallbackIss(Some(world.good.issuer().to_owned())),
        &[Attempt::SignIn],
        "rejected",
        "iss names another issuer (mix-up)",
    );
    world.fails(
        Misbehaviour::CallbackIss(None),
        &[Attempt::SignIn],
        "rejected",
        "lacks the iss parameter the provider promises",
    );
    assert_eq!(
        world.bad.requests(Endpoint::Token),
        before,
        "no code was exchanged"
    );
}

// --- device flow -----------------------------------------------------------

// S35, S8: slow_down adds 5 s to the polling interval
#[test]
fn device_slow_down_adds_five_seconds() {
    let world = World::new();
    world.bad.misbehave(Misbehaviour::SlowDown(1));
    let broker = world.broker();
    let account = in_time(try_device(&broker, &world)).unwrap();
    assert_eq!(account.identity.issuer, world.bad.issuer());
    let polls = world.bad.device_polls();
    assert_eq!(polls.len(), 2, "slow_down, then approved");
    let gap = polls[1] - polls[0];
    assert!(
        gap >= Duration::from_millis(5100),
        "the 100 ms interval grew by 5 s: {gap:?}"
    );
}

async fn try_device(broker: &Broker<OAuth>, world: &World) -> tokentray_core::Result<Account> {
    let profile = world.profile("bad");
    let device = broker.grants().start_device(&profile).await?;
    let tokens = broker
        .grants()
        .finish_device(device, CancellationToken::new())
        .await?;
    broker.complete_sign_in(&profile, &tokens).await
}

// A polling interval of any size neither panics nor polls faster
// than asked: one longer than the code's life ends the sign-in at once
// S35, S8
#[test]
fn device_interval_of_any_size() {
    let world = World::new();
    world.fails(
        Misbehaviour::DeviceInterval(u64::MAX),
        &[Attempt::Device],
        "provider",
        "expired before it was approved",
    );
    assert!(world.bad.device_polls().is_empty(), "never polled early");
}

// A device verification URI that is not https (or loopback http) is
// refused: the app opens it in the browser and the CLI prints it
// S35, S7
#[test]
fn device_verification_uri_must_be_https() {
    let world = World::new();
    for uri in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://evil.example/device",
        "https://user:pw@evil.example/device",
        "not a url",
    ] {
        world.fails(
            Misbehaviour::VerificationUri(uri.into()),
            &[Attempt::Device],
            "rejected",
            "verification_uri",
        );
    }
}

// S35: control characters in a verification URI never reach a terminal
#[test]
fn device_verification_uri_is_normalised() {
    let world = World::new();
    world.bad.misbehave(Misbehaviour::VerificationUri(
        "https://idp.example/device\u{1b}[2J\u{7}".into(),
    ));
    let broker = world.broker();
    let device = in_time(broker.grants().start_device(&world.profile("bad"))).unwrap();
    for shown in [
        Some(device.verification_uri.as_str()),
        device.verification_uri_complete.as_deref(),
    ] {
        let shown = shown.unwrap();
        assert!(shown.starts_with("https://idp.example/device"), "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
}

// S35, S8: access_denied stops polling as a cancellation
#[test]
fn device_access_denied() {
    let world = World::new();
    world.fails(
        Misbehaviour::DeviceError("access_denied".into()),
        &[Attempt::Device],
        "cancelled",
        "access_denied",
    );
    assert_eq!(world.bad.device_polls().len(), 1, "polling stopped");
}

// S35, S8: expired_token stops polling
#[test]
fn device_expired_token() {
    let world = World::new();
    world.fails(
        Misbehaviour::DeviceError("expired_token".into()),
        &[Attempt::Device],
        "provider",
        "expired_token",
    );
    assert_eq!(world.bad.device_polls().len(), 1, "polling stopped");
}

// S35, S8: a device code never approved ends at its expires_in
#[test]
fn device_code_expires() {
    let world = World::new();
    world.fails(
        Misbehaviour::DeviceNeverApproved { expires_in: 1 },
        &[Attempt::Device],
        "provider",
        "expired before it was approved",
    );
}

// S35, S8: the device endpoints fail
#[test]
fn device_endpoints_misbehave() {
    let world = World::new();
    world.fails(
        Misbehaviour::Status(Endpoint::DeviceAuthorization, 500),
        &[Attempt::Device],
        "network",
        "HTTP 500",
    );
    world.fails(
        Misbehaviour::Hang(Endpoint::DeviceAuthorization),
        &[Attempt::Device],
        "network",
        "timed out",
    );
    world.fails(
        Misbehaviour::MalformedJson(Endpoint::Token),
        &[Attempt::Device],
        "network",
        "malformed response",
    );
}

// --- the rig itself ------------------------------------------------------

// The well-behaved mode signs in and refreshes, so every failure above is
// the misbehaviour's doing
// S35
#[test]
fn a_well_behaved_hostile_provider_works() {
    let world = World::new();
    let broker = world.broker();
    in_time(async {
        let request = TokenRequest {
            force_refresh: true,
            ..TokenRequest::for_profile("bad")
        };
        let refreshed = broker.token(&request).await.unwrap().token;
        assert!(refreshed.token.expose().starts_with("hostile-at-"));
        assert_eq!(refreshed.token_type, "Bearer");
        let account = sign_in(broker.clone(), Arc::clone(&world.bad), world.profile("bad"))
            .await
            .unwrap();
        assert_eq!(account.identity.subject, SUBJECT);
        try_device(&broker, &world).await.unwrap();
    });
}
