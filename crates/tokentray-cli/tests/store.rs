//! `--store file` and `--store memory`, run as real processes against the
//! local IdP with NO keyring reachable (`DBUS_SESSION_BUS_ADDRESS` removed
//! from every `tokentray` process): the encrypted file holds no token in
//! clear, a wrong passphrase changes nothing, twenty racing refreshes
//! never corrupt it, and a memory agent's tokens die with it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{idp, stderr, stdout, Agent, Env};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "correct horse battery staple";

/// An [`Env`] whose `tokentray` runs with `--store file`, a vault file of
/// its own, the passphrase in the environment, and no D-Bus session.
struct FileEnv {
    env: Env,
    data: tempfile::TempDir,
}

impl FileEnv {
    fn new() -> Self {
        Self {
            env: Env::new(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn vault_file(&self) -> PathBuf {
        self.data.path().join("tokentray").join("vault.bin")
    }

    /// `tokentray --store file ARGS…` without a keyring, with `passphrase`.
    fn command_with(&self, passphrase: &str, args: &[&str]) -> Command {
        let mut cmd = self.env.command();
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("TOKENTRAY_VAULT_FILE", self.vault_file())
            .env("TOKENTRAY_PASSPHRASE", passphrase)
            .arg("--store")
            .arg("file")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command_with(PASSPHRASE, args).output().unwrap()
    }

    fn file_bytes(&self) -> Vec<u8> {
        std::fs::read(self.vault_file()).unwrap()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Runs `login` (spawned by the caller with `--device --json` and piped
/// stdout) to the end, approving its code as alice.
fn approve_json_login(idp: &tokentray_testkit::Idp, mut login: std::process::Child) {
    let mut out = BufReader::new(login.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let device: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("first line {line:?} is not JSON: {e}"));
    idp.approve_device(device["user_code"].as_str().unwrap(), "alice")
        .unwrap();
    let done = login.wait_with_output().unwrap();
    assert!(done.status.success(), "login failed: {}", stderr(&done));
}

/// A signed-in `corp` profile in the file store (every forced refresh a
/// real one: no interval).
fn signed_in(idp: &tokentray_testkit::Idp) -> FileEnv {
    let files = FileEnv::new();
    files
        .env
        .add_profile(idp, "corp", &["--force-refresh-interval", "0"]);
    let login = files
        .command_with(PASSPHRASE, &["login", "corp", "--device", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    approve_json_login(idp, login);
    files
}

// S21, S24, S29: with no keyring at all, `--store file` signs in and serves
// tokens; neither the access nor the refresh token is in the file's bytes
// (nor in the keyring); doctor names the store and probes it; `exec` does
// not hand the passphrase to the command
#[test]
fn the_file_store_works_without_a_keyring_and_holds_no_token_in_clear() {
    let idp = idp(300);
    let files = signed_in(&idp);
    let no_keyring = files
        .env
        .tokentray()
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(
        no_keyring.status.code(),
        Some(5),
        "the keyring is out of reach"
    );
    assert!(
        stdout(&no_keyring).contains("--store file"),
        "{}",
        stdout(&no_keyring)
    );

    let out = files.run(&["token", "corp"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    let out = files.run(&["token", "corp", "--force-refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let refreshed = stdout(&out).trim().to_string();
    assert_ne!(token, refreshed);

    let bytes = files.file_bytes();
    for value in [&token, &refreshed] {
        assert!(
            !contains(&bytes, value),
            "a token in clear in the vault file"
        );
    }
    assert!(!contains(&bytes, "alice"), "account details are sealed too");
    assert!(
        files.env.vault_values().is_empty(),
        "nothing went to the keyring"
    );

    let doctor = files.run(&["doctor"]);
    assert!(doctor.status.success(), "{}", stdout(&doctor));
    assert!(
        stdout(&doctor).contains(&format!(
            "vault: ok (store file, {}",
            files.vault_file().display()
        )),
        "{}",
        stdout(&doctor)
    );

    let exec = files.run(&[
        "exec",
        "corp",
        "--",
        "sh",
        "-c",
        "echo ${TOKENTRAY_PASSPHRASE:-unset}",
    ]);
    assert!(exec.status.success(), "{}", stderr(&exec));
    assert_eq!(stdout(&exec).trim(), "unset");
}

// S24: a second process with a wrong passphrase exits 5 with the clear
// error and leaves the file byte for byte as it was
#[test]
fn a_wrong_passphrase_exits_5_and_leaves_the_file_unchanged() {
    let idp = idp(300);
    let files = signed_in(&idp);
    let before = files.file_bytes();
    let out = files
        .command_with("not the passphrase", &["token", "corp", "--force-refresh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let expected = format!(
        "wrong passphrase for {} (or the file was damaged)",
        files.vault_file().display()
    );
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    assert_eq!(files.file_bytes(), before);

    let mut none = files.command_with("", &["token", "corp"]);
    let out = none.env_remove("TOKENTRAY_PASSPHRASE").output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("TOKENTRAY_PASSPHRASE_FILE"),
        "{}",
        stderr(&out)
    );
    assert_eq!(files.file_bytes(), before);
}

// S14, S24: twenty processes refreshing at once through the file store:
// each exits 0 or with a clear error, the provider never sees a retired
// refresh token replayed, and the file still opens
#[test]
fn twenty_concurrent_refreshes_never_corrupt_the_file() {
    let idp = idp(300);
    let files = signed_in(&idp);
    let children: Vec<_> = (0..20)
        .map(|_| {
            files
                .command_with(PASSPHRASE, &["token", "corp", "--force-refresh"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        let err = stderr(out);
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            out.status.success() || err.starts_with("error: "),
            "neither a token nor a clear error: {err}"
        );
    }
    let served = outputs.iter().filter(|o| o.status.success()).count();
    let (refreshed, failed) = idp.token_requests("refresh_token").unwrap();
    assert!(
        served >= 1 && refreshed >= 1,
        "{served} served, {refreshed} refreshes"
    );
    assert_eq!(failed, 0, "a refresh token was replayed");
    let out = files.run(&["token", "corp"]);
    assert!(
        out.status.success(),
        "the file no longer opens: {}",
        stderr(&out)
    );
}

/// The code a memory agent prints on stderr for a device sign-in.
fn device_code_from(lines: &std::sync::mpsc::Receiver<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("the agent never printed a device code");
        if let Some((_, code)) = line.split_once("enter the code ") {
            return code.trim().to_string();
        }
    }
}

/// `tokentray --store memory agent`, answering ping, its stderr as lines.
fn memory_agent(env: &Env) -> (Agent, std::sync::mpsc::Receiver<String>) {
    let mut child = env
        .command()
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .args(["--store", "memory", "agent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let agent = Agent { child };
    let client = tokentray_core::ipc::client::Client::new(env.socket());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(client.ping(), Ok(Some(_))) {
        assert!(Instant::now() < deadline, "the agent never answered ping");
        std::thread::sleep(Duration::from_millis(50));
    }
    (agent, lines)
}

// S24: `tokentray agent --store memory` signs in through itself, serves
// tokens, writes nothing to any vault, and forgets everything when it stops;
// without it, `--store memory` says what to do
#[test]
fn a_memory_agent_serves_tokens_after_a_login_through_it_and_forgets_them() {
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);
    let memory = |args: &[&str]| {
        env.command()
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .args(["--store", "memory"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let out = memory(&["token", "corp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tokentray agent --store memory"),
        "{}",
        stderr(&out)
    );

    let (agent, lines) = memory_agent(&env);
    let login = env
        .command()
        .args(["--store", "memory", "login", "corp", "--device"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    idp.approve_device(&device_code_from(&lines), "alice")
        .unwrap();
    let done = login.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));

    let out = env
        .tokentray()
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .args(["token", "corp"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    assert!(env.vault_values().is_empty(), "nothing went to the keyring");

    assert!(agent.terminate().success());
    let out = memory(&["token", "corp"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let (_again, _lines) = memory_agent(&env);
    let out = memory(&["token", "corp"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the tokens died with the first agent: {}",
        stderr(&out)
    );
}

/// `tokentray --store file doctor` on a terminal (a pty from util-linux
/// `script`) that is sent `typed`.
fn doctor_on_a_terminal(files: &FileEnv, typed: &str) -> std::process::Output {
    use std::io::Write;
    let program = assert_cmd::cargo::cargo_bin("tokentray");
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} --store file doctor", program.display()),
        ])
        .arg("/dev/null")
        .env("TOKENTRAY_CONFIG_DIR", files.env.config.path())
        .env("TOKENTRAY_SOCKET", files.env.socket())
        .env("TOKENTRAY_VAULT_FILE", files.vault_file())
        .env_remove("TOKENTRAY_PASSPHRASE")
        .env_remove("TOKENTRAY_PASSPHRASE_FILE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

// S24: a new file store asks for its passphrase twice on a terminal and
// creates nothing when the two differ; an existing one asks once
#[test]
fn a_new_file_store_asks_twice_on_a_terminal() {
    let files = FileEnv::new();
    let out = doctor_on_a_terminal(&files, "one\rtwo\r");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("Repeat it:"), "{}", stdout(&out));
    assert!(stdout(&out).contains("the two passphrases differ; nothing was created"));
    assert!(!files.vault_file().exists());

    let out = doctor_on_a_terminal(&files, "same\rsame\r");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(files.vault_file().exists());

    let out = doctor_on_a_terminal(&files, "same\r");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("Passphrase for"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Repeat it:"), "{}", stdout(&out));
}

/// Whether `/proc/PID/environ` (the block other processes of the user
/// read) names or holds the passphrase.
fn environ_holds_passphrase(pid: u32) -> bool {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    contains(&environ, PASSPHRASE) || contains(&environ, "TOKENTRAY_PASSPHRASE=")
}

// S29: an agent started with TOKENTRAY_PASSPHRASE drops it from its
// environment block (same pid, stdin restored) and still unlocks the file
// store: it serves a forced refresh to a client that has no passphrase; a
// command reading a client secret from stdin still gets it after the
// hand-over
#[test]
fn the_passphrase_leaves_the_environment_of_the_agent_and_of_commands() {
    let idp = idp(300);
    let files = signed_in(&idp);
    let child = files
        .command_with(PASSPHRASE, &["agent"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let agent = Agent { child };
    let client = tokentray_core::ipc::client::Client::new(files.env.socket());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(client.ping(), Ok(Some(_))) {
        assert!(Instant::now() < deadline, "the agent never answered ping");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !environ_holds_passphrase(agent.pid()),
        "the agent's /proc/PID/environ still holds the passphrase"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/fd/0", agent.pid())).unwrap(),
        PathBuf::from("/dev/null"),
        "stdin is the agent's own again"
    );
    let out = files
        .command_with("", &["token", "corp", "--force-refresh"])
        .env_remove("TOKENTRAY_PASSPHRASE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    assert!(agent.terminate().success());

    let mut add = files
        .command_with(
            PASSPHRASE,
            &["profile", "add", "svc", "--issuer", idp.issuer()],
        )
        .args(["--client-id", "svc", "--login", "client_credentials"])
        .args(["--scope", "api.read", "--client-secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        add.stdin.take().unwrap().write_all(b"s3cret").unwrap();
    }
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doctor = files.run(&["doctor"]);
    assert!(doctor.status.success(), "{}", stdout(&doctor));
    assert!(
        stdout(&doctor).contains("client secret of svc: ok (stored in the vault)"),
        "{}",
        stdout(&doctor)
    );
}
