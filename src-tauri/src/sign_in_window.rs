//! The embedded sign-in window, in a helper process of its own
//! (`tokentray-app --sign-in-window`), so that everything WebKit allocates
//! for it (its web and network processes, the UI side's caches) is given
//! back to the system when the sign-in ends: a tray app that signed in
//! once must not keep a browser's memory for the rest of the day.
//!
//! Protocol with the app, over pipes only: the app writes one JSON line
//! ([`Request`]) on the helper's stdin; the helper writes one line per
//! intercepted redirect (`redirect URL`) or pressed button on its stdout; the app closes the
//! helper's stdin to close the window; the helper exits when its window is
//! closed. The helper never touches the vault or the network beyond the
//! webview, and logs nothing of the URLs.
//!
//! A device sign-in gets a small local window from the same helper: the
//! code, "Copy code" and "Open the page" (links caught by the navigation
//! handler; the app copies and opens).
//!
//! The sign-in window itself (S17–S19): label `login-0`, which matches no
//! capability; an ephemeral (incognito) data store; the redirect URI is
//! intercepted in `on_navigation` and never loaded; non-web schemes and
//! plain http to anything but loopback are refused; new windows and
//! downloads denied; no initialization script; devtools only in debug
//! builds; the title shows the current origin.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use tauri::webview::{DownloadEvent, NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, WebviewUrl, WebviewWindowBuilder};
use tokentray_core::html::escape;
use url::Url;

/// The helper's command-line switch.
pub const ARG: &str = "--sign-in-window";
/// The prefix of a redirect line on the helper's stdout.
pub const REDIRECT_PREFIX: &str = "redirect ";

/// The device sign-in window's two buttons: links to these URLs, caught by
/// the navigation handler and never loaded.
pub const COPY_CODE_URL: &str = "https://tokentray.invalid/copy-code";
pub const OPEN_PAGE_URL: &str = "https://tokentray.invalid/open-page";
/// What the helper writes when a button is pressed.
pub const COPY_CODE: &str = "copy-code";
pub const OPEN_PAGE: &str = "open-page";

/// What the app asks of the helper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub profile: String,
    pub window: Window,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// The provider's sign-in pages, up to the redirect.
    SignIn {
        authorize_url: Url,
        redirect_uri: Url,
    },
    /// A device sign-in's code, with "Copy code" and "Open the page".
    Device {
        user_code: String,
        verification_uri: Url,
    },
}

/// The helper's `main`.
pub fn run() -> ExitCode {
    let mut line = String::new();
    let request: Request = match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) => match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("tokentray-app {ARG}: bad request: {error}");
                return ExitCode::from(2);
            }
        },
        Err(error) => {
            eprintln!("tokentray-app {ARG}: cannot read the request: {error}");
            return ExitCode::from(2);
        }
    };
    let mut builder = tauri::Builder::default();
    if let Window::Device {
        user_code,
        verification_uri,
    } = &request.window
    {
        let page = device_page(user_code, verification_uri);
        builder = builder.register_uri_scheme_protocol(DEVICE_SCHEME, move |_context, _request| {
            tauri::http::Response::builder()
                .header("Content-Type", "text/html; charset=utf-8")
                .header("Content-Security-Policy", DEVICE_CSP)
                .body(page.clone().into_bytes())
                .unwrap_or_default()
        });
    }
    let built = builder
        .setup(move |app| {
            open(app.handle(), request)?;
            close_when_asked(app.handle().clone());
            Ok(())
        })
        .build(crate::context());
    match built {
        Ok(app) => {
            app.run_return(|_, _| {});
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tokentray-app {ARG}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn open(app: &AppHandle, request: Request) -> tauri::Result<()> {
    match request.window {
        Window::SignIn {
            authorize_url,
            redirect_uri,
        } => open_sign_in(app, request.profile, authorize_url, redirect_uri),
        // the page itself is served by the protocol handler
        Window::Device { .. } => open_device(app, &request.profile),
    }
}

fn open_sign_in(
    app: &AppHandle,
    profile: String,
    authorize_url: Url,
    redirect_uri: Url,
) -> tauri::Result<()> {
    WebviewWindowBuilder::new(
        app,
        format!("{WINDOW_PREFIX}0"),
        WebviewUrl::External(authorize_url.clone()),
    )
    .title(title(&profile, &authorize_url))
    .inner_size(520.0, 680.0)
    .focused(true)
    .incognito(true)
    .devtools(cfg!(debug_assertions))
    .on_navigation(move |url| match navigation(url, &redirect_uri) {
        Navigation::Intercept => {
            send(&format!("{REDIRECT_PREFIX}{url}"));
            false
        }
        Navigation::Allow => true,
        Navigation::Deny => {
            eprintln!(
                "tokentray sign-in window: refused a {} navigation",
                url.scheme()
            );
            false
        }
    })
    .on_new_window(|_url, _features| NewWindowResponse::Deny)
    .on_download(|_webview, _event: DownloadEvent<'_>| false)
    .on_page_load(move |window, payload| {
        if payload.event() == PageLoadEvent::Finished {
            // the title is cosmetic: a failure changes nothing
            let _ = window.set_title(&title(&profile, payload.url()));
        }
    })
    .build()?;
    Ok(())
}

/// The scheme the device window's page is served on, from this process.
const DEVICE_SCHEME: &str = "tokentray-device";
const DEVICE_URL: &str = "tokentray-device://localhost/";
/// No script, nothing loaded from anywhere: inline style only.
const DEVICE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// A small local page (served on [`DEVICE_SCHEME`], no script, a CSP that
/// loads nothing) with the code and two links the navigation handler turns
/// into messages.
fn open_device(app: &AppHandle, profile: &str) -> tauri::Result<()> {
    let page = Url::parse(DEVICE_URL).map_err(tauri::Error::InvalidUrl)?;
    WebviewWindowBuilder::new(
        app,
        format!("{WINDOW_PREFIX}0"),
        WebviewUrl::CustomProtocol(page),
    )
    .title(format!("Sign in to {profile} — enter the code"))
    .inner_size(420.0, 300.0)
    .focused(true)
    .incognito(true)
    .devtools(cfg!(debug_assertions))
    .on_navigation(|url| match url.as_str() {
        COPY_CODE_URL => {
            send(COPY_CODE);
            false
        }
        OPEN_PAGE_URL => {
            send(OPEN_PAGE);
            false
        }
        _ => url.scheme() == DEVICE_SCHEME,
    })
    .on_new_window(|_url, _features| NewWindowResponse::Deny)
    .on_download(|_webview, _event: DownloadEvent<'_>| false)
    .build()?;
    Ok(())
}

/// The device window's page.
pub fn device_page(user_code: &str, verification_uri: &Url) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
<style>body{{font-family:sans-serif;margin:24px;text-align:center}}\
code{{display:block;font-size:2em;letter-spacing:.1em;margin:16px}}\
a{{display:inline-block;margin:6px;padding:8px 14px;border-radius:4px;\
background:#4d90fe;color:#fff;text-decoration:none}}</style></head>\
<body><p>Enter this code at {}</p><code>{}</code>\
<a href=\"{COPY_CODE_URL}\">Copy code</a><a href=\"{OPEN_PAGE_URL}\">Open the page</a>\
<p><small>This window closes when the sign-in is done.</small></p></body></html>",
        escape(verification_uri.as_str()),
        escape(user_code),
    )
}

/// Hands a message (an intercepted redirect, a button) to the app.
fn send(message: &str) {
    let mut out = std::io::stdout().lock();
    let sent = writeln!(out, "{message}").and_then(|()| out.flush());
    if sent.is_err() {
        // the app is gone: nobody waits for this sign-in any more
        std::process::exit(1);
    }
}

/// Exits once the app closes our stdin (sign-in done, cancelled, or the app
/// quit).
fn close_when_asked(app: AppHandle) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut line = String::new();
        while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
            line.clear();
        }
        app.exit(0);
    });
}

/// The prefix of every login window's label; no capability matches it.
pub const WINDOW_PREFIX: &str = "login-";
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
/// on loopback (local providers, S7); `about:blank` frames load nothing;
/// everything else is refused.
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
        // empty frames some sign-in pages create; they load nothing
        "about" if matches!(url.path(), "blank" | "srcdoc") => Navigation::Allow,
        _ => Navigation::Deny,
    }
}

/// "Sign in to PROFILE — https://idp.example": the origin only, never a
/// path or query (they may carry codes).
pub fn title(profile: &str, url: &Url) -> String {
    format!(
        "Sign in to {profile} — {}",
        url.origin().ascii_serialization()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn device_page_escapes_and_links() {
        let uri =
            Url::parse("https://idp.example/device?x=1&y=2").unwrap_or_else(|e| panic!("{e}"));
        let page = device_page("AB<C>+D", &uri);
        assert!(page.contains("<code>AB&lt;C&gt;+D</code>"), "{page}");
        assert!(
            page.contains("https://idp.example/device?x=1&amp;y=2"),
            "{page}"
        );
        assert!(page.contains(COPY_CODE_URL) && page.contains(OPEN_PAGE_URL));
        assert!(!page.contains("<script"));
    }

    // S18: login navigation locked down
    #[test]
    fn redirect_is_intercepted_and_nothing_else() {
        let loopback = url("http://127.0.0.1/callback");
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
            ("about:blank", Navigation::Allow),
            ("about:config", Navigation::Deny),
        ];
        for (target, expected) in cases {
            assert_eq!(navigation(&url(target), &loopback), expected, "{target}");
        }
        let microsoft = url("https://login.microsoftonline.com/common/oauth2/nativeclient");
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

    // S18: login navigation locked down
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
