//! The bytes of the vault file, and the cryptography that makes them.
//!
//! ```text
//! magic     8   b"TTVAULT\0"
//! version   2   1 (little-endian, like every number here)
//! kdf       1   1 = Argon2id v1.3
//! m_kib     4   Argon2 memory, KiB
//! t         4   Argon2 passes
//! p         4   Argon2 lanes
//! salt     16   random, chosen when the file is created
//! check    32   the second half of the Argon2 output: tells a wrong
//!               passphrase from a damaged body
//! nonce    24   random, fresh for every write
//! body      …   XChaCha20-Poly1305 of the entries, the 71 header bytes
//!               above as associated data, 16-byte tag at the end
//! ```
//!
//! Argon2id turns the passphrase and the salt into 64 bytes: the first 32
//! are the AEAD key (kept in memory, zeroized on drop), the last 32 the
//! check value stored in the header. The two halves are independent
//! outputs of the KDF, so the check reveals nothing of the key; guessing
//! the passphrase from it costs an Argon2 pass per guess, as guessing from
//! the tag would. Entries are encoded as a count, then a length-prefixed
//! key and value each, into a buffer of exactly the right size (no
//! reallocation leaves a copy of a value behind) that is zeroized after use.

use crate::secret::Secret;
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key as AeadKey, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The entries of the store: key to value.
pub type Entries = BTreeMap<String, Zeroizing<String>>;

const MAGIC: &[u8; 8] = b"TTVAULT\0";
const VERSION: u16 = 1;
const KDF_ARGON2ID: u8 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 32;
const KEY_LEN: usize = 32;
/// Length of the header (authenticated as associated data).
pub const HEADER_LEN: usize = 8 + 2 + 1 + 4 + 4 + 4 + SALT_LEN + CHECK_LEN;
/// Length of the nonce after the header.
pub const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Argon2id cost parameters, stored in the file's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// What new stores get: 64 MiB, 3 passes, 1 lane (the first
    /// recommendation of RFC 9106 §4 lowered to 64 MiB, its second).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Whether a header's parameters are sane enough to run: a damaged or
    /// hostile header must not make us allocate gigabytes or loop for
    /// minutes.
    fn plausible(&self) -> bool {
        (1..=16).contains(&self.parallelism)
            && (1..=64).contains(&self.iterations)
            && (8 * self.parallelism..=1024 * 1024).contains(&self.memory_kib)
    }
}

/// What the header says: how to derive the key, and how to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Argon2id costs.
    pub params: KdfParams,
    /// The salt.
    pub salt: [u8; SALT_LEN],
    /// The check value (second half of the KDF output).
    pub check: [u8; CHECK_LEN],
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(MAGIC);
        put(&VERSION.to_le_bytes());
        put(&[KDF_ARGON2ID]);
        put(&self.params.memory_kib.to_le_bytes());
        put(&self.params.iterations.to_le_bytes());
        put(&self.params.parallelism.to_le_bytes());
        put(&self.salt);
        put(&self.check);
        out
    }
}

/// A file's bytes, split into their parts (nothing decrypted yet).
pub struct Sealed<'a> {
    /// The parsed header.
    pub header: Header,
    header_bytes: &'a [u8],
    /// The nonce of the last write: a different one means the file changed.
    pub nonce: [u8; NONCE_LEN],
    body: &'a [u8],
}

/// Reads little-endian numbers and byte strings off a slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
}

/// Splits a file into header, nonce and body; `Err(reason)` when it is not
/// a vault file of a version we read.
pub fn parse(bytes: &[u8]) -> Result<Sealed<'_>, String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err("it does not start with the vault file's magic bytes".into());
    }
    if bytes.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(format!(
            "it is truncated ({} bytes, at least {} expected)",
            bytes.len(),
            HEADER_LEN + NONCE_LEN + TAG_LEN
        ));
    }
    let mut r = Reader(&bytes[MAGIC.len()..]);
    let truncated = || "it is truncated".to_string();
    let version = r.array().map(u16::from_le_bytes).ok_or_else(truncated)?;
    if version != VERSION {
        return Err(format!(
            "it has format version {version}; this Tokentray reads version {VERSION}"
        ));
    }
    let kdf = r.array::<1>().ok_or_else(truncated)?[0];
    if kdf != KDF_ARGON2ID {
        return Err(format!("it names an unknown key derivation ({kdf})"));
    }
    let params = KdfParams {
        memory_kib: r.u32().ok_or_else(truncated)?,
        iterations: r.u32().ok_or_else(truncated)?,
        parallelism: r.u32().ok_or_else(truncated)?,
    };
    if !params.plausible() {
        return Err(format!(
            "its key derivation parameters are implausible ({params:?})"
        ));
    }
    let header = Header {
        params,
        salt: r.array().ok_or_else(truncated)?,
        check: r.array().ok_or_else(truncated)?,
    };
    let nonce = r.array().ok_or_else(truncated)?;
    Ok(Sealed {
        header,
        header_bytes: &bytes[..HEADER_LEN],
        nonce,
        body: r.0,
    })
}

/// The key derived from a passphrase, with the header it belongs to.
/// Zeroized on drop.
pub struct Key {
    key: Zeroizing<[u8; KEY_LEN]>,
    /// The header a file sealed with this key carries.
    pub header: Header,
}

impl Key {
    /// Runs Argon2id over `passphrase` and `salt`: the one expensive step,
    /// done once per process.
    pub fn derive(
        passphrase: &Secret,
        salt: [u8; SALT_LEN],
        params: KdfParams,
    ) -> Result<Key, String> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(KEY_LEN + CHECK_LEN),
        )
        .map_err(|e| format!("invalid key derivation parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
        let mut out = Zeroizing::new([0u8; KEY_LEN + CHECK_LEN]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), &salt, out.as_mut_slice())
            .map_err(|e| format!("key derivation failed: {e}"))?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&out[..KEY_LEN]);
        let mut check = [0u8; CHECK_LEN];
        check.copy_from_slice(&out[KEY_LEN..]);
        Ok(Key {
            key,
            header: Header {
                params,
                salt,
                check,
            },
        })
    }

    /// A key for a new store: a fresh random salt.
    pub fn derive_new(passphrase: &Secret, params: KdfParams) -> Result<Key, String> {
        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        Self::derive(passphrase, salt, params)
    }

    /// Whether this key belongs to `header` (same salt and costs, same check
    /// value). Compared without an early exit.
    pub fn matches(&self, header: &Header) -> bool {
        let same_check = self
            .header
            .check
            .iter()
            .zip(header.check.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        same_check && self.header.params == header.params && self.header.salt == header.salt
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(AeadKey::from_slice(self.key.as_slice()))
    }

    /// The whole file for `entries`, under a fresh nonce.
    pub fn seal(&self, entries: &Entries) -> Result<Vec<u8>, String> {
        let mut body = encode(entries);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let header = self.header.encode();
        self.cipher()
            .encrypt_in_place(XNonce::from_slice(&nonce), &header, &mut *body)
            .map_err(|_| "encryption failed".to_string())?;
        let mut file = Vec::with_capacity(HEADER_LEN + NONCE_LEN + body.len());
        file.extend_from_slice(&header);
        file.extend_from_slice(&nonce);
        file.extend_from_slice(&body);
        Ok(file)
    }

    /// The entries of a sealed file this key [`matches`](Self::matches);
    /// `Err(reason)` when the body fails authentication or does not decode.
    pub fn open(&self, sealed: &Sealed<'_>) -> Result<Entries, String> {
        let mut body = Zeroizing::new(sealed.body.to_vec());
        self.cipher()
            .decrypt_in_place(
                XNonce::from_slice(&sealed.nonce),
                sealed.header_bytes,
                &mut *body,
            )
            .map_err(|_| "its contents fail authentication (altered or truncated)".to_string())?;
        decode(&body).ok_or_else(|| "its contents do not decode".to_string())
    }
}

/// Entries as bytes, in a buffer with room for the tag so that encrypting
/// in place never reallocates.
fn encode(entries: &Entries) -> Zeroizing<Vec<u8>> {
    let size = 4 + entries
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(size + TAG_LEN));
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&len(entries.len()));
    for (key, value) in entries {
        out.extend_from_slice(&len(key.len()));
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&len(value.len()));
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Option<Entries> {
    let mut r = Reader(bytes);
    let count = r.u32()?;
    let mut entries = Entries::new();
    for _ in 0..count {
        let key_len = usize::try_from(r.u32()?).ok()?;
        let key = std::str::from_utf8(r.take(key_len)?).ok()?.to_string();
        let value_len = usize::try_from(r.u32()?).ok()?;
        let value = std::str::from_utf8(r.take(value_len)?).ok()?;
        entries.insert(key, Zeroizing::new(value.to_string()));
    }
    r.0.is_empty().then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn entries() -> Entries {
        let mut entries = Entries::new();
        entries.insert("a/b".into(), Zeroizing::new("value-one".into()));
        entries.insert("c".into(), Zeroizing::new("🔑".repeat(3000)));
        entries
    }

    // S24: sealing round-trips and every write gets a fresh nonce
    #[test]
    fn seal_then_open_round_trips_with_a_fresh_nonce_each_time() {
        let key = Key::derive_new(&Secret::new("pw"), FAST).unwrap();
        let one = key.seal(&entries()).unwrap();
        let two = key.seal(&entries()).unwrap();
        let (a, b) = (parse(&one).unwrap(), parse(&two).unwrap());
        assert_ne!(a.nonce, b.nonce);
        assert!(key.matches(&a.header));
        let opened = key.open(&a).unwrap();
        assert_eq!(opened.len(), 2);
        assert_eq!(opened["c"].as_str(), "🔑".repeat(3000));
    }

    // S24: another passphrase is told apart by the header's check value
    #[test]
    fn another_passphrase_does_not_match_the_header() {
        let key = Key::derive_new(&Secret::new("right"), FAST).unwrap();
        let file = key.seal(&entries()).unwrap();
        let header = parse(&file).unwrap().header;
        let other = Key::derive(&Secret::new("wrong"), header.salt, header.params).unwrap();
        assert!(!other.matches(&header));
    }

    // S24: any flipped byte and any truncation of the file is noticed
    #[test]
    fn every_altered_byte_is_noticed() {
        let key = Key::derive_new(&Secret::new("pw"), FAST).unwrap();
        let mut small = Entries::new();
        small.insert("k".into(), Zeroizing::new("value".into()));
        let file = key.seal(&small).unwrap();
        for at in 0..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x01;
            let noticed = match parse(&bad) {
                Err(_) => true,
                Ok(sealed) => !key.matches(&sealed.header) || key.open(&sealed).is_err(),
            };
            assert!(noticed, "a flipped byte at {at} went unnoticed");
        }
        for len in 0..file.len() {
            let noticed = match parse(&file[..len]) {
                Err(_) => true,
                Ok(sealed) => key.open(&sealed).is_err(),
            };
            assert!(noticed, "truncation to {len} bytes went unnoticed");
        }
    }

    // S24: a damaged header cannot make us run an enormous derivation
    #[test]
    fn implausible_costs_are_refused_before_any_derivation() {
        let key = Key::derive_new(&Secret::new("pw"), FAST).unwrap();
        let mut file = key.seal(&Entries::new()).unwrap();
        // m_kib sits right after magic, version and kdf id.
        file[11..15].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = parse(&file).err().unwrap();
        assert!(err.contains("implausible"), "{err}");
    }

    #[test]
    fn decode_refuses_trailing_or_missing_bytes() {
        let bytes = encode(&entries());
        assert!(decode(&bytes).is_some());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(decode(&longer).is_none());
    }
}
