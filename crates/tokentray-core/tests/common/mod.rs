//! Shared by the integration tests that run against the local IdP: start
//! it, drive async code from a plain `#[test]`, sign in as a user.

#![allow(dead_code)] // a helper may be without a user between changes

use std::future::Future;
use std::sync::Arc;

use tokentray_core::flow::OAuth;
use tokentray_core::http::HttpClient;
use tokentray_core::profile::{Preset, Profile, ProfileFields};
use tokentray_testkit::Idp;
use url::Url;

pub fn start_idp() -> Arc<Idp> {
    Arc::new(Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)"))
}

pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

pub fn oauth() -> OAuth {
    OAuth::new(HttpClient::with_defaults().unwrap())
}

pub fn public_profile(idp: &Idp) -> Profile {
    Profile::from_fields(
        "test",
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some(idp.issuer().to_owned()),
            client_id: Some(idp.public_client_id().to_owned()),
            scopes: Some(vec![
                "openid".into(),
                "profile".into(),
                "email".into(),
                "api.read".into(),
            ]),
            ..Default::default()
        },
    )
    .unwrap()
}

pub fn query(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in the URL"))
}

/// Signs in as `login` by the hand-back mode; returns tokens and the nonce
/// that was sent.
pub async fn sign_in(
    oauth: &OAuth,
    idp: &Arc<Idp>,
    profile: &Profile,
    login: &'static str,
) -> (tokentray_core::flow::TokenSet, String) {
    let pending = oauth
        .begin_sign_in(profile, "http://127.0.0.1:4567/callback")
        .await
        .unwrap();
    let nonce = query(pending.authorize_url(), "nonce");
    let authorize = pending.authorize_url().to_string();
    let rig = Arc::clone(idp);
    let redirect = blocking(move || rig.sign_in(&authorize, login))
        .await
        .unwrap();
    (
        oauth.finish_sign_in(&pending, &redirect).await.unwrap(),
        nonce,
    )
}
