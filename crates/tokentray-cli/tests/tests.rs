//! The CLI's integration tests, linked into one test binary (ripgrep's
//! `tests/tests.rs`): one module per area; `common` runs the real
//! `tokentray` binary in a throwaway setup, `watched` keeps an agent's
//! stderr, `support/` holds their shell helpers. The modules keep their
//! files (`tests/token.rs`, …), so `SECURITY.md`'s `path::test` references
//! stay true. Tests of all areas run as threads of one process: each
//! test's `Env` has its own config, state and runtime directories and
//! keyring service, and settings reach the child processes through their
//! own environment, never this process's.

// The real binary is driven against the Secret Service, Unix sockets and
// `/proc`: these tests build for Unix only; the Windows build runs under
// Wine from here (`wine`).
#![cfg(unix)]
// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod watched;

mod access;
mod caller;
mod crash;
mod doctor;
mod front;
mod help;
mod import;
mod profile;
mod soak;
mod ssh;
mod store;
mod token;
mod vault_states;
mod wine;
