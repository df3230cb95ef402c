//! Desktop notifications: what the user is told and when. Texts carry
//! profile names, user names, error codes and times (in the core's one
//! wording, [`clock_words`]), never token material (S32).

use tokentray_core::broker::Event;
use tokentray_core::clock_words;
use tokentray_core::token::EpochSecs;

const APP_NAME: &str = "Tokentray";
/// The app's identifier (`tauri.conf.json`), as Windows' AppUserModelID.
#[cfg(target_os = "windows")]
const APP_USER_MODEL_ID: &str = "dev.tokentray.app";

/// A notification's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub summary: String,
    pub body: String,
}

impl Note {
    fn new(summary: String, body: &str) -> Self {
        Self {
            summary,
            body: body.to_owned(),
        }
    }
}

/// What to tell the user about a broker event, if anything.
pub fn for_event(event: &Event, now: EpochSecs) -> Option<Note> {
    match event {
        Event::ExpiringSoon {
            profile,
            expires_at,
        } => Some(Note::new(
            format!(
                "The token you copied for {profile} {}",
                clock_words::expiry(now, *expires_at)
            ),
            "Copy a fresh one from the Tokentray menu.",
        )),
        Event::RefreshFailed { profile, code } => Some(Note::new(
            format!("Refresh failed for {profile}: {code}"),
            "Tokentray will try again; the current token stays usable until it expires.",
        )),
        Event::SignInRequired { profile, .. } => Some(Note::new(
            format!("Sign-in required for {profile}"),
            "Choose the account in the Tokentray menu to sign in again.",
        )),
        Event::RefreshTokenExpiring {
            profile,
            expires_at,
        } => Some(Note::new(
            format!(
                "Your sign-in for {profile} ends {}",
                clock_words::relative(now, *expires_at)
            ),
            "Sign in again before then to keep tokens coming.",
        )),
        Event::VaultWriteFailed { profile, message } => Some(Note::new(
            format!("Could not store the new token for {profile}"),
            &format!("{message}. If Tokentray quits before the vault takes it, sign in to {profile} again."),
        )),
        Event::NewProgram { profile, program } => Some(Note::new(
            format!("A new program took a token of {profile}"),
            &format!(
                "{program}. Any program of yours may (access = any); to be asked first, set the profile to “Programs I allow” or run `tokentray access set {profile} confirm`."
            ),
        )),
        Event::AccountsChanged
        | Event::ProfilesChanged
        | Event::Refreshing { .. }
        | Event::Refreshed { .. } => None,
    }
}

/// "Signed in as USER".
pub fn signed_in(user: &str, profile: &str) -> Note {
    Note::new(
        format!("Signed in as {user}"),
        &format!("Profile {profile}"),
    )
}

/// A failed action the user started from the menu.
pub fn failed(what: &str, profile: &str, error: &dyn std::fmt::Display) -> Note {
    Note::new(format!("{what} failed for {profile}"), &error.to_string())
}

/// The settings file could not be read: the app runs without it.
pub fn settings_not_applied(error: &dyn std::fmt::Display) -> Note {
    Note::new(
        "Tokentray settings not applied".to_owned(),
        &error.to_string(),
    )
}

/// Shows `note` without blocking the caller (the D-Bus call runs on the
/// blocking pool); failures are logged.
pub fn show(note: Note) {
    show_with_click(note, None);
}

/// What clicking a notification does (where the platform has actions).
pub type OnClick = Box<dyn FnOnce() + Send + 'static>;

/// [`show`], and runs `on_click` if the user clicks the notification. The
/// wait for the click holds a blocking-pool thread until the notification
/// closes.
pub fn show_with_click(note: Note, on_click: Option<OnClick>) {
    tauri::async_runtime::spawn_blocking(move || {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(APP_NAME)
            .summary(&note.summary)
            .body(&note.body);
        // Windows shows toasts under an AppUserModelID: the app's
        // identifier, which the installer gives its Start menu shortcut.
        #[cfg(target_os = "windows")]
        notification.app_id(APP_USER_MODEL_ID);
        if on_click.is_some() {
            notification.action(CLICK_ACTION, "Open");
        }
        match notification.show() {
            Ok(handle) => {
                // not the text: a device sign-in's note carries its user code
                tracing::info!("notified");
                if let Some(on_click) = on_click {
                    wait_for_click(handle, on_click);
                }
            }
            Err(error) => tracing::warn!(%error, "cannot show a notification"),
        }
    });
}

/// The action a click on the notification's body sends (freedesktop spec).
const CLICK_ACTION: &str = "default";

#[cfg(all(unix, not(target_os = "macos")))]
fn wait_for_click(handle: notify_rust::NotificationHandle, on_click: OnClick) {
    handle.wait_for_action(|action| {
        if action == CLICK_ACTION {
            tracing::info!("notification clicked");
            on_click();
        }
    });
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn wait_for_click(_handle: notify_rust::NotificationHandle, _on_click: OnClick) {}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochSecs = 1_800_000_000;

    // S32: no token material on other surfaces
    #[test]
    fn texts() {
        let expiring = Event::ExpiringSoon {
            profile: "graph".into(),
            expires_at: NOW + 300,
        };
        assert_eq!(
            for_event(&expiring, NOW).map(|n| n.summary).as_deref(),
            Some("The token you copied for graph expires in 5 min")
        );
        let failed = Event::RefreshFailed {
            profile: "graph".into(),
            code: "temporarily_unavailable".into(),
        };
        assert_eq!(
            for_event(&failed, NOW).map(|n| n.summary).as_deref(),
            Some("Refresh failed for graph: temporarily_unavailable")
        );
        let refused = Event::VaultWriteFailed {
            profile: "graph".into(),
            message: "the OS vault is locked: Collection is locked".into(),
        };
        let note = for_event(&refused, NOW).unwrap();
        assert_eq!(note.summary, "Could not store the new token for graph");
        assert!(
            note.body.contains("the OS vault is locked"),
            "{}",
            note.body
        );
        assert!(
            note.body.contains("sign in to graph again"),
            "{}",
            note.body
        );
        for quiet in [
            Event::Refreshing {
                profile: "graph".into(),
            },
            Event::ProfilesChanged,
        ] {
            assert_eq!(for_event(&quiet, NOW), None);
        }
        let required = Event::SignInRequired {
            profile: "graph".into(),
            reason: "invalid_grant".into(),
        };
        assert_eq!(
            for_event(&required, NOW).map(|n| n.summary).as_deref(),
            Some("Sign-in required for graph")
        );
        assert_eq!(for_event(&Event::AccountsChanged, NOW), None);
        assert_eq!(
            signed_in("alice@contoso", "graph").summary,
            "Signed in as alice@contoso"
        );
        let ending = Event::RefreshTokenExpiring {
            profile: "graph".into(),
            expires_at: NOW + 3 * 3600 + 59,
        };
        assert_eq!(
            for_event(&ending, NOW).map(|n| n.summary).as_deref(),
            Some("Your sign-in for graph ends in 3 h")
        );
        // a reminder that comes a second late says what the menu says
        assert_eq!(
            for_event(&expiring, NOW + 1).map(|n| n.summary).as_deref(),
            Some("The token you copied for graph expires in 4 min")
        );
        let new_program = Event::NewProgram {
            profile: "graph".into(),
            program: "python3 /home/a/sync.py ← bash".into(),
        };
        let note = for_event(&new_program, NOW).unwrap();
        assert_eq!(note.summary, "A new program took a token of graph");
        assert!(
            note.body.starts_with("python3 /home/a/sync.py ← bash."),
            "{}",
            note.body
        );
        assert!(
            note.body.contains("tokentray access set graph confirm"),
            "{}",
            note.body
        );
    }
}
