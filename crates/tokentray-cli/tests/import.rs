//! `tokentray import msal`: hand-made caches (copied to a temporary
//! directory first: `--shred` deletes files), and a cache written by real
//! MSAL Python after a device-code login against the local IdP over TLS.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{stderr, stdout, Env};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of a fixture of `crates/tokentray-core/tests/fixtures/msal/`.
fn fixture(dir: &Path, name: &str) -> PathBuf {
    let from = repo_root()
        .join("crates/tokentray-core/tests/fixtures/msal")
        .join(name);
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    to
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn import(env: &Env, args: &[&str]) -> std::process::Output {
    env.tokentray()
        .args(["import", "msal"])
        .args(args)
        .output()
        .unwrap()
}

fn statuses(report: &Value) -> Vec<String> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_string())
        .collect()
}

/// No fake token of the fixtures (`fake-…`, or an ID token) in `text`.
fn assert_no_token(text: &str) {
    assert!(!text.contains("fake-"), "a token leaked: {text}");
    assert!(!text.contains("eyJ"), "an ID token leaked: {text}");
}

#[test]
fn hand_made_caches_dry_run_import_already_present_and_shred_refusal() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let cache = fixture(dir.path(), "two-accounts.json");
    let path = cache.to_str().unwrap();

    // --dry-run changes nothing.
    let out = import(&env, &[path, "--dry-run", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["would_import", "would_import"]);
    assert!(!env.profiles_file().exists());
    assert!(env.vault_values().is_empty());

    // --shred is refused when nothing will be verified; the file stays.
    for flag in ["--no-verify", "--dry-run"] {
        let out = import(&env, &[path, "--shred", flag]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("--shred refused"), "{}", stderr(&out));
        assert!(cache.exists());
    }

    // Both accounts go in (no network: not verified), each into a new profile.
    let out = import(&env, &[path, "--no-verify", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_token(&stdout(&out));
    assert_no_token(&stderr(&out));
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["imported", "imported"]);
    assert_eq!(report["plaintext_remains"], true);
    assert!(report["note"]
        .as_str()
        .unwrap()
        .contains("still holds these tokens"));
    let profiles = std::fs::read_to_string(env.profiles_file()).unwrap();
    assert!(profiles.contains("[profiles.\"msal-alice-contoso.example\"]"));
    assert!(profiles.contains("[profiles.\"msal-bob-contoso.example\"]"));
    assert!(profiles.contains("tenant = \"72f988bf-86f1-41af-91ab-2d7cd011db47\""));
    assert_no_token(&profiles);
    let vault = env.vault_values().join("\n");
    assert!(vault.contains("fake-rt-alice\""), "alice's refresh token");
    assert!(!vault.contains("fake-rt-alice-other-client"));
    assert!(vault.contains("fake-rt-bob-family"), "bob's family token");
    assert!(vault.contains("fake-at-alice-valid"));
    assert!(!vault.contains("fake-at-alice-expired"));

    // The still-valid access token is served as is.
    let token = env
        .tokentray()
        .args(["token", "msal-alice-contoso.example"])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr(&token));
    assert_eq!(stdout(&token).trim(), "fake-at-alice-valid");

    // Again: already present, nothing changes.
    let out = import(&env, &[path, "--no-verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.matches("already present in profile").count(),
        2,
        "{text}"
    );
    assert!(text.contains("still holds these tokens"), "{text}");
    assert!(cache.exists());
}

#[test]
fn broken_caches_are_named_and_nothing_is_imported_halfway() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (fixture(dir.path(), "truncated.json"), "config", "truncated"),
        (fixture(dir.path(), "empty.json"), "config", "empty"),
        (
            fixture(dir.path(), "unknown-format.json"),
            "config",
            "unknown format",
        ),
        (dir.path().to_path_buf(), "invalid_input", "is a directory"),
    ];
    for (path, kind, words) in cases {
        let out = import(&env, &[path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let error = json(&stdout(&out));
        assert_eq!(error["error"]["kind"], kind, "{error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
        assert_no_token(message);
    }

    // One account has no refresh token: it fails, and the other… there is
    // none, so nothing at all is stored.
    let cache = fixture(dir.path(), "no-refresh-token.json");
    let out = import(&env, &[cache.to_str().unwrap(), "--no-verify", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["failed"]);
    assert!(report["accounts"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("no refresh token"));

    // A non-Microsoft host needs --issuer, and it must be that host.
    let cache = fixture(dir.path(), "extra-fields.json");
    let path = cache.to_str().unwrap();
    let out = import(&env, &[path, "--no-verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("--issuer"), "{}", stdout(&out));
    let out = import(
        &env,
        &[
            path,
            "--no-verify",
            "--issuer",
            "https://other.example/oidc",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("another host"), "{}", stdout(&out));
    assert!(
        !env.profiles_file().exists() || {
            let text = std::fs::read_to_string(env.profiles_file()).unwrap();
            !text.contains("[profiles.")
        }
    );
    assert!(env.vault_values().iter().all(|v| !v.contains("fake-")));
}

// ---------------------------------------------------------------------------
// Real MSAL Python.
// ---------------------------------------------------------------------------

/// The venv `scripts/install-deps test` makes (or `TOKENTRAY_MSAL_PYTHON`).
fn msal_python() -> PathBuf {
    let python = std::env::var_os("TOKENTRAY_MSAL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/msal-venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import msal"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import msal: run scripts/install-deps test",
        python.display()
    );
    python
}

/// A throwaway CA and a certificate for 127.0.0.1 signed by it.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec[..],
        &[
            "-days",
            "1",
            "-subj",
            "/CN=Tokentray import test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec[..],
        &[
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "idp.key",
            "-out",
            "idp.csr",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "idp.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "idp.pem",
    ]);
    (dir.join("ca.pem"), dir.join("idp.pem"), dir.join("idp.key"))
}

/// The IdP over TLS under `/oidc`; killed when dropped.
struct TlsIdp {
    child: std::process::Child,
    issuer: String,
    /// Kept open: the server writes to it.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl TlsIdp {
    fn start(cert: &Path, key: &Path) -> Self {
        let mut child = Command::new(std::env::var_os("TOKENTRAY_NODE").unwrap_or("node".into()))
            .arg(repo_root().join("tests/idp/server.mjs"))
            .env("IDP_PORT", "0")
            .env("IDP_ACCESS_TOKEN_TTL", "3600")
            .env("IDP_TLS_CERT", cert)
            .env("IDP_TLS_KEY", key)
            .env("IDP_PATH_PREFIX", "/oidc")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs tests/idp/server.mjs (npm ci --prefix tests/idp?)");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.starts_with("IDP_READY ") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the IdP exited");
        }
        let issuer = line.trim().trim_start_matches("IDP_READY ").to_string();
        assert!(issuer.starts_with("https://127.0.0.1:") && issuer.ends_with("/oidc"));
        Self {
            child,
            issuer,
            _stdout: out,
        }
    }
}

impl Drop for TlsIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `msal-peer.py login json`: a device-code login by MSAL Python, approved
/// by the helper; MSAL writes its plaintext cache to `cache`.
fn msal_login(python: &Path, idp: &TlsIdp, ca: &Path, cache: &Path) {
    let bench = repo_root().join("scripts/bench.d");
    let mut child = Command::new(python)
        .arg(bench.join("msal-peer.py"))
        .args(["login", "json", &idp.issuer])
        .arg(cache)
        .env("REQUESTS_CA_BUNDLE", ca)
        .env_remove("CURL_CA_BUNDLE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let Some(code) = line.trim().strip_prefix("USER_CODE ") else {
        let err = child.wait_with_output().unwrap();
        panic!("MSAL printed no user code: {line:?} {}", stderr(&err));
    };
    let approved = Command::new("python3")
        .arg(bench.join("approve-device.py"))
        .args([&idp.issuer, code, "alice"])
        .env("BENCH_CA_FILE", ca)
        .output()
        .unwrap();
    assert!(approved.status.success(), "approval: {}", stderr(&approved));
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "MSAL login: {}", stderr(&done));
}

#[test]
fn a_cache_written_by_real_msal_is_imported_verified_and_shredded() {
    let python = msal_python();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let idp = TlsIdp::start(&cert, &key);
    let cache = dir.path().join("msal_token_cache.json");
    msal_login(&python, &idp, &ca, &cache);
    let written = std::fs::read_to_string(&cache).unwrap();
    assert!(written.contains("\"RefreshToken\""), "an MSAL cache");

    let env = Env::new();
    let tokentray = |args: &[&str]| {
        env.tokentray()
            .env("TOKENTRAY_CA_FILE", &ca)
            .args(args)
            .output()
            .unwrap()
    };
    let path = cache.to_str().unwrap();

    // Without --issuer: MSAL kept only the host.
    let out = tokentray(&["import", "msal", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("--issuer"), "{}", stdout(&out));

    // Imported and verified with one refresh; the file stays.
    let out = tokentray(&["import", "msal", path, "--issuer", &idp.issuer, "--json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["imported"], "{report}");
    assert_eq!(report["accounts"][0]["verified"], true);
    assert_eq!(report["accounts"][0]["account"], "alice");
    let profile = report["accounts"][0]["profile"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(profile, "msal-alice");
    assert!(cache.exists());
    assert_eq!(report["plaintext_remains"], true);

    // A working token via a refresh: the provider's userinfo accepts it.
    let out = tokentray(&["token", &profile, "--force-refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(!token.is_empty());
    let me = Command::new("curl")
        .args(["-sf", "--cacert"])
        .arg(&ca)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{}/me", idp.issuer))
        .output()
        .unwrap();
    assert!(me.status.success(), "userinfo refused the token");
    assert_eq!(json(&stdout(&me))["sub"], "alice");

    // --shred: already present, verified again, then the file is gone.
    let out = tokentray(&["import", "msal", path, "--issuer", &idp.issuer, "--shred"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("already present"), "{text}");
    assert!(text.contains("overwritten and deleted"), "{text}");
    assert!(!cache.exists(), "MSAL's plaintext file is gone");
    let out = tokentray(&["token", &profile]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Adds an account `mallory` with a refresh token the provider never issued.
fn add_a_bad_account(cache: &Path, issuer: &str) {
    use base64::Engine;
    let mut doc: Value = json(&std::fs::read_to_string(cache).unwrap());
    let b64 = |v: Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let id_token = format!(
        "{}.{}.fake-signature",
        b64(serde_json::json!({"alg": "RS256"})),
        b64(serde_json::json!({"iss": issuer, "sub": "mallory", "preferred_username": "mallory"}))
    );
    let home = "mallory.oidc";
    let common = serde_json::json!({
        "home_account_id": home, "environment": "127.0.0.1", "client_id": "tokentray-public",
    });
    let with = |extra: Value| {
        let mut entry = common.clone();
        entry
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        entry
    };
    doc["Account"]["mallory-key"] = serde_json::json!({
        "home_account_id": home, "environment": "127.0.0.1", "realm": "oidc", "username": "mallory",
    });
    doc["IdToken"]["mallory-key"] = with(
        serde_json::json!({"credential_type": "IdToken", "secret": id_token, "realm": "oidc"}),
    );
    doc["RefreshToken"]["mallory-key"] = with(serde_json::json!({
        "credential_type": "RefreshToken", "secret": "fake-rt-mallory", "target": "api.read",
    }));
    std::fs::write(cache, doc.to_string()).unwrap();
}

#[test]
fn one_failing_account_rolls_the_import_back_unless_partial() {
    let python = msal_python();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let idp = TlsIdp::start(&cert, &key);
    let env = Env::new();
    let tokentray = |args: &[&str]| {
        env.tokentray()
            .env("TOKENTRAY_CA_FILE", &ca)
            .args(args)
            .output()
            .unwrap()
    };

    // All or nothing: alice verifies, mallory's refresh is refused, so
    // alice is removed again and no profile stays.
    let cache = dir.path().join("all.json");
    msal_login(&python, &idp, &ca, &cache);
    add_a_bad_account(&cache, &idp.issuer);
    let path = cache.to_str().unwrap();
    let out = tokentray(&[
        "import",
        "msal",
        path,
        "--issuer",
        &idp.issuer,
        "--json",
        "--shred",
    ]);
    assert!(!out.status.success());
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["rolled_back", "failed"], "{report}");
    assert!(report["accounts"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("verifying refresh failed"));
    assert!(report["note"].as_str().unwrap().contains("--shred refused"));
    assert!(cache.exists(), "not shredded");
    assert_no_token(&stdout(&out));
    let profiles = std::fs::read_to_string(env.profiles_file()).unwrap_or_default();
    assert!(!profiles.contains("[profiles."), "{profiles}");
    let status = json(&stdout(&tokentray(&["status", "--json"])));
    assert_eq!(
        status["profiles"].as_array().map(Vec::len),
        Some(0),
        "{status}"
    );

    // --partial keeps the account that works.
    let cache = dir.path().join("partial.json");
    msal_login(&python, &idp, &ca, &cache);
    add_a_bad_account(&cache, &idp.issuer);
    let path = cache.to_str().unwrap();
    let out = tokentray(&[
        "import",
        "msal",
        path,
        "--issuer",
        &idp.issuer,
        "--json",
        "--partial",
    ]);
    assert!(!out.status.success(), "a failure still fails the command");
    let report = json(&stdout(&out));
    assert_eq!(statuses(&report), ["imported", "failed"], "{report}");
    let profile = report["accounts"][0]["profile"].as_str().unwrap();
    let out = tokentray(&["token", profile, "--force-refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let profiles = std::fs::read_to_string(env.profiles_file()).unwrap();
    assert!(!profiles.contains("mallory"), "{profiles}");
}
