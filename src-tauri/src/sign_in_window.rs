//! The embedded sign-in window, in a helper process of its own
//! (`tokentray-app --sign-in-window`), so that everything WebKit allocates
//! for it (its web and network processes, the UI side's caches) is given
//! back to the system when the sign-in ends: a tray app that signed in
//! once must not keep a browser's memory for the rest of the day.
//!
//! Protocol with the app, over pipes only: the app writes one JSON line
//! ([`Request`]) on the helper's stdin; the helper writes one line per
//! intercepted redirect (`redirect URL`) on its stdout; the app closes the
//! helper's stdin to close the window; the helper exits when its window is
//! closed. The helper never touches the vault or the network beyond the
//! webview, and logs nothing of the URLs.
//!
//! The window itself (S17–S19): label `login-0`, which matches no
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
use url::Url;

use crate::login::{navigation, title, Navigation, WINDOW_PREFIX};

/// The helper's command-line switch.
pub const ARG: &str = "--sign-in-window";
/// The prefix of a redirect line on the helper's stdout.
pub const REDIRECT_PREFIX: &str = "redirect ";

/// What the app asks of the helper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub profile: String,
    pub authorize_url: Url,
    pub redirect_uri: Url,
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
    let built = tauri::Builder::default()
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
    let Request {
        profile,
        authorize_url,
        redirect_uri,
    } = request;
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
            report(url);
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

/// Hands an intercepted redirect to the app.
fn report(url: &Url) {
    let mut out = std::io::stdout().lock();
    let sent = writeln!(out, "{REDIRECT_PREFIX}{url}").and_then(|()| out.flush());
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
