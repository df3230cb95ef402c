//! Tokentray's engine: everything the tray app, the CLI and the agent socket
//! do, with no GUI dependency, so that it is all testable headless.
//!
//! Modules so far: [`secret`] (the redacting wrapper tokens travel in),
//! [`error`] (one error type with stable kinds), [`profile`] (the profiles
//! file) and [`vault`] (the OS credential store behind a trait).

pub mod account;
pub mod broker;
pub mod error;
pub mod flow;
pub mod hardening;
pub mod http;
pub mod import;
pub mod ipc;
pub mod jwt;
pub mod profile;
pub mod provider;
pub mod schedule;
pub mod secret;
pub mod status;
pub mod token;
pub mod vault;

pub use error::{Error, ErrorKind, Result};
pub use secret::{
    AccessTokenSecret, ClientSecret, CsrfState, IdToken, Nonce, PkceVerifier, RefreshToken, Secret,
};
