//! Values of any size over entries of limited size (S23), written whole or
//! not at all.
//!
//! A value that fits in one entry is stored as is. A larger one is split at
//! character boundaries into chunks stored under `KEY#HASH.I`, and the entry
//! `KEY` holds a manifest `tokentray-chunked:v1:N:SHA256`. A write stores the
//! new chunks first, then swaps the manifest, then deletes the old chunks:
//! a crash at any point leaves either the old value or the new one readable.
//! A read checks the count and the hash, so a missing or altered chunk is
//! reported as damage, never returned as a value.

use super::{check_key, Vault};
use crate::error::{Error, Result};
use crate::secret::Secret;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Largest entry we ever write, in bytes, whether the platform counts UTF-8
/// (Secret Service, Keychain) or UTF-16 (Windows Credential Manager blobs
/// hold 2,560 bytes).
pub const MAX_ENTRY_BYTES: usize = 2560;

const MANIFEST_PREFIX: &str = "tokentray-chunked:v1:";
const FIX_DAMAGED: &str = "sign out of the account (`tokentray logout PROFILE`) and sign in again; the damaged entry is left untouched for inspection";

/// A raw store of string entries with a size limit: what a platform vault
/// offers. [`Chunked`] builds a [`Vault`] on top of it.
pub trait EntryStore: Send + Sync {
    /// The entry's value, `Ok(None)` when absent.
    fn read(&self, name: &str) -> Result<Option<Zeroizing<String>>>;
    /// Creates or replaces the entry.
    fn write(&self, name: &str, value: &str) -> Result<()>;
    /// Deletes the entry; `Ok(false)` when absent.
    fn remove(&self, name: &str) -> Result<bool>;
    /// See [`Vault::lock_dir`].
    fn lock_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// A [`Vault`] over an [`EntryStore`].
#[derive(Debug)]
pub struct Chunked<S> {
    store: S,
}

struct Manifest {
    count: usize,
    hash: String,
}

impl Manifest {
    fn parse(key: &str, text: &str) -> Result<Option<Manifest>> {
        let Some(rest) = text.strip_prefix(MANIFEST_PREFIX) else {
            return Ok(None);
        };
        let parsed = rest.split_once(':').and_then(|(count, hash)| {
            let count = count
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=4096).contains(n))?;
            let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            valid_hash.then(|| Manifest {
                count,
                hash: hash.to_ascii_lowercase(),
            })
        });
        parsed
            .map(Some)
            .ok_or_else(|| damaged(key, "its chunk manifest is malformed".into()))
    }

    fn render(&self) -> String {
        format!("{MANIFEST_PREFIX}{}:{}", self.count, self.hash)
    }

    fn chunk_name(&self, key: &str, index: usize) -> String {
        format!("{key}#{}.{index}", &self.hash[..12])
    }
}

fn damaged(key: &str, reason: String) -> Error {
    Error::VaultCorrupt {
        key: key.to_string(),
        reason,
        fix: FIX_DAMAGED.to_string(),
    }
}

/// Whether `text` fits one entry on every platform.
fn fits(text: &str) -> bool {
    text.len() <= MAX_ENTRY_BYTES && text.encode_utf16().count() * 2 <= MAX_ENTRY_BYTES
}

/// Splits at character boundaries into pieces that each [`fits`].
fn split(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut utf8, mut utf16) = (0, 0, 0);
    for (at, c) in text.char_indices() {
        let (c8, c16) = (c.len_utf8(), c.len_utf16() * 2);
        if utf8 + c8 > MAX_ENTRY_BYTES || utf16 + c16 > MAX_ENTRY_BYTES {
            pieces.push(&text[start..at]);
            (start, utf8, utf16) = (at, 0, 0);
        }
        utf8 += c8;
        utf16 += c16;
    }
    pieces.push(&text[start..]);
    pieces
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl<S: EntryStore> Chunked<S> {
    /// Wraps a raw store.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The raw store underneath (tests inspect and damage entries with it).
    pub fn entries(&self) -> &S {
        &self.store
    }

    fn current_manifest(&self, key: &str) -> Result<Option<Manifest>> {
        match self.store.read(key)? {
            Some(text) => Manifest::parse(key, &text),
            None => Ok(None),
        }
    }

    fn remove_chunks(&self, key: &str, manifest: &Manifest) -> Result<()> {
        for index in 0..manifest.count {
            self.store.remove(&manifest.chunk_name(key, index))?;
        }
        Ok(())
    }
}

impl<S: EntryStore> Vault for Chunked<S> {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        check_key(key)?;
        let Some(text) = self.store.read(key)? else {
            return Ok(None);
        };
        let Some(manifest) = Manifest::parse(key, &text)? else {
            return Ok(Some(Secret::new(text.as_str())));
        };
        let mut whole = Zeroizing::new(String::new());
        for index in 0..manifest.count {
            let chunk = self
                .store
                .read(&manifest.chunk_name(key, index))?
                .ok_or_else(|| {
                    damaged(
                        key,
                        format!("chunk {} of {} is missing", index + 1, manifest.count),
                    )
                })?;
            whole.push_str(&chunk);
        }
        if sha256_hex(&whole) != manifest.hash {
            return Err(damaged(
                key,
                "its chunks do not match their checksum".into(),
            ));
        }
        Ok(Some(Secret::new(whole.as_str())))
    }

    fn put(&self, key: &str, value: &Secret) -> Result<()> {
        check_key(key)?;
        let old = self.current_manifest(key)?;
        let text = value.expose();
        if fits(text) && !text.starts_with(MANIFEST_PREFIX) {
            self.store.write(key, text)?;
        } else {
            let pieces = split(text);
            let manifest = Manifest {
                count: pieces.len(),
                hash: sha256_hex(text),
            };
            for (index, piece) in pieces.iter().enumerate() {
                self.store.write(&manifest.chunk_name(key, index), piece)?;
            }
            self.store.write(key, &manifest.render())?;
            if old.as_ref().is_some_and(|old| old.hash == manifest.hash) {
                return Ok(());
            }
        }
        match old {
            Some(old) => self.remove_chunks(key, &old),
            None => Ok(()),
        }
    }

    fn delete(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        // A malformed manifest still gets its entry deleted: delete is the fix.
        let old = self.current_manifest(key).unwrap_or(None);
        let existed = self.store.remove(key)?;
        if let Some(old) = old {
            self.remove_chunks(key, &old)?;
        }
        Ok(existed)
    }

    fn lock_dir(&self) -> Option<std::path::PathBuf> {
        self.store.lock_dir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MemoryVault;

    fn assert_all_entries_fit(vault: &MemoryVault) {
        for (name, value) in vault.entries().snapshot() {
            assert!(fits(&value), "entry {name} is {} bytes", value.len());
        }
    }

    #[test]
    fn small_values_are_stored_as_is() {
        let vault = MemoryVault::in_memory();
        assert!(vault.get("a/b").unwrap().is_none());
        vault.put("a/b", &Secret::new("hello")).unwrap();
        assert_eq!(vault.get("a/b").unwrap().unwrap().expose(), "hello");
        assert_eq!(vault.entries().snapshot().len(), 1);
        assert!(vault.delete("a/b").unwrap());
        assert!(!vault.delete("a/b").unwrap());
        assert!(vault.get("a/b").unwrap().is_none());
    }

    // S23: size limits
    #[test]
    fn large_and_wide_values_round_trip_in_chunks() {
        let vault = MemoryVault::in_memory();
        let ascii = "x".repeat(4096);
        let wide: String = "🔑𝄞".chars().cycle().take(700).collect();
        assert!(!fits(&wide), "700 four-byte characters exceed one entry");
        for value in [&ascii, &wide] {
            vault.put("big", &Secret::new(value.as_str())).unwrap();
            assert_eq!(vault.get("big").unwrap().unwrap().expose(), value.as_str());
            assert!(vault.entries().snapshot().len() > 2);
            assert_all_entries_fit(&vault);
        }
        // Only the current value's chunks remain.
        let expected = split(&wide).len() + 1;
        assert_eq!(vault.entries().snapshot().len(), expected);
        vault.put("big", &Secret::new("small now")).unwrap();
        assert_eq!(vault.entries().snapshot().len(), 1);
        vault.put("big", &Secret::new(ascii.as_str())).unwrap();
        assert!(vault.delete("big").unwrap());
        assert!(vault.entries().snapshot().is_empty());
    }

    #[test]
    fn a_value_that_looks_like_a_manifest_is_chunked_not_misread() {
        let vault = MemoryVault::in_memory();
        let tricky = format!("{MANIFEST_PREFIX}3:{}", "a".repeat(64));
        vault.put("k", &Secret::new(tricky.as_str())).unwrap();
        assert_eq!(vault.get("k").unwrap().unwrap().expose(), tricky);
    }

    // S23: size limits
    #[test]
    fn missing_or_altered_chunks_are_damage_not_values() {
        let vault = MemoryVault::in_memory();
        vault.put("k", &Secret::new("y".repeat(6000))).unwrap();
        let chunk = vault
            .entries()
            .snapshot()
            .into_iter()
            .map(|(name, _)| name)
            .find(|n| n.ends_with(".1"))
            .unwrap();
        vault.entries().write(&chunk, "tampered").unwrap();
        let err = vault.get("k").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultCorrupt);
        assert!(err.to_string().contains("checksum"), "{err}");

        vault.entries().remove(&chunk).unwrap();
        let err = vault.get("k").unwrap_err();
        assert!(err.to_string().contains("chunk 2 of 5 is missing"), "{err}");

        vault
            .entries()
            .write("k", "tokentray-chunked:v1:zz")
            .unwrap();
        assert_eq!(
            vault.get("k").unwrap_err().kind(),
            crate::ErrorKind::VaultCorrupt
        );
        assert!(
            vault.delete("k").unwrap(),
            "a damaged entry can still be deleted"
        );
    }

    // S23: size limits
    #[test]
    fn a_failed_write_keeps_the_old_value() {
        let vault = MemoryVault::in_memory();
        let old = "o".repeat(5000);
        vault.put("k", &Secret::new(old.as_str())).unwrap();
        vault.entries().fail_writes_after(1);
        assert!(vault.put("k", &Secret::new("n".repeat(5000))).is_err());
        vault.entries().fail_writes_after(usize::MAX);
        assert_eq!(vault.get("k").unwrap().unwrap().expose(), old);
    }

    #[test]
    fn keys_are_checked() {
        let vault = MemoryVault::in_memory();
        for key in ["", "has space", "é", &"k".repeat(201)] {
            assert_eq!(
                vault.get(key).unwrap_err().kind(),
                crate::ErrorKind::InvalidInput,
                "{key:?}"
            );
        }
    }

    // S23: size limits
    #[test]
    fn split_respects_both_encodings() {
        let text: String = "🔑".repeat(1000);
        for piece in split(&text) {
            assert!(fits(piece));
        }
        assert_eq!(split(&text).concat(), text);
        assert_eq!(split("").len(), 1);
    }
}
