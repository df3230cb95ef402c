//! Tokentray's real engine (`tokentray_core::flow::OAuth`, the code the
//! app and the CLI sign in with) against the demo provider: the code flow
//! through the login page, the device flow through the verification page,
//! a refresh that rotates the refresh token (the old one is then refused,
//! and its replay ends the sign-in), userinfo and revocation.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tokentray_core::flow::{requires_sign_in, FlowOptions, OAuth, TokenSet};
use tokentray_core::http::HttpClient;
use tokentray_core::profile::{Preset, Profile, ProfileFields};
use tokentray_core::provider::Providers;
use tokentray_demo_idp::{DemoProvider, CLIENT_ID, PASSWORD};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The engine, polling device codes every 100 ms instead of 5 s.
fn engine() -> OAuth {
    let options = FlowOptions {
        device_interval: Duration::from_millis(100),
        ..FlowOptions::default()
    };
    OAuth::with_options(
        HttpClient::with_defaults().unwrap(),
        Providers::default(),
        options,
    )
}

/// The app's demo profile, on this provider.
pub fn profile(idp: &DemoProvider) -> Profile {
    let fields = ProfileFields {
        provider: Some(Preset::Oidc),
        issuer: Some(idp.issuer()),
        client_id: Some(CLIENT_ID.to_owned()),
        scopes: Some(vec!["api.read".to_owned()]),
        ..ProfileFields::default()
    };
    Profile::from_fields("demo", fields).unwrap()
}

/// A user agent that shows redirects instead of following them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A GET by the user agent.
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    browser().get(url).send().await.unwrap()
}

/// The hidden `page` field of a login page.
pub fn page_id(html: &str) -> String {
    let start = html.find("name=\"page\" value=\"").unwrap() + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs in as `login` on the login page of `authorize`; the redirect.
pub async fn log_in(authorize: &str, login: &str, password: &str) -> String {
    let browser = browser();
    let page = browser.get(authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Password: <b>demo</b>"), "the hint: {html}");
    let origin = authorize.split("/authorize").next().unwrap();
    let answer = browser
        .post(format!("{origin}/authorize"))
        .form(&[
            ("page", page_id(&html).as_str()),
            ("login", login),
            ("password", password),
            ("action", "login"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap());
    answer.headers()["location"].to_str().unwrap().to_owned()
}

/// Refreshes `tokens`: the refresh token comes back rotated, and the old
/// one is refused afterwards (a replay, which also ends the sign-in).
async fn refresh_rotates(oauth: &OAuth, profile: &Profile, tokens: &TokenSet) -> TokenSet {
    let identity = tokens.identity.as_ref();
    let old = tokens.refresh_token.clone().unwrap();
    let refreshed = oauth
        .refresh(profile, &old, &tokens.scopes, identity)
        .await
        .unwrap();
    let new = refreshed.refresh_token.clone().unwrap();
    assert_ne!(new.expose(), old.expose(), "rotated");
    let replay = oauth
        .refresh(profile, &old, &tokens.scopes, identity)
        .await
        .unwrap_err();
    assert!(requires_sign_in(&replay), "{replay}");
    refreshed
}

// S43: the demo provider with the engine: code flow, rotation
#[tokio::test(flavor = "multi_thread")]
async fn the_engine_signs_in_through_the_login_page_and_refreshes_with_rotation() {
    let idp = DemoProvider::start(0).unwrap();
    let oauth = engine();
    let profile = profile(&idp);
    // the app's embedded sign-in intercepts this one (no port)
    let pending = oauth
        .begin_sign_in(&profile, "http://127.0.0.1/callback")
        .await
        .unwrap();
    let redirect = log_in(pending.authorize_url().as_str(), "alice", PASSWORD).await;
    assert!(
        redirect.starts_with("http://127.0.0.1/callback?code="),
        "{redirect}"
    );
    let tokens = oauth.finish_sign_in(&pending, &redirect).await.unwrap();
    let identity = tokens.identity.clone().unwrap();
    assert_eq!(identity.issuer, idp.issuer());
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.name.as_deref(), Some("Alice Demo"));
    assert_eq!(identity.email.as_deref(), Some("alice@example.test"));
    let now = tokentray_core::token::now();
    assert!(
        (now + 590..=now + 610).contains(&tokens.expires_at),
        "10 min"
    );
    assert!(
        tokens.scopes.iter().any(|s| s == "api.read"),
        "{:?}",
        tokens.scopes
    );

    // the access token works at userinfo
    let userinfo = browser()
        .get(format!("{}/userinfo", idp.issuer()))
        .bearer_auth(tokens.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    assert!(userinfo.text().await.unwrap().contains("\"sub\":\"alice\""));

    // refresh: a new refresh token; the old one is spent
    let refreshed = refresh_rotates(&oauth, &profile, &tokens).await;
    assert_ne!(
        refreshed.access_token.expose(),
        tokens.access_token.expose()
    );
    assert_eq!(refreshed.identity.as_ref().unwrap().subject, "alice");
    let new = refreshed.refresh_token.clone().unwrap();
    // … and the replay ended the sign-in: the new one is refused too
    let after = oauth
        .refresh(&profile, &new, &tokens.scopes, Some(&identity))
        .await
        .unwrap_err();
    assert!(requires_sign_in(&after), "{after}");
}

/// A device sign-in the engine waits for: its user code, its link, and the
/// engine's wait.
async fn waiting_device(
    oauth: &OAuth,
    profile: &Profile,
) -> (
    String,
    Option<String>,
    JoinHandle<tokentray_core::Result<TokenSet>>,
) {
    let device = oauth.start_device(profile).await.unwrap();
    let user_code = device.user_code.clone();
    let complete = device.verification_uri_complete.clone();
    let oauth = oauth.clone();
    let waiting =
        tokio::spawn(async move { oauth.finish_device(device, CancellationToken::new()).await });
    (user_code, complete, waiting)
}

/// The verification page's answer to `form`.
async fn post(url: &str, form: &[(&str, &str)]) -> String {
    let answer = browser().post(url).form(form).send().await.unwrap();
    answer.text().await.unwrap()
}

/// Approves (or declines) `user_code` on the verification page as `login`.
async fn answer_device(
    idp: &DemoProvider,
    user_code: &str,
    login: &str,
    password: &str,
    action: &str,
) -> String {
    let form = [
        ("user_code", user_code),
        ("login", login),
        ("password", password),
        ("action", action),
    ];
    post(&format!("{}/device", idp.issuer()), &form).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_signs_in_with_a_device_code_then_refreshes_and_revokes() {
    let idp = DemoProvider::start(0).unwrap();
    let oauth = engine();
    let profile = profile(&idp);
    let (user_code, complete, waiting) = waiting_device(&oauth, &profile).await;

    // the user opens the link, sees the code filled in, and approves as bob
    let page = get(complete.unwrap()).await;
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("value=\"{user_code}\"")), "{page}");
    let wrong = answer_device(&idp, &user_code, "bob", "nope", "approve").await;
    assert!(wrong.contains("wrong password"), "{wrong}");
    let typed = user_code.to_lowercase();
    let approved = answer_device(&idp, &typed, "bob", PASSWORD, "approve").await;
    assert!(approved.contains("Signed in as Bob Demo"), "{approved}");

    let tokens = waiting.await.unwrap().unwrap();
    let identity = tokens.identity.clone().unwrap();
    assert_eq!(identity.subject, "bob");
    refresh_rotates(&oauth, &profile, &tokens).await;

    // sign-out's revocation ends a device sign-in as well
    let (user_code, _, waiting) = waiting_device(&oauth, &profile).await;
    answer_device(&idp, &user_code, "carol", PASSWORD, "approve").await;
    let fresh = waiting.await.unwrap().unwrap();
    let refresh_token = fresh.refresh_token.clone().unwrap();
    assert!(oauth.revoke(&profile, &refresh_token).await.unwrap());
    let revoked = oauth
        .refresh(
            &profile,
            &refresh_token,
            &fresh.scopes,
            fresh.identity.as_ref(),
        )
        .await
        .unwrap_err();
    assert!(requires_sign_in(&revoked), "{revoked}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_device_code_is_a_cancelled_sign_in() {
    let idp = DemoProvider::start(0).unwrap();
    let oauth = engine();
    let (user_code, _, waiting) = waiting_device(&oauth, &profile(&idp)).await;
    let page = answer_device(&idp, &user_code, "", "", "deny").await;
    assert!(page.contains("declined"), "{page}");
    let error = waiting.await.unwrap().unwrap_err();
    assert_eq!(
        error.kind(),
        tokentray_core::ErrorKind::Cancelled,
        "{error}"
    );
}
