//! Tokentray's engine: everything the tray app, the CLI and the agent socket
//! do, with no GUI dependency, so that it is all testable headless.
//!
//! Layers, each using only the ones below it (declared in [`layers`] and
//! checked against the source by its test):
//! - faces' entry points: [`agent`] (broker + scheduler + socket server in
//!   one call), [`ipc`] (the socket's wire format, server and client),
//!   [`import`] (other tools' caches, through the broker);
//! - the façade: [`broker`] (every token and every change to accounts and
//!   profiles), with [`status`] (where each profile stands) and
//!   [`schedule`] (timers) over it, [`login`] (what a face does with a
//!   sign-in request), [`access`] (who may take which token);
//! - the engine's parts: [`flow`] (OAuth grants), [`provider`], [`http`],
//!   [`lock`] (refresh locks across processes), [`account`], [`profile`],
//!   [`hardening`] (process hygiene), [`vault`], [`token`], [`clock_words`]
//!   (time in words), [`jwt`];
//! - the ground: [`secret`], [`error`], [`fault`] (crash-test points),
//!   `private_dir`, `win32` (Windows only: the core's Win32 calls);
//! - above them all, only for tests: `testing` (one set of fakes, under
//!   `cfg(test)` and the `testing` feature).

pub mod access;
pub mod account;
pub mod agent;
pub mod audit;
pub mod broker;
pub mod caller;
pub mod clock_words;
pub mod error;
pub mod fault;
pub mod flow;
pub mod hardening;
pub mod html;
pub mod http;
pub mod import;
pub mod ipc;
pub mod jwt;
pub mod layers;
pub mod lock;
pub mod login;
pub mod private_dir;
pub mod profile;
pub mod provider;
pub mod schedule;
pub mod secret;
pub mod status;
pub mod token;
pub mod vault;
#[cfg(windows)]
pub mod win32;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, ErrorKind, Result};
pub use secret::{
    AccessTokenSecret, ClientSecret, CsrfState, IdToken, Nonce, PkceVerifier, RefreshToken, Secret,
};
