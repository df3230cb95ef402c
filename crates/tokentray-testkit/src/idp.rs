//! Starting and stopping the local OpenID provider (`tests/idp/server.mjs`)
//! as a child process in its own process group, on a free loopback port.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Client id of the public native client (PKCE S256, loopback redirects).
pub const PUBLIC_CLIENT_ID: &str = "tokentray-public";
/// Client id of the confidential client (client credentials).
pub const CONFIDENTIAL_CLIENT_ID: &str = "tokentray-confidential";
/// The confidential client's secret unless [`IdpOptions`] says otherwise.
pub const DEFAULT_CONFIDENTIAL_SECRET: &str = "tokentray-test-secret";

const READY_PREFIX: &str = "IDP_READY ";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How to start the IdP. `IdpOptions::default()` gives the server's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpOptions {
    /// Lifetime of access tokens (and client-credentials tokens); whole
    /// seconds, rounded up.
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens; whole seconds, rounded up.
    pub refresh_token_ttl: Duration,
    /// Secret of [`CONFIDENTIAL_CLIENT_ID`].
    pub confidential_secret: String,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// A marker (8–64 letters and digits) that every token, code and ID
    /// token the provider issues then carries (`IDP_CANARY`), so a test can
    /// grep for leaks.
    pub canary: Option<String>,
}

impl Default for IdpOptions {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(300),
            refresh_token_ttl: Duration::from_secs(86_400),
            confidential_secret: DEFAULT_CONFIDENTIAL_SECRET.to_owned(),
            port: 0,
            canary: None,
        }
    }
}

/// A running local OpenID provider; stopped (its whole process group) on drop.
#[derive(Debug)]
pub struct Idp {
    process: Option<Process>,
    issuer: String,
    options: IdpOptions,
    pub(crate) http: reqwest::blocking::Client,
}

#[derive(Debug)]
struct Process {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Idp {
    /// Starts the IdP with default lifetimes on a free port.
    pub fn start() -> Result<Self> {
        Self::start_with(IdpOptions::default())
    }

    /// Starts the IdP with `options`, waits for its `IDP_READY` line and for
    /// discovery to answer.
    pub fn start_with(options: IdpOptions) -> Result<Self> {
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let (process, issuer) = spawn(&options)?;
        let mut idp = Self {
            process: Some(process),
            issuer,
            options,
            http,
        };
        idp.wait_for_discovery()?;
        Ok(idp)
    }

    /// The issuer URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `issuer` joined with `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The port the IdP listens on.
    pub fn port(&self) -> u16 {
        self.issuer
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or(0)
    }

    /// The options it was started with (the port as asked, maybe 0).
    pub fn options(&self) -> &IdpOptions {
        &self.options
    }

    /// [`PUBLIC_CLIENT_ID`].
    pub fn public_client_id(&self) -> &'static str {
        PUBLIC_CLIENT_ID
    }

    /// [`CONFIDENTIAL_CLIENT_ID`].
    pub fn confidential_client_id(&self) -> &'static str {
        CONFIDENTIAL_CLIENT_ID
    }

    /// The confidential client's secret.
    pub fn confidential_client_secret(&self) -> &str {
        &self.options.confidential_secret
    }

    /// The discovery document, fetched now.
    pub fn discovery(&self) -> Result<serde_json::Value> {
        self.get_json("/.well-known/openid-configuration")
    }

    /// How many token requests of `grant_type` (e.g. `refresh_token`) the
    /// IdP has answered since it started: `(succeeded, failed)`.
    pub fn token_requests(&self, grant_type: &str) -> Result<(u64, u64)> {
        let stats = self.get_json("/test/stats")?;
        let count = |outcome: &str| stats[grant_type][outcome].as_u64().unwrap_or(0);
        Ok((count("success"), count("error")))
    }

    /// How many refresh tokens were revoked since the IdP started:
    /// `(live, consumed)`, i.e. the newest of its rotation family, or one a
    /// rotation had already retired.
    pub fn revoked_refresh_tokens(&self) -> Result<(u64, u64)> {
        let live = self.token_requests("revoked_live_refresh_token")?.0;
        let consumed = self.token_requests("revoked_consumed_refresh_token")?.0;
        Ok((live, consumed))
    }

    fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let url = self.url(path);
        let response = self.http.get(&url).send()?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::new(format!("GET {url}: HTTP {status}")));
        }
        Ok(response.json()?)
    }

    /// What the IdP wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.process
            .as_ref()
            .map(|process| read_shared(&process.stderr))
            .unwrap_or_default()
    }

    /// Stops the IdP and starts it again on the same port with the same
    /// options: the issuer stays, every grant, session and token is gone
    /// (its storage is in memory).
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let options = IdpOptions {
            port: self.port(),
            ..self.options.clone()
        };
        let (process, issuer) = spawn(&options)?;
        self.process = Some(process);
        if issuer != self.issuer {
            return Err(Error::new(format!(
                "restarted IdP has issuer {issuer}, expected {}",
                self.issuer
            )));
        }
        self.wait_for_discovery()
    }

    /// Stops the IdP now (SIGTERM to its process group, SIGKILL after a grace
    /// period). Dropping does the same.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            terminate(&mut process.child);
        }
    }

    fn wait_for_discovery(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let last_error = match self.discovery() {
                Ok(document) => {
                    let issuer = document.get("issuer").and_then(serde_json::Value::as_str);
                    if issuer == Some(self.issuer.as_str()) {
                        return Ok(());
                    }
                    format!("discovery names issuer {issuer:?}")
                }
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                let stderr = self.stderr();
                self.stop();
                return Err(Error::new(format!(
                    "the IdP at {} never answered discovery: {last_error}\n--- IdP stderr ---\n{stderr}",
                    self.issuer
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `tests/idp/` of this repository (or `TOKENTRAY_IDP_DIR`).
pub fn idp_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOKENTRAY_IDP_DIR") {
        return PathBuf::from(dir);
    }
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = repo_root.join("tests/idp");
    dir.canonicalize().unwrap_or(dir)
}

fn spawn(options: &IdpOptions) -> Result<(Process, String)> {
    let dir = idp_dir();
    let script = dir.join("server.mjs");
    if !script.is_file() {
        return Err(Error::new(format!(
            "the IdP script {} is missing",
            script.display()
        )));
    }
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return Err(Error::new(format!(
            "{} has no node_modules/oidc-provider: run `npm ci --prefix tests/idp` first",
            dir.display()
        )));
    }
    let node = std::env::var_os("TOKENTRAY_NODE").unwrap_or_else(|| "node".into());
    let mut command = Command::new(&node);
    command
        .arg(&script)
        .current_dir(&dir)
        .env("IDP_PORT", options.port.to_string())
        .env(
            "IDP_ACCESS_TOKEN_TTL",
            whole_seconds(options.access_token_ttl).to_string(),
        )
        .env(
            "IDP_REFRESH_TOKEN_TTL",
            whole_seconds(options.refresh_token_ttl).to_string(),
        )
        .env("IDP_CONFIDENTIAL_SECRET", &options.confidential_secret)
        .env("IDP_CANARY", options.canary.as_deref().unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // its own process group, so that stopping it stops its children too
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|err| {
        Error::new(format!(
            "cannot run `{} {}`: {err} (is Node.js installed?)",
            node.to_string_lossy(),
            script.display()
        ))
    })?;

    let stderr = Arc::new(Mutex::new(String::new()));
    let stderr_reader = child.stderr.take().map(|pipe| {
        let sink = Arc::clone(&stderr);
        thread::spawn(move || copy_into(pipe, &sink))
    });

    let (ready_tx, ready_rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(issuer) = line.strip_prefix(READY_PREFIX) {
                    if let Some(tx) = ready_tx.take() {
                        // The receiver may have given up; nothing to do then.
                        let _ = tx.send(issuer.trim().to_owned());
                    }
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
    }

    let mut process = Process { child, stderr };
    match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(issuer) => Ok((process, issuer)),
        Err(wait) => {
            let exited = process.child.try_wait().ok().flatten();
            terminate(&mut process.child);
            if let Some(reader) = stderr_reader {
                // The pipe closes once the process is gone.
                let _ = reader.join();
            }
            let why = match (wait, exited) {
                (mpsc::RecvTimeoutError::Timeout, _) => format!(
                    "printed no `IDP_READY` line within {} s",
                    STARTUP_TIMEOUT.as_secs()
                ),
                (mpsc::RecvTimeoutError::Disconnected, Some(status)) => {
                    format!("exited ({status}) before it was ready")
                }
                (mpsc::RecvTimeoutError::Disconnected, None) => {
                    "closed its stdout before it was ready".to_owned()
                }
            };
            Err(Error::new(format!(
                "the local IdP ({}) {why}; if its dependencies are missing run `npm ci --prefix tests/idp`\n--- IdP stderr ---\n{}",
                script.display(),
                read_shared(&process.stderr)
            )))
        }
    }
}

fn whole_seconds(ttl: Duration) -> u64 {
    let seconds = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    seconds.max(1)
}

fn copy_into(mut pipe: impl Read, sink: &Mutex<String>) {
    let mut buffer = [0_u8; 4096];
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => sink
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
}

fn read_shared(text: &Mutex<String>) -> String {
    text.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// SIGTERM to the child's process group, then SIGKILL if it lingers.
fn terminate(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let group = format!("-{}", child.id());
    signal_group("TERM", &group);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            // Reaped: the group id may be reused now, so no KILL after it.
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    signal_group("KILL", &group);
    // Ignored: the child may be gone already; wait reaps it either way.
    let _ = child.kill();
    let _ = child.wait();
}

/// Signals a process group through `kill(1)`: the workspace forbids
/// `unsafe`, which `libc::kill` would need.
fn signal_group(signal: &str, group: &str) {
    // Ignored: failure means the group is already gone.
    let _ = Command::new("kill")
        .args([format!("-{signal}").as_str(), "--", group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
