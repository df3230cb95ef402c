//! The app's integration tests, linked into one test binary (ripgrep's
//! `tests/tests.rs`): one module per area, the desktop harness in
//! `common`. The modules keep their files (`tests/signin.rs`, …), so
//! `SECURITY.md`'s `path::test` references stay true.
//!
//! Tests of all areas run as threads of one process. Every test that
//! starts the app takes `common::desktop_turn()` first: one X display,
//! tray host, dunst log and clipboard serve them all, so they run one at a
//! time; the file-only tests (`capabilities`) run beside them.

// The app is driven on a Linux desktop (Xvfb, a tray host, dunst, the
// Secret Service, Unix sockets): these tests build for Unix only.
#![cfg(unix)]
// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod accounts_window;
mod canary;
mod capabilities;
mod consent;
mod demo;
mod signin;
mod start;
