//! A hostile OpenID provider: a small loopback HTTP server (std threads, one
//! per connection) that serves discovery, JWKS, authorize, token and device
//! endpoints correctly, and misbehaves on demand in the ways a real,
//! well-behaved provider never does ([`Misbehaviour`]). ID tokens are ES256,
//! signed with a fixed throwaway key (`jws.rs`).
//!
//! ```no_run
//! # fn main() -> tokentray_testkit::Result<()> {
//! use tokentray_testkit::hostile::{Endpoint, HostileIdp, Misbehaviour};
//! let idp = HostileIdp::start()?;
//! idp.misbehave(Misbehaviour::Status(Endpoint::Token, 500));
//! // … a flow against idp.issuer() fails; idp.requests(Endpoint::Token) counts it.
//! # Ok(())
//! # }
//! ```
//!
//! The authorize step needs no browser: [`HostileIdp::callback_for`] turns
//! an authorize URL into the redirect the provider would send (the same
//! answer `GET /authorize` gives as a 302), so async tests call it directly.

mod jws;
mod routes;
mod wire;

use std::collections::HashMap;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The subject every token of the hostile provider names.
pub const SUBJECT: &str = "mallory";
/// Access-token lifetime (`expires_in`) of a well-behaved answer.
const EXPIRES_IN: u64 = 3600;
/// Longest a [`Misbehaviour::Hang`] lasts if the server is not dropped first.
const MAX_HANG: Duration = Duration::from_secs(300);

/// An endpoint of the hostile provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/.well-known/openid-configuration`.
    Discovery,
    /// `/jwks`.
    Jwks,
    /// `/authorize`.
    Authorize,
    /// `/token` (every grant).
    Token,
    /// `/device_authorization`.
    DeviceAuthorization,
}

/// What is wrong with the ID tokens it issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenFault {
    /// `{"alg":"none"}`, no signature.
    AlgNone,
    /// Signed by a key the JWKS does not publish.
    UnknownKey,
    /// Signed by a new key that the JWKS publishes from now on (a key
    /// rotation; not a fault: a client with the old JWKS cached must fetch
    /// it again once).
    RotatedKey,
    /// `iss` is this instead of the issuer.
    Issuer(String),
    /// `aud` is this instead of the client id.
    Audience(String),
    /// `nonce` is this instead of the one the client sent.
    Nonce(String),
    /// Expired ten minutes ago (issued twenty minutes ago).
    Expired,
    /// Valid, with this claim set to this value (display claims with
    /// escape sequences, huge names, …).
    Claim(String, serde_json::Value),
}

/// One way to misbehave; [`Misbehaviour::None`] is a correct provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Misbehaviour {
    /// Behave.
    #[default]
    None,
    /// Answer the endpoint with this status and a plain-text body.
    Status(Endpoint, u16),
    /// Never answer the endpoint (until the server is dropped).
    Hang(Endpoint),
    /// Answer the endpoint with a head, then a body one byte at a time,
    /// never finishing (until the server is dropped).
    Trickle(Endpoint),
    /// Answer the endpoint with `200` and truncated JSON.
    MalformedJson(Endpoint),
    /// Answer the endpoint with a 50 MB body and no `Content-Length`.
    HugeBody(Endpoint),
    /// Answer the endpoint with a `302` to this URL.
    Redirect(Endpoint, String),
    /// Token responses carry no `expires_in`.
    NoExpiresIn,
    /// Token responses carry this `expires_in` (any JSON: huge, negative,
    /// a string, …).
    ExpiresIn(serde_json::Value),
    /// Token responses carry this `token_type`.
    TokenType(String),
    /// ID tokens are wrong in this way.
    IdToken(IdTokenFault),
    /// Discovery names this `issuer`.
    DiscoveryIssuer(String),
    /// Discovery names this token endpoint.
    TokenEndpoint(String),
    /// The authorize redirect carries this `iss` (RFC 9207), or none at all
    /// though discovery promises it.
    CallbackIss(Option<String>),
    /// The first `n` device polls answer `slow_down`.
    SlowDown(u32),
    /// Every device poll answers this OAuth error.
    DeviceError(String),
    /// The device authorization response names this polling interval.
    DeviceInterval(u64),
    /// The device authorization response names this verification URI (and
    /// `verification_uri_complete` with `?user_code=…` added).
    VerificationUri(String),
    /// The device code lives this many seconds and is never approved.
    DeviceNeverApproved {
        /// `expires_in` of the device authorization response.
        expires_in: u64,
    },
}

/// The server's state, shared with the connection threads.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) misbehaviour: Misbehaviour,
    /// Authorization codes not yet redeemed, with their nonce.
    pub(crate) codes: HashMap<String, Option<String>>,
    pub(crate) requests: HashMap<Endpoint, usize>,
    /// When each device-grant token request arrived.
    pub(crate) device_polls: Vec<Instant>,
    /// Counter for unique codes and tokens.
    pub(crate) issued: u64,
}

pub(crate) struct Shared {
    pub(crate) issuer: String,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running hostile provider; stops (and ends every hang) on drop.
pub struct HostileIdp {
    shared: Arc<Shared>,
    port: u16,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HostileIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileIdp")
            .field("issuer", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl HostileIdp {
    /// Starts it on `127.0.0.1:0`, well-behaved.
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{port}"),
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
        });
        let serving = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("hostile-idp".into())
            .spawn(move || accept(&listener, &serving))?;
        Ok(Self {
            shared,
            port,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// From now on, misbehave this way (replacing any earlier one).
    pub fn misbehave(&self, misbehaviour: Misbehaviour) {
        self.shared.state().misbehaviour = misbehaviour;
    }

    /// Requests `endpoint` received so far, answered or not.
    pub fn requests(&self, endpoint: Endpoint) -> usize {
        self.shared
            .state()
            .requests
            .get(&endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// When each device-grant poll of the token endpoint arrived.
    pub fn device_polls(&self) -> Vec<Instant> {
        self.shared.state().device_polls.clone()
    }

    /// The redirect the provider sends for `authorize_url` once the user
    /// approved: `redirect_uri?code=…&state=…&iss=…` (the `iss` as the
    /// current [`Misbehaviour`] says). Counts as an authorize request.
    pub fn callback_for(&self, authorize_url: &str) -> Result<String> {
        let url = url::Url::parse(authorize_url)?;
        routes::approve(&self.shared, url.query().unwrap_or(""))
            .map_err(|why| Error::new(format!("authorize request refused: {why}")))
    }
}

impl Drop for HostileIdp {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that the thread sees `stop`.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // A failed spawn drops the connection: the client sees an error.
        let _ = std::thread::Builder::new()
            .name("hostile-conn".into())
            .spawn(move || serve(stream, &shared));
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let answer = match wire::read_request(&mut stream) {
        Ok(Some(request)) => routes::answer(shared, &request),
        _ => wire::Answer::Body {
            status: 400,
            body: b"bad request".to_vec(),
        },
    };
    // The client may hang up first (timeouts, body caps): not our problem.
    let _ = wire::write_answer(&mut stream, answer, &shared.stop, MAX_HANG);
}
