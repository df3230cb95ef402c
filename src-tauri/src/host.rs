//! Hosts the core in the app: the core's agent runtime (broker over the
//! vault and the profiles file, refresh scheduler, and the agent socket the
//! CLI talks to, the same `tokentray agent` runs). If another agent owns
//! the socket, the app says so in its log and runs without hosting it.
//! Programs that no rule of a `confirm` profile names are asked about in
//! the app's consent dialog (`consent`).
//!
//! The vault is the OS vault unless `TOKENTRAY_STORE` says `file` (the
//! encrypted file; its passphrase must come from `TOKENTRAY_PASSPHRASE` or
//! `TOKENTRAY_PASSPHRASE_FILE`, as the app has no terminal to ask on) or
//! `memory` (tokens die with the app).

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Manager};
use tokentray_core::access::Consent;
use tokentray_core::agent::{Agent, AgentOptions, Socket};
use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::login::LoginHandler;
use tokentray_core::profile::ProfileStore;
use tokentray_core::schedule::Schedule;
use tokentray_core::vault::passphrase::Ask;
use tokentray_core::vault::{choice, StoreKind};
use tokio_util::sync::CancellationToken;

use crate::Error;

/// How long Quit waits for the socket server to stop (it removes the socket
/// first, then lets running requests finish).
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The core, shared by every module through `app.state::<Host>()`.
pub struct Host {
    pub broker: Broker<OAuth>,
    pub schedule: Schedule,
    /// Cancelled on quit; sign-ins and the scheduler stop with it.
    pub shutdown: CancellationToken,
    agent: Agent,
}

pub fn init(
    app: &AppHandle,
    login: Arc<dyn LoginHandler>,
    consent: Arc<dyn Consent>,
) -> Result<(), Error> {
    let store = StoreKind::from_env()?;
    let options = AgentOptions {
        profiles: ProfileStore::open_default()?,
        socket: Socket::if_free()?,
        consent,
    };
    let vault = || choice::open(store, Ask::Never);
    let agent = tauri::async_runtime::block_on(Agent::start(options, vault, |_| login))?;
    tracing::info!(%store, serving = ?agent.serving(), "secrets live in the {store} store");
    app.manage(Host {
        broker: agent.broker().clone(),
        schedule: agent.schedule().clone(),
        shutdown: agent.shutdown_token(),
        agent,
    });
    Ok(())
}

/// Stops the scheduler, running sign-ins and the socket server (which
/// removes the socket); waits a little for the server.
pub fn stop(app: &AppHandle) {
    if let Some(host) = app.try_state::<Host>() {
        tauri::async_runtime::block_on(host.agent.stop(STOP_WAIT));
    }
}

/// SIGTERM and SIGINT quit the app cleanly, as "Quit" does.
#[cfg(unix)]
pub fn stop_on_signals(app: &AppHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot handle SIGTERM/SIGINT");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: quitting"),
            _ = int.recv() => tracing::info!("SIGINT: quitting"),
        }
        app.exit(0);
    });
}

#[cfg(not(unix))]
pub fn stop_on_signals(_app: &AppHandle) {}
