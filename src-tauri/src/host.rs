//! Hosts the core in the app: one broker over the vault and the profiles
//! file, the refresh scheduler, and the agent socket the CLI talks to (the
//! same server `tokentray agent` runs). If another agent owns the socket,
//! the app says so in its log and runs without hosting it.
//!
//! The vault is the OS vault unless `TOKENTRAY_STORE` says `file` (the
//! encrypted file; its passphrase must come from `TOKENTRAY_PASSPHRASE` or
//! `TOKENTRAY_PASSPHRASE_FILE`, as the app has no terminal to ask on) or
//! `memory` (tokens die with the app).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager};
use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::http::HttpClient;
use tokentray_core::ipc::path;
use tokentray_core::ipc::server::{self, LoginHandler};
use tokentray_core::profile::ProfileStore;
use tokentray_core::schedule::{self, Schedule, SystemClock};
use tokentray_core::vault::passphrase::Ask;
use tokentray_core::vault::{choice, StoreKind, Vault};
use tokio_util::sync::CancellationToken;

use crate::Error;

/// How long Quit waits for the socket server to stop (it removes the socket
/// first, then lets running requests finish).
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The core, shared by every module through `app.state::<Host>()`.
pub struct Host {
    pub broker: Broker<OAuth>,
    /// The store the broker uses (`TOKENTRAY_STORE`): client secrets saved
    /// from the accounts window go there too.
    pub vault: Arc<dyn Vault>,
    pub schedule: Schedule,
    /// Cancelled on quit; sign-ins and the scheduler stop with it.
    pub shutdown: CancellationToken,
    server: Mutex<Option<JoinHandle<()>>>,
}

pub fn init(app: &AppHandle, login: Arc<dyn LoginHandler>) -> Result<(), Error> {
    let store = StoreKind::from_env()?;
    let vault = choice::open(store, Ask::Never)?;
    tracing::info!(%store, "secrets live in the {store} store");
    let broker = Broker::new(
        OAuth::new(HttpClient::with_defaults()?),
        Arc::clone(&vault),
        ProfileStore::open_default()?,
    );
    // Refreshes take the per-profile lock every Tokentray process shares.
    broker.lock_refreshes_in(tokentray_core::broker::lock::default_dir()?);
    let schedule = Schedule::new();
    let shutdown = CancellationToken::new();
    tauri::async_runtime::spawn(schedule::drive(
        broker.clone(),
        schedule.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    ));
    let server = tauri::async_runtime::spawn(serve(broker.clone(), login, shutdown.clone()));
    app.manage(Host {
        broker,
        vault,
        schedule,
        shutdown,
        server: Mutex::new(Some(server)),
    });
    Ok(())
}

async fn serve(broker: Broker<OAuth>, login: Arc<dyn LoginHandler>, shutdown: CancellationToken) {
    let socket = match path::socket_path() {
        Ok(socket) => socket,
        Err(error) => {
            tracing::warn!(kind = %error.kind(), "no agent socket: {error}");
            return;
        }
    };
    let (listener, claim) = match server::bind(&socket) {
        Ok(bound) => bound,
        Err(error) => {
            tracing::warn!(
                kind = %error.kind(),
                "not hosting the agent socket (another agent serves it?): {error}"
            );
            return;
        }
    };
    tracing::info!(path = %socket.display(), "serving the agent socket");
    server::run(listener, broker, login, shutdown.cancelled_owned()).await;
    drop(claim);
    tracing::info!("agent socket closed");
}

/// Stops the scheduler, running sign-ins and the socket server (which
/// removes the socket); waits a little for the server.
pub fn stop(app: &AppHandle) {
    let Some(host) = app.try_state::<Host>() else {
        return;
    };
    host.shutdown.cancel();
    let server = host
        .server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let Some(server) = server {
        // the timer must be made inside the runtime
        let stopped =
            tauri::async_runtime::block_on(
                async move { tokio::time::timeout(STOP_WAIT, server).await },
            );
        if stopped.is_err() {
            tracing::warn!("the agent socket server did not stop in time");
        }
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
