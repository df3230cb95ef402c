//! The tray icon and its native menu, rendered from [`crate::menu::menu`]
//! over the app's one account model ([`crate::account_view`]).
//!
//! One task owns the menu: it renders the model, then sleeps until the
//! model changes or the menu's next minute boundary (only while a
//! countdown is shown). When only labels change (a countdown ticking, an
//! account refreshing) the items are updated in place, so a menu the user
//! has open stays open and a click in flight is not lost; the menu is
//! replaced only when its items change. Nothing polls. Handlers only
//! dispatch.

use std::time::Duration;

use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, MenuItemKind, PredefinedMenuItem, Submenu,
};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tokentray_core::token::now;

use crate::dto::View;
use crate::host::Host;
use crate::menu::{self, IconState, MenuEntry, MenuId, MenuModel, TrayState};
use crate::{account_view, accounts_window, actions, login};

const TRAY_ID: &str = "main";
const ICON_OK: &[u8] = include_bytes!("../../icons/tray-ok.png");
const ICON_WARNING: &[u8] = include_bytes!("../../icons/tray-warning.png");
const ICON_SIGN_IN: &[u8] = include_bytes!("../../icons/tray-signin.png");
const ICON_NO_ACCOUNT: &[u8] = include_bytes!("../../icons/tray-idle.png");

pub fn init(app: &AppHandle) -> tauri::Result<()> {
    let model = menu::menu(&TrayState::default(), now());
    let native = native_menu(app, &model.entries)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon)?)
        // macOS draws menu-bar icons as templates (shape only, in the
        // bar's own colour); the badges keep the states apart by shape
        .icon_as_template(cfg!(target_os = "macos"))
        .tooltip(&model.tooltip)
        .menu(&native)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    let shown = Shown {
        menu: native,
        model,
    };
    tauri::async_runtime::spawn(keep_current(app.clone(), shown));
    Ok(())
}

/// The menu on screen and the model it shows.
struct Shown {
    menu: Menu<Wry>,
    model: MenuModel,
}

/// The menu task: render, then sleep until the model changes or the next
/// label change, until quit.
async fn keep_current(app: AppHandle, mut shown: Shown) {
    let shutdown = app.state::<Host>().shutdown.clone();
    let mut accounts = account_view::subscribe(&app);
    loop {
        let state = accounts.borrow_and_update().clone();
        let model = menu::menu(&state, now());
        if let Err(error) = render(&app, &mut shown, model) {
            tracing::warn!(%error, "cannot update the tray");
        }
        let sleep = match shown.model.next_change {
            // epoch seconds are rounded down: this never wakes early
            Some(at) => Duration::from_secs(u64::try_from(at - now()).unwrap_or(0)),
            None => Duration::MAX,
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = accounts.changed() => if changed.is_err() { return },
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

/// Shows `model`: labels and checks updated in place when the menu's items
/// are the same, a new menu otherwise; the icon and tooltip when they
/// changed.
fn render(app: &AppHandle, shown: &mut Shown, model: MenuModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return Ok(());
    };
    if same_items(&shown.model.entries, &model.entries) {
        update_in_place(&shown.menu.items()?, &shown.model.entries, &model.entries)?;
    } else {
        let native = native_menu(app, &model.entries)?;
        tray.set_menu(Some(native.clone()))?;
        shown.menu = native;
    }
    if shown.model.icon != model.icon {
        tray.set_icon(Some(icon(model.icon)?))?;
    }
    if shown.model.tooltip != model.tooltip {
        tray.set_tooltip(Some(&model.tooltip))?;
    }
    tracing::debug!(icon = ?model.icon, next_change = ?model.next_change, "tray menu shown");
    shown.model = model;
    Ok(())
}

/// Whether two menus have the same items (kinds and ids, at every level).
fn same_items(a: &[MenuEntry], b: &[MenuEntry]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (MenuEntry::Item { id: x, .. }, MenuEntry::Item { id: y, .. })
            | (MenuEntry::Check { id: x, .. }, MenuEntry::Check { id: y, .. }) => x == y,
            (
                MenuEntry::Submenu {
                    id: x, entries: xs, ..
                },
                MenuEntry::Submenu {
                    id: y, entries: ys, ..
                },
            ) => x == y && same_items(xs, ys),
            (MenuEntry::Separator, MenuEntry::Separator) => true,
            _ => false,
        })
}

/// Sets the labels and checks that changed from `old` to `new` on the
/// native `items` (which show `old`).
fn update_in_place(
    items: &[MenuItemKind<Wry>],
    old: &[MenuEntry],
    new: &[MenuEntry],
) -> tauri::Result<()> {
    for ((item, old), new) in items.iter().zip(old).zip(new) {
        match (item, old, new) {
            (
                MenuItemKind::MenuItem(item),
                MenuEntry::Item { label: was, .. },
                MenuEntry::Item { label, .. },
            ) if was != label => item.set_text(label)?,
            (
                MenuItemKind::Check(item),
                MenuEntry::Check {
                    label: was,
                    checked: was_checked,
                    ..
                },
                MenuEntry::Check { label, checked, .. },
            ) => {
                if was != label {
                    item.set_text(label)?;
                }
                if was_checked != checked {
                    item.set_checked(*checked)?;
                }
            }
            (
                MenuItemKind::Submenu(submenu),
                MenuEntry::Submenu {
                    label: was,
                    entries: old,
                    ..
                },
                MenuEntry::Submenu { label, entries, .. },
            ) => {
                if was != label {
                    submenu.set_text(label)?;
                }
                update_in_place(&submenu.items()?, old, entries)?;
            }
            _ => {}
        }
    }
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
