//! Interactive sign-in, in the profile's mode (S1):
//!
//! - **embedded**: a `login-<n>` webview window on the authorize URL. Its
//!   label matches no capability (S17); its data store is ephemeral
//!   (incognito, S19); `on_navigation` catches the redirect URI and hands
//!   it to the core without loading it, refuses non-web schemes and plain
//!   http to anything but loopback; new windows and downloads are denied;
//!   no initialization script; devtools only in debug builds; the title
//!   shows the current origin (S18). Closing the window cancels.
//! - **browser**: the system browser with the core's loopback listener.
//! - **device**: the verification page opens in the browser and a
//!   notification shows the user code.
//!
//! The same [`sign_in`] serves the tray menu and the agent socket's `login`
//! request ([`SocketLogin`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::webview::{DownloadEvent, NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder, WindowEvent};
use tokentray_core::flow::{open_in_browser, PendingSignIn, TokenSet};
use tokentray_core::ipc::server::LoginHandler;
use tokentray_core::profile::{LoginMode, Profile, Provider};
use tokentray_core::{Error, Result};
use tokio::sync::mpsc;
use url::Url;

use crate::host::Host;
use crate::notify;

/// Redirect URI intercepted for Microsoft Entra (as MSAL does).
pub const MICROSOFT_REDIRECT: &str = "https://login.microsoftonline.com/common/oauth2/nativeclient";
/// Redirect URI intercepted for every other provider: never served, so any
/// port (the loopback rule of RFC 8252 §7.3) and no listener.
pub const LOOPBACK_REDIRECT: &str = "http://127.0.0.1/callback";
/// The prefix of every login window's label; no capability matches it.
pub const WINDOW_PREFIX: &str = "login-";
/// How long a browser sign-in waits for the callback.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// Numbers the login windows.
#[derive(Default)]
pub struct LoginState {
    next: AtomicU64,
}

pub fn init(app: &AppHandle) {
    app.manage(LoginState::default());
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
    let mode = mode.unwrap_or(profile.login);
    tracing::info!(profile = %profile.name, ?mode, "sign-in started");
    let signed_in = async {
        match mode {
            LoginMode::Embedded => embedded(&app, &broker, &profile).await,
            LoginMode::Browser => {
                broker
                    .grants()
                    .sign_in_with_browser(&profile, open_in_browser, BROWSER_TIMEOUT)
                    .await
            }
            LoginMode::Device => device(&broker, &profile, shutdown.child_token()).await,
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
            tracing::info!(profile = %profile.name, kind = error.kind(), "sign-in ended: {error}");
            return Err(error);
        }
    };
    let account = broker.complete_sign_in(&profile, &tokens)?;
    tracing::info!(profile = %profile.name, "signed in");
    notify::show(notify::signed_in(account.label(), &profile.name));
    Ok(())
}

/// The redirect URI a profile's embedded sign-in intercepts.
pub fn redirect_uri(provider: &Provider) -> &'static str {
    match provider {
        Provider::Microsoft { .. } => MICROSOFT_REDIRECT,
        _ => LOOPBACK_REDIRECT,
    }
}

/// What the login window does with a navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The redirect URI: hand it to the core, do not load it.
    Intercept,
    Allow,
    Deny,
}

/// Decides a navigation of the login window: the redirect URI (scheme,
/// host, port and path) is intercepted; https pages load; plain http only
/// on loopback (local providers, S7); everything else is refused.
pub fn navigation(url: &Url, redirect: &Url) -> Navigation {
    let is_redirect = url.scheme() == redirect.scheme()
        && url.host_str() == redirect.host_str()
        && url.port_or_known_default() == redirect.port_or_known_default()
        && url.path() == redirect.path();
    if is_redirect {
        return Navigation::Intercept;
    }
    match url.scheme() {
        "https" => Navigation::Allow,
        "http" if tokentray_core::http::is_loopback(url) => Navigation::Allow,
        _ => Navigation::Deny,
    }
}

enum Outcome {
    Redirect(String),
    Closed,
}

async fn embedded(
    app: &AppHandle,
    broker: &tokentray_core::broker::Broker<tokentray_core::flow::OAuth>,
    profile: &Profile,
) -> Result<TokenSet> {
    if matches!(profile.provider, Provider::Google) {
        return Err(Error::InvalidInput(format!(
            "profile {}: Google refuses sign-in in an embedded window \
             (disallowed_useragent); use `login = \"browser\"`",
            profile.name
        )));
    }
    let pending = broker
        .grants()
        .begin_sign_in(profile, redirect_uri(&profile.provider))
        .await?;
    let (outcomes, mut outcome) = mpsc::unbounded_channel();
    let window = open_window(app, &pending, outcomes)?;
    let result = loop {
        match outcome.recv().await {
            Some(Outcome::Redirect(url)) => {
                match broker.grants().finish_sign_in(&pending, &url).await {
                    // a redirect that is not this sign-in's (S3): keep waiting
                    Err(Error::Rejected { reason, .. }) => {
                        tracing::warn!(profile = %profile.name, %reason, "redirect rejected");
                    }
                    other => break other,
                }
            }
            Some(Outcome::Closed) | None => {
                break Err(Error::Cancelled {
                    reason: "the sign-in window was closed".into(),
                })
            }
        }
    };
    if let Err(error) = window.destroy() {
        tracing::debug!(%error, "the sign-in window is gone already");
    }
    result
}

fn open_window(
    app: &AppHandle,
    pending: &PendingSignIn,
    outcomes: mpsc::UnboundedSender<Outcome>,
) -> Result<WebviewWindow> {
    let number = app
        .state::<LoginState>()
        .next
        .fetch_add(1, Ordering::Relaxed);
    let label = format!("{WINDOW_PREFIX}{number}");
    let profile = pending.profile().name.clone();
    let redirect = pending.redirect_uri().clone();
    let start = pending.authorize_url().clone();
    let on_redirect = outcomes.clone();
    let window = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(start.clone()))
        .title(title(&profile, &start))
        .inner_size(520.0, 680.0)
        .focused(true)
        .incognito(true)
        .devtools(cfg!(debug_assertions))
        .on_navigation(move |url| match navigation(url, &redirect) {
            Navigation::Intercept => {
                tracing::info!("sign-in redirect intercepted");
                // the receiver is gone only when the sign-in already ended
                let _ = on_redirect.send(Outcome::Redirect(url.to_string()));
                false
            }
            Navigation::Allow => true,
            Navigation::Deny => {
                tracing::warn!(scheme = url.scheme(), "login window: navigation refused");
                false
            }
        })
        .on_new_window(|_url, _features| NewWindowResponse::Deny)
        .on_download(|_webview, event| {
            if let DownloadEvent::Requested { .. } = event {
                tracing::warn!("login window: download refused");
            }
            false
        })
        .on_page_load(move |window, payload| {
            if payload.event() == PageLoadEvent::Finished {
                if let Err(error) = window.set_title(&title(&profile, payload.url())) {
                    tracing::debug!(%error, "cannot set the login window's title");
                }
            }
        })
        .build()
        .map_err(|error| Error::InvalidInput(format!("cannot open the sign-in window: {error}")))?;
    window.on_window_event(move |event| {
        if let WindowEvent::Destroyed = event {
            let _ = outcomes.send(Outcome::Closed);
        }
    });
    tracing::info!(label, "sign-in window opened");
    Ok(window)
}

/// "Sign in to PROFILE — https://idp.example": the origin only, never a
/// path or query (they may carry codes).
pub fn title(profile: &str, url: &Url) -> String {
    format!(
        "Sign in to {profile} — {}",
        url.origin().ascii_serialization()
    )
}

async fn device(
    broker: &tokentray_core::broker::Broker<tokentray_core::flow::OAuth>,
    profile: &Profile,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<TokenSet> {
    let device = broker.grants().start_device(profile).await?;
    notify::show(notify::Note {
        summary: format!("Sign in to {}: enter {}", profile.name, device.user_code),
        body: format!("at {}", device.verification_uri),
    });
    let page = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    match Url::parse(page) {
        Ok(url) => {
            if let Err(error) = open_in_browser(&url) {
                tracing::warn!(kind = error.kind(), "cannot open the verification page");
            }
        }
        Err(error) => tracing::warn!(%error, "the verification URI is not a URL"),
    }
    broker.grants().finish_device(device, cancel).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn redirect_is_intercepted_and_nothing_else() {
        let loopback = url(LOOPBACK_REDIRECT);
        let cases = [
            (
                "http://127.0.0.1/callback?code=x&state=y",
                Navigation::Intercept,
            ),
            (
                "http://127.0.0.1:80/callback?error=access_denied",
                Navigation::Intercept,
            ),
            ("http://127.0.0.1:8080/callback?code=x", Navigation::Allow),
            ("http://127.0.0.1:4000/auth?x=1", Navigation::Allow),
            ("https://idp.example/authorize", Navigation::Allow),
            ("http://idp.example/login", Navigation::Deny),
            ("file:///etc/passwd", Navigation::Deny),
            ("data:text/html,hi", Navigation::Deny),
            ("javascript:alert(1)", Navigation::Deny),
        ];
        for (target, expected) in cases {
            assert_eq!(navigation(&url(target), &loopback), expected, "{target}");
        }
        let microsoft = url(MICROSOFT_REDIRECT);
        assert_eq!(
            navigation(
                &url("https://login.microsoftonline.com/common/oauth2/nativeclient?code=x"),
                &microsoft
            ),
            Navigation::Intercept
        );
        assert_eq!(
            navigation(
                &url("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x"),
                &microsoft
            ),
            Navigation::Allow
        );
    }

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

    #[test]
    fn title_shows_the_origin_only() {
        assert_eq!(
            title(
                "graph",
                &url("https://login.example:8443/a/b?code=secret#frag")
            ),
            "Sign in to graph — https://login.example:8443"
        );
    }
}
