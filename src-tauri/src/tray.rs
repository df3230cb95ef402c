//! The tray icon and its native menu, rendered from [`crate::menu::menu`].
//!
//! One task owns the menu: it reads the accounts' state, renders the model,
//! then sleeps until the model's next minute boundary (only while a
//! countdown is shown) or until [`rebuild`] wakes it (broker events, menu
//! actions). Nothing polls. Handlers only dispatch.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tokentray_core::token::{now, ScopeSet};
use tokio::sync::Notify;

use crate::dto::View;
use crate::host::Host;
use crate::menu::{
    self, AccountState, AccountView, IconState, MenuEntry, MenuId, MenuModel, TrayState,
};
use crate::{accounts_window, actions, login};

const TRAY_ID: &str = "main";
const ICON_OK: &[u8] = include_bytes!("../../icons/tray-ok.png");
const ICON_WARNING: &[u8] = include_bytes!("../../icons/tray-warning.png");
const ICON_SIGN_IN: &[u8] = include_bytes!("../../icons/tray-signin.png");

/// The tray's own state: what the broker does not know.
#[derive(Default)]
pub struct Tray {
    wake: Arc<Notify>,
    activity: Mutex<Activity>,
}

#[derive(Default, Clone)]
struct Activity {
    /// Profiles with a "Refresh now" running.
    refreshing: HashSet<String>,
    /// Profiles whose last refresh failed, with the error code.
    failed: HashMap<String, String>,
}

pub fn init(app: &AppHandle) -> tauri::Result<()> {
    let model = menu::menu(&TrayState::default(), now());
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon)?)
        .tooltip(&model.tooltip)
        .menu(&native_menu(app, &model.entries)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    let tray = Tray::default();
    let wake = Arc::clone(&tray.wake);
    app.manage(tray);
    tauri::async_runtime::spawn(keep_current(app.clone(), wake));
    Ok(())
}

/// Asks the menu task to rebuild the menu now.
pub fn rebuild(app: &AppHandle) {
    if let Some(tray) = app.try_state::<Tray>() {
        tray.wake.notify_one();
    }
}

/// Marks a "Refresh now" as running or done.
pub fn set_refreshing(app: &AppHandle, profile: &str, refreshing: bool) {
    update(app, |activity| {
        if refreshing {
            activity.refreshing.insert(profile.to_owned());
        } else {
            activity.refreshing.remove(profile);
        }
    });
}

/// Records the outcome of a profile's last refresh (`None`: it worked).
pub fn set_failed(app: &AppHandle, profile: &str, code: Option<&str>) {
    update(app, |activity| match code {
        Some(code) => {
            activity.failed.insert(profile.to_owned(), code.to_owned());
        }
        None => {
            activity.failed.remove(profile);
        }
    });
}

fn update(app: &AppHandle, change: impl FnOnce(&mut Activity)) {
    if let Some(tray) = app.try_state::<Tray>() {
        change(&mut tray.activity.lock().unwrap_or_else(|p| p.into_inner()));
        tray.wake.notify_one();
    }
    accounts_window::accounts_changed(app);
}

/// The menu task: render, then sleep until the next label change or a
/// wake-up, until quit.
async fn keep_current(app: AppHandle, wake: Arc<Notify>) {
    let shutdown = app.state::<Host>().shutdown.clone();
    loop {
        let reader = app.clone();
        let state = match tauri::async_runtime::spawn_blocking(move || snapshot(&reader)).await {
            Ok(state) => state,
            Err(error) => {
                tracing::warn!(%error, "cannot read the accounts for the menu");
                TrayState::default()
            }
        };
        let model = menu::menu(&state, now());
        if let Err(error) = render(&app, &model) {
            tracing::warn!(%error, "cannot update the tray");
        }
        let sleep = match model.next_change {
            // epoch seconds are rounded down: this never wakes early
            Some(at) => Duration::from_secs(u64::try_from(at - now()).unwrap_or(0)),
            None => Duration::MAX,
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = sleep_for(sleep) => {}
        }
    }
}

async fn sleep_for(duration: Duration) {
    if duration == Duration::MAX {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(duration).await;
    }
}

/// The accounts' state as the menu and the accounts window show it
/// (reads the vault the first time an account is shown: blocking).
pub fn snapshot(app: &AppHandle) -> TrayState {
    let host = app.state::<Host>();
    let broker = &host.broker;
    let profiles = broker.profiles().load().unwrap_or_else(|error| {
        tracing::warn!(kind = %error.kind(), "cannot read the profiles: {error}");
        Vec::new()
    });
    let mut accounts = broker.accounts().list().unwrap_or_else(|error| {
        tracing::warn!(kind = %error.kind(), "cannot read the accounts: {error}");
        Vec::new()
    });
    // one account per profile: the latest sign-in, as the broker uses
    accounts.sort_by_key(|a| std::cmp::Reverse(a.signed_in_at));
    let mut seen = HashSet::new();
    accounts.retain(|a| seen.insert(a.profile.clone()));
    let activity = app
        .state::<Tray>()
        .activity
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let views = accounts
        .iter()
        .map(|account| {
            let state = if account.sign_in_required.is_some() {
                AccountState::SignInRequired
            } else if activity.refreshing.contains(&account.profile) {
                AccountState::Refreshing
            } else if let Some(code) = activity.failed.get(&account.profile) {
                AccountState::RefreshFailed { code: code.clone() }
            } else {
                let scopes = profiles
                    .iter()
                    .find(|p| p.name == account.profile)
                    .map(|p| ScopeSet::new(&p.scopes));
                let scopes = scopes.unwrap_or_else(|| ScopeSet::new::<&str>(&[]));
                let expires_at = match broker.cached_expiry(account, &scopes) {
                    Ok(expiry) => expiry,
                    Err(error) => {
                        tracing::warn!(kind = %error.kind(), "cannot read an account: {error}");
                        None
                    }
                };
                AccountState::SignedIn { expires_at }
            };
            AccountView {
                profile: account.profile.clone(),
                user: account.label().into_owned(),
                state,
            }
        })
        .collect();
    let autostart = app.autolaunch().is_enabled().unwrap_or_else(|error| {
        tracing::debug!(%error, "cannot tell whether start at login is on");
        false
    });
    TrayState {
        profiles: profiles.into_iter().map(|p| p.name).collect(),
        accounts: views,
        autostart,
    }
}

fn render(app: &AppHandle, model: &MenuModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    tray.set_menu(Some(native_menu(app, &model.entries)?))?;
    tray.set_icon(Some(icon(model.icon)?))?;
    tray.set_tooltip(Some(&model.tooltip))?;
    tracing::debug!(icon = ?model.icon, next_change = ?model.next_change, "tray menu rebuilt");
    Ok(())
}

fn icon(state: IconState) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        IconState::Ok => ICON_OK,
        IconState::Warning => ICON_WARNING,
        IconState::SignInRequired => ICON_SIGN_IN,
    })
}

fn native_menu(app: &AppHandle, model: &[MenuEntry]) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    for entry in model {
        menu.append(native_item(app, entry)?.as_ref())?;
    }
    Ok(menu)
}

fn native_item(app: &AppHandle, entry: &MenuEntry) -> tauri::Result<Box<dyn IsMenuItem<Wry>>> {
    Ok(match entry {
        MenuEntry::Item { id, label } => Box::new(MenuItem::with_id(
            app,
            id.encode(),
            label,
            true,
            None::<&str>,
        )?),
        MenuEntry::Check { id, label, checked } => Box::new(CheckMenuItem::with_id(
            app,
            id.encode(),
            label,
            true,
            *checked,
            None::<&str>,
        )?),
        MenuEntry::Submenu { id, label, entries } => {
            let submenu = Submenu::with_id(app, id.encode(), label, true)?;
            for entry in entries {
                submenu.append(native_item(app, entry)?.as_ref())?;
            }
            Box::new(submenu)
        }
        MenuEntry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
    })
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match MenuId::parse(event.id().as_ref()) {
        Some(MenuId::Quit) => {
            tracing::info!("quit from the tray menu");
            app.exit(0);
        }
        Some(MenuId::Autostart) => actions::toggle_autostart(app),
        Some(MenuId::SignIn(profile)) => login::start(app, profile),
        Some(MenuId::ShowClaims(profile)) => accounts_window::open(app, View::Claims { profile }),
        Some(MenuId::AddAccount) => accounts_window::open(app, View::AddProfile),
        Some(MenuId::Accounts) => accounts_window::open(app, View::Accounts),
        Some(MenuId::Action(action, profile)) => actions::account(app, action, profile),
        Some(MenuId::Account(_)) => {}
        None => tracing::warn!(id = event.id().as_ref(), "unknown tray menu id"),
    }
}
