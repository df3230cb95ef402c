//! `tokentray doctor` against a working, a locked and an absent vault.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{stdout, Env};
use predicates::str::contains;

#[test]
fn reports_ok_in_a_working_session() {
    let env = Env::new();
    env.tokentray()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("vault: ok"))
        .stdout(contains("profiles: ok (0 profile(s)"));
    assert!(env.vault_values().is_empty(), "the probe entry is deleted");

    let out = env.tokentray().args(["doctor", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["checks"][1]["name"], "vault");
}

// S24: linux vault states
#[test]
fn a_locked_collection_exits_5_with_the_fix() {
    let env = Env::new();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/locked-keyring.sh"
    );
    let program = assert_cmd::cargo::cargo_bin("tokentray");
    let out = std::process::Command::new(script)
        .arg(program)
        .arg("doctor")
        .env("TOKENTRAY_CONFIG_DIR", env.config.path())
        .env("TOKENTRAY_VAULT_SERVICE", &env.service)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(5), "{text}{}", common::stderr(&out));
    assert!(
        text.contains("vault: FAILED: the OS vault is locked"),
        "{text}"
    );
    assert!(
        text.contains("gnome-keyring-daemon --replace --unlock"),
        "says how to unlock: {text}"
    );
}

// S24: linux vault states
#[test]
fn no_dbus_session_exits_5_with_the_fix() {
    let env = Env::new();
    env.tokentray()
        .arg("doctor")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", env.config.path())
        .assert()
        .code(5)
        .stdout(contains(
            "vault: FAILED: the OS vault is unavailable: no D-Bus session bus",
        ))
        .stdout(contains("dbus-run-session"));
}

#[test]
fn a_malformed_profiles_file_exits_2() {
    let env = Env::new();
    std::fs::write(env.profiles_file(), "[profiles.x]\nprovider = 3\n").unwrap();
    env.tokentray()
        .arg("doctor")
        .assert()
        .code(2)
        .stdout(contains("profiles: FAILED"))
        .stdout(contains(":2:12 (key `profiles.x.provider`)"))
        .stdout(contains("vault: ok"));
}
