//! How fast the broker hands out a token, against the real local IdP and
//! the real Secret Service. Run inside the headless session:
//!
//! ```sh
//! scripts/headless-session cargo bench -p tokentray-core --bench token
//! ```
//!
//! - `token/warm_memory`: a valid token from the broker's memory;
//! - `token/warm_vault_fresh_broker`: a valid token read from the vault by
//!   a broker that has never seen it (what a new process pays);
//! - `token/refresh_with_rotation`: a forced refresh against the IdP,
//!   rotation stored and read back;
//! - `idp/refresh_request_only`: the same refresh request sent with a bare
//!   HTTP client, the IdP's own time, to put the previous figure beside.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::Duration;
use tokentray_core::broker::{Broker, TokenRequest};
use tokentray_core::flow::OAuth;
use tokentray_core::http::HttpClient;
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, FILE_NAME};
use tokentray_core::vault::KeyringVault;
use tokentray_testkit::Idp;

struct Setup {
    idp: Arc<Idp>,
    profiles: ProfileStore,
    vault: Arc<KeyringVault>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    assert_eq!(
        std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
        Ok("1"),
        "run the benchmark under scripts/headless-session (it uses the real Secret Service)"
    );
    let idp = Arc::new(Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)"));
    let dir = tempfile::tempdir().unwrap();
    let profiles = ProfileStore::at(dir.path().join(FILE_NAME));
    let profile = Profile::from_fields(
        "bench",
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some(idp.issuer().to_string()),
            client_id: Some(idp.public_client_id().to_string()),
            scopes: Some(vec!["api.read".into()]),
            login: Some(LoginMode::Embedded),
            ..Default::default()
        },
    )
    .unwrap();
    profiles.add(&profile).unwrap();
    let vault = Arc::new(KeyringVault::with_service(&format!(
        "dev.tokentray.bench.{}",
        std::process::id()
    )));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let broker = Broker::new(oauth(), vault.clone(), profiles.clone());
    runtime.block_on(async {
        let pending = broker
            .grants()
            .begin_sign_in(&profile, "http://127.0.0.1:1/callback")
            .await
            .unwrap();
        let authorize = pending.authorize_url().to_string();
        let rig = Arc::clone(&idp);
        let redirect = tokio::task::spawn_blocking(move || rig.sign_in(&authorize, "bench"))
            .await
            .unwrap()
            .unwrap();
        let tokens = broker
            .grants()
            .finish_sign_in(&pending, &redirect)
            .await
            .unwrap();
        broker.complete_sign_in(&profile, &tokens).await.unwrap();
    });
    Setup {
        idp,
        profiles,
        vault,
        runtime,
        _dir: dir,
    }
}

fn oauth() -> OAuth {
    OAuth::new(HttpClient::with_defaults().unwrap())
}

fn token(c: &mut Criterion) {
    let s = setup();
    let request = TokenRequest::for_profile("bench");
    let mut group = c.benchmark_group("token");
    group.measurement_time(Duration::from_secs(5));

    let broker = Broker::new(oauth(), s.vault.clone(), s.profiles.clone());
    s.runtime.block_on(broker.token(&request)).unwrap();
    group.bench_function("warm_memory", |b| {
        b.iter(|| s.runtime.block_on(broker.token(&request)).unwrap());
    });

    group.bench_function("warm_vault_fresh_broker", |b| {
        b.iter(|| {
            let fresh = Broker::new(oauth(), s.vault.clone(), s.profiles.clone());
            s.runtime.block_on(fresh.token(&request)).unwrap()
        });
    });

    let force = TokenRequest {
        force_refresh: true,
        ..TokenRequest::for_profile("bench")
    };
    group.sample_size(30);
    group.bench_function("refresh_with_rotation", |b| {
        b.iter(|| s.runtime.block_on(broker.token(&force)).unwrap());
    });
    group.finish();

    // The IdP's own time for the same request, from a bare HTTP client.
    let account = broker.accounts().for_profile("bench").unwrap().unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/token", s.idp.issuer());
    let client_id = s.idp.public_client_id();
    let mut idp_group = c.benchmark_group("idp");
    idp_group.sample_size(30);
    let mut refresh = broker
        .accounts()
        .record(&account)
        .unwrap()
        .unwrap()
        .refresh_token
        .unwrap()
        .expose()
        .to_string();
    idp_group.bench_function("refresh_request_only", |b| {
        b.iter(|| {
            let bytes = s.runtime.block_on(async {
                http.post(&url)
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("client_id", client_id),
                        ("refresh_token", refresh.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            });
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            refresh = body["refresh_token"].as_str().unwrap().to_string();
        });
    });
    idp_group.finish();
}

criterion_group!(benches, token);
criterion_main!(benches);
