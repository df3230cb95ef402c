//! The encrypted file store end to end: a broker over it signs in at the
//! real local IdP and refreshes with rotation, a second instance (as a
//! second process would) sees what the first wrote, no token reaches the
//! file's bytes, and writers racing on the same file lose nothing. No OS
//! vault is involved.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{oauth, public_profile, run, sign_in, start_idp};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokentray_core::account::AccountStore;
use tokentray_core::broker::{Broker, TokenRequest};
use tokentray_core::profile::{ProfileStore, FILE_NAME};
use tokentray_core::vault::file::KdfParams;
use tokentray_core::vault::{FileVault, Vault};
use tokentray_core::Secret;

/// Cheap Argon2 costs: the tests are about the store, not the KDF's price.
const FAST: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

fn vault_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join("vault.bin")
}

fn unlock(path: &Path) -> FileVault {
    FileVault::unlock_with(path, &Secret::new("integration passphrase"), FAST).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

// S21, S24: a broker over the file store signs in and rotates refresh
// tokens with ONE key derivation; the file never holds a token in clear and
// another instance reads the rotated refresh token
#[test]
fn a_broker_over_the_file_store_rotates_tokens_with_one_key_derivation() {
    let idp = start_idp();
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let profiles = ProfileStore::at(dir.path().join(FILE_NAME));
    let profile = public_profile(&idp);
    profiles.add(&profile).unwrap();
    let vault = Arc::new(unlock(&path));
    let broker = Broker::new(oauth(), vault.clone(), profiles);

    let tokens = run(async {
        let (tokens, _) = sign_in(broker.grants(), &idp, &profile, "alice").await;
        broker.complete_sign_in(&profile, &tokens).await.unwrap();
        let mut issued = vec![];
        for _ in 0..5 {
            let request = TokenRequest {
                force_refresh: true,
                ..TokenRequest::for_profile(&profile.name)
            };
            issued.push(broker.token(&request).await.unwrap().token.token);
        }
        issued
    });
    assert_eq!(vault.key_derivations(), 1, "five rotations, one derivation");
    let (refreshed, failed) = idp.token_requests("refresh_token").unwrap();
    assert_eq!((refreshed, failed), (5, 0));

    let bytes = std::fs::read(&path).unwrap();
    for token in &tokens {
        assert!(
            !contains(&bytes, token.expose()),
            "an access token in clear"
        );
    }
    let other = AccountStore::new(Arc::new(unlock(&path)));
    let account = other.for_profile(&profile.name).unwrap().unwrap();
    let record = other.record(&account).unwrap().unwrap();
    let refresh = record.refresh_token.unwrap();
    assert!(
        !contains(&bytes, refresh.expose()),
        "the refresh token in clear"
    );
    let last = tokens.last().unwrap();
    assert!(record
        .access_tokens
        .iter()
        .any(|cached| cached.token == *last));
}

// S24: writers racing on one file, each with its own lock and file
// descriptors (as separate processes have), lose no entry and never leave
// a file that fails to open
#[test]
fn racing_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    unlock(&path);
    let writers: Vec<_> = (0..6)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let vault = unlock(&path);
                for i in 0..15 {
                    let key = format!("w{writer}/k{i}");
                    vault
                        .put(&key, &Secret::new(format!("v{writer}-{i}")))
                        .unwrap();
                    if i % 3 == 0 {
                        vault.delete(&format!("w{writer}/k{}", i / 3)).unwrap();
                    }
                }
                vault.key_derivations()
            })
        })
        .collect();
    for writer in writers {
        assert_eq!(writer.join().unwrap(), 1);
    }
    let vault = unlock(&path);
    for writer in 0..6 {
        for i in 0..15 {
            let value = vault.get(&format!("w{writer}/k{i}")).unwrap();
            // Each writer deleted k0..k4 after writing them.
            let deleted = i <= 4;
            match value {
                Some(value) => {
                    assert!(!deleted, "w{writer}/k{i} came back");
                    assert_eq!(value.expose(), format!("v{writer}-{i}"));
                }
                None => assert!(deleted, "w{writer}/k{i} was lost"),
            }
        }
    }
}
