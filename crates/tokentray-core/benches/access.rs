//! What the access policy costs a request of a `confirm` profile, on top
//! of naming its caller (`benches/caller.rs`):
//! - `access/rule_with_sha256`: a rule with the binary's SHA-256 matches
//!   (the hash remembered: one `open` and `fstat` of `/proc/PID/exe`);
//! - `access/first_hash`: the same with nothing remembered (this bench's
//!   own binary hashed, as on an allowed program's first request);
//! - `access/any`: an `access = "any"` profile (scopes checked only).
//!
//! ```sh
//! cargo bench -p tokentray-core --bench access
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use tokentray_core::access::{fingerprint, Action, Gate, NoConsent, Request};
use tokentray_core::caller::Caller;
use tokentray_core::profile::{
    AccessField, Preset, Profile, ProfileFields, ProfileStore, RuleFields, FILE_NAME,
};

fn profile(access: AccessField) -> Profile {
    Profile::from_fields(
        "p",
        ProfileFields {
            provider: Some(Preset::Github),
            client_id: Some("c".into()),
            access: Some(access),
            ..Default::default()
        },
    )
    .unwrap()
}

fn access(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join(FILE_NAME));
    let me = Caller::of_pid(std::process::id());
    let exe = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
    let rule = RuleFields {
        program: exe.display().to_string(),
        sha256: Some(fingerprint::of_file(&exe).unwrap()),
        ..Default::default()
    };
    let confirm = profile(AccessField::Rules(vec![rule]));
    let any = profile(AccessField::Mode("any".into()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let decide = |gate: &Gate, profile: &Profile| {
        let request = Request {
            profile,
            action: Action::Token,
            asked: None,
            scopes: &profile.scopes,
            account: None,
        };
        runtime
            .block_on(gate.decide(request, false, || Some(me.clone())))
            .unwrap()
    };
    let gate = Gate::new(store.clone(), Arc::new(NoConsent));
    c.bench_function("access/rule_with_sha256", |b| {
        b.iter(|| decide(&gate, &confirm));
    });
    c.bench_function("access/first_hash", |b| {
        b.iter(|| decide(&Gate::new(store.clone(), Arc::new(NoConsent)), &confirm));
    });
    c.bench_function("access/any", |b| {
        b.iter(|| decide(&gate, &any));
    });
}

criterion_group!(benches, access);
criterion_main!(benches);
