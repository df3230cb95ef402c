//! The agent socket: how the `tokentray` CLI (and any local script) gets a
//! token from the running agent — the tray app or `tokentray agent` — in a
//! millisecond instead of running a sign-in or reading the vault itself.
//!
//! - [`protocol`]: newline-delimited JSON, versioned (`"v":1`), strict
//!   schema, 64 KiB frames; no response type can carry a refresh token
//!   (S27, S28).
//! - [`path`] (Unix): where the socket lives and the checks on its private
//!   directory (S25).
//! - [`server`] (Unix): `run(listener, broker, login, shutdown)`, with a
//!   peer uid check on every connection, bounded connections, timeouts,
//!   and [`server::bind`], which refuses to steal a live agent's socket.
//! - [`client`] (Unix): the blocking, std-only client the CLI calls; it
//!   checks the server's uid before sending anything (S26).
//!
//! # Windows (designed, not built yet)
//!
//! The same protocol runs over a named pipe, `\\.\pipe\tokentray-<user SID>`
//! (per user, so two users on one machine never meet), served with Tokio's
//! `windows::named_pipe`:
//! - created with `FILE_FLAG_FIRST_PIPE_INSTANCE` on the first instance, so
//!   a squatter that created the name first makes the agent fail loudly
//!   instead of sharing it;
//! - a security descriptor whose DACL grants `GENERIC_READ | GENERIC_WRITE`
//!   to the current user's SID only (no `Everyone`, no `Authenticated
//!   Users`), with `PIPE_REJECT_REMOTE_CLIENTS` so SMB clients are refused;
//! - the server checks each client with `GetNamedPipeClientProcessId` and
//!   the process token's user SID, the client checks the server with
//!   `GetNamedPipeServerProcessId` (the S26 peer checks);
//! - frames, limits and timeouts as on Unix.
//!
//! It needs `windows-sys` security calls that cannot be tested on this
//! project's Linux machines, so until a Windows runner exists the modules
//! below are Unix-only and the CLI on Windows uses the core directly.

pub mod protocol;

#[cfg(unix)]
pub mod client;
#[cfg(unix)]
pub mod path;
#[cfg(unix)]
pub mod server;

pub use protocol::{MAX_FRAME, VERSION};
