//! The agent socket: how the `tokentray` CLI (and any local script) gets a
//! token from the running agent — the tray app or `tokentray agent` — in a
//! millisecond instead of running a sign-in or reading the vault itself.
//!
//! - [`protocol`]: newline-delimited JSON, versioned (`"v":1`), strict
//!   schema, 64 KiB frames; no response type can carry a refresh token
//!   (S27, S28).
//! - [`endpoint`]: where the agent listens — a Unix socket or the Windows
//!   named pipe `\\.\pipe\tokentray-<user SID>` — and the pipe's naming,
//!   security-descriptor and peer-owner rules (tested on every platform).
//! - [`path`] (Unix): where the socket lives and the checks on its private
//!   directory (S25).
//! - [`server`]: `run(listener, broker, login, shutdown)`, one core over
//!   both transports, with a peer check on every connection (uid on Unix,
//!   SID on Windows), bounded connections, timeouts, and
//!   [`server::claim`], which refuses to take a live agent's endpoint.
//! - [`client`]: the blocking, std-only client the CLI calls; it checks
//!   the server's uid or SID before sending anything (S26).
//!
//! The Win32 calls behind the pipe (SIDs, pipe pids, security attributes)
//! live in the ground layer's `win32`, with the process queries
//! [`crate::caller`] makes: that is where the core's `unsafe` lives.

pub mod client;
pub mod endpoint;
#[cfg(unix)]
pub mod path;
pub mod protocol;
pub mod server;

pub use protocol::{MAX_FRAME, VERSION};
