//! The demo for newcomers: the project's own test OpenID provider
//! (`tests/idp`, Node) started on a fixed loopback port, and a `demo`
//! profile pointing at it, so a person without any cloud account can click
//! through sign-in, copy, expiry and notifications offline.
//!
//! The provider keeps everything in memory: when the app quits it stops,
//! and a demo account then needs a new sign-in. When the app starts with a
//! `demo` profile on the demo port, the provider is started again.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use crate::CommandError;
use tauri::{AppHandle, Manager};
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, Provider};

/// The demo profile's name.
pub const PROFILE: &str = "demo";
/// The demo provider's port on 127.0.0.1 (the profile's issuer names it,
/// so it stays the same across runs); `TOKENTRAY_DEMO_PORT` overrides it.
const DEFAULT_PORT: u16 = 47_123;
const PORT_ENV: &str = "TOKENTRAY_DEMO_PORT";
/// Where the provider's code is: `TOKENTRAY_IDP_DIR`, else the checkout
/// the app was built from.
const IDP_DIR_ENV: &str = "TOKENTRAY_IDP_DIR";
/// The node binary: `TOKENTRAY_NODE`, else `node` on `PATH`.
const NODE_ENV: &str = "TOKENTRAY_NODE";
/// Demo access tokens live 10 minutes: with the default 5-minute reminder
/// lead, a copied token's reminder shows 5 minutes after the copy.
const ACCESS_TOKEN_TTL_SECS: u32 = 600;
const READY_PREFIX: &str = "IDP_READY ";
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// The provider's public native client (see `tests/idp/README.md`).
const CLIENT_ID: &str = "tokentray-public";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo provider's files are not at {0}: set TOKENTRAY_IDP_DIR to the `tests/idp` folder of a Tokentray checkout")]
    NoProvider(PathBuf),
    #[error("{0} is writable by any user: the demo will not run it")]
    Unsafe(PathBuf),
    #[error(
        "the demo provider's packages are missing: run `npm ci --prefix {0}` (scripts/run does)"
    )]
    NoPackages(PathBuf),
    #[error("cannot start Node.js for the demo provider (install Node.js 20 or later, or set TOKENTRAY_NODE): {0}")]
    Node(std::io::Error),
    #[error("the demo provider did not start on 127.0.0.1:{port}: {reason}")]
    NotReady { port: u16, reason: String },
    #[error("a profile named `demo` exists already and points elsewhere ({0}): remove or rename it first")]
    ProfileTaken(String),
    #[error(transparent)]
    Core(#[from] tokentray_core::Error),
}

impl From<DemoError> for CommandError {
    fn from(error: DemoError) -> Self {
        let kind = match &error {
            DemoError::Core(error) => error.kind().as_str(),
            DemoError::ProfileTaken(_) => "already_exists",
            _ => "demo_unavailable",
        };
        CommandError::new(kind, error.to_string())
    }
}

/// The running demo provider, if any (managed app state). Starting one
/// waits for it (up to [`READY_TIMEOUT`]) under `starting` only, so that
/// quitting meanwhile never waits on it.
#[derive(Default)]
pub struct Demo {
    provider: Mutex<Option<Child>>,
    starting: Mutex<()>,
    stopped: AtomicBool,
}

impl Demo {
    fn provider(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.provider
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub fn init(app: &AppHandle) {
    app.manage(Demo::default());
    let Ok(store) = ProfileStore::open_default() else {
        return;
    };
    let configured = store.get(PROFILE).is_ok_and(|profile| is_demo(&profile));
    if configured {
        let app = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(error) = ensure_provider(&app) {
                tracing::warn!("cannot restart the demo provider: {error}");
            }
        });
    }
}

/// Starts the demo provider (unless it runs already) and adds the `demo`
/// profile (unless it exists). Returns the profile's name. Blocking: call
/// it off the main thread.
pub fn start(app: &AppHandle) -> Result<String, DemoError> {
    ensure_provider(app)?;
    let broker = &app.state::<crate::host::Host>().broker;
    match broker.profiles().get(PROFILE) {
        Ok(existing) if is_demo(&existing) => {}
        Ok(existing) => return Err(DemoError::ProfileTaken(describe(&existing.provider))),
        Err(_) => {
            broker.add_profile(&demo_profile()?, None)?;
            tracing::info!(issuer = %issuer(port()), "added the demo profile");
        }
    }
    Ok(PROFILE.to_owned())
}

/// Stops the demo provider (on quit).
pub fn stop(app: &AppHandle) {
    let Some(demo) = app.try_state::<Demo>() else {
        return;
    };
    demo.stopped.store(true, Ordering::SeqCst);
    let child = demo.provider().take();
    if let Some(mut child) = child {
        // SIGTERM to its process group would need a signal crate; a kill
        // of the one Node process is enough (it has no children)
        let _ = child.kill();
        let _ = child.wait();
        tracing::info!("stopped the demo provider");
    }
}

fn ensure_provider(app: &AppHandle) -> Result<(), DemoError> {
    let demo = app.state::<Demo>();
    let _one_start = demo
        .starting
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(child) = demo.provider().as_mut() {
        if matches!(child.try_wait(), Ok(None)) {
            return Ok(());
        }
    }
    let log = app
        .path()
        .app_log_dir()
        .ok()
        .map(|dir| dir.join("demo-provider.log"));
    let mut child = spawn_provider(port(), log)?;
    if demo.stopped.load(Ordering::SeqCst) {
        // the app quit while the provider started
        let _ = child.kill();
        let _ = child.wait();
        return Ok(());
    }
    *demo.provider() = Some(child);
    Ok(())
}

fn spawn_provider(port: u16, log: Option<PathBuf>) -> Result<Child, DemoError> {
    let dir = idp_dir();
    let script = dir.join("server.mjs");
    if !script.is_file() {
        return Err(DemoError::NoProvider(dir));
    }
    if writable_by_others(&script) {
        return Err(DemoError::Unsafe(script));
    }
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return Err(DemoError::NoPackages(dir));
    }
    let stderr = log
        .and_then(|path| private_file(&path).ok())
        .map_or_else(Stdio::null, Stdio::from);
    let node = std::env::var_os(NODE_ENV).unwrap_or_else(|| "node".into());
    let mut child = tokentray_core::hardening::child_command(node)
        .arg(&script)
        .current_dir(&dir)
        .env("IDP_PORT", port.to_string())
        .env("IDP_ACCESS_TOKEN_TTL", ACCESS_TOKEN_TTL_SECS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(DemoError::Node)?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(not_ready(port, "no output pipe"));
    };
    // the reader thread drains stdout for the provider's lifetime
    let (ready, readiness) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix(READY_PREFIX) {
                let _ = ready.send(issuer.trim().to_owned());
            }
        }
    });
    match readiness.recv_timeout(READY_TIMEOUT) {
        Ok(issuer) => {
            tracing::info!(%issuer, "demo provider started");
            Ok(child)
        }
        Err(_) => {
            let status = child.try_wait().ok().flatten();
            let _ = child.kill();
            let _ = child.wait();
            Err(not_ready(
                port,
                &match status {
                    Some(status) => format!("it exited ({status}); is the port in use?"),
                    None => format!("no answer within {} s", READY_TIMEOUT.as_secs()),
                },
            ))
        }
    }
}

/// The provider's code must not be everyone's to change: the app runs
/// it with the user's rights.
fn writable_by_others(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(true, |meta| meta.permissions().mode() & 0o002 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// The provider's log, readable by the user only (like the app's own).
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn not_ready(port: u16, reason: &str) -> DemoError {
    DemoError::NotReady {
        port,
        reason: reason.to_owned(),
    }
}

fn demo_profile() -> Result<Profile, DemoError> {
    let fields = ProfileFields {
        provider: Some(Preset::Oidc),
        issuer: Some(issuer(port())),
        client_id: Some(CLIENT_ID.to_owned()),
        scopes: Some(vec!["api.read".to_owned()]),
        login: Some(LoginMode::Embedded),
        ..ProfileFields::default()
    };
    Profile::from_fields(PROFILE, fields).map_err(|error| {
        DemoError::Core(tokentray_core::Error::InvalidInput(format!(
            "the demo profile's {}: {}",
            error.field, error.message
        )))
    })
}

/// `profile` is the demo's: a generic OIDC profile on the demo port.
fn is_demo(profile: &Profile) -> bool {
    matches!(&profile.provider, Provider::Oidc { issuer: at } if *at == issuer(port()))
}

fn describe(provider: &Provider) -> String {
    match provider {
        Provider::Oidc { issuer } => issuer.clone(),
        other => format!("the {} preset", other.preset().as_str()),
    }
}

fn issuer(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn port() -> u16 {
    std::env::var(PORT_ENV)
        .ok()
        .and_then(|port| port.trim().parse().ok())
        .filter(|port| *port != 0)
        .unwrap_or(DEFAULT_PORT)
}

fn idp_dir() -> PathBuf {
    std::env::var_os(IDP_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/idp")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_profile_is_a_valid_loopback_oidc_profile() {
        let profile = demo_profile().unwrap();
        assert_eq!(profile.name, PROFILE);
        assert!(is_demo(&profile));
        assert_eq!(profile.login, LoginMode::Embedded);
        assert_eq!(profile.client_id, CLIENT_ID);
    }

    #[test]
    fn the_provider_code_ships_with_the_checkout() {
        assert!(idp_dir().join("server.mjs").is_file(), "{:?}", idp_dir());
    }
}
