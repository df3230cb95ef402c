//! Interactive sign-in, in the profile's mode (S1):
//!
//! - **embedded**: a webview window on the authorize URL, in a helper
//!   process ([`crate::sign_in_window`], which lists its S17–S19 locks);
//!   the helper hands each intercepted redirect to this module, which
//!   finishes the flow in the core. Closing the window cancels.
//! - **browser**: the system browser with the core's loopback listener.
//! - **device**: a notification and a small window (same helper) show the
//!   user code, with "Copy code" and "Open the page"; the verification page
//!   opens in the browser. Closing the window cancels.
//!
//! The same [`sign_in`] serves the tray menu and the agent socket's `login`
//! request ([`SocketLogin`]).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Manager};
use tokentray_core::flow::{open_in_browser, TokenSet};
use tokentray_core::login::LoginHandler;
use tokentray_core::profile::{LoginMode, Preset, Profile, Provider};
use tokentray_core::Secret;
use tokentray_core::{Error, Result};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use url::Url;

use crate::host::Host;
use crate::{clipboard, notify, sign_in_window};

/// Redirect URI intercepted for Microsoft Entra (as MSAL does).
pub const MICROSOFT_REDIRECT: &str = "https://login.microsoftonline.com/common/oauth2/nativeclient";
/// Redirect URI intercepted for every other provider: never served, so any
/// port (the loopback rule of RFC 8252 §7.3) and no listener. It is also the
/// browser sign-in's redirect, on the port its listener gets.
pub const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/callback";
/// How long a browser sign-in waits for the callback.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// The profiles with a sign-in in progress: one at a time per profile.
#[derive(Default)]
pub struct LoginState {
    active: Mutex<HashSet<String>>,
}

pub fn init(app: &AppHandle) {
    app.manage(LoginState::default());
}

/// A profile's claim on its sign-in, released on drop.
struct InProgress {
    app: AppHandle,
    profile: String,
}

impl InProgress {
    fn claim(app: &AppHandle, profile: &str) -> Result<InProgress> {
        let state = app.state::<LoginState>();
        let mut active = state.active.lock().unwrap_or_else(|p| p.into_inner());
        if !active.insert(profile.to_owned()) {
            return Err(Error::InvalidInput(format!(
                "a sign-in to {profile} is already in progress: finish or close its window"
            )));
        }
        Ok(InProgress {
            app: app.clone(),
            profile: profile.to_owned(),
        })
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let state = self.app.state::<LoginState>();
        state
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.profile);
    }
}

/// The agent socket's `login` request, served by the app's own sign-in.
pub struct SocketLogin {
    app: AppHandle,
}

impl SocketLogin {
    pub fn new(app: AppHandle) -> Self {
        Self { app }
    }
}

impl LoginHandler for SocketLogin {
    fn login<'a>(
        &'a self,
        profile: &'a str,
        mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(sign_in(self.app.clone(), profile.to_owned(), mode))
    }
}

/// Starts a sign-in from the tray menu; failures are notified, a
/// cancellation only logged.
pub fn start(app: &AppHandle, profile: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = sign_in(app, profile.clone(), None).await {
            if !matches!(error, Error::Cancelled { .. }) {
                notify::show(notify::failed("Sign-in", &profile, &error));
            }
        }
    });
}

/// Signs in to `profile` (in `mode`, or the profile's own) and stores the
/// account through the broker; says "Signed in as USER".
pub async fn sign_in(app: AppHandle, profile: String, mode: Option<LoginMode>) -> Result<()> {
    let (broker, shutdown) = {
        let host = app.state::<Host>();
        (host.broker.clone(), host.shutdown.clone())
    };
    let profile = broker.profiles().get(&profile)?;
    let _in_progress = InProgress::claim(&app, &profile.name)?;
    let mode = mode.unwrap_or(profile.login);
    tracing::info!(profile = %profile.name, ?mode, "sign-in started");
    let signed_in = async {
        match mode {
            LoginMode::Embedded => embedded(&broker, &profile).await,
            LoginMode::Browser => {
                broker
                    .grants()
                    .sign_in_with_browser(&profile, open_in_browser, BROWSER_TIMEOUT)
                    .await
            }
            LoginMode::Device => device(&app, &broker, &profile, shutdown.child_token()).await,
            LoginMode::ClientCredentials => Err(Error::InvalidInput(format!(
                "profile {} uses client credentials: there is nobody to sign in",
                profile.name
            ))),
        }
    };
    let tokens = tokio::select! {
        tokens = signed_in => tokens,
        () = shutdown.cancelled() => Err(Error::Cancelled { reason: "Tokentray is quitting".into() }),
    };
    let tokens = match tokens {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::info!(profile = %profile.name, kind = %error.kind(), "sign-in ended: {error}");
            return Err(error);
        }
    };
    let account = broker.complete_sign_in(&profile, &tokens).await?;
    tracing::info!(profile = %profile.name, "signed in");
    notify::show(notify::signed_in(&account.label(), &profile.name));
    Ok(())
}

/// The redirect URI a profile's embedded sign-in intercepts.
pub fn redirect_uri(provider: &Provider) -> &'static str {
    embedded_redirect(provider.preset())
}

/// The redirect URI the embedded sign-in of a preset's profiles
/// intercepts (and so the one to register with the provider).
pub fn embedded_redirect(preset: Preset) -> &'static str {
    match preset {
        Preset::Microsoft => MICROSOFT_REDIRECT,
        Preset::Google | Preset::Github | Preset::Oidc => LOOPBACK_REDIRECT,
    }
}

/// Google answers `disallowed_useragent` to embedded webviews (S1): say so
/// before opening a window.
fn refuse_google(profile: &Profile) -> Result<()> {
    if matches!(profile.provider, Provider::Google) {
        return Err(Error::InvalidInput(format!(
            "profile {}: Google refuses sign-in in an embedded window \
             (disallowed_useragent); use `login = \"browser\"`",
            profile.name
        )));
    }
    Ok(())
}

/// How long a finished sign-in's helper gets to close its window.
const HELPER_EXIT_WAIT: Duration = Duration::from_secs(5);

/// A window in its helper process ([`sign_in_window`]).
struct Helper {
    child: Child,
    to: Option<ChildStdin>,
    from: Lines<BufReader<ChildStdout>>,
}

impl Helper {
    async fn open(request: &sign_in_window::Request) -> Result<Helper> {
        let failed =
            |e: std::io::Error| Error::io("cannot run the sign-in window", "tokentray-app", e);
        let exe = std::env::current_exe().map_err(failed)?;
        let mut child = Command::from(tokentray_core::hardening::child_command(exe))
            .arg(sign_in_window::ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(failed)?;
        let (Some(mut to), Some(from)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(Error::InvalidInput(
                "the sign-in window has no pipes".into(),
            ));
        };
        let mut line = serde_json::to_string(request)
            .map_err(|e| Error::InvalidInput(format!("cannot encode the sign-in request: {e}")))?;
        line.push('\n');
        to.write_all(line.as_bytes()).await.map_err(failed)?;
        tracing::info!(pid = child.id(), "sign-in window opened");
        Ok(Helper {
            child,
            to: Some(to),
            from: BufReader::new(from).lines(),
        })
    }

    /// The window's next message; `None` once it is closed.
    async fn message(&mut self) -> Option<String> {
        self.from.next_line().await.ok().flatten()
    }

    /// Closes the window (closing the helper's stdin) and waits for the
    /// helper to exit; ends it if it does not.
    async fn close(mut self) {
        drop(self.to.take());
        match tokio::time::timeout(HELPER_EXIT_WAIT, self.child.wait()).await {
            Ok(Ok(status)) => tracing::debug!(%status, "sign-in window closed"),
            Ok(Err(error)) => tracing::warn!(%error, "lost the sign-in window's process"),
            Err(_) => {
                tracing::warn!("the sign-in window did not close; ending it");
                if let Err(error) = self.child.kill().await {
                    tracing::warn!(%error, "cannot end the sign-in window's process");
                }
            }
        }
    }
}

async fn embedded(
    broker: &tokentray_core::broker::Broker<tokentray_core::flow::OAuth>,
    profile: &Profile,
) -> Result<TokenSet> {
    refuse_google(profile)?;
    let pending = broker
        .grants()
        .begin_sign_in(profile, redirect_uri(&profile.provider))
        .await?;
    let mut helper = Helper::open(&sign_in_window::Request {
        profile: profile.name.clone(),
        window: sign_in_window::Window::SignIn {
            authorize_url: pending.authorize_url().clone(),
            redirect_uri: pending.redirect_uri().clone(),
        },
    })
    .await?;
    let result = loop {
        let Some(message) = helper.message().await else {
            break Err(Error::Cancelled {
                reason: "the sign-in window was closed".into(),
            });
        };
        let Some(url) = message.strip_prefix(sign_in_window::REDIRECT_PREFIX) else {
            continue;
        };
        tracing::info!("sign-in redirect intercepted");
        match broker.grants().finish_sign_in(&pending, url).await {
            // a redirect that is not this sign-in's (S3): keep waiting
            Err(Error::Rejected { reason, .. }) => {
                tracing::warn!(profile = %profile.name, %reason, "redirect rejected");
            }
            other => break other,
        }
    };
    helper.close().await;
    result
}

async fn device(
    app: &AppHandle,
    broker: &tokentray_core::broker::Broker<tokentray_core::flow::OAuth>,
    profile: &Profile,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<TokenSet> {
    let device = broker.grants().start_device(profile).await?;
    let code = device.user_code.clone();
    notify::show(notify::Note {
        summary: format!("Sign in to {}: enter {code}", profile.name),
        body: format!("at {}", device.verification_uri),
    });
    let page = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    let page = Url::parse(page)
        .map_err(|e| Error::InvalidInput(format!("the verification URI is not a URL: {e}")))?;
    let open_page = || {
        if let Err(error) = open_in_browser(&page) {
            tracing::warn!(kind = %error.kind(), "cannot open the verification page");
        }
    };
    open_page();
    let window = Helper::open(&sign_in_window::Request {
        profile: profile.name.clone(),
        window: sign_in_window::Window::Device {
            user_code: code.clone(),
            verification_uri: page.clone(),
        },
    })
    .await;
    let mut window = match window {
        Ok(window) => Some(window),
        Err(error) => {
            tracing::warn!(kind = %error.kind(), "no device window: {error}");
            None
        }
    };
    let finish = broker.grants().finish_device(device, cancel.clone());
    tokio::pin!(finish);
    let result = loop {
        let Some(helper) = window.as_mut() else {
            break finish.await;
        };
        tokio::select! {
            result = &mut finish => break result,
            message = helper.message() => match message.as_deref() {
                Some(sign_in_window::COPY_CODE) => {
                    if let Err(error) = clipboard::copy(app, Secret::new(code.clone())) {
                        tracing::warn!(%error, "cannot copy the user code");
                    }
                }
                Some(sign_in_window::OPEN_PAGE) => open_page(),
                Some(_) => {}
                None => {
                    // the window was closed: the sign-in is cancelled
                    cancel.cancel();
                    break finish.await;
                }
            },
        }
    };
    if let Some(helper) = window {
        helper.close().await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    // S1: login modes
    #[test]
    fn redirect_uris_by_provider() {
        assert_eq!(
            redirect_uri(&Provider::Microsoft {
                tenant: "common".into()
            }),
            MICROSOFT_REDIRECT
        );
        assert_eq!(redirect_uri(&Provider::Github), LOOPBACK_REDIRECT);
        assert_eq!(
            redirect_uri(&Provider::Oidc {
                issuer: "https://idp.example".into()
            }),
            LOOPBACK_REDIRECT
        );
    }

    // S1: login modes
    #[test]
    fn google_refuses_the_embedded_window() {
        let profile = |provider| Profile {
            name: "p".into(),
            provider,
            client_id: "c".into(),
            scopes: vec![],
            login: LoginMode::Embedded,
            refresh_margin_secs: 300,
            keep_fresh: false,
            access: Default::default(),
            extra_scopes: vec![],
            force_refresh_interval_secs: 30,
        };
        let refused = refuse_google(&profile(Provider::Google));
        assert!(
            matches!(&refused, Err(Error::InvalidInput(m)) if m.contains("login = \"browser\"")),
            "{refused:?}"
        );
        assert!(refuse_google(&profile(Provider::Github)).is_ok());
    }
}
