//! The agent runtime: the broker over a vault and the profiles file, the
//! refresh scheduler, and the socket server the CLI talks to, started by
//! one call and stopped by one. `tokentray agent` and the tray app are
//! both a few lines over it; neither binds sockets or spawns the scheduler
//! itself.
//!
//! The endpoint (a Unix socket, or the named pipe on Windows) is claimed
//! first ([`crate::ipc::server::claim`]), so a second
//! agent on the same path fails before anything else happens (or, for the
//! tray app, runs without hosting it: [`Socket::IfFree`]).

use crate::access::{Consent, Gate};
use crate::broker::{Broker, Event};
use crate::error::Result;
use crate::flow::OAuth;
use crate::http::HttpClient;
use crate::login::LoginHandler;
use crate::profile::ProfileStore;
use crate::schedule::{self, Schedule, SystemClock};
use crate::vault::Vault;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A broker over `vault` and `profiles` with the real OAuth grants: what
/// every face uses, with or without an agent. Its refreshes take the
/// per-profile locks of the vault ([`crate::lock`]).
pub fn broker(vault: Arc<dyn Vault>, profiles: ProfileStore) -> Result<Broker<OAuth>> {
    Ok(Broker::new(
        OAuth::new(HttpClient::with_defaults()?),
        vault,
        profiles,
    ))
}

/// Whether and where the agent serves its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Socket {
    /// Serve at this path, or fail to start (`tokentray agent`).
    Required(PathBuf),
    /// Serve at this path unless another agent owns it, then run without
    /// (the tray app: the CLI then talks to that other agent).
    IfFree(PathBuf),
    /// No socket (tests of the faces, a throwaway broker).
    Off,
}

impl Socket {
    /// The default endpoint (`$TOKENTRAY_SOCKET`, else the runtime
    /// directory's socket or the user's pipe), as [`Socket::Required`].
    pub fn required() -> Result<Self> {
        crate::ipc::endpoint::own().map(Socket::Required)
    }

    /// The default endpoint, as [`Socket::IfFree`].
    pub fn if_free() -> Result<Self> {
        crate::ipc::endpoint::own().map(Socket::IfFree)
    }
}

/// What to start.
pub struct AgentOptions {
    /// The profiles file.
    pub profiles: ProfileStore,
    /// The socket.
    pub socket: Socket,
    /// Who asks the user whether a program may take a token
    /// ([`crate::access`]): the tray app's dialog, or
    /// [`crate::access::NoConsent`].
    pub consent: Arc<dyn Consent>,
}

/// A running agent: broker, scheduler and socket server. Dropping it does
/// not stop it; call [`Agent::stop`].
pub struct Agent {
    broker: Broker<OAuth>,
    schedule: Schedule,
    shutdown: CancellationToken,
    serving: Option<PathBuf>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Agent {
    /// Starts the agent (within a Tokio runtime): claims the socket first,
    /// then opens the vault (`vault`: the file store may ask for its
    /// passphrase, which a second agent must not do), builds the broker,
    /// hands it to `login` for the face's sign-in handler, and spawns the
    /// scheduler and the server.
    pub async fn start(
        options: AgentOptions,
        vault: impl FnOnce() -> Result<Arc<dyn Vault>>,
        login: impl FnOnce(&Broker<OAuth>) -> Arc<dyn LoginHandler>,
    ) -> Result<Agent> {
        let bound = bind(&options.socket)?;
        let gate = Gate::new(options.profiles.clone(), options.consent);
        let broker = broker(vault()?, options.profiles)?;
        let login = login(&broker);
        let schedule = Schedule::new();
        let shutdown = CancellationToken::new();
        let mut tasks = vec![tokio::spawn(schedule::drive(
            broker.clone(),
            schedule.clone(),
            Arc::new(SystemClock),
            shutdown.clone(),
        ))];
        let serving = bound.as_ref().map(|b| b.path.clone());
        if let Some(bound) = bound {
            tasks.push(tokio::spawn(serve(
                bound,
                broker.clone(),
                login,
                gate,
                shutdown.clone(),
            )));
        }
        Ok(Agent {
            broker,
            schedule,
            shutdown,
            serving,
            tasks: Mutex::new(tasks),
        })
    }

    /// The broker every face calls.
    pub fn broker(&self) -> &Broker<OAuth> {
        &self.broker
    }

    /// The scheduler's jobs (reminders for copied tokens).
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The broker's events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.broker.subscribe()
    }

    /// Where the socket is served, when it is.
    pub fn serving(&self) -> Option<&Path> {
        self.serving.as_deref()
    }

    /// Cancelled when the agent stops; a face's own tasks (sign-ins) stop
    /// with it.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the scheduler and the server (which removes the socket first,
    /// then lets running requests finish), waiting up to `wait` for them.
    pub async fn stop(&self, wait: Duration) {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let all = async {
            for task in tasks {
                if let Err(error) = task.await {
                    tracing::warn!(%error, "an agent task failed");
                }
            }
        };
        if tokio::time::timeout(wait, all).await.is_err() {
            tracing::warn!("the agent did not stop within {wait:?}");
        }
    }
}

/// A claimed endpoint.
struct Bound {
    path: PathBuf,
    listener: crate::ipc::server::Claimed,
}

fn bind(socket: &Socket) -> Result<Option<Bound>> {
    let (path, required) = match socket {
        Socket::Required(path) => (path, true),
        Socket::IfFree(path) => (path, false),
        Socket::Off => return Ok(None),
    };
    match crate::ipc::server::claim(path) {
        Ok(listener) => Ok(Some(Bound {
            path: path.clone(),
            listener,
        })),
        Err(error) if !required => {
            tracing::warn!(kind = %error.kind(), "not hosting the agent endpoint: {error}");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

async fn serve(
    bound: Bound,
    broker: Broker<OAuth>,
    login: Arc<dyn LoginHandler>,
    gate: Gate,
    shutdown: CancellationToken,
) {
    tracing::info!(path = %bound.path.display(), "serving the agent endpoint");
    let audit = crate::audit::AuditLog::from_env()
        .inspect_err(|error| tracing::warn!(%error, "no audit trail"))
        .ok();
    let faces = crate::ipc::server::Faces { login, gate, audit };
    crate::ipc::server::run(bound.listener, broker, faces, shutdown.cancelled_owned()).await;
    tracing::info!("agent endpoint closed");
}
