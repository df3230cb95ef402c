//! The Windows build of `tokentray`, run as real Windows processes under
//! Wine against the local IdP on loopback: profile, device sign-in, every
//! token format and status; the same account read back from the
//! Credential Manager by a new process; 20 processes on an expired token
//! without an agent, then `tokentray.exe agent` serving its named pipe (a
//! second agent refused, a token served where the direct path cannot
//! succeed, 20 processes on an expired token), each time exactly one
//! refresh at the IdP; the audit trail naming the requesting program by
//! its `.exe` path, read from Windows; and no token in any file of the
//! Wine prefix or the config directory.
//!
//! Needs the Windows binaries and a Wine prefix, so the tests are
//! `#[ignore]`d in a plain `cargo test`; `scripts/test` runs them through
//! `../shared/wine-run` (which builds `tokentray.exe` and sets `WINE`,
//! `WINEPREFIX` and `WIN_BIN_DIR`):
//! `../shared/wine-run -- scripts/headless-session cargo test -p tokentray-cli --test integration -- --ignored wine::`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common::{approve_device_login, stderr, stdout, the_same_token};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const REFRESH: &str = "refresh_token";
/// Every token, code and ID token the IdP issues carries it.
const CANARY: &str = "WineCanary7q3";
/// Access tokens live this long and the profile refreshes them 2 s before
/// expiry, so a token stays cached while the formats are printed, a wait
/// of a little more expires it, and a refreshed one stays good while 20
/// processes ask for it.
const TTL: u64 = 20;

struct Windows {
    /// A Windows process that lives as long as the test, started first with
    /// no stdio of ours: the Wine server and Wine's system processes start
    /// with it and stay up, so they never inherit (and hold open) the
    /// output pipes of a command the test waits on.
    keepalive: Child,
    wine: PathBuf,
    exe: PathBuf,
    prefix: PathBuf,
    config: tempfile::TempDir,
    service: String,
    pipe: String,
}

/// A Unix path as Wine's `Z:` drive shows it to Windows programs.
fn win_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

impl Windows {
    fn new() -> Self {
        let var = |name: &str| {
            std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| {
                panic!("{name} is unset: run the Wine tests through ../shared/wine-run (see this module's docs)")
            })
        };
        let exe = var("WIN_BIN_DIR").join("tokentray.exe");
        assert!(exe.is_file(), "{} is missing", exe.display());
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let wine = var("WINE");
        let keepalive = Command::new(&wine)
            .arg("cmd.exe")
            .env("WINEDEBUG", "-all")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Whichever of the two starts the Wine server, it has no stdio of
        // ours; once this returns, the server is up.
        let ready = Command::new(&wine)
            .args(["cmd.exe", "/c", "exit"])
            .env("WINEDEBUG", "-all")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(ready.success(), "Wine runs cmd.exe");
        Self {
            keepalive,
            wine,
            prefix: var("WINEPREFIX"),
            exe,
            config: tempfile::tempdir().unwrap(),
            service: format!("dev.tokentray.winetest.{tag}"),
            pipe: format!(r"\\.\pipe\tokentray-winetest-{tag}"),
        }
    }

    /// `tokentray.exe` with this setup's profiles, vault service and pipe.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.wine);
        command
            .arg(&self.exe)
            .env("TOKENTRAY_CONFIG_DIR", win_path(self.config.path()))
            .env("TOKENTRAY_VAULT_SERVICE", &self.service)
            .env("TOKENTRAY_SOCKET", &self.pipe)
            .env(
                "TOKENTRAY_AUDIT_LOG",
                win_path(&self.config.path().join("audit.jsonl")),
            )
            .env("WINEDEBUG", "-all")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs and expects success; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    fn status(&self) -> Value {
        json(&self.ok(&["status", "--json"]))
    }

    /// `count` `tokentray.exe token corp` processes at once; the one token
    /// they all printed.
    fn concurrent_tokens(&self, count: usize) -> String {
        let children: Vec<Child> = (0..count)
            .map(|_| {
                self.command()
                    .args(["token", "corp"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        the_same_token(&outputs)
    }
}

/// `tokentray.exe login corp --device --json`, approved as alice.
fn sign_in(win: &Windows, idp: &tokentray_testkit::Idp) {
    let child = win
        .command()
        .args(["login", "corp", "--device", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, _, err) = approve_device_login(child, idp, "alice");
    assert!(err.contains("signed in as alice"), "{err}");
}

/// The agent, killed when dropped.
struct AgentProcess(Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tokentray.exe agent` and waits until `status` finds it.
fn start_agent(win: &Windows) -> (AgentProcess, u64) {
    let child = win
        .command()
        .arg("agent")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = AgentProcess(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = win.status();
        if status["agent"]["running"] == true {
            return (agent, status["agent"]["pid"].as_u64().unwrap());
        }
        assert!(Instant::now() < deadline, "the agent never answered");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Files under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                if let Ok(bytes) = std::fs::read(&path) {
                    if bytes.windows(needle.len()).any(|w| w == needle) {
                        found.push(path);
                    }
                }
            }
        }
    }
    found
}

impl Drop for Windows {
    fn drop(&mut self) {
        let _ = self.keepalive.kill();
        let _ = self.keepalive.wait();
    }
}

/// Ends the keep-alive process and waits until the Wine server has
/// written the registry and quit, so the prefix's files hold everything
/// the processes stored.
fn flush_wine(win: &mut Windows) {
    let _ = win.keepalive.kill();
    let _ = win.keepalive.wait();
    let server = win.wine.with_file_name("wineserver");
    let status = Command::new(&server)
        .arg("-w")
        .env("WINEPREFIX", &win.prefix)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", server.display()));
    assert!(status.success());
}

// S14, S21, S26: one refresh across Windows processes, the Credential Manager only, the pipe's checks
#[test]
#[ignore = "needs Wine and the Windows build: run through ../shared/wine-run (scripts/test does)"]
fn the_windows_cli_and_agent_serve_one_refresh_per_expiry() {
    let idp = tokentray_testkit::Idp::start_with(tokentray_testkit::IdpOptions {
        access_token_ttl: Duration::from_secs(TTL),
        canary: Some(CANARY.into()),
        ..Default::default()
    })
    .expect("the local IdP starts");
    let mut win = Windows::new();

    win.ok(&[
        "profile",
        "add",
        "corp",
        "--issuer",
        idp.issuer(),
        "--client-id",
        idp.public_client_id(),
        "--login",
        "device",
        "--scope",
        "api.read",
        "--refresh-margin",
        "2",
    ]);
    sign_in(&win, &idp);

    // Every format, from the Credential Manager (no agent yet).
    let doc = json(&win.ok(&["token", "corp", "--format", "json"]));
    let token = doc["access_token"].as_str().unwrap().to_string();
    assert!(token.contains(CANARY), "the IdP marks its tokens");
    assert_eq!(doc["account"], "alice");
    assert_eq!(win.ok(&["token", "corp"]), format!("{token}\n"));
    assert_eq!(
        win.ok(&["token", "corp", "--format", "header"]),
        format!("Authorization: Bearer {token}\n")
    );
    let kube = json(&win.ok(&["token", "corp", "--format", "kubectl"]));
    assert_eq!(kube["kind"], "ExecCredential");
    assert_eq!(kube["status"]["token"], token.as_str());
    let git = win.ok(&["token", "corp", "--format", "git-credential"]);
    assert!(
        git.starts_with(&format!("username=oauth2\npassword={token}\n")),
        "{git}"
    );
    assert!(win
        .ok(&["token", "corp", "--format", "env"])
        .starts_with("export TOKENTRAY_ACCESS_TOKEN='"));
    let status = win.status();
    assert_eq!(status["agent"]["running"], false);
    assert_eq!(status["profiles"][0]["state"], "signed_in");
    assert_eq!(status["profiles"][0]["account"]["label"], "alice");

    // Without an agent: 20 processes on an expired token, one refresh.
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let (before, _) = idp.token_requests(REFRESH).unwrap();
    let refreshed = win.concurrent_tokens(20);
    assert_ne!(refreshed, token);
    let (after, _) = idp.token_requests(REFRESH).unwrap();
    assert_eq!(after, before + 1, "the profile lock makes it one refresh");

    // The agent serves the pipe; a second one is refused, naming it.
    let (agent, pid) = start_agent(&win);
    let second = win.run(&["agent"]);
    assert_ne!(second.status.code(), Some(0));
    assert!(
        stderr(&second).contains(&format!("pid {pid}")),
        "{}",
        stderr(&second)
    );
    // A client with another vault service and no profiles file can only
    // have its token from the agent.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = win
        .command()
        .env("TOKENTRAY_CONFIG_DIR", win_path(elsewhere.path()))
        .env("TOKENTRAY_VAULT_SERVICE", format!("{}.empty", win.service))
        .args(["token", "corp"])
        .output()
        .unwrap();
    assert!(out.status.success(), "over the pipe: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), refreshed);

    std::thread::sleep(Duration::from_secs(TTL + 1));
    let (before, _) = idp.token_requests(REFRESH).unwrap();
    let through_agent = win.concurrent_tokens(20);
    assert_ne!(through_agent, refreshed);
    let (after, _) = idp.token_requests(REFRESH).unwrap();
    assert_eq!(after, before + 1, "the agent makes it one refresh");
    audit_names_programs(&win, 21);
    drop(agent);

    // The account is in the Credential Manager: a new process reads it.
    let status = win.status();
    assert_eq!(status["agent"]["running"], false);
    assert_eq!(status["profiles"][0]["state"], "signed_in");
    assert_eq!(win.ok(&["token", "corp"]).trim(), through_agent);

    // No token in any file: not in the config directory, not in the
    // prefix outside the Credential Manager's registry key.
    flush_wine(&mut win);
    assert_eq!(
        files_containing(win.config.path(), CANARY.as_bytes()),
        Vec::<PathBuf>::new()
    );
    for file in files_containing(&win.prefix, CANARY.as_bytes()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            file.ends_with("user.reg") && only_in_credentials(&text, CANARY),
            "a token is in {}",
            file.display()
        );
    }
    let registry = std::fs::read_to_string(win.prefix.join("user.reg")).unwrap();
    assert!(
        registry.contains("Credential Manager") && registry.contains(&win.service),
        "the Credential Manager keeps the account"
    );

    win.ok(&["logout", "corp"]);
}

// S21: the encrypted file store, for Windows machines whose Credential
// Manager is out of reach (SSH sessions)
#[test]
#[ignore = "needs Wine and the Windows build: run through ../shared/wine-run (scripts/test does)"]
fn the_windows_file_store_opens_writes_and_reads_back() {
    let win = Windows::new();
    let vault = win.config.path().join("vault.bin");
    let doctor = |passphrase: &str| {
        win.command()
            .env("TOKENTRAY_VAULT_FILE", win_path(&vault))
            .env("TOKENTRAY_PASSPHRASE", passphrase)
            .args(["--store", "file", "doctor"])
            .output()
            .unwrap()
    };
    let out = doctor("correct horse battery staple");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("wrote, read back and deleted a test entry"),
        "{}",
        stdout(&out)
    );
    assert!(vault.is_file(), "the vault file was created");
    let wrong = doctor("wrong");
    assert!(!wrong.status.success(), "a wrong passphrase is refused");
}

/// Waits until the audit trail has `count` entries of the agent (it writes
/// them after answering), and checks that every entry names its program
/// by the path Windows gives for the executable, never `pid N`.
fn audit_names_programs(win: &Windows, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let entries = loop {
        let entries = json(&win.ok(&["audit", "--json"]));
        let entries = entries.as_array().unwrap().clone();
        let served = entries
            .iter()
            .filter(|e| e["transport"] == "named pipe")
            .count();
        if served >= count || Instant::now() >= deadline {
            assert!(served >= count, "{served} of {count}: {entries:?}");
            break entries;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for entry in &entries {
        let program = entry["program"].as_str().unwrap();
        assert!(
            program.contains(":\\") && program.to_ascii_lowercase().ends_with(".exe"),
            "{entry}"
        );
    }
    eprintln!("audit: {}", entries[entries.len() - 1]);
}

/// Whether every line of a registry file that holds `needle` sits in a
/// key under `Software\Wine\Credential Manager`.
fn only_in_credentials(registry: &str, needle: &str) -> bool {
    let mut key = "";
    registry.lines().all(|line| {
        if line.starts_with('[') {
            key = line;
        }
        !line.contains(needle) || key.starts_with(r"[Software\\Wine\\Credential Manager")
    })
}
