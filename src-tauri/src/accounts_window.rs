//! The accounts window (label `accounts`, the only webview our capability
//! grants commands to): opened from the tray at a view, and told when the
//! account model ([`crate::account_view`]) changes, so it asks for the
//! accounts again. It is built from its entry in
//! `tauri.conf.json` (`create: false`: the app starts in the tray only).

use std::sync::Mutex;

use tauri::{AppHandle, Emitter, EventTarget, Manager, Runtime, WebviewWindowBuilder};

use crate::account_view;
use crate::dto::{View, ACCOUNTS_CHANGED, NAVIGATE};

/// The window's label, as in `tauri.conf.json` and `capabilities/`.
pub const LABEL: &str = "accounts";

/// The view the window shows next (taken by the `take_view` command).
#[derive(Default)]
pub struct Navigation(Mutex<Option<View>>);

pub fn init(app: &AppHandle) {
    app.manage(Navigation::default());
    let mut accounts = account_view::subscribe(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while accounts.changed().await.is_ok() {
            accounts_changed(&app);
        }
    });
}

/// Shows the window at `view`: focuses it when open (and tells it to
/// navigate), builds it otherwise (it asks for its view when it loads).
pub fn open(app: &AppHandle, view: View) {
    if let Some(navigation) = app.try_state::<Navigation>() {
        *navigation.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(view);
    }
    if let Err(error) = show(app) {
        tracing::warn!(%error, "cannot open the accounts window");
    }
}

fn show(app: &AppHandle) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(LABEL) {
        window.show()?;
        window.unminimize()?;
        window.set_focus()?;
        return window.emit_to(EventTarget::webview_window(LABEL), NAVIGATE, ());
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == LABEL)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    WebviewWindowBuilder::from_config(app, &config)?.build()?;
    tracing::info!("accounts window opened");
    Ok(())
}

/// The view to show now (the accounts list unless the tray asked for
/// another), forgetting it.
pub fn take_view<R: Runtime>(app: &AppHandle<R>) -> View {
    app.try_state::<Navigation>()
        .and_then(|navigation| {
            navigation
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
        })
        .unwrap_or(View::Accounts)
}

/// Tells the window, if open, that the accounts changed.
fn accounts_changed<R: Runtime>(app: &AppHandle<R>) {
    if app.get_webview_window(LABEL).is_none() {
        return;
    }
    if let Err(error) = app.emit_to(EventTarget::webview_window(LABEL), ACCOUNTS_CHANGED, ()) {
        tracing::debug!(%error, "cannot tell the accounts window");
    }
}
