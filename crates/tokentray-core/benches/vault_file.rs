//! What the encrypted file store costs, on real files (no IdP, no keyring):
//!
//! ```sh
//! cargo bench -p tokentray-core --bench vault_file
//! ```
//!
//! - `vault_file/unlock_default_costs`: unlocking an existing store with
//!   the default Argon2id costs: the one key derivation a process pays;
//! - `vault_file/put`: replacing one entry of a store holding an account
//!   record, after the key is derived (encrypt, write a temporary file,
//!   fsync, rename, fsync the directory, under the file lock);
//! - `vault_file/get`: reading one entry (the file is read and compared
//!   with the bytes last seen; no decryption when unchanged).

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The encrypted file store exists on Unix only.
#[cfg(unix)]
mod file_store {
    use criterion::{criterion_group, Criterion};
    use tokentray_core::vault::{FileVault, Vault};
    use tokentray_core::Secret;

    fn vault_file(c: &mut Criterion) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store").join("vault.bin");
        let passphrase = Secret::new("bench passphrase");
        let vault = FileVault::unlock(&path, &passphrase).unwrap();
        // About what one signed-in account keeps: a record with a refresh
        // token, an ID token and an access token.
        vault
            .put("account/bench/record", &Secret::new("r".repeat(3000)))
            .unwrap();
        vault
            .put("accounts", &Secret::new("a".repeat(300)))
            .unwrap();

        let mut group = c.benchmark_group("vault_file");
        group.sample_size(10);
        group.bench_function("unlock_default_costs", |b| {
            b.iter(|| FileVault::unlock(&path, &passphrase).unwrap())
        });
        group.sample_size(100);
        let mut n = 0u64;
        group.bench_function("put", |b| {
            b.iter(|| {
                n += 1;
                vault
                    .put(
                        "account/bench/record",
                        &Secret::new(format!("{n}").repeat(600)),
                    )
                    .unwrap()
            })
        });
        group.bench_function("get", |b| {
            b.iter(|| vault.get("account/bench/record").unwrap().unwrap())
        });
        group.finish();
        assert_eq!(vault.key_derivations(), 1);
    }

    criterion_group!(benches, vault_file);
}

#[cfg(unix)]
criterion::criterion_main!(file_store::benches);

#[cfg(not(unix))]
fn main() {}
