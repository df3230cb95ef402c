//! The commands the accounts window may call (each declared in `build.rs`
//! and granted explicitly in `capabilities/`, S17). Thin and async: one
//! call into the core or into the module that owns the concern; profile
//! names in, DTOs out; no token ever goes back (S20).
//!
//! Commands reach the app through the managed [`Desktop`] handle rather
//! than an `AppHandle<R>` argument, so the command set stays generic over
//! the runtime (the IPC least-privilege tests run it on tauri's mock
//! runtime).

use std::path::Path;

use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_autostart::ManagerExt as _;
use tokentray_core::token::{now, EpochSecs};
use tokentray_core::ClientSecret;

use crate::activity::{self, ActivityView, RuleRow};
use crate::dto::{
    AccountRow, AccountStatus, AccountsView, ActionButton, AppInfo, ButtonAction, Claims,
    ImportReport, ProfileForm, ProfilesView, SettingsForm, SettingsView, SignInRow, View,
};
use crate::error::CommandError;
use crate::host::Host;
use crate::menu::{self, AccountAction, AccountState, MenuEntry, MenuId, TrayState};
use crate::settings::{self, SettingsState};
use crate::{
    account_view, accounts_window, actions, claims, demo, import_view, login, profile_editor,
    settings_form,
};

/// The running app, as the commands use it.
pub struct Desktop(pub AppHandle);

pub fn init(app: &AppHandle) {
    app.manage(Desktop(app.clone()));
}

#[tauri::command]
pub async fn app_info<R: Runtime>(app: AppHandle<R>) -> Result<AppInfo, CommandError> {
    let config_dir = tokentray_core::profile::config_dir()?;
    Ok(AppInfo {
        version: app.package_info().version.to_string(),
        config_dir: config_dir.display().to_string(),
    })
}

/// The view the window should show now (the tray may have asked for one).
#[tauri::command]
pub async fn take_view<R: Runtime>(app: AppHandle<R>) -> Result<View, CommandError> {
    Ok(accounts_window::take_view(&app))
}

/// The accounts with their state, read as the tray menu reads them.
#[tauri::command]
pub async fn list_accounts(desktop: State<'_, Desktop>) -> Result<AccountsView, CommandError> {
    let state = account_view::current(&desktop.0);
    Ok(accounts_view(&state, now()))
}

/// Copy a token (in Rust, to the clipboard), refresh now or sign out.
#[tauri::command]
pub async fn account_action(
    desktop: State<'_, Desktop>,
    profile: String,
    action: AccountAction,
) -> Result<(), CommandError> {
    actions::run(&desktop.0, action, &profile).await?;
    Ok(())
}

/// Who took which token and who may: the Activity view.
#[tauri::command]
pub async fn list_activity(desktop: State<'_, Desktop>) -> Result<ActivityView, CommandError> {
    let broker = desktop.0.state::<Host>().broker.clone();
    Ok(activity::view(broker.profiles(), now())?)
}

/// Removes one rule of a profile's access.
#[tauri::command]
pub async fn revoke_rule(
    desktop: State<'_, Desktop>,
    profile: String,
    rule: RuleRow,
) -> Result<(), CommandError> {
    let broker = desktop.0.state::<Host>().broker.clone();
    Ok(activity::revoke(broker.profiles(), &profile, &rule)?)
}

/// Starts a sign-in to `profile` (the sign-in window or the browser
/// opens; the outcome is notified and the accounts change).
#[tauri::command]
pub async fn sign_in(desktop: State<'_, Desktop>, profile: String) -> Result<(), CommandError> {
    login::start(&desktop.0, profile);
    Ok(())
}

/// The decoded header and claims of `profile`'s tokens, with what was
/// verified of each.
#[tauri::command]
pub async fn show_claims(
    desktop: State<'_, Desktop>,
    profile: String,
) -> Result<Claims, CommandError> {
    let app = desktop.0.clone();
    blocking(move || Ok(claims::for_profile(&app.state::<Host>().broker, &profile)?)).await
}

/// The profiles as the editor shows them, with the presets it offers.
#[tauri::command]
pub async fn list_profiles(desktop: State<'_, Desktop>) -> Result<ProfilesView, CommandError> {
    let app = desktop.0.clone();
    let profiles = blocking(move || Ok(app.state::<Host>().broker.profiles().load()?)).await?;
    Ok(ProfilesView {
        profiles: profiles.iter().map(profile_editor::form).collect(),
        presets: profile_editor::presets(),
        login_modes: profile_editor::login_modes(),
        default_refresh_margin: i64::try_from(
            settings::get(&desktop.0).default_refresh_margin_secs,
        )
        .unwrap_or(i64::MAX),
    })
}

/// Adds a profile (`original: null`) or changes the one named `original`;
/// the client secret, when given, goes to the vault. Errors name the
/// form's field.
#[tauri::command]
pub async fn save_profile(
    desktop: State<'_, Desktop>,
    original: Option<String>,
    form: ProfileForm,
    client_secret: Option<String>,
) -> Result<(), CommandError> {
    let app = desktop.0.clone();
    let client_secret = client_secret.map(ClientSecret::new);
    let saved = blocking(move || {
        let host = app.state::<Host>();
        let signed_in = match original.as_deref() {
            Some(name) => host.broker.accounts().for_profile(name)?.is_some(),
            None => false,
        };
        profile_editor::save(
            &host.broker,
            signed_in,
            original.as_deref(),
            form,
            client_secret,
        )
    })
    .await?;
    tracing::info!(profile = %saved.name, "profile saved from the accounts window");
    Ok(())
}

/// Signs the profile's account out (revoking its refresh token), then
/// removes the profile and its client secret.
#[tauri::command]
pub async fn remove_profile(desktop: State<'_, Desktop>, name: String) -> Result<(), CommandError> {
    let broker = desktop.0.state::<Host>().broker.clone();
    broker.remove_profile(&name, true).await?;
    tracing::info!(profile = %name, "profile removed from the accounts window");
    Ok(())
}

/// The settings, where they come from, and whether start at login is on.
#[tauri::command]
pub async fn get_settings(desktop: State<'_, Desktop>) -> Result<SettingsView, CommandError> {
    let app = &desktop.0;
    let (current, problem) = settings::current(app);
    let start_at_login = starts_at_login(app)?;
    Ok(SettingsView {
        values: settings_form::form(current, start_at_login),
        overridden: settings::overridden(|name| std::env::var(name).ok()),
        file: app.state::<SettingsState>().path.display().to_string(),
        problem,
    })
}

/// Checks and saves the settings (atomically, to `settings.toml`), applies
/// them, and turns start at login on or off.
#[tauri::command]
pub async fn save_settings(
    desktop: State<'_, Desktop>,
    form: SettingsForm,
) -> Result<(), CommandError> {
    let checked = settings_form::settings(&form)?;
    let app = desktop.0.clone();
    blocking(move || Ok(settings::save(&app, checked)?)).await?;
    let app = &desktop.0;
    if starts_at_login(app)? != form.start_at_login {
        actions::set_autostart(app, form.start_at_login).map_err(|error| CommandError {
            field: Some("start_at_login".into()),
            ..CommandError::new("autostart", error.to_string())
        })?;
        account_view::refresh(app);
    }
    Ok(())
}

/// Imports an MSAL token cache (`dry_run`: only says what it would do);
/// `shred` destroys the file once every account is imported and verified.
#[tauri::command]
pub async fn import_msal(
    desktop: State<'_, Desktop>,
    path: String,
    issuer: Option<String>,
    dry_run: bool,
    shred: bool,
) -> Result<ImportReport, CommandError> {
    let app = desktop.0.clone();
    let report = blocking(move || {
        let broker = &app.state::<Host>().broker;
        import_view::run(broker, Path::new(&path), issuer, dry_run, shred)
    })
    .await?;
    Ok(report)
}

/// Starts the local demo provider and adds the `demo` profile (the
/// first-run panel's "Try it with a local demo provider"); returns the
/// profile's name.
#[tauri::command]
pub async fn start_demo(desktop: State<'_, Desktop>) -> Result<String, CommandError> {
    let app = desktop.0.clone();
    let profile = blocking(move || Ok(demo::start(&app)?)).await?;
    Ok(profile)
}

/// Whether the app starts at login (its autostart entry exists).
fn starts_at_login(app: &AppHandle) -> Result<bool, CommandError> {
    app.autolaunch()
        .is_enabled()
        .map_err(|error| CommandError::new("autostart", error.to_string()))
}

/// Runs blocking work (vault, files) off the async runtime's workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|error| CommandError::new("internal", error.to_string()))?
}

/// The tray's view of the accounts, as the window's DTO: the same texts,
/// labels and order as the menu at `now`.
pub(crate) fn accounts_view(state: &TrayState, now: EpochSecs) -> AccountsView {
    let accounts: Vec<AccountRow> = menu::ordered_accounts(state)
        .into_iter()
        .map(|account| AccountRow {
            profile: account.profile.clone(),
            user: account.user.clone(),
            status: match &account.state {
                AccountState::SignedIn { .. } => AccountStatus::SignedIn,
                AccountState::Refreshing => AccountStatus::Refreshing,
                AccountState::RefreshFailed { .. } => AccountStatus::RefreshFailed,
                AccountState::SignInRequired => AccountStatus::SignInRequired,
            },
            status_text: menu::status(&account.state, now).0,
            next_change: menu::next_status_change(&account.state, now),
            actions: menu::account_entries(account)
                .into_iter()
                .filter_map(button)
                .collect(),
        })
        .collect();
    AccountsView {
        now,
        profiles: state.profiles.clone(),
        next_change: accounts.iter().filter_map(|a| a.next_change).min(),
        sign_ins: state
            .profiles
            .iter()
            .filter(|profile| !state.accounts.iter().any(|a| &a.profile == *profile))
            .map(|profile| SignInRow {
                profile: profile.clone(),
                label: menu::sign_in_label(profile),
            })
            .collect(),
        accounts,
    }
}

/// A submenu item as a card's button.
fn button(entry: MenuEntry) -> Option<ActionButton> {
    let MenuEntry::Item { id, label } = entry else {
        return None;
    };
    let action = match id {
        MenuId::Action(action, _) => ButtonAction::Account { action },
        MenuId::SignIn(_) => ButtonAction::SignIn,
        MenuId::ShowClaims(_) => ButtonAction::ShowClaims,
        _ => return None,
    };
    Some(ActionButton { action, label })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menu::AccountView;
    use tokentray_core::broker::Event;
    use tokentray_core::clock_words;

    fn account(profile: &str, user: &str, state: AccountState) -> AccountView {
        AccountView {
            profile: profile.into(),
            user: user.into(),
            state,
        }
    }

    // S20: the accounts window never receives refresh tokens
    #[test]
    fn the_window_sees_the_menus_accounts_in_profile_order() {
        let state = TrayState {
            profiles: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            accounts: vec![
                account(
                    "b",
                    "bob",
                    AccountState::RefreshFailed {
                        code: "invalid_client".into(),
                    },
                ),
                account("gone", "zed", AccountState::SignInRequired),
                account(
                    "a",
                    "alice",
                    AccountState::SignedIn {
                        expires_at: Some(1_000),
                    },
                ),
                account("c", "carol", AccountState::Refreshing),
            ],
            autostart: false,
        };
        let view = accounts_view(&state, 900);
        assert_eq!(view.now, 900);
        assert_eq!(view.profiles, ["a", "b", "c", "d"]);
        let rows: Vec<(&str, &str, AccountStatus, &str, Option<i64>)> = view
            .accounts
            .iter()
            .map(|row| {
                (
                    row.profile.as_str(),
                    row.user.as_str(),
                    row.status,
                    row.status_text.as_str(),
                    row.next_change,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "a",
                    "alice",
                    AccountStatus::SignedIn,
                    "expires in 1 min",
                    Some(941)
                ),
                (
                    "b",
                    "bob",
                    AccountStatus::RefreshFailed,
                    "refresh failed (invalid_client)",
                    None
                ),
                ("c", "carol", AccountStatus::Refreshing, "refreshing…", None),
                (
                    "gone",
                    "zed",
                    AccountStatus::SignInRequired,
                    "sign-in required",
                    None
                ),
            ]
        );
        assert_eq!(view.next_change, Some(941));
        assert_eq!(
            view.sign_ins,
            [SignInRow {
                profile: "d".into(),
                label: "Sign in to d…".into()
            }]
        );
    }

    /// The buttons are the submenu's items, with its labels, in its order.
    #[test]
    fn the_cards_buttons_are_the_submenus_items() {
        let signed_in = account("a", "alice", AccountState::SignedIn { expires_at: None });
        let required = account("a", "alice", AccountState::SignInRequired);
        for view in [signed_in, required] {
            let submenu: Vec<String> = menu::account_entries(&view)
                .into_iter()
                .filter_map(|entry| match entry {
                    MenuEntry::Item { label, .. } => Some(label),
                    _ => None,
                })
                .collect();
            let state = TrayState {
                profiles: vec!["a".into()],
                accounts: vec![view],
                autostart: false,
            };
            let buttons: Vec<String> = accounts_view(&state, 0).accounts[0]
                .actions
                .iter()
                .map(|b| b.label.clone())
                .collect();
            assert_eq!(buttons, submenu);
        }
        let state = TrayState {
            profiles: vec!["a".into()],
            accounts: vec![account(
                "a",
                "alice",
                AccountState::SignedIn { expires_at: None },
            )],
            autostart: false,
        };
        let actions = &accounts_view(&state, 0).accounts[0].actions;
        assert_eq!(
            actions[1],
            ActionButton {
                action: ButtonAction::Account {
                    action: AccountAction::CopyBearerHeader
                },
                label: "Copy as Authorization: Bearer header".into()
            }
        );
        assert_eq!(actions[4].action, ButtonAction::ShowClaims);
    }

    /// The four wordings that disagreed (menu, notification, CLI status,
    /// window) now all say what `clock_words::expiry` says for the same
    /// instants; the CLI's side is `status_cmd`'s test of the same name.
    #[test]
    fn one_wording_of_time_on_every_surface() {
        let at: EpochSecs = 1_800_000_000;
        let offsets = (0..3 * 3600).chain([2 * 86_400 - 1, 2 * 86_400, 366 * 86_400 + 5]);
        for left in offsets.filter(|left| *left > 0) {
            let now = at - left;
            let words = clock_words::expiry(now, at);
            let state = TrayState {
                profiles: vec!["graph".into()],
                accounts: vec![account(
                    "graph",
                    "alice",
                    AccountState::SignedIn {
                        expires_at: Some(at),
                    },
                )],
                autostart: false,
            };
            let MenuEntry::Submenu { label, .. } = &menu::menu(&state, now).entries[0] else {
                panic!("an account is a submenu");
            };
            assert_eq!(label, &format!("alice · graph · {words}"), "left {left}");
            assert_eq!(accounts_view(&state, now).accounts[0].status_text, words);
            let reminder = Event::ExpiringSoon {
                profile: "graph".into(),
                expires_at: at,
            };
            let note = crate::notify::for_event(&reminder, now).unwrap();
            assert_eq!(
                note.summary,
                format!("The token you copied for graph {words}"),
                "left {left}"
            );
        }
    }
}
