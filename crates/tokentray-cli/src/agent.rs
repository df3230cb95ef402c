//! `tokentray agent`: the broker, the agent socket and the refresh
//! scheduler in one process without any GUI (servers, SSH sessions, CI,
//! tests). The tray app hosts the same server; only one of them can own a
//! socket path ([`server::bind`] names the owner).

use crate::direct;
use crate::output::Failure;
use std::process::ExitCode;
use std::sync::Arc;
use tokentray_core::ipc::{path, server};
use tokentray_core::schedule::{self, Schedule, SystemClock};
use tokentray_core::Error;
use tokio_util::sync::CancellationToken;

pub fn run() -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", "<runtime>", e))?;
    runtime.block_on(serve())
}

async fn serve() -> Result<ExitCode, Failure> {
    let socket = path::socket_path()?;
    // First, so that a second agent fails before anything else happens.
    let (listener, claim) = server::bind(&socket)?;
    let stop_signal = stop_signal()?;
    let broker = direct::broker()?;
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(schedule::drive(
        broker.clone(),
        Schedule::new(),
        Arc::new(SystemClock),
        stop.clone(),
    ));
    eprintln!(
        "tokentray agent: serving {} (pid {}); stop with SIGTERM or Ctrl-C",
        socket.display(),
        std::process::id()
    );
    server::run(
        listener,
        broker,
        Arc::new(server::HeadlessLogin),
        stop_signal,
    )
    .await;
    stop.cancel();
    if let Err(error) = scheduler.await {
        tracing::warn!(%error, "the scheduler task failed");
    }
    drop(claim);
    eprintln!("tokentray agent: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGTERM or SIGINT. The handlers are installed now, so a
/// signal that arrives while the agent starts is not lost.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
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
