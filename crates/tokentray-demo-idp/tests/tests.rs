//! The demo provider's integration tests, one binary (a module per area):
//! `engine` signs in with Tokentray's own engine (`tokentray-core`'s flows)
//! against a running provider; `server` checks what a user agent and a
//! stranger get over HTTP.

mod engine;
mod server;
