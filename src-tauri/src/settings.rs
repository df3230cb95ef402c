//! The app's few settings: the product's defaults, then `settings.toml` in
//! the config directory (written atomically by the accounts window), then
//! environment variables (tests use short delays). A file that does not
//! parse is reported with file, line and key, never silently replaced: the
//! app runs on the other layers and says so until the file is fixed or
//! saved again from the window.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tauri::{AppHandle, Manager, Runtime};
use tokentray_core::profile::{self, DEFAULT_REFRESH_MARGIN_SECS, MAX_REFRESH_MARGIN_SECS};
use tokentray_core::token::EpochSecs;

/// Seconds before a copied token is cleared from the clipboard (S31).
pub const CLIPBOARD_CLEAR_ENV: &str = "TOKENTRAY_CLIPBOARD_CLEAR_SECS";
/// Seconds before a copied token expires that the user is reminded.
pub const REMINDER_LEAD_ENV: &str = "TOKENTRAY_REMINDER_LEAD_SECS";
/// The settings file, in the config directory next to `profiles.toml`.
pub const FILE_NAME: &str = "settings.toml";

const DEFAULT_CLIPBOARD_CLEAR: Duration = Duration::from_secs(30);
const DEFAULT_REMINDER_LEAD_SECS: EpochSecs = 5 * 60;

/// The file's keys, with their bounds in seconds.
pub const CLIPBOARD_CLEAR_KEY: &str = "clipboard_clear_secs";
pub const REMINDER_LEAD_KEY: &str = "reminder_lead_secs";
pub const REFRESH_MARGIN_KEY: &str = "default_refresh_margin_secs";
pub const NOTIFY_NEW_PROGRAMS_KEY: &str = "notify_new_programs";
pub type ClipboardClearSecs = Bounded<1, 3_600>;
pub type ReminderLeadSecs = Bounded<1, 86_400>;
pub type RefreshMarginSecs = Bounded<0, MAX_REFRESH_MARGIN_SECS>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub clipboard_clear: Duration,
    pub reminder_lead_secs: EpochSecs,
    /// The refresh margin a new profile starts with in the editor.
    pub default_refresh_margin_secs: u64,
    /// Tell the user when a program takes a token of an `access = "any"`
    /// profile for the first time.
    pub notify_new_programs: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            clipboard_clear: DEFAULT_CLIPBOARD_CLEAR,
            reminder_lead_secs: DEFAULT_REMINDER_LEAD_SECS,
            default_refresh_margin_secs: DEFAULT_REFRESH_MARGIN_SECS,
            notify_new_programs: true,
        }
    }
}

/// `settings.toml` as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    clipboard_clear_secs: Option<ClipboardClearSecs>,
    reminder_lead_secs: Option<ReminderLeadSecs>,
    default_refresh_margin_secs: Option<RefreshMarginSecs>,
    notify_new_programs: Option<bool>,
}

/// A number of seconds in `MIN..=MAX`, refused (with its location) when
/// the file holds another.
#[derive(Debug, Clone, Copy)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn check(value: i64) -> Result<u64, String> {
        u64::try_from(value)
            .ok()
            .filter(|v| (MIN..=MAX).contains(v))
            .ok_or_else(|| format!("must be between {MIN} and {MAX} seconds, not {value}"))
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        Self::check(value)
            .map(Bounded)
            .map_err(serde::de::Error::custom)
    }
}

impl Settings {
    /// The defaults, overridden by the environment (`lookup` is
    /// `std::env::var` outside tests). An unusable value is logged and
    /// ignored.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Settings::default().with_env(lookup)
    }

    /// These settings with what the file sets.
    pub fn with_file(mut self, file: &SettingsFile) -> Self {
        if let Some(Bounded(secs)) = file.clipboard_clear_secs {
            self.clipboard_clear = Duration::from_secs(secs);
        }
        if let Some(Bounded(secs)) = file.reminder_lead_secs {
            self.reminder_lead_secs = EpochSecs::try_from(secs).unwrap_or(EpochSecs::MAX);
        }
        if let Some(Bounded(secs)) = file.default_refresh_margin_secs {
            self.default_refresh_margin_secs = secs;
        }
        if let Some(notify) = file.notify_new_programs {
            self.notify_new_programs = notify;
        }
        self
    }

    /// These settings with what the environment overrides.
    pub fn with_env(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(secs) = seconds(&lookup, CLIPBOARD_CLEAR_ENV) {
            self.clipboard_clear = Duration::from_secs(secs);
        }
        if let Some(secs) = seconds(&lookup, REMINDER_LEAD_ENV) {
            self.reminder_lead_secs = EpochSecs::try_from(secs).unwrap_or(EpochSecs::MAX);
        }
        self
    }

    /// The file's text for these settings.
    pub fn to_toml(self) -> String {
        format!(
            "# Tokentray tray app settings (the accounts window writes this file).\n\
             {CLIPBOARD_CLEAR_KEY} = {}\n{REMINDER_LEAD_KEY} = {}\n{REFRESH_MARGIN_KEY} = {}\n\
             {NOTIFY_NEW_PROGRAMS_KEY} = {}\n",
            self.clipboard_clear.as_secs(),
            self.reminder_lead_secs,
            self.default_refresh_margin_secs,
            self.notify_new_programs
        )
    }
}

/// The environment variables that override a key of the file, when set.
pub fn overridden(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    [
        (CLIPBOARD_CLEAR_ENV, CLIPBOARD_CLEAR_KEY),
        (REMINDER_LEAD_ENV, REMINDER_LEAD_KEY),
    ]
    .into_iter()
    .filter(|(env, _)| seconds(&lookup, env).is_some())
    .map(|(_, key)| key.to_owned())
    .collect()
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

/// Reads the settings file (`Ok(None)`: there is none).
pub fn read_file(path: &Path) -> Result<Option<SettingsFile>, tokentray_core::Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => profile::parse_toml(path, &text).map(Some),
        Err(error) if matches!(error.kind(), std::io::ErrorKind::NotFound) => Ok(None),
        Err(error) => Err(tokentray_core::Error::io("cannot read", path, error)),
    }
}

/// The settings as the app runs with them, where they come from, and what
/// was wrong with the file, if anything.
pub struct SettingsState {
    pub path: PathBuf,
    current: Mutex<(Settings, Option<String>)>,
}

pub fn init(app: &AppHandle) -> Result<(), tokentray_core::Error> {
    let path = profile::config_dir()?.join(FILE_NAME);
    let env = |name: &str| std::env::var(name).ok();
    let (settings, problem) = match read_file(&path) {
        Ok(file) => (
            Settings::default()
                .with_file(&file.unwrap_or_default())
                .with_env(env),
            None,
        ),
        Err(error) => {
            tracing::error!(kind = %error.kind(), "settings not applied: {error}");
            crate::notify::show(crate::notify::settings_not_applied(&error));
            (Settings::from_lookup(env), Some(error.to_string()))
        }
    };
    tracing::info!(?settings, "settings");
    app.manage(SettingsState {
        path,
        current: Mutex::new((settings, problem)),
    });
    Ok(())
}

/// The app's settings (managed since start-up).
pub fn get<R: Runtime>(app: &AppHandle<R>) -> Settings {
    current(app).0
}

/// The settings and the file's problem, if any.
pub fn current<R: Runtime>(app: &AppHandle<R>) -> (Settings, Option<String>) {
    app.try_state::<SettingsState>()
        .map(|state| {
            state
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        })
        .unwrap_or_default()
}

/// Writes `settings` to the file and applies them (the environment still
/// overrides what it sets).
pub fn save<R: Runtime>(
    app: &AppHandle<R>,
    settings: Settings,
) -> Result<(), tokentray_core::Error> {
    let Some(state) = app.try_state::<SettingsState>() else {
        return Ok(());
    };
    profile::write_config_file(&state.path, settings.to_toml().as_bytes())?;
    let applied = settings.with_env(|name| std::env::var(name).ok());
    *state.current.lock().unwrap_or_else(|p| p.into_inner()) = (applied, None);
    tracing::info!(settings = ?applied, "settings saved");
    Ok(())
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

    #[test]
    fn the_file_round_trips_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg").join(FILE_NAME);
        assert!(read_file(&path).unwrap().is_none());
        let saved = Settings {
            clipboard_clear: Duration::from_secs(10),
            reminder_lead_secs: 120,
            default_refresh_margin_secs: 600,
            notify_new_programs: false,
        };
        profile::write_config_file(&path, saved.to_toml().as_bytes()).unwrap();
        let file = read_file(&path).unwrap().unwrap();
        assert_eq!(Settings::default().with_file(&file), saved);
        let env = |name: &str| (name == CLIPBOARD_CLEAR_ENV).then(|| "3".to_owned());
        let effective = Settings::default().with_file(&file).with_env(env);
        assert_eq!(effective.clipboard_clear, Duration::from_secs(3));
        assert_eq!(effective.reminder_lead_secs, 120);
        assert_eq!(overridden(env), [CLIPBOARD_CLEAR_KEY]);
        // only the given keys change the defaults
        std::fs::write(&path, "reminder_lead_secs = 90\n").unwrap();
        let file = read_file(&path).unwrap().unwrap();
        assert_eq!(
            Settings::default().with_file(&file),
            Settings {
                reminder_lead_secs: 90,
                ..Settings::default()
            }
        );
    }

    #[test]
    fn a_bad_file_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        for (text, line, key, says) in [
            (
                "# mine\nclipboard_clear_secs = 0\n",
                2,
                "clipboard_clear_secs",
                "between 1 and 3600",
            ),
            (
                "reminder_lead_secs = 60\ndefault_refresh_margin_secs = \"5 min\"\n",
                2,
                "default_refresh_margin_secs",
                "invalid type",
            ),
            (
                "clipboard_clear_secs = 10\nshout = true\n",
                2,
                "shout",
                "shout",
            ),
            ("clipboard_clear_secs = \n", 1, "clipboard_clear_secs", ""),
        ] {
            std::fs::write(&path, text).unwrap();
            let Err(error) = read_file(&path) else {
                panic!("{text:?} was accepted");
            };
            let message = error.to_string();
            assert_eq!(error.kind(), tokentray_core::ErrorKind::Config, "{message}");
            assert!(
                message.starts_with(&format!("{}:{line}:", path.display())),
                "{message}"
            );
            assert!(message.contains(&format!("(key `{key}`)")), "{message}");
            assert!(message.contains(says), "{message}");
        }
    }
}
