//! Tokentray's first-run demo OpenID provider, built into the app: a small
//! OpenID Connect provider that runs in the calling process, keeps
//! everything in memory, listens on 127.0.0.1 only and knows one client
//! (the public native client `tokentray-public`) and a few demo users, so
//! that a newcomer can try sign-in, copy, expiry and refresh without a
//! cloud account, a Node.js runtime or the source tree.
//!
//! [`DemoProvider::start`] binds the port at once (a port in use is an
//! error the caller can show, [`StartError::PortInUse`]) and serves on a
//! thread of its own until the handle is dropped; everything it issued is
//! then forgotten.
//!
//! What it serves (issuer `http://127.0.0.1:PORT`):
//! - `/.well-known/openid-configuration` (discovery) and `/jwks` (one ES256
//!   key, made at start);
//! - `/authorize`: a login page for the demo users (the password is shown
//!   on it), no consent page, then a redirect with a code and `iss`
//!   (RFC 9207). PKCE S256 is required; the redirect URI must be one of the
//!   client's loopback URIs (RFC 8252: any port, exact path);
//! - `/token`: `authorization_code` (single-use codes that live 60 s, PKCE
//!   checked), `refresh_token` (rotated at every use; replaying a used one
//!   revokes its whole family) and the device code grant;
//! - `/device/code` and `/device` (RFC 8628: the code and its verification
//!   page), `/userinfo` and `/revoke` (RFC 7009).
//!
//! The modules: `client` (the demo client and users), `grants` (the
//! protocol state and its rules), `exchange` (what the routes and `grants`
//! hand each other), `keys` (signing), `endpoints` (the routes), `pages`
//! (HTML) and `server` (HTTP on hyper).

mod client;
mod endpoints;
mod exchange;
mod grants;
mod keys;
mod pages;
mod server;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::thread::JoinHandle;

pub use client::{CLIENT_ID, PASSWORD, USERS};

/// Lifetime of access and ID tokens: 10 minutes, so that the app's default
/// 5-minute reminder shows 5 minutes after a copy.
pub const ACCESS_TOKEN_TTL_SECS: u64 = 600;

/// Why the provider did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another program listens on the port.
    #[error("port {port} on 127.0.0.1 is in use by another program")]
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// Any other failure to listen.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port asked for.
        port: u16,
        /// What the system said.
        source: std::io::Error,
    },
    /// The serving thread or its runtime could not be made.
    #[error("cannot start the demo provider's server: {0}")]
    Runtime(std::io::Error),
    /// No signing key could be made.
    #[error("cannot make the demo provider's signing key")]
    Key,
}

/// The running provider: serves until dropped.
pub struct DemoProvider {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DemoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoProvider")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

impl DemoProvider {
    /// Starts the provider on `127.0.0.1:port` (`0` picks a free port).
    /// Returns once the port is bound: requests made after it are served.
    pub fn start(port: u16) -> Result<Self, StartError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                StartError::PortInUse { port }
            } else {
                StartError::Listen { port, source }
            }
        })?;
        let listen = |source| StartError::Listen { port, source };
        listener.set_nonblocking(true).map_err(listen)?;
        let address = listener.local_addr().map_err(listen)?;
        let issuer = format!("http://{address}");
        let provider = endpoints::Provider::new(issuer.clone(), address.port())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("demo-idp".into())
            .spawn(move || {
                if let Err(error) = runtime.block_on(server::serve(listener, provider, stopped)) {
                    tracing::warn!("the demo provider stopped: {error}");
                }
            })
            .map_err(StartError::Runtime)?;
        tracing::info!(%issuer, "demo provider listening");
        Ok(Self {
            address,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The issuer, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

impl Drop for DemoProvider {
    /// Stops serving, closes every connection and forgets every grant.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // an error means the server ended already
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("the demo provider's thread panicked");
            }
        }
        tracing::info!("demo provider stopped");
    }
}
