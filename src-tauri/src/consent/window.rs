//! The dialog's window follows the shown question: one task (woken by the
//! queue's `watch` channel, never polling) opens the window for the first
//! question, retitles and reloads it for the next (the page reads its
//! question again), and destroys it when none is left.
//!
//! The window never takes the keyboard focus on its own (`focused(false)`:
//! no focus on map, no grab), so the user's typing elsewhere goes on; it
//! stays on top so that it is seen. Closing it denies its question.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

use super::queue::{Questions, Shown};

/// The window's label, as in `capabilities/consent.json`.
pub const LABEL: &str = "consent";

/// How long to wait before trying again when the window cannot be made,
/// and how often; a quarter of it between looks whether a destroyed one
/// is gone.
const RETRY: Duration = Duration::from_millis(200);
const TRIES: u32 = 10;

/// Spawns the task that keeps the window on the shown question.
pub fn follow(app: &AppHandle, questions: &Arc<Questions>) {
    let app = app.clone();
    let questions = Arc::clone(questions);
    let mut shown = questions.subscribe();
    tauri::async_runtime::spawn(async move {
        let mut failed = 0;
        loop {
            let wanted = shown.borrow_and_update().clone();
            match show(&app, &questions, wanted.as_ref()) {
                Ok(()) if wanted.is_none() => {
                    failed = 0;
                    closed(&app).await;
                }
                Ok(()) => failed = 0,
                Err(error) if failed < TRIES => {
                    failed += 1;
                    tracing::debug!(%error, "the consent dialog: trying again");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
                Err(error) => tracing::warn!(%error, "cannot show the consent dialog"),
            }
            if shown.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Waits (a little) until a destroyed window has left the app: until
/// then a next question would be shown in the closing window.
async fn closed(app: &AppHandle) {
    for _ in 0..TRIES {
        if app.get_webview_window(LABEL).is_none() {
            return;
        }
        tokio::time::sleep(RETRY / 4).await;
    }
}

/// Makes the window show `wanted` (or go away).
fn show(app: &AppHandle, questions: &Arc<Questions>, wanted: Option<&Shown>) -> tauri::Result<()> {
    match (app.get_webview_window(LABEL), wanted) {
        (None, None) => Ok(()),
        (Some(window), None) => window.destroy(),
        (Some(window), Some(shown)) => {
            window.set_title(&shown.title)?;
            window.reload()
        }
        (None, Some(shown)) => {
            let window =
                WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("consent.html".into()))
                    .title(&shown.title)
                    .inner_size(480.0, 440.0)
                    .resizable(false)
                    .minimizable(false)
                    .maximizable(false)
                    .always_on_top(true)
                    .focused(false)
                    .center()
                    .build()?;
            let questions = Arc::clone(questions);
            window.on_window_event(move |event| {
                if let WindowEvent::CloseRequested { api, .. } = event {
                    api.prevent_close();
                    questions.deny_shown();
                }
            });
            tracing::info!("consent dialog opened");
            Ok(())
        }
    }
}
