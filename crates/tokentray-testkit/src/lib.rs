//! Tokentray's test rig: the local OpenID provider (`tests/idp/`) started on
//! a free loopback port, a scripted user who signs in on its pages, and a
//! canary scanner for leak checks.
//!
//! ```no_run
//! # fn main() -> tokentray_testkit::Result<()> {
//! let idp = tokentray_testkit::Idp::start()?;
//! let authorize_url = format!(
//!     "{}/auth?client_id={}&response_type=code&scope=openid&redirect_uri=http://127.0.0.1:1/callback\
//!      &state=s&code_challenge=...&code_challenge_method=S256",
//!     idp.issuer(),
//!     idp.public_client_id(),
//! );
//! let redirect = idp.sign_in(&authorize_url, "alice")?;
//! assert!(redirect.contains("code="));
//! # Ok(())
//! # }
//! ```
//!
//! [`hostile::HostileIdp`] is the opposite: a small provider of our own that
//! misbehaves on demand (HTTP 500s, hangs, forged ID tokens, …).
//!
//! Blocking and dev-only: tests call it from plain `#[test]` functions.

mod canary;
mod error;
pub mod hostile;
mod html;
mod idp;
mod secret_tool;
mod user;

pub use canary::{Canary, Finding};
pub use error::{Error, Result};
pub use idp::{
    idp_dir, Idp, IdpOptions, CONFIDENTIAL_CLIENT_ID, DEFAULT_CONFIDENTIAL_SECRET, PUBLIC_CLIENT_ID,
};
pub use secret_tool::secret_tool;
