//! Canary strings for leak scans (S34): a unique marker the test IdP puts
//! into every token it issues (`IdpOptions::canary`), and a scanner that
//! looks for it in files, directories and process snapshots.
//!
//! ID tokens are JWTs, so their `tt_canary` claim appears base64url-encoded
//! in the token text; the scanner also looks for the three encodings of the
//! marker (one per byte alignment), so a leaked ID token is found too.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Files larger than this are read only up to it.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A unique marker and its encoded forms.
#[derive(Debug, Clone)]
pub struct Canary {
    marker: String,
    forms: Vec<Vec<u8>>,
}

/// Where a canary was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub place: String,
    /// Which form: `raw` or `base64url`.
    pub form: &'static str,
}

impl Canary {
    /// A fresh marker: `TTcanary` and 16 random hex digits.
    pub fn new() -> Self {
        Self::from_marker(format!("TTcanary{:016x}", rand::random::<u64>()))
    }

    fn from_marker(marker: String) -> Self {
        let mut forms = vec![marker.as_bytes().to_vec()];
        forms.extend((0..3).map(|shift| base64_core(marker.as_bytes(), shift)));
        Self { marker, forms }
    }

    /// The marker itself, as the IdP is given it.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// Where in `bytes` (named `place`) a form of the canary appears.
    pub fn scan_bytes(&self, place: &str, bytes: &[u8]) -> Option<Finding> {
        self.forms.iter().enumerate().find_map(|(index, form)| {
            contains(bytes, form).then(|| Finding {
                place: place.to_owned(),
                form: if index == 0 { "raw" } else { "base64url" },
            })
        })
    }

    /// Every file under `dir` (symlinks not followed) holding the canary,
    /// except those under one of `skip`. Unreadable entries are skipped:
    /// the scan looks for leaks, not for permissions.
    pub fn scan_dir(&self, dir: &Path, skip: &[PathBuf]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(path) = pending.pop() {
            if skip.iter().any(|skipped| path.starts_with(skipped)) {
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if let Ok(entries) = fs::read_dir(&path) {
                    pending.extend(entries.flatten().map(|entry| entry.path()));
                }
            } else if meta.is_file() {
                if let Some(finding) = self.scan_file(&path) {
                    findings.push(finding);
                }
            }
        }
        findings
    }

    /// The canary in one file (its first [`MAX_FILE_BYTES`]).
    pub fn scan_file(&self, path: &Path) -> Option<Finding> {
        let mut bytes = Vec::new();
        fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES).read_to_end(&mut bytes))
            .ok()?;
        self.scan_bytes(&path.display().to_string(), &bytes)
    }

    /// The canary in a process's command line or environment.
    pub fn scan_process(&self, pid: u32) -> Vec<Finding> {
        ["cmdline", "environ"]
            .iter()
            .filter_map(|what| self.scan_file(Path::new(&format!("/proc/{pid}/{what}"))))
            .collect()
    }
}

impl Default for Canary {
    fn default() -> Self {
        Self::new()
    }
}

/// The base64url characters that encode `marker` alone when it starts
/// `shift` bytes into the encoded text: the characters that also depend on
/// neighbouring bytes are cut off.
fn base64_core(marker: &[u8], shift: usize) -> Vec<u8> {
    let mut padded = vec![0u8; shift];
    padded.extend_from_slice(marker);
    let encoded = URL_SAFE_NO_PAD.encode(&padded);
    let first = (shift * 8).div_ceil(6);
    let last = (padded.len() * 8) / 6;
    encoded.as_bytes()[first..last].to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    // S34: canary scan
    #[test]
    fn finds_the_marker_raw_and_inside_a_base64url_jwt_payload() {
        let canary = Canary::new();
        let marker = canary.marker().to_owned();
        assert!(canary.scan_bytes("log", b"nothing here").is_none());
        let raw = format!("token=abc{marker}rt123");
        assert_eq!(
            canary.scan_bytes("log", raw.as_bytes()).unwrap().form,
            "raw"
        );
        for prefix in ["", "x", "xy", "xyz", "{\"sub\":\"alice\",\"tt_canary\":\""] {
            let payload = URL_SAFE_NO_PAD.encode(format!("{prefix}{marker}idtoken\"}}"));
            let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
            let finding = canary.scan_bytes("file", jwt.as_bytes());
            assert_eq!(finding.map(|f| f.form), Some("base64url"), "{prefix:?}");
        }
    }

    #[test]
    fn scans_a_tree_but_not_the_skipped_part() {
        let canary = Canary::new();
        let dir = std::env::temp_dir().join(format!("canary-scan-{}", canary.marker().len()));
        let dir = dir.with_extension(format!("{:x}", rand::random::<u32>()));
        let skipped = dir.join("keyrings");
        fs::create_dir_all(&skipped).unwrap();
        fs::write(dir.join("clean.txt"), "nothing").unwrap();
        fs::write(skipped.join("login.keyring"), canary.marker()).unwrap();
        assert!(canary
            .scan_dir(&dir, std::slice::from_ref(&skipped))
            .is_empty());
        fs::write(dir.join("leak.log"), canary.marker()).unwrap();
        let findings = canary.scan_dir(&dir, &[skipped]);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].place.ends_with("leak.log"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
