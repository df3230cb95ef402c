//! The demo for newcomers: the demo OpenID provider built into the app
//! (`tokentray-demo-idp`, in this process) started on a fixed loopback
//! port, and a `demo` profile pointing at it, so a person without any
//! cloud account can click through sign-in, copy, expiry and notifications
//! offline, with nothing else installed.
//!
//! The provider keeps everything in memory: when the app quits it stops,
//! and a demo account then needs a new sign-in. When the app starts with a
//! `demo` profile on the demo port, the provider is started again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::CommandError;
use tauri::{AppHandle, Manager};
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, Provider};
use tokentray_demo_idp::{DemoProvider, StartError, CLIENT_ID};

/// The demo profile's name.
pub const PROFILE: &str = "demo";
/// The demo provider's port on 127.0.0.1 (the profile's issuer names it,
/// so it stays the same across runs); `TOKENTRAY_DEMO_PORT` overrides it.
const DEFAULT_PORT: u16 = 47_123;
const PORT_ENV: &str = "TOKENTRAY_DEMO_PORT";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo provider cannot start: {0}; quit that program, or start Tokentray with TOKENTRAY_DEMO_PORT set to a free port")]
    PortInUse(StartError),
    #[error("the demo provider cannot start: {0}")]
    NotStarted(StartError),
    #[error("a profile named `demo` exists already and points elsewhere ({0}): remove or rename it first")]
    ProfileTaken(String),
    #[error(transparent)]
    Core(#[from] tokentray_core::Error),
}

impl From<StartError> for DemoError {
    fn from(error: StartError) -> Self {
        match error {
            StartError::PortInUse { .. } => DemoError::PortInUse(error),
            other => DemoError::NotStarted(other),
        }
    }
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

/// The running demo provider, if any (managed app state). Once the app
/// quits (`stopped`), none is started any more.
#[derive(Default)]
pub struct Demo {
    provider: Mutex<Option<DemoProvider>>,
    stopped: AtomicBool,
}

impl Demo {
    fn provider(&self) -> std::sync::MutexGuard<'_, Option<DemoProvider>> {
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
    if store.get(PROFILE).is_ok_and(|profile| is_demo(&profile)) {
        if let Err(error) = ensure_provider(app) {
            tracing::warn!("cannot restart the demo provider: {error}");
        }
    }
}

/// Starts the demo provider (unless it runs already) and adds the `demo`
/// profile (unless it exists). Returns the profile's name.
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

/// Stops the demo provider (on quit): it forgets everything it issued.
pub fn stop(app: &AppHandle) {
    let Some(demo) = app.try_state::<Demo>() else {
        return;
    };
    demo.stopped.store(true, Ordering::SeqCst);
    let provider = demo.provider().take();
    drop(provider);
}

/// The provider runs in this process (`tokentray-demo-idp`), on a thread
/// of its own; starting it only binds the port, so it is quick.
fn ensure_provider(app: &AppHandle) -> Result<(), DemoError> {
    let demo = app.state::<Demo>();
    let mut provider = demo.provider();
    if provider.is_some() || demo.stopped.load(Ordering::SeqCst) {
        return Ok(());
    }
    *provider = Some(DemoProvider::start(port())?);
    Ok(())
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
    fn a_port_in_use_is_shown_with_what_to_do() {
        let running = DemoProvider::start(0).unwrap();
        let taken = DemoProvider::start(running.port()).unwrap_err();
        let shown = CommandError::from(DemoError::from(taken));
        assert_eq!(shown.kind, "demo_unavailable");
        let port = running.port();
        assert!(
            shown.message.contains(&format!(
                "port {port} on 127.0.0.1 is in use by another program"
            )) && shown.message.contains("TOKENTRAY_DEMO_PORT"),
            "{}",
            shown.message
        );
    }
}
