//! `tokentray agent`: the core's agent runtime (broker, refresh scheduler,
//! agent socket) in one process without any GUI, for servers, SSH
//! sessions, CI and tests. The tray app runs the same runtime; only one of
//! them can own a socket path.
//!
//! With `--store memory` the tokens live in this process alone, so sign-ins
//! run here too ([`MemoryLogin`]): `tokentray --store memory login P` asks
//! the agent, which shows the device code in its own terminal.

use crate::login_cmd;
use crate::output::Failure;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokentray_core::agent::{Agent, AgentOptions, Socket};
use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::login::{HeadlessLogin, LoginHandler};
use tokentray_core::profile::{LoginMode, ProfileStore};
use tokentray_core::vault::StoreKind;
use tokentray_core::{Error, Result};

/// How long running requests may take to finish once the agent stops.
const STOP_WAIT: Duration = Duration::from_secs(10);

pub fn run(store: &Store) -> std::result::Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))?;
    runtime.block_on(serve(store))
}

async fn serve(store: &Store) -> std::result::Result<ExitCode, Failure> {
    let options = AgentOptions {
        socket: Socket::required()?,
        profiles: ProfileStore::open_default()?,
        consent: Arc::new(tokentray_core::access::NoConsent),
    };
    let stop_signal = stop_signal()?;
    let memory = matches!(store.kind(), StoreKind::Memory);
    let vault = || store.agent_vault();
    let agent = Agent::start(options, vault, |broker| -> Arc<dyn LoginHandler> {
        if memory {
            Arc::new(MemoryLogin {
                broker: broker.clone(),
            })
        } else {
            Arc::new(HeadlessLogin)
        }
    })
    .await?;
    eprintln!(
        "tokentray agent: serving {} (pid {}) from the {} store; stop with {}",
        agent
            .serving()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        std::process::id(),
        store.kind(),
        if cfg!(windows) {
            "Ctrl-C"
        } else {
            "SIGTERM or Ctrl-C"
        }
    );
    if memory {
        eprintln!(
            "tokentray agent: tokens live in this process only and die with it; sign in with `tokentray --store memory login PROFILE --device`"
        );
    }
    stop_signal.await;
    agent.stop(STOP_WAIT).await;
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
            let account = self.broker.complete_sign_in(&profile, &tokens).await?;
            eprintln!(
                "tokentray agent: signed in as {} (profile `{}`)",
                account.label(),
                profile.name
            );
            Ok(())
        })
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C or Ctrl-Break on Windows). The
/// handlers are installed now, so a signal that arrives while the agent
/// starts is not lost.
#[cfg(unix)]
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

#[cfg(windows)]
fn stop_signal() -> Result<impl Future<Output = ()>> {
    use tokio::signal::windows::{ctrl_break, ctrl_c};
    let fail = |e| Error::io("cannot handle Ctrl-C in", "<agent>", e);
    let mut c = ctrl_c().map_err(fail)?;
    let mut brk = ctrl_break().map_err(fail)?;
    Ok(async move {
        tokio::select! {
            _ = c.recv() => {}
            _ = brk.recv() => {}
        }
    })
}
