//! What a face does when the agent is asked for an interactive sign-in
//! (`tokentray login` sent over the socket): the tray app opens its
//! sign-in window, the headless agent says where to sign in instead, and
//! the agent of the memory store runs the device flow in its terminal.

use crate::error::{Error, Result};
use crate::profile::LoginMode;
use std::future::Future;
use std::pin::Pin;

/// What a face does with a `login` request.
pub trait LoginHandler: Send + Sync + 'static {
    /// Runs an interactive sign-in for `profile` (with `mode`, or the
    /// profile's own) and stores it through the broker; returns when it is
    /// done, failed or was cancelled.
    fn login<'a>(
        &'a self,
        profile: &'a str,
        mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// The headless agent's login handler: there is no display to sign in on,
/// so it says where to do it instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadlessLogin;

impl LoginHandler for HeadlessLogin {
    fn login<'a>(
        &'a self,
        profile: &'a str,
        _mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            Err(Error::SignInRequired {
                profile: profile.to_string(),
                reason: format!(
                    "this agent has no display: run `tokentray login {profile}` in a terminal"
                ),
            })
        })
    }
}
