//! The vault in every state a user's machine can be in (S24, S22, S23):
//! no D-Bus session, a locked collection, an account's entry deleted or
//! damaged behind Tokentray's back. Each is reported with its own message
//! and fix by `tokentray token` and `status`, with and without an agent;
//! the other account keeps working, and no damaged entry is rewritten.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;
use crate::watched;

use common::{stderr, stdout, Env};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use watched::{refreshes, Watched};

/// Profiles `p` (alice) and `other` (bob), both signed in.
fn two_accounts() -> (Env, tokentray_testkit::Idp) {
    let idp = common::idp(3600);
    let env = Env::new();
    env.add_profile(&idp, "p", &[]);
    env.add_profile(&idp, "other", &[]);
    env.login_device(&idp, "p", "alice");
    env.login_device(&idp, "other", "bob");
    (env, idp)
}

fn secret_tool(args: &[&str], input: Option<&str>) -> Output {
    secret_tool_on(None, args, input)
}

/// `secret-tool` on the session bus at `bus` (default: the test's own).
fn secret_tool_on(bus: Option<&str>, args: &[&str], input: Option<&str>) -> Output {
    tokentray_testkit::secret_tool(bus, args, input)
        .expect("secret-tool is installed (apt libsecret-tools)")
}

/// The names (the `username` attribute) of the entries of `env`.
fn entry_names(env: &Env) -> Vec<String> {
    let out = secret_tool(&["search", "--all", "service", &env.service], None);
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = ").map(str::to_string))
        .collect()
}

/// An entry's bytes, as `secret-tool lookup` prints them.
fn lookup(env: &Env, name: &str) -> Vec<u8> {
    let out = secret_tool(&["lookup", "service", &env.service, "username", name], None);
    assert!(out.status.success(), "no entry {name}");
    out.stdout
}

/// Writes an entry from outside, with the attributes Tokentray's own
/// entries have (README, "Where secrets live").
fn store(env: &Env, name: &str, value: &str) {
    store_on(None, env, name, value);
}

/// [`store`] on the session bus at `bus`.
fn store_on(bus: Option<&str>, env: &Env, name: &str, value: &str) {
    let label = format!("{name}@{}", env.service);
    let out = secret_tool_on(
        bus,
        &[
            "store",
            "--label",
            &label,
            "service",
            &env.service,
            "username",
            name,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some(value),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn clear(env: &Env, name: &str) {
    let out = secret_tool(&["clear", "service", &env.service, "username", name], None);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The vault key of the record of `profile`'s account.
fn record_key(env: &Env, profile: &str) -> String {
    let prefix = format!("account/{profile}/");
    entry_names(env)
        .into_iter()
        .find(|name| name.starts_with(&prefix) && !name.contains('#'))
        .expect("the profile's record")
}

fn token(env: &Env, profile: &str) -> Output {
    env.tokentray().args(["token", profile]).output().unwrap()
}

fn status_json(env: &Env) -> serde_json::Value {
    let out = env.tokentray().args(["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn profile_status<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
}

/// `p` fails with `code` and a message holding every one of `says`, from
/// the vault and from an agent; `other` gets its token; `status` lists `p`
/// as needing a sign-in for that reason and `other` as signed in.
fn assert_only_p_is_affected(env: &Env, code: i32, says: &[&str]) {
    for with_agent in [false, true] {
        let agent = with_agent.then(|| Watched::start(env, &[]));
        let out = token(env, "p");
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "agent {with_agent}: {text}");
        for part in says {
            assert!(
                text.contains(part),
                "agent {with_agent}: {part:?} in {text}"
            );
        }
        assert!(stdout(&out).is_empty());
        let other = token(env, "other");
        assert!(
            other.status.success(),
            "agent {with_agent}: {}",
            stderr(&other)
        );

        let status = status_json(env);
        assert_eq!(status["agent"]["running"], with_agent);
        let p = profile_status(&status, "p");
        assert_eq!(p["state"], "sign_in_required", "{status}");
        let reason = p["reason"].as_str().unwrap();
        assert!(says.iter().all(|part| reason.contains(part)), "{reason}");
        assert_eq!(profile_status(&status, "other")["state"], "signed_in");
        let human = env.tokentray().arg("status").output().unwrap();
        assert!(human.status.success(), "{}", stderr(&human));
        assert!(stdout(&human).contains("other: signed in as bob"));
        if let Some(mut agent) = agent {
            assert!(agent.alive(), "{}", agent.stderr());
        }
    }
}

// S24, S22: an account record that is not JSON: exit 5 naming the entry,
// what is wrong and the fix, from the CLI and the agent; the other account
// works on; the damaged entry's bytes are never rewritten.
#[test]
fn a_record_with_bad_json_is_reported_and_left_as_is() {
    let (env, idp) = two_accounts();
    let key = record_key(&env, "p");
    store(&env, &key, "{\"refresh_token\": \"RT-not-json");
    let damaged = lookup(&env, &key);
    assert_only_p_is_affected(
        &env,
        5,
        &[
            &format!("vault entry `{key}` is damaged"),
            "the account record is not valid JSON (",
            "Fix: sign in again with `tokentray login p`",
        ],
    );
    assert_eq!(
        lookup(&env, &key),
        damaged,
        "the damaged entry is as it was"
    );
    assert_eq!(refreshes(&idp), (0, 0), "nothing sent to the provider");
}

fn sha256_hex(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

// S23, S24: a chunked record (manifest and chunks, as `vault/chunked.rs`
// writes them) with a chunk deleted: exit 5 naming the missing chunk and
// the fix, the other account works on, the manifest and the remaining
// chunk are left as they were.
#[test]
fn a_record_with_a_missing_chunk_is_reported_and_left_as_is() {
    let (env, idp) = two_accounts();
    let key = record_key(&env, "p");
    let json = String::from_utf8(lookup(&env, &key)).unwrap();
    // The same record padded with JSON whitespace beyond one entry's size.
    let padded = format!("{json}{}", " ".repeat(3000));
    let hash = sha256_hex(&padded);
    let chunks = [&padded[..2560], &padded[2560..]];
    let names: Vec<String> = (0..2)
        .map(|i| format!("{key}#{}.{i}", &hash[..12]))
        .collect();
    for (name, chunk) in names.iter().zip(chunks) {
        store(&env, name, chunk);
    }
    store(&env, &key, &format!("tokentray-chunked:v1:2:{hash}"));
    let served = token(&env, "p");
    assert!(
        served.status.success(),
        "the chunked record reads whole: {}",
        stderr(&served)
    );

    clear(&env, &names[1]);
    let manifest = lookup(&env, &key);
    let first = lookup(&env, &names[0]);
    assert_only_p_is_affected(
        &env,
        5,
        &[
            &format!("vault entry `{key}` is damaged"),
            "chunk 2 of 2 is missing",
            "Fix: sign in again with `tokentray login p`",
        ],
    );
    assert_eq!(lookup(&env, &key), manifest, "the manifest is as it was");
    assert_eq!(
        lookup(&env, &names[0]),
        first,
        "the first chunk is as it was"
    );
    assert_eq!(refreshes(&idp), (0, 0), "nothing sent to the provider");
}

// S24, S22, S13: the record deleted behind Tokentray's back: "sign-in
// required" (exit 3) naming the missing entry and `tokentray login p`,
// with no request to the provider; the other account works on.
#[test]
fn a_deleted_record_means_sign_in_required_for_that_account_only() {
    let (env, idp) = two_accounts();
    let key = record_key(&env, "p");
    clear(&env, &key);
    assert_only_p_is_affected(
        &env,
        3,
        &[&format!(
            "its tokens are missing from the vault (entry `{key}` was deleted outside Tokentray)"
        )],
    );
    assert!(stderr(&token(&env, "p")).contains("tokentray login p"));
    assert_eq!(refreshes(&idp), (0, 0), "nothing sent to the provider");
}

/// `out` exited 5 (vault trouble) with every one of `says` on stderr.
fn assert_vault_error(out: &Output, what: &str, says: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(5), "{what}: {text}{}", stdout(out));
    for part in says {
        assert!(text.contains(part), "{what}: {part:?} in {text}");
    }
}

/// Removes every way to reach a D-Bus session bus.
fn without_dbus<'a>(command: &'a mut Command, env: &Env) -> &'a mut Command {
    command
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", env.config.path())
}

// S24: no D-Bus session (SSH, containers): `token` and `status`, from the
// CLI and through an agent, exit 5 saying so with the fix; nothing falls
// back to another store (the config directory holds the profiles file and
// its lock only).
#[test]
fn no_dbus_session_is_reported_with_the_fix() {
    let idp = common::idp(3600);
    let env = Env::new();
    env.add_profile(&idp, "p", &[]);
    let says = [
        "the OS vault is unavailable: no D-Bus session bus",
        "dbus-run-session",
    ];
    let check = |out: Output, what: &str| assert_vault_error(&out, what, &says);
    check(
        without_dbus(&mut env.command(), &env)
            .args(["token", "p"])
            .output()
            .unwrap(),
        "token",
    );
    check(
        without_dbus(&mut env.command(), &env)
            .arg("status")
            .output()
            .unwrap(),
        "status",
    );
    let mut agent = Watched::start_with(&env, |command| {
        without_dbus(command, &env);
    });
    check(token(&env, "p"), "token through the agent");
    check(
        env.tokentray().arg("status").output().unwrap(),
        "status through the agent",
    );
    assert!(agent.alive(), "{}", agent.stderr());
    let files: Vec<_> = std::fs::read_dir(env.config.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".lock"))
        .collect();
    assert_eq!(files, ["profiles.toml"], "no fallback store");
}

// S24: a locked collection: `token` and `status` exit 5 with the unlock
// fix — not "signed out" or "sign-in required", even where the locked
// collection shows no entry.
#[test]
fn a_locked_collection_is_reported_with_the_fix() {
    let idp = common::idp(3600);
    let env = Env::new();
    env.add_profile(&idp, "p", &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/locked-keyring.sh"
    );
    for args in [&["token", "p"][..], &["status"]] {
        let out = Command::new(script)
            .arg(assert_cmd::cargo::cargo_bin("tokentray"))
            .args(args)
            .env("TOKENTRAY_CONFIG_DIR", env.config.path())
            .env("TOKENTRAY_VAULT_SERVICE", &env.service)
            .env("TOKENTRAY_SOCKET", env.socket())
            .output()
            .unwrap();
        assert_vault_error(
            &out,
            &format!("{args:?}"),
            &[
                "the OS vault is locked: the Secret Service collection is locked",
                "gnome-keyring-daemon --replace --unlock",
            ],
        );
    }
}

/// A private D-Bus session with its own keyring
/// (`tests/support/keyring-session.sh`), stopped when dropped.
struct PrivateKeyring {
    child: std::process::Child,
    bus: String,
}

impl PrivateKeyring {
    fn start() -> Self {
        use std::io::BufRead;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/keyring-session.sh"
        );
        // (stderr: the private dbus-daemon's chatter)
        let mut child = Command::new(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let bus = line
            .trim()
            .strip_prefix("DBUS_SESSION_BUS_ADDRESS=")
            .unwrap_or_else(|| panic!("keyring-session.sh said {line:?}"))
            .to_string();
        Self { child, bus }
    }

    /// Points `command` at this session's bus.
    fn apply<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command.env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
    }

    /// Locks the login collection (no prompt: locking needs none).
    fn lock(&self) {
        let status = self
            .apply(&mut Command::new("dbus-send"))
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

// S24: a collection locked while it holds the accounts: an agent keeps
// serving the token it has in memory, and everything that needs the vault
// (another account's token, `status`, the CLI without an agent) exits 5
// saying the vault is locked and how to unlock it.
#[test]
fn a_collection_locked_under_a_running_agent_is_reported_with_the_fix() {
    let (env, _idp) = two_accounts();
    let keyring = PrivateKeyring::start();
    for name in entry_names(&env) {
        let value = String::from_utf8(lookup(&env, &name)).unwrap();
        store_on(Some(&keyring.bus), &env, &name, &value);
    }
    let run = |args: &[&str]| {
        keyring
            .apply(&mut env.command())
            .args(args)
            .output()
            .unwrap()
    };
    let agent = Watched::start_with(&env, |command| {
        keyring.apply(command);
    });
    let warm = run(&["token", "p"]);
    assert!(
        warm.status.success(),
        "the seeded keyring works: {}",
        stderr(&warm)
    );

    keyring.lock();
    let again = run(&["token", "p"]);
    assert_eq!(
        stdout(&again),
        stdout(&warm),
        "served from the agent's memory"
    );
    let says = [
        "the OS vault is locked: the Secret Service collection is locked",
        "Fix: unlock the keyring",
    ];
    let check = |out: Output, what: &str| assert_vault_error(&out, what, &says);
    check(
        run(&["token", "other"]),
        "another account through the agent",
    );
    check(run(&["status"]), "status through the agent");
    drop(agent);
    check(run(&["token", "p"]), "token without an agent");
    check(run(&["status"]), "status without an agent");
}
