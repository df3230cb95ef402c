//! `tokentray profile …` end to end: the real binary, a real config
//! directory and the real Secret Service for client secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{stderr, stdout, Env};
use predicates::str::contains;

#[test]
fn add_list_show_remove_round_trip() {
    let env = Env::new();
    env.tokentray()
        .args([
            "profile",
            "add",
            "graph",
            "--preset",
            "microsoft",
            "--tenant",
            "contoso.onmicrosoft.com",
        ])
        .args(["--client-id", "11111111-2222-3333-4444-555555555555"])
        .assert()
        .success()
        .stderr(contains("added profile `graph`"));
    env.tokentray()
        .args([
            "profile",
            "add",
            "local",
            "--issuer",
            "http://127.0.0.1:4000",
            "--client-id",
            "tokentray-public",
        ])
        .args([
            "--scope",
            "openid",
            "--scope",
            "api.read",
            "--login",
            "device",
            "--refresh-margin",
            "120",
            "--keep-fresh",
        ])
        .assert()
        .success();

    let list = env
        .tokentray()
        .args(["profile", "list", "--json"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let profiles: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(profiles[0]["name"], "graph");
    assert_eq!(profiles[0]["provider"], "microsoft");
    assert_eq!(profiles[0]["tenant"], "contoso.onmicrosoft.com");
    assert_eq!(profiles[0]["login"], "embedded");
    assert_eq!(
        profiles[1]["provider"], "oidc",
        "--issuer alone implies oidc"
    );
    assert_eq!(profiles[1]["issuer"], "http://127.0.0.1:4000");
    assert_eq!(
        profiles[1]["scopes"],
        serde_json::json!(["openid", "api.read"])
    );
    assert_eq!(profiles[1]["refresh_margin_secs"], 120);
    assert_eq!(profiles[1]["keep_fresh"], true);
    assert_eq!(profiles[0]["keep_fresh"], false);

    let text = env.tokentray().args(["profile", "list"]).output().unwrap();
    assert!(
        stdout(&text)
            .lines()
            .any(|l| l.starts_with("local") && l.contains("device")),
        "{}",
        stdout(&text)
    );

    env.tokentray()
        .args(["profile", "show", "local"])
        .assert()
        .success()
        .stdout(contains("issuer:         http://127.0.0.1:4000"))
        .stdout(contains("refresh margin: 120 s"));

    env.tokentray()
        .args(["profile", "remove", "graph"])
        .assert()
        .success();
    let after: serde_json::Value = serde_json::from_slice(
        &env.tokentray()
            .args(["profile", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["name"], "local");
}

// S9 S21: client secrets in the vault, vault only
#[test]
fn client_secret_goes_to_the_vault_not_the_file() {
    let env = Env::new();
    let secret = format!("canary-client-secret-{}", std::process::id());
    env.tokentray()
        .args([
            "profile",
            "add",
            "svc",
            "--issuer",
            "https://login.example.com",
            "--client-id",
            "svc",
        ])
        .args(["--login", "client_credentials", "--client-secret-stdin"])
        .write_stdin(format!("{secret}\n"))
        .assert()
        .success()
        .stderr(contains("client secret stored in the OS vault"));
    let file = std::fs::read_to_string(env.profiles_file()).unwrap();
    assert!(
        !file.contains(&secret),
        "secret written to the profiles file"
    );
    assert_eq!(
        env.vault_values(),
        vec![secret.clone()],
        "trailing newline stripped"
    );

    env.tokentray()
        .args(["doctor"])
        .assert()
        .success()
        .stdout(contains("client secret of svc: ok"));

    env.tokentray()
        .args(["profile", "remove", "svc"])
        .assert()
        .success();
    assert!(
        env.vault_values().is_empty(),
        "secret removed with its profile"
    );
}

#[test]
fn client_credentials_without_a_secret_is_refused() {
    let env = Env::new();
    env.tokentray()
        .args([
            "profile",
            "add",
            "svc",
            "--issuer",
            "https://login.example.com",
            "--client-id",
            "svc",
        ])
        .args(["--login", "client_credentials"])
        .assert()
        .code(2)
        .stderr(contains("--client-secret-stdin"));
    assert!(!env.profiles_file().exists(), "nothing written");
}

#[test]
fn bad_values_and_unknown_profiles_exit_2() {
    let env = Env::new();
    let cases: &[(&[&str], &str)] = &[
        (&["profile", "add", "x", "--client-id", "c"], "--preset"),
        (
            &[
                "profile",
                "add",
                "x",
                "--issuer",
                "http://idp.example.com",
                "--client-id",
                "c",
            ],
            "--issuer: invalid issuer",
        ),
        (
            &[
                "profile",
                "add",
                "x",
                "--preset",
                "google",
                "--client-id",
                "c",
                "--login",
                "embedded",
            ],
            "disallowed_useragent",
        ),
        (
            &[
                "profile",
                "add",
                "x",
                "--preset",
                "okta",
                "--client-id",
                "c",
            ],
            "unknown provider",
        ),
        (
            &[
                "profile",
                "add",
                "bad name",
                "--preset",
                "github",
                "--client-id",
                "c",
            ],
            "--name: invalid profile name",
        ),
        (&["profile", "show", "nope"], "profile `nope` not found"),
        (&["profile", "remove", "nope"], "profile `nope` not found"),
    ];
    for (args, message) in cases {
        let out = env.tokentray().args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    env.tokentray()
        .args([
            "profile",
            "add",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "c",
        ])
        .assert()
        .success();
    env.tokentray()
        .args([
            "profile",
            "add",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "d",
        ])
        .assert()
        .code(2)
        .stderr(contains("profile `gh` already exists"));
}

#[test]
fn a_malformed_file_is_named_with_line_and_key_and_left_alone() {
    let env = Env::new();
    let broken = "[profiles.corp]\nprovider = \"oidc\"\nclient_id = \"c\"\nissuer = \"ftp://x\"\n";
    std::fs::write(env.profiles_file(), broken).unwrap();
    let out = env.tokentray().args(["profile", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let expected = format!(
        "{}:4:10 (key `profiles.corp.issuer`)",
        env.profiles_file().display()
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));

    let json = env
        .tokentray()
        .args(["profile", "list", "--json"])
        .output()
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(error["error"]["kind"], "config");

    env.tokentray()
        .args([
            "profile",
            "add",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "c",
        ])
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(env.profiles_file()).unwrap(),
        broken,
        "never rewritten"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let env = Env::new();
    env.tokentray()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("Exit codes:"))
        .stdout(contains("5  OS vault unavailable"));
}
