//! The tray icon and its native menu, rendered from [`crate::menu::model`].
//! Handlers only dispatch.

use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

use crate::menu::{self, MenuEntry, MenuId};

const TRAY_ID: &str = "main";
const ICON_OK: &[u8] = include_bytes!("../../icons/tray-ok.png");

pub fn init(app: &AppHandle) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_OK)?)
        .tooltip("Tokentray")
        .menu(&native_menu(app, &menu::model())?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    Ok(())
}

fn native_menu(app: &AppHandle, model: &[MenuEntry]) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    for entry in model {
        match entry {
            MenuEntry::Item { id, label, enabled } => menu.append(&MenuItem::with_id(
                app,
                id.as_str(),
                label,
                *enabled,
                None::<&str>,
            )?)?,
            MenuEntry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match MenuId::parse(event.id().as_ref()) {
        Some(MenuId::Quit) => {
            tracing::info!("quit from the tray menu");
            app.exit(0);
        }
        None => tracing::warn!(id = event.id().as_ref(), "unknown tray menu id"),
    }
}
