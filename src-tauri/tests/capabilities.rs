//! Least privilege, checked on the files themselves (S17, S20): only the
//! local accounts window and the local consent dialog are granted
//! anything, each its own commands (the dialog its two and nothing else);
//! a login window (`login-*`) matches no capability; nothing is granted
//! to remote pages; the CSP allows no remote script.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

const ALLOWED_WINDOWS: &[&str] = &["accounts", "consent"];

/// All the consent dialog may do: read its question, answer it.
const CONSENT_GRANTS: &[&str] = &["allow-consent-question", "allow-consent-answer"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn capability_files() -> Vec<PathBuf> {
    let dir = manifest_dir().join("capabilities");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A window or webview label pattern is acceptable only when it is one of
/// ours, literally: no globs, nothing a `login-*` label could match.
fn check_labels(file: &Path, key: &str, capability: &Value) {
    let Some(labels) = capability.get(key) else {
        return;
    };
    let labels = labels
        .as_array()
        .unwrap_or_else(|| panic!("{}: `{key}` is not a list", file.display()));
    for label in labels {
        let label = label.as_str().unwrap();
        assert!(
            !label.contains(['*', '?', '[', ']', '{', '}']),
            "{}: `{key}` has the pattern {label:?}; list labels literally",
            file.display()
        );
        assert!(
            !label.starts_with("login"),
            "{}: grants to the login window {label:?}",
            file.display()
        );
        assert!(
            ALLOWED_WINDOWS.contains(&label),
            "{}: grants to unknown window {label:?}",
            file.display()
        );
    }
}

// S17: the login window has zero IPC
#[test]
fn capabilities_grant_only_to_the_accounts_window() {
    let files = capability_files();
    assert!(!files.is_empty(), "no capability files found");
    for file in &files {
        assert_eq!(
            file.extension().and_then(|e| e.to_str()),
            Some("json"),
            "{}: only JSON capabilities are checked here; add a parser before adding other formats",
            file.display()
        );
        let capability = read_json(file);
        assert!(
            capability.get("remote").is_none(),
            "{}: has a `remote` block",
            file.display()
        );
        assert_ne!(
            capability.get("local"),
            Some(&Value::Bool(false)),
            "{}",
            file.display()
        );
        assert!(
            capability.get("windows").is_some() || capability.get("webviews").is_some(),
            "{}: names no window",
            file.display()
        );
        check_labels(file, "windows", &capability);
        check_labels(file, "webviews", &capability);
    }
}

// S17 S20: the login window has zero IPC, the accounts window never receives refresh tokens
#[test]
fn config_has_no_inline_capabilities_and_a_strict_csp() {
    let config = read_json(&manifest_dir().join("tauri.conf.json"));
    let app = &config["app"];
    assert_eq!(app["withGlobalTauri"], Value::Bool(false));
    // capabilities come only from the checked files above
    assert!(app["security"].get("capabilities").is_none());

    let csp = &app["security"]["csp"];
    assert!(csp.is_object(), "the CSP must be set");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    for (directive, sources) in csp.as_object().unwrap() {
        let sources = sources.as_str().unwrap();
        for source in sources.split_whitespace() {
            let remote = (source.starts_with("http:") || source.starts_with("https:"))
                && source != "http://ipc.localhost";
            assert!(!remote, "CSP {directive} allows the remote source {source}");
            assert_ne!(source, "*", "CSP {directive} allows everything");
            assert_ne!(source, "'unsafe-eval'", "CSP {directive}");
        }
    }

    let windows = app["windows"].as_array().unwrap();
    for window in windows {
        let label = window["label"].as_str().unwrap();
        assert!(
            ALLOWED_WINDOWS.contains(&label),
            "unexpected window {label}"
        );
        // the app starts in the tray only
        assert_eq!(
            window["create"],
            Value::Bool(false),
            "window {label} is created at start"
        );
    }
}

/// The names between the brackets that follow `marker` in `text`.
fn listed_after(text: &str, marker: &str) -> Vec<String> {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("`{marker}` not found"))
        + marker.len();
    let end = start + text[start..].find(']').unwrap();
    text[start..end]
        .split(',')
        .map(|item| {
            item.trim()
                .trim_matches('"')
                .rsplit("::")
                .next()
                .unwrap()
                .to_owned()
        })
        .filter(|item| !item.is_empty())
        .collect()
}

/// The permissions a capability file grants.
fn grants(file: &Path) -> Vec<String> {
    read_json(file)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Every command the app registers is declared in the app manifest
/// (`build.rs`), so that it is denied unless a capability grants it, and
/// is granted to exactly one window: the consent dialog's two to the
/// dialog, the others to the accounts window (the IPC test in
/// `src/ipc_tests.rs` probes every declared command in every window);
/// every grant names a declared command.
// S17: every registered command is deny-by-default and granted to one window only
#[test]
fn every_registered_command_is_in_the_app_manifest() {
    let lib = std::fs::read_to_string(manifest_dir().join("src/lib.rs")).unwrap();
    let build = std::fs::read_to_string(manifest_dir().join("build.rs")).unwrap();
    let registered = listed_after(&lib, "generate_handler![");
    let declared = listed_after(&build, ".commands(&[");
    assert!(!registered.is_empty());
    let accounts = grants(&manifest_dir().join("capabilities/accounts.json"));
    let consent = grants(&manifest_dir().join("capabilities/consent.json"));
    assert_eq!(
        consent, CONSENT_GRANTS,
        "the consent dialog may do nothing else"
    );
    for command in &registered {
        assert!(
            declared.contains(command),
            "command {command} is registered but not in build.rs's AppManifest"
        );
        let permission = format!("allow-{}", command.replace('_', "-"));
        let (mine, other) = if CONSENT_GRANTS.contains(&permission.as_str()) {
            (&consent, &accounts)
        } else {
            (&accounts, &consent)
        };
        assert!(
            mine.contains(&permission) && !other.contains(&permission),
            "command {command} ({permission}) is not granted to its one window"
        );
    }
    for file in capability_files() {
        for permission in grants(&file) {
            if let Some(command) = permission.strip_prefix("allow-") {
                let command = command.replace('-', "_");
                assert!(
                    declared.contains(&command),
                    "{}: grants {permission}, which no declared command matches",
                    file.display()
                );
            }
        }
    }
}
