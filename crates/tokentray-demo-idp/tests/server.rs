//! The demo provider over HTTP, as a user agent and a stranger see it: it
//! refuses to start on a port in use (saying so), stops serving when
//! dropped, shows (never redirects to) an unknown client or redirect URI,
//! sends PKCE-less requests back with an error, answers Cancel with
//! `access_denied`, ignores requests naming another Host, and refuses
//! other clients at its token, revocation and device endpoints.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;

use crate::engine::{browser, get, page_id};
use tokentray_demo_idp::{DemoProvider, StartError, CLIENT_ID};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authorize(idp: &DemoProvider, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", idp.issuer())).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

// S43: the demo provider: 127.0.0.1 only, says when its port is taken, gone when stopped
#[test]
fn a_port_in_use_is_reported_and_a_dropped_provider_stops_serving() {
    let idp = DemoProvider::start(0).unwrap();
    let port = idp.port();
    assert_eq!(idp.issuer(), format!("http://127.0.0.1:{port}"));
    let taken = DemoProvider::start(port).unwrap_err();
    assert!(
        matches!(taken, StartError::PortInUse { port: p } if p == port),
        "{taken:?}"
    );
    assert!(
        taken
            .to_string()
            .contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{taken}"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(idp);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "stopped");
}

// S43: the demo provider: registered redirects only, PKCE required, Host checked
#[tokio::test(flavor = "multi_thread")]
async fn bad_authorization_requests_are_shown_or_sent_back_with_an_error() {
    let idp = DemoProvider::start(0).unwrap();
    let browser = browser();
    let good = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", "http://127.0.0.1:5555/callback"),
        ("scope", "openid api.read"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let with = |name: &str, value: &'static str| {
        good.iter()
            .map(|&(k, v)| if k == name { (k, value) } else { (k, v) })
            .collect::<Vec<_>>()
    };
    for (name, value) in [
        ("client_id", "someone-else"),
        ("redirect_uri", "http://evil.example/callback"),
    ] {
        let answer = get(authorize(&idp, &with(name, value))).await;
        assert_eq!(answer.status(), 400, "{name}");
        assert!(
            answer.headers().get("location").is_none(),
            "never redirected to"
        );
    }
    for (name, value, error) in [
        ("code_challenge_method", "plain", "invalid_request"),
        ("code_challenge", "", "invalid_request"),
        ("response_type", "token", "unsupported_response_type"),
        ("scope", "openid admin", "invalid_scope"),
    ] {
        let answer = get(authorize(&idp, &with(name, value))).await;
        assert_eq!(answer.status(), 303, "{name}");
        let location = answer.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("http://127.0.0.1:5555/callback?error="),
            "{location}"
        );
        assert!(location.contains(&format!("error={error}")), "{location}");
        assert!(location.contains("state=xyz"), "{location}");
    }

    // Cancel on the login page
    let html = get(authorize(&idp, &good)).await.text().await.unwrap();
    let answer = browser
        .post(format!("{}/authorize", idp.issuer()))
        .form(&[("page", page_id(&html).as_str()), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=access_denied&state=xyz&iss="),
        "{location}"
    );

    // a page for another Host (DNS rebinding) is not served
    let rebound = browser
        .get(format!("{}/.well-known/openid-configuration", idp.issuer()))
        .header("host", format!("evil.example:{}", idp.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);

    // the token-side endpoints know the demo client only
    for path in ["/token", "/revoke", "/device/code"] {
        let stranger = browser
            .post(format!("{}{path}", idp.issuer()))
            .form(&[
                ("client_id", "someone-else"),
                ("grant_type", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(stranger.status(), 401, "{path}");
        assert!(stranger.text().await.unwrap().contains("invalid_client"));
    }
}
