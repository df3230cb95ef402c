//! The tray icon and its native menu, rendered from [`crate::menu::menu`].
//!
//! One task owns the menu: it reads the accounts' state, renders the model,
//! then sleeps until the model's next minute boundary (only while a
//! countdown is shown) or until [`rebuild`] wakes it (broker events, menu
//! actions). Nothing polls. Handlers only dispatch.

use std::sync::Arc;
use std::time::Duration;

use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tokentray_core::status;
use tokentray_core::token::now;
use tokio::sync::Notify;

use crate::dto::View;
use crate::host::Host;
use crate::menu::{self, AccountView, IconState, MenuEntry, MenuId, MenuModel, TrayState};
use crate::{accounts_window, actions, login};

const TRAY_ID: &str = "main";
const ICON_OK: &[u8] = include_bytes!("../../icons/tray-ok.png");
const ICON_WARNING: &[u8] = include_bytes!("../../icons/tray-warning.png");
const ICON_SIGN_IN: &[u8] = include_bytes!("../../icons/tray-signin.png");
const ICON_NO_ACCOUNT: &[u8] = include_bytes!("../../icons/tray-idle.png");

/// The tray's state: the wake-up of its menu task.
#[derive(Default)]
pub struct Tray {
    wake: Arc<Notify>,
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

/// Asks the menu task to read the accounts' state and rebuild the menu.
pub fn rebuild(app: &AppHandle) {
    if let Some(tray) = app.try_state::<Tray>() {
        tray.wake.notify_one();
    }
}

/// The menu task: render, then sleep until the next label change or a
/// wake-up, until quit.
async fn keep_current(app: AppHandle, wake: Arc<Notify>) {
    let shutdown = app.state::<Host>().shutdown.clone();
    let mut state = TrayState::default();
    let mut stale = true;
    loop {
        // The vault is read when something changed, not on a clock tick:
        // a tick only moves the countdowns.
        if stale {
            let reader = app.clone();
            state = match tauri::async_runtime::spawn_blocking(move || snapshot(&reader)).await {
                Ok(state) => state,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the accounts for the menu");
                    TrayState::default()
                }
            };
        }
        let model = menu::menu(&state, now());
        if let Err(error) = render(&app, &model) {
            tracing::warn!(%error, "cannot update the tray");
        }
        let sleep = match model.next_change {
            // epoch seconds are rounded down: this never wakes early
            Some(at) => Duration::from_secs(u64::try_from(at - now()).unwrap_or(0)),
            None => Duration::MAX,
        };
        stale = tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => true,
            () = sleep_for(sleep) => false,
        };
    }
}

async fn sleep_for(duration: Duration) {
    if duration == Duration::MAX {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(duration).await;
    }
}

/// The accounts' state as the menu and the accounts window show it: the
/// core's status of every profile (blocking: reads the vault).
pub fn snapshot(app: &AppHandle) -> TrayState {
    let broker = &app.state::<Host>().broker;
    let profiles = match status::collect(broker) {
        Ok(reply) => reply.profiles,
        Err(error) => {
            tracing::warn!(kind = %error.kind(), "cannot read the accounts: {error}");
            Vec::new()
        }
    };
    let autostart = app.autolaunch().is_enabled().unwrap_or_else(|error| {
        tracing::debug!(%error, "cannot tell whether start at login is on");
        false
    });
    TrayState {
        accounts: profiles.iter().filter_map(AccountView::of).collect(),
        profiles: profiles.into_iter().map(|p| p.name).collect(),
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
        IconState::NoAccount => ICON_NO_ACCOUNT,
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
