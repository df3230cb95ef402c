//! The accounts as the app shows them: one model ([`TrayState`], built
//! from the core's status of every profile) with one change notifier, to
//! which the tray menu and the accounts window both subscribe. Nothing
//! tells the faces what changed: the broker's events (a refresh started or
//! failed, a sign-in, a sign-out, a profile saved) make the model read the
//! core's status again, and a face that watches it redraws.

use std::sync::Arc;

use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt as _;
use tokentray_core::status;
use tokio::sync::{watch, Notify};

use crate::host::Host;
use crate::menu::{AccountView, TrayState};

/// The model and what asks it to read the state again.
pub struct AccountViews {
    state: watch::Sender<TrayState>,
    stale: Arc<Notify>,
}

pub fn init(app: &AppHandle) {
    let (state, _) = watch::channel(TrayState::default());
    let stale = Arc::new(Notify::new());
    app.manage(AccountViews {
        state,
        stale: Arc::clone(&stale),
    });
    tauri::async_runtime::spawn(keep_current(app.clone(), stale));
}

/// Watches the model: the receiver sees every change.
pub fn subscribe(app: &AppHandle) -> watch::Receiver<TrayState> {
    app.state::<AccountViews>().state.subscribe()
}

/// The model now.
pub fn current(app: &AppHandle) -> TrayState {
    app.state::<AccountViews>().state.borrow().clone()
}

/// Asks the model to read the state again (something the broker does not
/// announce changed, such as start at login).
pub fn refresh(app: &AppHandle) {
    if let Some(views) = app.try_state::<AccountViews>() {
        views.stale.notify_one();
    }
}

/// Reads the state at start, then after every broker event and every
/// [`refresh`], until quit; publishes it when it changed.
async fn keep_current(app: AppHandle, stale: Arc<Notify>) {
    let (mut events, shutdown) = {
        let host = app.state::<Host>();
        (host.broker.subscribe(), host.shutdown.clone())
    };
    loop {
        let reader = app.clone();
        match tauri::async_runtime::spawn_blocking(move || snapshot(&reader)).await {
            Ok(state) => {
                app.state::<AccountViews>()
                    .state
                    .send_if_modified(|shown| replace_if_changed(shown, state));
            }
            Err(error) => tracing::warn!(%error, "cannot read the accounts"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = stale.notified() => {}
            // every event may change what is shown; a lagged receiver
            // reads the state again all the same
            received = events.recv() => {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = received {
                    return;
                }
            }
        }
    }
}

fn replace_if_changed(shown: &mut TrayState, state: TrayState) -> bool {
    let changed = *shown != state;
    if changed {
        *shown = state;
    }
    changed
}

/// The accounts' state: the core's status of every profile (blocking:
/// reads the vault).
fn snapshot(app: &AppHandle) -> TrayState {
    let broker = &app.state::<Host>().broker;
    let profiles = match status::collect(broker) {
        Ok(reply) => reply.profiles,
        Err(error) => {
            tracing::warn!(kind = %error.kind(), "cannot read the accounts: {error}");
            Vec::new()
        }
    };
    let autostart = app.autolaunch().is_enabled().unwrap_or_else(|error| {
        tracing::debug!(%error, "cannot tell whether start at login is on");
        false
    });
    TrayState {
        accounts: profiles.iter().filter_map(AccountView::of).collect(),
        profiles: profiles.into_iter().map(|p| p.name).collect(),
        autostart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::AccountStatus;
    use crate::menu::MenuEntry;
    use tokentray_core::account::AccountInfo;
    use tokentray_core::profile::{LoginMode, Preset};
    use tokentray_core::status::{ProfileStatus, SignInState};

    const NOW: i64 = 1_800_000_000;

    /// The one model from the core's status of profile `p`.
    fn model(refreshing: bool, failed: Option<&str>, expires: Option<i64>) -> TrayState {
        let status = ProfileStatus {
            name: "p".into(),
            provider: Preset::Oidc,
            login: LoginMode::Device,
            account: Some(AccountInfo {
                label: "alice".into(),
                issuer: "https://idp.example".into(),
                subject: "a1".into(),
            }),
            state: SignInState::SignedIn,
            reason: None,
            access_expires_on: expires,
            refresh_expires_on: None,
            needs_interaction: false,
            refreshing,
            refresh_failed: failed.map(str::to_string),
        };
        TrayState {
            profiles: vec!["p".into()],
            accounts: AccountView::of(&status).into_iter().collect(),
            autostart: false,
        }
    }

    /// The account's line in the tray menu, and its status (kind and
    /// words) in the window.
    fn both_faces(state: &TrayState) -> (String, AccountStatus, String) {
        let menu = crate::menu::menu(state, NOW);
        let line = menu
            .entries
            .iter()
            .find_map(|entry| match entry {
                MenuEntry::Submenu { label, .. } => Some(label.clone()),
                _ => None,
            })
            .expect("the account's submenu");
        let window = crate::commands::accounts_view(state, NOW);
        let row = &window.accounts[0];
        (line, row.status, row.status_text.clone())
    }

    // A refresh shows as "refreshing…" in the menu and in the window, then
    // the new expiry; a failure shows the same code in both.
    #[test]
    fn the_menu_and_the_window_show_one_account_state() {
        let cases = [
            (
                model(true, None, Some(NOW + 60)),
                AccountStatus::Refreshing,
                "refreshing…",
            ),
            (
                model(false, None, Some(NOW + 3600)),
                AccountStatus::SignedIn,
                "expires in 1 h",
            ),
            (
                model(false, Some("temporarily_unavailable"), None),
                AccountStatus::RefreshFailed,
                "refresh failed (temporarily_unavailable)",
            ),
        ];
        for (state, kind, words) in cases {
            let (line, status, text) = both_faces(&state);
            assert_eq!(status, kind);
            assert!(text.contains(words), "window: {text}");
            assert!(line.ends_with(&text), "menu: {line}, window: {text}");
        }
    }
}
