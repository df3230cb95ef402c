//! Runs the real `tokentray` binary in a throwaway config directory, with a
//! keyring service name of its own, inside the headless session.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Env {
    pub config: tempfile::TempDir,
    pub service: String,
    /// A private (0700) directory for this setup's agent socket, so that
    /// no test talks to another test's agent.
    pub runtime: tempfile::TempDir,
    /// This setup's `XDG_STATE_HOME` (where the OS vault's refresh locks
    /// live).
    pub state: tempfile::TempDir,
}

impl Env {
    /// A fresh setup; fails loudly outside the headless session, since the
    /// CLI's vault is the real Secret Service.
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        assert_eq!(
            std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
            Ok("1"),
            "CLI tests use the real Secret Service: run them under scripts/headless-session (see README)"
        );
        let runtime = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            runtime.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Self {
            config: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
            runtime,
            service: format!(
                "dev.tokentray.clitest.{}.{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
        }
    }

    /// `tokentray` with this setup's environment.
    pub fn tokentray(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("tokentray").unwrap();
        cmd.env("TOKENTRAY_CONFIG_DIR", self.config.path())
            .env("TOKENTRAY_VAULT_SERVICE", &self.service)
            .env("TOKENTRAY_SOCKET", self.socket())
            .env("XDG_STATE_HOME", self.state.path())
            .env_remove("RUST_LOG");
        cmd
    }

    /// The same, as a `std::process::Command` (to spawn and wait later).
    pub fn command(&self) -> std::process::Command {
        self.program(assert_cmd::cargo::cargo_bin("tokentray"))
    }

    /// `program` (a build of the CLI) with this setup's environment.
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env("TOKENTRAY_CONFIG_DIR", self.config.path())
            .env("TOKENTRAY_VAULT_SERVICE", &self.service)
            .env("TOKENTRAY_SOCKET", self.socket())
            .env("XDG_STATE_HOME", self.state.path())
            .env_remove("RUST_LOG");
        cmd
    }

    /// Where this setup's agent listens.
    pub fn socket(&self) -> PathBuf {
        self.runtime.path().join("agent.sock")
    }

    /// Where the processes of this setup take their refresh locks (the OS
    /// vault's, under this setup's service name).
    pub fn lock_dir(&self) -> PathBuf {
        self.state
            .path()
            .join("tokentray/locks")
            .join(&self.service)
    }

    pub fn profiles_file(&self) -> PathBuf {
        self.config.path().join("profiles.toml")
    }

    /// Values stored under this setup's service, read with `secret-tool`
    /// (which prints values on stdout and attributes on stderr).
    pub fn vault_values(&self) -> Vec<String> {
        let out = std::process::Command::new("secret-tool")
            .args(["search", "--all", "service", &self.service])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("secret = ").map(str::to_string))
            .collect()
    }
}

/// stdout of a finished command, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one value all outputs share, after checking that they all succeeded.
pub fn the_same_token(outputs: &[std::process::Output]) -> String {
    for out in outputs {
        assert!(out.status.success(), "a process failed: {}", stderr(out));
    }
    let first = stdout(&outputs[0]);
    assert!(!first.trim().is_empty());
    assert!(
        outputs.iter().all(|o| stdout(o) == first),
        "the processes printed different tokens"
    );
    first.trim().to_string()
}

/// The local IdP with access tokens living `ttl` seconds.
pub fn idp(ttl: u64) -> tokentray_testkit::Idp {
    tokentray_testkit::Idp::start_with(tokentray_testkit::IdpOptions {
        access_token_ttl: std::time::Duration::from_secs(ttl),
        ..Default::default()
    })
    .expect("the local IdP starts (npm ci --prefix tests/idp?)")
}

impl Env {
    /// `tokentray profile add NAME --issuer <idp> --client-id tokentray-public
    /// --login device --scope api.read EXTRA…`.
    pub fn add_profile(&self, idp: &tokentray_testkit::Idp, name: &str, extra: &[&str]) {
        self.tokentray()
            .args(["profile", "add", name, "--issuer", idp.issuer()])
            .args(["--client-id", idp.public_client_id(), "--login", "device"])
            .args(["--scope", "api.read"])
            .args(extra)
            .assert()
            .success();
    }

    /// `tokentray login NAME --device --json`, approved as `user` by the
    /// IdP's scripted user once the first JSON line names the code. Returns
    /// (that line, the rest of stdout, stderr).
    pub fn login_device(
        &self,
        idp: &tokentray_testkit::Idp,
        name: &str,
        user: &str,
    ) -> (serde_json::Value, String, String) {
        use std::process::Stdio;
        let child = self
            .command()
            .args(["login", name, "--device", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        approve_device_login(child, idp, user)
    }
}

/// Completes a running `… login NAME --device --json` (stdout and stderr
/// piped): approves its code as `user` once the first JSON line names it,
/// waits for success. Returns (that line, the rest of stdout, stderr).
pub fn approve_device_login(
    mut child: std::process::Child,
    idp: &tokentray_testkit::Idp,
    user: &str,
) -> (serde_json::Value, String, String) {
    use std::io::{BufRead, Read};
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let device: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("first line {line:?} is not JSON: {e}"));
    let code = device["user_code"].as_str().unwrap();
    idp.approve_device(code, user).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "login failed: {rest}{err}");
    (device, rest, err)
}

/// A running `tokentray agent`, stopped (SIGKILL) when dropped.
pub struct Agent {
    pub child: std::process::Child,
}

impl Agent {
    /// Starts the agent and waits until it answers `ping`.
    pub fn start(env: &Env) -> Self {
        use std::process::Stdio;
        let child = env
            .command()
            .arg("agent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let agent = Agent { child };
        let client = tokentray_core::ipc::client::Client::new(env.socket());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !matches!(client.ping(), Ok(Some(_))) {
            assert!(
                std::time::Instant::now() < deadline,
                "the agent never answered ping"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        agent
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (at most 10 s) for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the agent did not stop on SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
