//! The OAuth flows against the real local OpenID provider (`tests/idp/`,
//! started per test by `tokentray_testkit`). Each test names the security
//! requirement(s) it checks (`// S3`, …).
//!
//! The rig is blocking (reqwest's blocking client), so tests are plain
//! `#[test]`s that start the IdP, run the async part on their own runtime,
//! and call the rig through `spawn_blocking`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{blocking, oauth, public_profile, query, run, sign_in, start_idp};

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use tokentray_core::flow::{requires_sign_in, FlowOptions, OAuth};
use tokentray_core::http::HttpClient;
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, Provider};
use tokentray_core::provider::Providers;
use tokentray_core::{ClientSecret, Error, IdToken, Nonce};
use tokio_util::sync::CancellationToken;
use url::Url;

/// Replaces (or adds) one query parameter of a URL.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.into()
}

// S4 S5 S6 S10 S11: PKCE S256, nonce, issuer binding, no implicit grant, ID tokens validated
#[test]
fn code_flow_with_pkce_gives_validated_tokens() {
    // S4 (PKCE S256), S5 (nonce), S6 (iss), S11 (ID token validated)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = public_profile(&idp);
        let pending = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let url = pending.authorize_url().clone();
        assert_eq!(query(&url, "code_challenge_method"), "S256");
        assert_eq!(
            query(&url, "response_type"),
            "code",
            "no implicit grant (S10)"
        );
        assert_eq!(query(&url, "code_challenge").len(), 43);
        assert!(query(&url, "state").len() >= 22, "≥128 bits of state");
        assert!(query(&url, "nonce").len() >= 22);
        let scopes = query(&url, "scope");
        assert!(scopes.split(' ').any(|s| s == "offline_access"), "{scopes}");
        // A second sign-in gets a fresh verifier and state.
        let other = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        assert_ne!(
            query(other.authorize_url(), "code_challenge"),
            query(&url, "code_challenge")
        );
        assert_ne!(query(other.authorize_url(), "state"), query(&url, "state"));

        let authorize = url.to_string();
        let rig = Arc::clone(&idp);
        let redirect = blocking(move || rig.sign_in(&authorize, "alice.smith"))
            .await
            .unwrap();
        assert!(redirect.contains("iss="), "RFC 9207 iss in {redirect}");
        let tokens = oauth.finish_sign_in(&pending, &redirect).await.unwrap();

        assert!(!tokens.access_token.expose().is_empty());
        assert!(
            tokens.refresh_token.is_some(),
            "offline_access gives a refresh token"
        );
        assert!(tokens.id_token.is_some());
        assert_eq!(tokens.token_type, "Bearer");
        let now = tokentray_core::token::now();
        assert!(
            (now + 290..=now + 310).contains(&tokens.expires_at),
            "expires_in 300"
        );
        assert!(
            tokens.scopes.iter().any(|s| s == "api.read"),
            "{:?}",
            tokens.scopes
        );
        let identity = tokens.identity.clone().unwrap();
        assert_eq!(identity.issuer, idp.issuer());
        assert_eq!(identity.subject, "alice.smith");
        assert_eq!(identity.name.as_deref(), Some("Alice Smith"));
        assert_eq!(identity.username.as_deref(), Some("alice.smith"));
        assert_eq!(identity.email.as_deref(), Some("alice.smith@example.test"));
        let shown = format!("{tokens:?}");
        assert!(
            !shown.contains(tokens.access_token.expose()),
            "S33: Debug leaks"
        );

        // S3: single use.
        let again = oauth.finish_sign_in(&pending, &redirect).await.unwrap_err();
        assert_eq!(again.kind(), tokentray_core::ErrorKind::Rejected, "{again}");
    });
}

// S3 S6 S35: strict callback, RFC 9207 mix-up, negative suite
#[test]
fn wrong_state_is_refused_without_a_token_request() {
    // S3 (state), S6 (RFC 9207 iss)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = public_profile(&idp);
        let pending = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let authorize = pending.authorize_url().to_string();
        let rig = Arc::clone(&idp);
        let redirect = blocking(move || rig.sign_in(&authorize, "mallory"))
            .await
            .unwrap();

        for tampered in [
            with_param(&redirect, "state", "forged-state"),
            with_param(&redirect, "state", ""),
            redirect.replace("127.0.0.1:4567/callback", "127.0.0.1:4567/other"),
            redirect.replace("127.0.0.1:4567", "127.0.0.1:4568"),
        ] {
            let error = oauth.finish_sign_in(&pending, &tampered).await.unwrap_err();
            assert_eq!(
                error.kind(),
                tokentray_core::ErrorKind::Rejected,
                "{tampered}: {error}"
            );
        }
        // The code was never redeemed: it still works now.
        let tokens = oauth.finish_sign_in(&pending, &redirect).await.unwrap();
        assert_eq!(tokens.identity.unwrap().subject, "mallory");

        // A response naming another issuer is a mix-up.
        let pending = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let authorize = pending.authorize_url().to_string();
        let rig = Arc::clone(&idp);
        let redirect = blocking(move || rig.sign_in(&authorize, "mallory"))
            .await
            .unwrap();
        let mixed = with_param(&redirect, "iss", "https://evil.example");
        let error = oauth.finish_sign_in(&pending, &mixed).await.unwrap_err();
        assert_eq!(error.kind(), tokentray_core::ErrorKind::Rejected, "{error}");
        let pending = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let state = query(pending.authorize_url(), "state");
        let no_iss = format!("http://127.0.0.1:4567/callback?code=abc&state={state}");
        let error = oauth.finish_sign_in(&pending, &no_iss).await.unwrap_err();
        assert_eq!(
            error.kind(),
            tokentray_core::ErrorKind::Rejected,
            "the IdP promises iss: {error}"
        );
    });
}

// S3: strict callback
#[test]
fn access_denied_is_a_clean_cancellation() {
    // S3 (error= handled)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let pending = oauth
            .begin_sign_in(&public_profile(&idp), "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let state = query(pending.authorize_url(), "state");
        let mut denied = Url::parse("http://127.0.0.1:4567/callback").unwrap();
        denied
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "End-User aborted interaction")
            .append_pair("state", &state)
            .append_pair("iss", idp.issuer());
        let error = oauth
            .finish_sign_in(&pending, denied.as_str())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Cancelled { .. }), "{error:?}");

        let pending = oauth
            .begin_sign_in(&public_profile(&idp), "http://127.0.0.1:4567/callback")
            .await
            .unwrap();
        let state = query(pending.authorize_url(), "state");
        let mut other = Url::parse("http://127.0.0.1:4567/callback").unwrap();
        other
            .query_pairs_mut()
            .append_pair("error", "invalid_scope")
            .append_pair("state", &state)
            .append_pair("iss", idp.issuer());
        match oauth
            .finish_sign_in(&pending, other.as_str())
            .await
            .unwrap_err()
        {
            Error::Provider { code, .. } => assert_eq!(code, "invalid_scope"),
            other => panic!("{other:?}"),
        }
    });
}

fn raw_get(port: u16, target: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(!response.contains("forged"), "S3: reflected a query value");
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

// S2: loopback listener
#[test]
fn browser_mode_listens_on_loopback_for_one_valid_callback() {
    // S2 (127.0.0.1:0, closed afterwards), S3 (404 / 400 / keeps waiting)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let (tx, rx) = std::sync::mpsc::channel();
        let rig = Arc::clone(&idp);
        let opener = move |url: &Url| -> tokentray_core::Result<()> {
            let redirect = Url::parse(&query(url, "redirect_uri")).unwrap();
            assert_eq!(redirect.host_str(), Some("127.0.0.1"));
            assert_eq!(redirect.path(), "/callback");
            let port = redirect.port().unwrap();
            let url = url.to_string();
            std::thread::spawn(move || {
                let not_found = raw_get(port, "/elsewhere?state=forged");
                let bad = raw_get(port, "/callback?code=x&state=forged");
                let ok = rig.sign_in_and_follow(&url, "bob").unwrap();
                tx.send((port, not_found, bad, ok)).unwrap();
            });
            Ok(())
        };
        let tokens = oauth
            .sign_in_with_browser(&public_profile(&idp), opener, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(tokens.identity.unwrap().subject, "bob");
        let (port, not_found, bad, ok) = blocking(move || rx.recv().unwrap()).await;
        assert_eq!((not_found, bad, ok), (404, 400, 200));
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the listener is closed after the callback"
        );

        // Nobody comes back: the wait ends at the timeout.
        let error = oauth
            .sign_in_with_browser(
                &public_profile(&idp),
                |_| Ok(()),
                Duration::from_millis(500),
            )
            .await
            .unwrap_err();
        assert_eq!(error.kind(), tokentray_core::ErrorKind::Cancelled);
    });
}

// S8: device flow
#[test]
fn device_flow_polls_until_approved_and_can_be_cancelled() {
    // S8
    let idp = start_idp();
    run(async {
        // The IdP sends no interval: the default (5 s) applies.
        let default = oauth().start_device(&public_profile(&idp)).await.unwrap();
        assert_eq!(default.interval, 5);

        let fast = OAuth::with_options(
            HttpClient::with_defaults().unwrap(),
            Providers::default(),
            FlowOptions {
                device_interval: Duration::from_millis(500),
                ..FlowOptions::default()
            },
        );
        let device = fast.start_device(&public_profile(&idp)).await.unwrap();
        assert!(!device.user_code.is_empty());
        assert!(device.verification_uri.starts_with(idp.issuer()));
        assert!(device.expires_in > 0);
        let shown = format!("{device:?}");
        assert!(shown.contains(&device.user_code));
        let rig = Arc::clone(&idp);
        let code = device.user_code.clone();
        let approval = tokio::task::spawn_blocking(move || rig.approve_device(&code, "carol"));
        let tokens = fast
            .finish_device(device, CancellationToken::new())
            .await
            .unwrap();
        approval.await.unwrap().unwrap();
        assert_eq!(tokens.identity.unwrap().subject, "carol");
        assert!(tokens.refresh_token.is_some());

        // Cancelled while pending.
        let device = fast.start_device(&public_profile(&idp)).await.unwrap();
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            trigger.cancel();
        });
        let error = fast.finish_device(device, cancel).await.unwrap_err();
        assert_eq!(
            error.kind(),
            tokentray_core::ErrorKind::Cancelled,
            "{error}"
        );
    });
}

#[test]
fn client_credentials_with_the_secret() {
    // S9 (secret passed in, sent as client_secret_basic)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = Profile::from_fields(
            "daemon",
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some(idp.issuer().to_owned()),
                client_id: Some(idp.confidential_client_id().to_owned()),
                scopes: Some(vec!["api.read".into()]),
                login: Some(LoginMode::ClientCredentials),
                ..Default::default()
            },
        )
        .unwrap();
        let secret = ClientSecret::new(idp.confidential_client_secret());
        let tokens = oauth
            .client_credentials(&profile, &secret, &profile.scopes)
            .await
            .unwrap();
        assert!(!tokens.access_token.expose().is_empty());
        assert!(tokens.refresh_token.is_none());
        assert!(tokens.identity.is_none());
        assert_eq!(tokens.scopes, ["api.read"]);

        let error = oauth
            .client_credentials(
                &profile,
                &ClientSecret::new("wrong-secret"),
                &profile.scopes,
            )
            .await
            .unwrap_err();
        match &error {
            Error::Provider { code, .. } => assert_eq!(code, "invalid_client"),
            other => panic!("{other:?}"),
        }
        assert!(!error.to_string().contains("wrong-secret"));
    });
}

#[test]
fn refresh_rotates_and_a_replayed_token_requires_sign_in() {
    // S11 (§12.2 same identity), S13 (invalid_grant is terminal), S14 (rotation)
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = public_profile(&idp);
        let (first, _) = sign_in(&oauth, &idp, &public_profile(&idp), "dave").await;
        let old = first.refresh_token.clone().unwrap();
        let identity = first.identity.clone().unwrap();

        let second = oauth
            .refresh(&profile, &old, &profile.scopes, Some(&identity))
            .await
            .unwrap();
        let new = second.refresh_token.clone().unwrap();
        assert_ne!(new, old, "rotated");
        assert_ne!(second.access_token, first.access_token);
        assert_eq!(second.identity.as_ref().unwrap().subject, "dave");

        // Someone else's identity: the refreshed ID token does not match.
        let third = oauth
            .refresh(&profile, &new, &profile.scopes, Some(&identity))
            .await
            .unwrap();
        let newest = third.refresh_token.clone().unwrap();
        let mut stranger = identity.clone();
        stranger.subject = "erin".into();
        let error = oauth
            .refresh(&profile, &newest, &profile.scopes, Some(&stranger))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), tokentray_core::ErrorKind::Rejected, "{error}");

        // Replaying the first refresh token.
        let error = oauth
            .refresh(&profile, &old, &profile.scopes, Some(&identity))
            .await
            .unwrap_err();
        assert!(requires_sign_in(&error), "{error:?}");
        match error {
            Error::Provider { code, .. } => assert_eq!(code, "invalid_grant"),
            other => panic!("{other:?}"),
        }
    });
}

// S22: vault entries and sign-out
#[test]
fn revocation_ends_the_refresh_token() {
    // S22
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = public_profile(&idp);
        let (tokens, _) = sign_in(&oauth, &idp, &public_profile(&idp), "frank").await;
        let refresh = tokens.refresh_token.unwrap();
        assert!(oauth.revoke(&profile, &refresh).await.unwrap());
        let error = oauth
            .refresh(&profile, &refresh, &profile.scopes, None)
            .await
            .unwrap_err();
        assert!(requires_sign_in(&error), "{error:?}");
    });
}

// S5 S11 S35: nonce, ID tokens validated, negative suite
#[test]
fn id_tokens_with_a_wrong_nonce_alg_none_or_a_bad_signature_are_refused() {
    // S5, S11
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let idp = start_idp();
    run(async {
        let oauth = oauth();
        let profile = public_profile(&idp);
        let (tokens, nonce) = sign_in(&oauth, &idp, &public_profile(&idp), "grace").await;
        let id_token = tokens.id_token.unwrap();

        let ok = oauth
            .validate_id_token(&profile, &id_token, Some(&Nonce::new(nonce.clone())))
            .await
            .unwrap();
        assert_eq!(ok.subject, "grace");

        let reject = |token: IdToken, nonce: Option<Nonce>| {
            let oauth = oauth.clone();
            let profile = profile.clone();
            async move {
                let error = oauth
                    .validate_id_token(&profile, &token, nonce.as_ref())
                    .await
                    .unwrap_err();
                assert_eq!(error.kind(), tokentray_core::ErrorKind::Rejected, "{error}");
                error.to_string()
            }
        };
        let why = reject(id_token.clone(), Some(Nonce::new(format!("{nonce}x")))).await;
        assert!(why.contains("nonce"), "{why}");

        let parts: Vec<&str> = id_token.expose().split('.').collect();
        let payload = parts[1];
        // alg none, no signature.
        let none = format!(
            "{}.{payload}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        reject(IdToken::new(none), None).await;
        // HS256 "signed" with anything (e.g. the public client id).
        let hs = format!(
            "{}.{payload}.{}",
            b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            parts[2]
        );
        reject(IdToken::new(hs), None).await;
        // A changed payload under the original signature.
        let mut claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
        claims["sub"] = "mallory".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(claims.to_string()),
            parts[2]
        );
        reject(IdToken::new(forged), None).await;
        // Another client's token: wrong audience.
        let mut other = profile.clone();
        other.client_id = "someone-else".into();
        let error = oauth
            .validate_id_token(&other, &id_token, None)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), tokentray_core::ErrorKind::Rejected, "{error}");
    });
}

// S6 S7 S35: issuer binding and mix-up, transport, negative suite
#[test]
fn plain_http_to_a_remote_issuer_and_a_mismatched_issuer_are_refused() {
    // S7, S6
    run(async {
        let oauth = oauth();
        let mut profile = Profile::from_fields(
            "remote",
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some("https://idp.example.com".into()),
                client_id: Some("c".into()),
                ..Default::default()
            },
        )
        .unwrap();
        // Profiles refuse it too; the OAuth layer must not rely on that.
        profile.provider = Provider::Oidc {
            issuer: "http://idp.example.com".into(),
        };
        let error = oauth
            .begin_sign_in(&profile, "http://127.0.0.1:1/callback")
            .await
            .unwrap_err();
        assert_eq!(
            error.kind(),
            tokentray_core::ErrorKind::InvalidInput,
            "{error}"
        );
        assert!(error.to_string().contains("plain http"), "{error}");
    });

    let idp = start_idp();
    run(async {
        let mut profile = public_profile(&idp);
        profile.provider = Provider::Oidc {
            issuer: idp.issuer().replace("127.0.0.1", "localhost"),
        };
        let error = oauth()
            .begin_sign_in(&profile, "http://127.0.0.1:1/callback")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("must match exactly"), "{error}");
    });
}
