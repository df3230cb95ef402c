//! Proves the rig: the local IdP starts, answers discovery, and the scripted
//! user completes the flows Tokentray relies on (authorization code + PKCE,
//! refresh with rotation, device code, client credentials).

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::blocking::Client;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokentray_testkit::{Idp, IdpOptions};
use url::Url;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";

fn http() -> Result<Client, reqwest::Error> {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(format!(
        "verifier-{:?}-{}",
        Instant::now(),
        std::process::id()
    ));
    let verifier = format!("{verifier:0<43}");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(
    idp: &Idp,
    scope: &str,
    state: &str,
    challenge: &str,
) -> Result<String, url::ParseError> {
    let mut url = Url::parse(&idp.url("/auth"))?;
    url.query_pairs_mut()
        .append_pair("client_id", idp.public_client_id())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("nonce", "n-0S6_WzA2Mj")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// POSTs a form to the token endpoint; returns (HTTP status, JSON body).
fn token_request(idp: &Idp, form: &[(&str, &str)]) -> Result<(u16, Value), reqwest::Error> {
    let response = http()?.post(idp.url("/token")).form(form).send()?;
    let status = response.status().as_u16();
    Ok((status, response.json()?))
}

fn sign_in_and_redeem(idp: &Idp, scope: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let (verifier, challenge) = pkce();
    let redirect = idp.sign_in(&authorize_url(idp, scope, "st4te", &challenge)?, "alice")?;
    let redirect = Url::parse(&redirect)?;
    let param = |name: &str| {
        redirect
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    assert!(redirect.as_str().starts_with(REDIRECT_URI), "{redirect}");
    assert_eq!(param("state").as_deref(), Some("st4te"));
    assert_eq!(param("iss").as_deref(), Some(idp.issuer()), "RFC 9207 iss");
    let code = param("code").ok_or_else(|| format!("no code in {redirect}"))?;

    let (status, tokens) = token_request(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", idp.public_client_id()),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )?;
    assert_eq!(status, 200, "{tokens}");
    Ok(tokens)
}

fn id_token_claims(id_token: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let payload = id_token.split('.').nth(1).ok_or("id_token is not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

#[test]
fn discovery_names_the_issuer_and_endpoints() -> TestResult {
    let idp = Idp::start()?;
    assert!(idp.issuer().starts_with("http://127.0.0.1:"));
    let doc = idp.discovery()?;
    assert_eq!(doc["issuer"], idp.issuer());
    for (key, path) in [
        ("authorization_endpoint", "/auth"),
        ("token_endpoint", "/token"),
        ("device_authorization_endpoint", "/device/auth"),
        ("revocation_endpoint", "/token/revocation"),
        ("introspection_endpoint", "/token/introspection"),
        ("jwks_uri", "/jwks"),
    ] {
        assert_eq!(doc[key], idp.url(path), "{key}");
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let scopes = doc["scopes_supported"]
        .as_array()
        .ok_or("no scopes_supported")?;
    for scope in ["openid", "offline_access", "api.read", "api.write"] {
        assert!(scopes.iter().any(|s| s == scope), "{scope}");
    }
    Ok(())
}

#[test]
fn authorization_code_with_pkce_then_refresh_rotates() -> TestResult {
    let idp = Idp::start_with(IdpOptions {
        access_token_ttl: Duration::from_secs(60),
        ..IdpOptions::default()
    })?;
    let tokens = sign_in_and_redeem(&idp, "openid profile email offline_access api.read")?;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert_eq!(tokens["expires_in"], 60);
    let scope = tokens["scope"].as_str().unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "offline_access"), "{scope}");
    let claims = id_token_claims(tokens["id_token"].as_str().ok_or("no id_token")?)?;
    assert_eq!(claims["iss"], idp.issuer());
    assert_eq!(claims["aud"], idp.public_client_id());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    let first_refresh = tokens["refresh_token"].as_str().ok_or("no refresh_token")?;

    let refresh = |refresh_token: &str| {
        token_request(
            &idp,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", idp.public_client_id()),
                ("refresh_token", refresh_token),
            ],
        )
    };
    let (status, refreshed) = refresh(first_refresh)?;
    assert_eq!(status, 200, "{refreshed}");
    let second_refresh = refreshed["refresh_token"]
        .as_str()
        .ok_or("no rotated refresh_token")?;
    assert_ne!(second_refresh, first_refresh, "rotation");
    assert_ne!(refreshed["access_token"], tokens["access_token"]);

    let (status, replay) = refresh(first_refresh)?;
    assert_eq!(status, 400, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");
    Ok(())
}

#[test]
fn without_offline_access_there_is_no_refresh_token() -> TestResult {
    let idp = Idp::start()?;
    let tokens = sign_in_and_redeem(&idp, "openid profile")?;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    Ok(())
}

#[test]
fn pkce_is_required_and_checked() -> TestResult {
    let idp = Idp::start()?;
    let mut url = Url::parse(&authorize_url(&idp, "openid", "s", "x")?)?;
    let without_pkce: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !key.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&without_pkce);
    let redirect = idp.sign_in(url.as_str(), "alice")?;
    assert!(redirect.contains("error=invalid_request"), "{redirect}");

    let (_, challenge) = pkce();
    let redirect = idp.sign_in(&authorize_url(&idp, "openid", "s", &challenge)?, "alice")?;
    let code = Url::parse(&redirect)?
        .query_pairs()
        .find(|(key, _)| key == "code")
        .map(|(_, value)| value.into_owned())
        .ok_or("no code")?;
    let (status, body) = token_request(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", idp.public_client_id()),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &"wrong".repeat(9)),
        ],
    )?;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
    Ok(())
}

#[test]
fn sign_in_and_follow_reaches_a_loopback_listener() -> TestResult {
    let idp = Idp::start()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let served = std::thread::spawn(move || -> std::io::Result<String> {
        use std::io::{BufRead, BufReader, Write};
        let (mut stream, _) = listener.accept()?;
        let mut request_line = String::new();
        BufReader::new(stream.try_clone()?).read_line(&mut request_line)?;
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")?;
        Ok(request_line)
    });
    let (_, challenge) = pkce();
    let url = authorize_url(&idp, "openid", "s", &challenge)?.replace(
        &url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(
            format!("http://127.0.0.1:{port}/callback").as_bytes(),
        )
        .collect::<String>(),
    );
    assert_eq!(idp.sign_in_and_follow(&url, "bob")?, 200);
    let request_line = served.join().map_err(|_| "listener panicked")??;
    assert!(
        request_line.starts_with("GET /callback?code="),
        "{request_line}"
    );
    Ok(())
}

#[test]
fn device_flow_approved_by_the_user() -> TestResult {
    let idp = Idp::start()?;
    let response = http()?
        .post(idp.url("/device/auth"))
        .form(&[
            ("client_id", idp.public_client_id()),
            ("scope", "openid profile offline_access api.read"),
        ])
        .send()?;
    assert_eq!(response.status(), 200);
    let device: Value = response.json()?;
    let device_code = device["device_code"].as_str().ok_or("no device_code")?;
    let user_code = device["user_code"].as_str().ok_or("no user_code")?;
    assert_eq!(device["verification_uri"], idp.url("/device"));

    let poll = || {
        token_request(
            &idp,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", idp.public_client_id()),
                ("device_code", device_code),
            ],
        )
    };
    let (status, pending) = poll()?;
    assert_eq!(
        (status, &pending["error"]),
        (400, &Value::from("authorization_pending"))
    );

    assert!(idp.approve_device("WRONG-CODE", "carol").is_err());
    idp.approve_device(user_code, "carol")?;

    let deadline = Instant::now() + Duration::from_secs(15);
    let tokens = loop {
        let (status, body) = poll()?;
        if status == 200 {
            break body;
        }
        assert!(
            matches!(
                body["error"].as_str(),
                Some("authorization_pending" | "slow_down")
            ),
            "{body}"
        );
        assert!(
            Instant::now() < deadline,
            "device flow never completed: {body}"
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let claims = id_token_claims(tokens["id_token"].as_str().ok_or("no id_token")?)?;
    assert_eq!(claims["sub"], "carol");
    Ok(())
}

#[test]
fn client_credentials_with_the_confidential_client() -> TestResult {
    let idp = Idp::start_with(IdpOptions {
        confidential_secret: "another-secret".to_owned(),
        ..IdpOptions::default()
    })?;
    let request = |secret: &str| {
        http()?
            .post(idp.url("/token"))
            .basic_auth(idp.confidential_client_id(), Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
            .send()
    };
    let response = request(idp.confidential_client_secret())?;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json()?;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert_eq!(tokens["scope"], "api.read");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        idp.token_requests("client_credentials")?,
        (1, 0),
        "counted by the IdP"
    );
    assert_eq!(idp.token_requests("refresh_token")?, (0, 0));

    let introspected: Value = http()?
        .post(idp.url("/token/introspection"))
        .basic_auth(
            idp.confidential_client_id(),
            Some(idp.confidential_client_secret()),
        )
        .form(&[("token", tokens["access_token"].as_str().unwrap_or_default())])
        .send()?
        .json()?;
    assert_eq!(introspected["active"], true, "{introspected}");

    let wrong = request("tokentray-test-secret")?;
    assert_eq!(wrong.status(), 401);
    Ok(())
}

#[test]
fn restart_keeps_the_issuer_and_forgets_grants() -> TestResult {
    let mut idp = Idp::start()?;
    let tokens = sign_in_and_redeem(&idp, "openid offline_access")?;
    let issuer = idp.issuer().to_owned();
    idp.restart()?;
    assert_eq!(idp.issuer(), issuer);
    let (status, body) = token_request(
        &idp,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", idp.public_client_id()),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().ok_or("no refresh_token")?,
            ),
        ],
    )?;
    assert_eq!(
        (status, &body["error"]),
        (400, &Value::from("invalid_grant"))
    );
    Ok(())
}
