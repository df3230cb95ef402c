//! The accounts window's settings view: the running settings as a form,
//! and a form checked into settings with the file's bounds (an error
//! names the file's key).

use std::time::Duration;

use tokentray_core::token::EpochSecs;

use crate::dto::SettingsForm;
use crate::settings::{
    ClipboardClearSecs, RefreshMarginSecs, ReminderLeadSecs, Settings, CLIPBOARD_CLEAR_KEY,
    REFRESH_MARGIN_KEY, REMINDER_LEAD_KEY,
};
use crate::CommandError;

pub fn form(settings: Settings, start_at_login: bool) -> SettingsForm {
    let secs = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    SettingsForm {
        clipboard_clear_secs: secs(settings.clipboard_clear.as_secs()),
        reminder_lead_secs: settings.reminder_lead_secs,
        default_refresh_margin_secs: secs(settings.default_refresh_margin_secs),
        notify_new_programs: settings.notify_new_programs,
        start_at_login,
    }
}

pub fn settings(form: &SettingsForm) -> Result<Settings, CommandError> {
    let clipboard = ClipboardClearSecs::check(form.clipboard_clear_secs)
        .map_err(|m| field_error(CLIPBOARD_CLEAR_KEY, m))?;
    let lead = ReminderLeadSecs::check(form.reminder_lead_secs)
        .map_err(|m| field_error(REMINDER_LEAD_KEY, m))?;
    let margin = RefreshMarginSecs::check(form.default_refresh_margin_secs)
        .map_err(|m| field_error(REFRESH_MARGIN_KEY, m))?;
    Ok(Settings {
        clipboard_clear: Duration::from_secs(clipboard),
        reminder_lead_secs: EpochSecs::try_from(lead).unwrap_or(EpochSecs::MAX),
        default_refresh_margin_secs: margin,
        notify_new_programs: form.notify_new_programs,
    })
}

fn field_error(key: &str, message: String) -> CommandError {
    CommandError::for_field(key, format!("`{key}` {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_round_trips_and_bad_values_name_their_key() {
        let settings = Settings {
            clipboard_clear: Duration::from_secs(12),
            reminder_lead_secs: 240,
            default_refresh_margin_secs: 0,
            notify_new_programs: false,
        };
        let form = form(settings, true);
        assert!(form.start_at_login);
        assert_eq!(super::settings(&form).unwrap(), settings);
        for (bad, key) in [
            (
                SettingsForm {
                    clipboard_clear_secs: 0,
                    ..form.clone()
                },
                CLIPBOARD_CLEAR_KEY,
            ),
            (
                SettingsForm {
                    reminder_lead_secs: -5,
                    ..form.clone()
                },
                REMINDER_LEAD_KEY,
            ),
            (
                SettingsForm {
                    default_refresh_margin_secs: 100_000,
                    ..form.clone()
                },
                REFRESH_MARGIN_KEY,
            ),
        ] {
            let error = super::settings(&bad).unwrap_err();
            assert_eq!(error.field.as_deref(), Some(key), "{}", error.message);
            assert_eq!(error.kind, "invalid_input");
        }
    }
}
