#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::error::{Error, Result};
use std::path::PathBuf;

const NOW: EpochSecs = 1_764_400_100;
const CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/msal")
        .join(name)
}

fn read(name: &str) -> Result<Vec<Import>> {
    read_cache(&fixture(name), NOW)
}

fn by_user<'a>(imports: &'a [Import], user: &str) -> &'a Import {
    imports
        .iter()
        .find(|i| i.username.as_deref() == Some(user))
        .unwrap_or_else(|| panic!("no import for {user}"))
}

/// Every fake token string of the fixtures starts with `fake-` (or is a
/// JWT whose signature is `fake-signature`).
fn assert_no_token_in(text: &str) {
    assert!(!text.contains("fake-"), "a token leaked: {text}");
    assert!(!text.contains("eyJ"), "an ID token leaked: {text}");
}

#[test]
fn two_accounts_each_with_its_own_refresh_token() {
    let imports = read("two-accounts.json").unwrap();
    assert_eq!(imports.len(), 2, "one import per account and client");
    let alice = by_user(&imports, "alice@contoso.example");
    assert_eq!(alice.client_id, CLI);
    assert_eq!(alice.environment, "login.microsoftonline.com");
    assert_eq!(
        alice.authority(),
        Authority::Microsoft {
            tenant: TENANT.into()
        }
    );
    // The refresh token of this client, not the other client's one with
    // the same target listed before it.
    assert_eq!(
        alice.refresh_token.as_ref().unwrap().expose(),
        "fake-rt-alice"
    );
    // Only the still-valid access token, with its scopes.
    assert_eq!(alice.access_tokens.len(), 1);
    let at = &alice.access_tokens[0];
    assert_eq!(at.token.expose(), "fake-at-alice-valid");
    assert_eq!(at.expires_at, 9_999_999_999);
    assert_eq!(at.cached_at, Some(1_764_400_000));
    assert_eq!(
        at.scopes,
        vec![
            "https://management.core.windows.net//user_impersonation",
            "https://management.core.windows.net//.default"
        ]
    );
    let who = alice.claimed_identity().unwrap();
    assert_eq!(who.subject, "sub-aaaa-1111");
    assert_eq!(
        who.issuer,
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    assert_eq!(who.username.as_deref(), Some("alice@contoso.example"));
    assert_eq!(who.tenant.as_deref(), Some(TENANT));

    // Bob has only a family refresh token (issued to another family member).
    let bob = by_user(&imports, "bob@contoso.example");
    assert_eq!(bob.family_id.as_deref(), Some("1"));
    assert_eq!(
        bob.refresh_token.as_ref().unwrap().expose(),
        "fake-rt-bob-family"
    );
    assert!(bob.access_tokens.is_empty());
    assert_eq!(bob.claimed_identity().unwrap().subject, "sub-bbbb-2222");
}

// S33: redaction
#[test]
fn debug_output_shows_no_token() {
    let imports = read("two-accounts.json").unwrap();
    let shown = format!("{imports:?} {imports:#?}");
    assert_no_token_in(&shown);
    assert!(shown.contains("[redacted]"));
}

#[test]
fn an_account_without_a_refresh_token_is_listed_without_one() {
    let imports = read("no-refresh-token.json").unwrap();
    assert_eq!(imports.len(), 1);
    assert!(imports[0].refresh_token.is_none());
    assert!(imports[0].id_token.is_some());
    assert_eq!(imports[0].access_tokens.len(), 1);
}

#[test]
fn unknown_fields_and_sections_are_ignored_and_other_hosts_need_an_issuer() {
    let imports = read("extra-fields.json").unwrap();
    assert_eq!(imports.len(), 1);
    let i = &imports[0];
    assert_eq!(i.refresh_token.as_ref().unwrap().expose(), "fake-rt-oidc");
    assert_eq!(
        i.authority(),
        Authority::Other {
            host: "idp.example.test".into()
        }
    );
    // Numeric timestamps are accepted too.
    assert_eq!(i.access_tokens[0].expires_at, 9_999_999_999);
    assert_eq!(i.scopes(), vec!["api.read"]);
    assert_eq!(
        i.claimed_identity().unwrap().issuer,
        "https://idp.example.test:8443/oidc"
    );
}

#[test]
fn lowercase_section_names_and_keys_are_read() {
    let imports = read("lowercase-keys.json").unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(
        imports[0].refresh_token.as_ref().unwrap().expose(),
        "fake-rt-alice"
    );
    assert_eq!(imports[0].access_tokens.len(), 1);
}

fn failure(name: &str) -> Error {
    let error = read(name).unwrap_err();
    assert_no_token_in(&error.to_string());
    assert_no_token_in(&format!("{error:?}"));
    error
}

#[test]
fn a_truncated_file_says_so_with_its_position() {
    let error = failure("truncated.json");
    assert_eq!(error.kind(), crate::ErrorKind::Config);
    let text = error.to_string();
    assert!(text.contains("truncated"), "{text}");
    assert!(text.contains("truncated.json:"), "{text}");
}

#[test]
fn an_empty_file_says_so() {
    let error = failure("empty.json");
    assert_eq!(error.kind(), crate::ErrorKind::Config);
    assert!(error.to_string().contains("empty"), "{error}");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = read_cache(dir.path(), NOW).unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("is a directory"), "{error}");
}

#[test]
fn unknown_formats_and_malformed_json_are_named() {
    let error = failure("unknown-format.json");
    assert_eq!(error.kind(), crate::ErrorKind::Config);
    assert!(error.to_string().contains("unknown format"), "{error}");

    let path = Path::new("/x/cache.json");
    for text in ["[1, 2]", "\"fake-token\"", "42"] {
        let error = parse_cache(text, path, NOW).unwrap_err();
        assert!(
            error.to_string().contains("unknown format"),
            "{text}: {error}"
        );
        assert_no_token_in(&error.to_string());
    }
    let error = parse_cache(
        "{\"RefreshToken\": {\"k\": {\"secret\": \"fake-rt\",}}}",
        path,
        NOW,
    )
    .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Config);
    assert!(error.to_string().contains("not valid JSON"), "{error}");
    assert_no_token_in(&error.to_string());

    let error = parse_cache("{\"RefreshToken\": [\"fake-rt\"]}", path, NOW).unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Config);
    assert_no_token_in(&error.to_string());

    let bad_time = r#"{"AccessToken": {"k": {"home_account_id": "h", "environment": "e",
        "client_id": "c", "secret": "fake-at", "target": "s", "expires_on": "soon"}}}"#;
    let error = parse_cache(bad_time, path, NOW).unwrap_err();
    assert!(error.to_string().contains("expires_on"), "{error}");
    assert_no_token_in(&error.to_string());
}

#[test]
fn a_missing_file_is_an_io_error() {
    let error = read("no-such-file.json").unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::Io);
}
