//! The clipboard, written from Rust (S30): the CLIPBOARD selection only
//! (never X11's PRIMARY), with the history-exclusion hint where the
//! platform has one (`x-kde-passwordManagerHint: secret` on Linux). What we
//! put there is cleared after the configured delay and on quit, but only if
//! the clipboard still holds it (S31): a user who copied something else
//! since keeps it.

use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tokentray_core::Secret;

use crate::settings;

/// How long quitting waits for the clipboard's answer.
const QUIT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Default)]
pub struct ClipboardState {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Kept open: on X11 the process that set the clipboard serves it.
    board: Option<arboard::Clipboard>,
    /// What we last put there, while it may still be there.
    ours: Option<Secret>,
    /// Bumped on every copy, so an older auto-clear leaves a newer copy be.
    generation: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("clipboard: {0}")]
pub struct ClipboardError(#[from] arboard::Error);

pub fn init(app: &AppHandle) {
    app.manage(ClipboardState::default());
}

/// Puts `text` on the clipboard and arms its auto-clear.
pub fn copy(app: &AppHandle, text: Secret) -> Result<(), ClipboardError> {
    let state = app.state::<ClipboardState>();
    let generation = {
        let mut inner = state.lock();
        let board = match inner.board.take() {
            Some(board) => board,
            None => arboard::Clipboard::new()?,
        };
        let board = inner.board.insert(board);
        set_secret(board, text.expose())?;
        inner.ours = Some(text);
        inner.generation += 1;
        inner.generation
    };
    let delay = settings::get(app).clipboard_clear;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay).await;
        let cleared = app
            .state::<ClipboardState>()
            .clear_if_ours(Some(generation));
        if cleared {
            tracing::info!("cleared the copied token from the clipboard");
        }
    });
    Ok(())
}

#[cfg(target_os = "linux")]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::{LinuxClipboardKind, SetExtLinux};
    board
        .set()
        .clipboard(LinuxClipboardKind::Clipboard)
        .exclude_from_history()
        .text(text)
}

#[cfg(target_os = "macos")]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtApple;
    board.set().exclude_from_history().text(text)
}

/// Windows: `ExcludeClipboardContentFromMonitorProcessing`,
/// `CanUploadToCloudClipboard` = 0 and `CanIncludeInClipboardHistory` = 0,
/// so clipboard managers, the cloud clipboard and Win+V history skip it.
#[cfg(target_os = "windows")]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtWindows;
    board
        .set()
        .exclude_from_monitoring()
        .exclude_from_cloud()
        .exclude_from_history()
        .text(text)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    board.set().text(text)
}

impl ClipboardState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Clears the clipboard if it still holds what we put there (and, with
    /// `generation`, only if nothing was copied since). Returns whether it
    /// cleared.
    pub fn clear_if_ours(&self, generation: Option<u64>) -> bool {
        let mut inner = self.lock();
        if generation.is_some_and(|g| g != inner.generation) {
            return false;
        }
        let Some(ours) = inner.ours.take() else {
            return false;
        };
        let Some(board) = inner.board.as_mut() else {
            return false;
        };
        // read back into a zeroizing wrapper: it may be our token
        match board.get_text().map(Secret::new) {
            Ok(current) if current.expose() == ours.expose() => match board.clear() {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, "cannot clear the clipboard");
                    false
                }
            },
            Ok(_) => {
                tracing::debug!("the clipboard holds something else now; left alone");
                false
            }
            Err(error) => {
                tracing::debug!(%error, "cannot read the clipboard; left alone");
                false
            }
        }
    }
}

/// On quit: clears our token if it is still on the clipboard. Runs on the
/// main thread, which also serves what the app's own webview copied: when
/// that is on the clipboard, reading it would wait for this very thread,
/// so the check runs aside and is given up after [`QUIT_WAIT`] (our token
/// is served by arboard's own thread and answers at once).
pub fn clear_on_quit(app: &AppHandle) {
    if app.try_state::<ClipboardState>().is_none() {
        return;
    }
    let (done, cleared) = std::sync::mpsc::channel();
    let app = app.clone();
    std::thread::spawn(move || {
        let _ = done.send(app.state::<ClipboardState>().clear_if_ours(None));
    });
    match cleared.recv_timeout(QUIT_WAIT) {
        Ok(true) => tracing::info!("cleared the copied token from the clipboard on quit"),
        Ok(false) => {}
        Err(_) => tracing::info!("the clipboard holds what a window of ours copied; left alone"),
    }
}
