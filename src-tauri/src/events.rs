//! The broker's events the user is told about: notifications, and what a
//! click on one does. (The menu and the accounts window follow the
//! account model, [`crate::account_view`], which reads the events itself.)

use tauri::{AppHandle, Manager};
use tokentray_core::broker::Event;
use tokentray_core::token::now;
use tokio::sync::broadcast::error::RecvError;

use crate::host::Host;
use crate::menu::AccountAction;
use crate::{actions, login, notify};

pub fn init(app: &AppHandle) {
    let (mut events, shutdown) = {
        let host = app.state::<Host>();
        (host.broker.subscribe(), host.shutdown.clone())
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = tokio::select! {
                () = shutdown.cancelled() => return,
                event = events.recv() => event,
            };
            match event {
                Ok(event) => on_event(&app, &event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "broker events missed");
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

fn on_event(app: &AppHandle, event: &Event) {
    if matches!(event, Event::NewProgram { .. }) && !crate::settings::get(app).notify_new_programs {
        return;
    }
    if let Some(note) = notify::for_event(event, now()) {
        notify::show_with_click(note, on_click(app, event));
    }
}

/// Clicking "the token you copied expires soon" copies a fresh one;
/// clicking "sign-in required" starts the sign-in.
fn on_click(app: &AppHandle, event: &Event) -> Option<notify::OnClick> {
    let app = app.clone();
    match event {
        Event::ExpiringSoon { profile, .. } => {
            let profile = profile.clone();
            Some(Box::new(move || {
                actions::account(&app, AccountAction::CopyAccessToken, profile);
            }))
        }
        Event::SignInRequired { profile, .. } | Event::RefreshTokenExpiring { profile, .. } => {
            let profile = profile.clone();
            Some(Box::new(move || login::start(&app, profile)))
        }
        _ => None,
    }
}
