//! `tokentray agent`: the broker, the agent socket and the refresh
//! scheduler in one process without any GUI (servers, SSH sessions, CI,
//! tests). The tray app hosts the same server; only one of them can own a
//! socket path ([`server::bind`] names the owner).
//!
//! With `--store memory` the tokens live in this process alone, so sign-ins
//! run here too ([`MemoryLogin`]): `tokentray --store memory login P` asks
//! the agent, which shows the device code in its own terminal.

use crate::direct;
use crate::login_cmd;
use crate::output::Failure;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::ipc::server::LoginHandler;
use tokentray_core::ipc::{path, server};
use tokentray_core::profile::LoginMode;
use tokentray_core::schedule::{self, Schedule, SystemClock};
use tokentray_core::vault::StoreKind;
use tokentray_core::{Error, Result};
use tokio_util::sync::CancellationToken;

pub fn run(store: &Store) -> std::result::Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))?;
    runtime.block_on(serve(store))
}

async fn serve(store: &Store) -> std::result::Result<ExitCode, Failure> {
    let socket = path::socket_path()?;
    // First, so that a second agent fails before anything else happens.
    let (listener, claim) = server::bind(&socket)?;
    let stop_signal = stop_signal()?;
    let broker = direct::broker_over(store.agent_vault()?)?;
    let login: Arc<dyn LoginHandler> = match store.kind() {
        StoreKind::Memory => Arc::new(MemoryLogin {
            broker: broker.clone(),
        }),
        StoreKind::Keyring | StoreKind::File => Arc::new(server::HeadlessLogin),
    };
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(schedule::drive(
        broker.clone(),
        Schedule::new(),
        Arc::new(SystemClock),
        stop.clone(),
    ));
    eprintln!(
        "tokentray agent: serving {} (pid {}) from the {} store; stop with SIGTERM or Ctrl-C",
        socket.display(),
        std::process::id(),
        store.kind()
    );
    if matches!(store.kind(), StoreKind::Memory) {
        eprintln!(
            "tokentray agent: tokens live in this process only and die with it; sign in with `tokentray --store memory login PROFILE --device`"
        );
    }
    server::run(listener, broker, login, stop_signal).await;
    stop.cancel();
    if let Err(error) = scheduler.await {
        tracing::warn!(%error, "the scheduler task failed");
    }
    drop(claim);
    eprintln!("tokentray agent: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Sign-ins for the memory store: run in the agent (device code or system
/// browser, shown on the agent's stderr) and kept in its memory.
struct MemoryLogin {
    broker: Broker<OAuth>,
}

impl LoginHandler for MemoryLogin {
    fn login<'a>(
        &'a self,
        profile: &'a str,
        mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let profile = self.broker.profiles().get(profile)?;
            let Some(mode) = login_cmd::terminal_mode(&profile, mode)? else {
                return Ok(());
            };
            let tokens = login_cmd::sign_in(self.broker.grants(), &profile, mode, false)
                .await
                .map_err(|failure| match failure {
                    Failure::Core(error) => error,
                    other => Error::InvalidInput(other.to_string()),
                })?;
            let account = self.broker.complete_sign_in(&profile, &tokens)?;
            eprintln!(
                "tokentray agent: signed in as {} (profile `{}`)",
                account.label(),
                profile.name
            );
            Ok(())
        })
    }
}

/// Completes on SIGTERM or SIGINT. The handlers are installed now, so a
/// signal that arrives while the agent starts is not lost.
fn stop_signal() -> Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let install =
        |kind| signal(kind).map_err(|e| Error::io("cannot handle signals in", "<agent>", e));
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
