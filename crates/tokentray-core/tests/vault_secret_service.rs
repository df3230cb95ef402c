//! The vault against the real Secret Service (gnome-keyring in the private
//! D-Bus session that `scripts/headless-session` starts). These tests prove
//! that entries really reach the OS vault (visible to `secret-tool`), that
//! chunking keeps every entry within the platform limit, and that damage
//! done from outside is reported, not returned.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokentray_core::vault::{KeyringVault, Vault, MAX_ENTRY_BYTES};
use tokentray_core::Secret;

fn require_session() {
    assert_eq!(
        std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
        Ok("1"),
        "these tests need the real Secret Service: run them under scripts/headless-session (see README)"
    );
}

/// A vault under a service name of its own, so tests never see each other.
fn fresh_vault() -> (KeyringVault, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    require_session();
    let service = format!(
        "dev.tokentray.test.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    (KeyringVault::with_service(&service), service)
}

/// `secret-tool`'s view of SERVICE: (entry name, value) pairs, sorted.
/// `search` prints attributes on stderr and values on stdout, so names are
/// listed first and each value is looked up on its own.
fn secret_tool_entries(service: &str) -> Vec<(String, String)> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool is installed (apt libsecret-tools)");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = ").map(str::to_string))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let value = Command::new("secret-tool")
                .args(["lookup", "service", service, "username", &name])
                .output()
                .unwrap();
            (name, String::from_utf8_lossy(&value.stdout).into_owned())
        })
        .collect()
}

fn secret_tool(args: &[&str], stdin: Option<&str>) {
    let out = tokentray_testkit::secret_tool(None, args, stdin).unwrap();
    assert!(out.status.success(), "secret-tool {args:?}");
}

#[test]
fn put_get_delete_reach_the_real_secret_service() {
    let (vault, service) = fresh_vault();
    assert!(
        vault.get("account/a").unwrap().is_none(),
        "missing key is Ok(None)"
    );
    vault.put("account/a", &Secret::new("value-1")).unwrap();
    assert_eq!(vault.get("account/a").unwrap().unwrap().expose(), "value-1");
    assert_eq!(
        secret_tool_entries(&service),
        vec![("account/a".to_string(), "value-1".to_string())],
        "the entry is in gnome-keyring, not in a mock store"
    );
    vault.put("account/a", &Secret::new("value-2")).unwrap();
    assert_eq!(vault.get("account/a").unwrap().unwrap().expose(), "value-2");
    assert!(vault.delete("account/a").unwrap());
    assert!(!vault.delete("account/a").unwrap());
    assert!(vault.get("account/a").unwrap().is_none());
    assert!(secret_tool_entries(&service).is_empty());
}

// S23: size limits
#[test]
fn large_and_non_ascii_values_round_trip_through_chunks() {
    let (vault, service) = fresh_vault();
    let big: String = (0..4096)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    // 700 characters outside the BMP: 2,800 bytes in UTF-8 and in UTF-16.
    let wide: String = "🔑𝄞".chars().cycle().take(700).collect();
    for value in [&big, &wide] {
        vault.put("big", &Secret::new(value.as_str())).unwrap();
        assert_eq!(vault.get("big").unwrap().unwrap().expose(), value.as_str());
        let entries = secret_tool_entries(&service);
        assert!(
            entries.len() >= 3,
            "manifest plus at least two chunks: {entries:?}"
        );
        for (name, stored) in &entries {
            assert!(
                stored.len() <= MAX_ENTRY_BYTES,
                "{name}: {} bytes",
                stored.len()
            );
            assert!(
                stored.encode_utf16().count() * 2 <= MAX_ENTRY_BYTES,
                "{name}"
            );
        }
    }
    assert!(vault.delete("big").unwrap());
    assert!(
        secret_tool_entries(&service).is_empty(),
        "chunks deleted with their manifest"
    );
}

// S23: size limits
#[test]
fn a_damaged_or_missing_chunk_is_reported() {
    let (vault, service) = fresh_vault();
    vault.put("acct", &Secret::new("z".repeat(6000))).unwrap();
    let chunk = secret_tool_entries(&service)
        .into_iter()
        .map(|(name, _)| name)
        .find(|name| name.ends_with(".1"))
        .expect("a second chunk");

    // Altered from outside: same attributes as keyring's own entry.
    let label = format!("{chunk}@{service}");
    secret_tool(
        &[
            "store",
            "--label",
            &label,
            "service",
            &service,
            "username",
            &chunk,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some("tampered"),
    );
    let err = vault.get("acct").unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::VaultCorrupt, "{err}");

    secret_tool(&["clear", "service", &service, "username", &chunk], None);
    let err = vault.get("acct").unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::VaultCorrupt);
    assert!(err.to_string().contains("is missing"), "{err}");
    assert!(err.to_string().contains("Fix:"), "says what to do: {err}");

    assert!(vault.delete("acct").unwrap());
    assert!(secret_tool_entries(&service).is_empty());
}
