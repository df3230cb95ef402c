//! What the account submenu's items do: one call into the core each, then
//! the clipboard (tokens never leave Rust) and the reminder timer.

use std::time::Duration;

use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt as _;
use tokentray_core::broker::TokenRequest;
use tokentray_core::schedule;
use tokentray_core::Secret;

use crate::clipboard::{self, ClipboardError};
use crate::error::CommandError;
use crate::host::Host;
use crate::menu::AccountAction;
use crate::{account_view, notify, settings};

/// A copied access token stays valid at least this long.
const COPY_MIN_VALID: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Core(#[from] tokentray_core::Error),
    #[error(transparent)]
    Clipboard(#[from] ClipboardError),
    #[error("the provider sent no ID token for {0}")]
    NoIdToken(String),
}

impl From<ActionError> for CommandError {
    fn from(error: ActionError) -> Self {
        match error {
            ActionError::Core(error) => error.into(),
            ActionError::Clipboard(error) => CommandError::new("clipboard", error.to_string()),
            ActionError::NoIdToken(_) => CommandError::new("not_found", error.to_string()),
        }
    }
}

/// Runs `action` on `profile`'s account in the background; a failure is
/// logged and notified.
pub fn account(app: &AppHandle, action: AccountAction, profile: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = run(&app, action, &profile).await {
            tracing::warn!(%profile, ?action, "menu action failed: {error}");
            notify::show(notify::failed(action.label(), &profile, &error));
        }
    });
}

/// Runs `action` on `profile`'s account (for the accounts window, which
/// shows the error itself).
pub async fn run(app: &AppHandle, action: AccountAction, profile: &str) -> Result<(), ActionError> {
    let (broker, schedule) = {
        let host = app.state::<Host>();
        (host.broker.clone(), host.schedule.clone())
    };
    match action {
        AccountAction::CopyAccessToken | AccountAction::CopyBearerHeader => {
            let request = TokenRequest {
                min_valid: Some(COPY_MIN_VALID),
                ..TokenRequest::for_profile(profile)
            };
            let token = broker.token(&request).await?.token;
            let text = if action == AccountAction::CopyBearerHeader {
                Secret::new(format!("Authorization: Bearer {}", token.token.expose()))
            } else {
                token.token.into_secret()
            };
            clipboard::copy(app, text)?;
            let lead = settings::get(app).reminder_lead_secs;
            schedule::remind_before_expiry(&schedule, profile, token.expires_at, lead);
            tracing::info!(%profile, ?action, expires_at = token.expires_at, "token copied");
        }
        AccountAction::CopyIdToken => {
            let id_token = broker
                .accounts()
                .for_profile(profile)?
                .map(|account| broker.accounts().record(&account))
                .transpose()?
                .flatten()
                .and_then(|record| record.id_token)
                .ok_or_else(|| ActionError::NoIdToken(profile.to_owned()))?;
            clipboard::copy(app, id_token.into_secret())?;
            tracing::info!(%profile, "ID token copied");
        }
        AccountAction::RefreshNow => {
            // The broker announces the refresh and its outcome; the menu
            // and the window show both from the core's status.
            let request = TokenRequest {
                force_refresh: true,
                ..TokenRequest::for_profile(profile)
            };
            broker.token(&request).await?;
        }
        AccountAction::SignOut => {
            broker.sign_out(profile).await?;
            tracing::info!(%profile, "signed out");
        }
    }
    Ok(())
}

/// Turns start at login on or off, then shows the truth in the menu.
pub fn toggle_autostart(app: &AppHandle) {
    let toggled = app
        .autolaunch()
        .is_enabled()
        .and_then(|enabled| set_autostart(app, !enabled));
    if let Err(error) = toggled {
        tracing::warn!(%error, "cannot change start at login");
    }
    account_view::refresh(app);
}

/// Turns start at login on or off (the XDG autostart entry on Linux).
pub fn set_autostart(app: &AppHandle, enabled: bool) -> Result<(), tauri_plugin_autostart::Error> {
    let manager = app.autolaunch();
    if enabled {
        manager.enable()
    } else {
        manager.disable()
    }
}
