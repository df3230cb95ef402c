//! The app's few settings. Defaults are the product's; environment variables
//! override them (tests use short delays).

use std::time::Duration;

use tauri::{AppHandle, Manager};
use tokentray_core::token::EpochSecs;

/// Seconds before a copied token is cleared from the clipboard (S31).
pub const CLIPBOARD_CLEAR_ENV: &str = "TOKENTRAY_CLIPBOARD_CLEAR_SECS";
/// Seconds before a copied token expires that the user is reminded.
pub const REMINDER_LEAD_ENV: &str = "TOKENTRAY_REMINDER_LEAD_SECS";

const DEFAULT_CLIPBOARD_CLEAR: Duration = Duration::from_secs(30);
const DEFAULT_REMINDER_LEAD_SECS: EpochSecs = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub clipboard_clear: Duration,
    pub reminder_lead_secs: EpochSecs,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear: DEFAULT_CLIPBOARD_CLEAR,
            reminder_lead_secs: DEFAULT_REMINDER_LEAD_SECS,
        }
    }
}

impl Settings {
    /// The defaults, overridden by the environment (`lookup` is
    /// `std::env::var` outside tests). An unusable value is logged and
    /// ignored.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Settings::default();
        if let Some(secs) = seconds(&lookup, CLIPBOARD_CLEAR_ENV) {
            settings.clipboard_clear = Duration::from_secs(secs);
        }
        if let Some(secs) = seconds(&lookup, REMINDER_LEAD_ENV) {
            settings.reminder_lead_secs = EpochSecs::try_from(secs).unwrap_or(EpochSecs::MAX);
        }
        settings
    }
}

fn seconds(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<u64> {
    let value = lookup(name)?;
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Some(secs),
        _ => {
            tracing::warn!(name, value, "ignoring: not a positive number of seconds");
            None
        }
    }
}

pub fn init(app: &AppHandle) {
    let settings = Settings::from_lookup(|name| std::env::var(name).ok());
    tracing::info!(?settings, "settings");
    app.manage(settings);
}

/// The app's settings (managed since start-up).
pub fn get(app: &AppHandle) -> Settings {
    app.try_state::<Settings>()
        .map(|s| *s.inner())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::from_lookup(|_| None), Settings::default());
        assert_eq!(Settings::default().clipboard_clear, Duration::from_secs(30));
        let settings = Settings::from_lookup(|name| match name {
            CLIPBOARD_CLEAR_ENV => Some("3".into()),
            REMINDER_LEAD_ENV => Some(" 60 ".into()),
            _ => None,
        });
        assert_eq!(settings.clipboard_clear, Duration::from_secs(3));
        assert_eq!(settings.reminder_lead_secs, 60);
        let ignored = Settings::from_lookup(|_| Some("soon".into()));
        assert_eq!(ignored, Settings::default());
        assert_eq!(
            Settings::from_lookup(|_| Some("0".into())),
            Settings::default()
        );
    }
}
