//! The core's integration tests, linked into one test binary (ripgrep's
//! `tests/tests.rs`): one module per area, the shared setup in `common`.
//! The modules keep their files (`tests/broker.rs`, …), so `SECURITY.md`'s
//! `path::test` references stay true. Tests of all areas run as threads of
//! one process: nothing here may set process-wide state (environment
//! variables, the current directory) or rely on a per-file process; each
//! test makes its own keyring service, temp directories and IdP.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod broker;
mod flows;
mod hostile;
// the agent socket and the encrypted file store are Unix-only so far
#[cfg(unix)]
mod ipc;
mod properties;
mod security_map;
#[cfg(unix)]
mod vault_file;
mod vault_secret_service;
