//! The tray app: builds the Tauri app and wires each concern's module in.
//!
//! The app has no window at start; it lives in the tray until "Quit" (or
//! SIGTERM). Each concern is a small module with an `init`, its state
//! managed by the app: `host` (broker, scheduler, agent socket),
//! `account_view` (the one account model the tray and the window follow),
//! `tray` and `menu`, `login` (sign-ins; the sign-in window runs in its own
//! process, `sign_in_window`), `clipboard`, `notify`, `events` (broker
//! events → notifications), `settings`, `logging`; the
//! accounts window's `commands` (with their `dto`s), `accounts_window`,
//! `claims`, `profile_editor`, `settings_form` and `import_view`; the
//! `consent` dialog the agent asks before a program takes a token.

mod account_view;
mod accounts_window;
mod actions;
mod activity;
mod claims;
mod clipboard;
mod commands;
mod consent;
mod demo;
mod dto;
mod error;
mod events;
mod host;
mod import_view;
#[cfg(test)]
mod ipc_tests;
mod logging;
pub mod login;
pub mod menu;
mod notify;
mod profile_editor;
mod registration;
mod settings;
mod settings_form;
mod sign_in_window;
mod tray;

use std::process::ExitCode;
use std::sync::Arc;

use tauri::{App, AppHandle, RunEvent, Runtime};
use tauri_plugin_autostart::MacosLauncher;

pub use error::{CommandError, Error};

/// Builds and runs the app until it is asked to quit; returns its exit code.
/// (With `--sign-in-window`, runs as the sign-in window's helper process.)
pub fn run() -> ExitCode {
    if no_display() {
        eprintln!("tokentray-app: no desktop session (DISPLAY and WAYLAND_DISPLAY are unset); on a machine without a desktop run it under `scripts/headless-session`");
        return ExitCode::FAILURE;
    }
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == sign_in_window::ARG)
    {
        return sign_in_window::run();
    }
    match build() {
        Ok(app) => exit_code(app.run_return(on_run_event)),
        Err(error) => {
            // no log file yet when the app cannot even be built
            eprintln!("tokentray-app: {error}");
            ExitCode::FAILURE
        }
    }
}

/// GTK would panic without a display: say so in one line instead.
fn no_display() -> bool {
    cfg!(target_os = "linux")
        && ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .all(|name| std::env::var_os(name).is_none_or(|value| value.is_empty()))
}

fn build() -> Result<App, Error> {
    let app = with_commands(tauri::Builder::default())
        // first, so that a second launch stops before doing anything
        .plugin(tauri_plugin_single_instance::init(on_second_instance))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            None,
        ))
        .setup(|app| {
            if let Err(error) = setup(app.handle()) {
                tracing::error!(%error, "start-up failed");
                eprintln!("tokentray-app: start-up failed: {error}");
                app.handle().exit(1);
            }
            Ok(())
        })
        .build(context())?;
    Ok(app)
}

/// Registers the commands the accounts window and the consent dialog may
/// call (each also needs its permission in its window's capability). Generic, so that the IPC least-privilege
/// tests run them on tauri's mock runtime.
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app_info,
        commands::take_view,
        commands::list_accounts,
        commands::account_action,
        commands::sign_in,
        commands::show_claims,
        commands::list_profiles,
        commands::save_profile,
        commands::remove_profile,
        commands::get_settings,
        commands::save_settings,
        commands::import_msal,
        commands::start_demo,
        commands::list_activity,
        commands::revoke_rule,
        consent::commands::consent_question,
        consent::commands::consent_answer
    ])
}

/// The app's context (config, capabilities, assets), generated once.
fn context() -> tauri::Context {
    tauri::generate_context!()
}

fn setup(app: &AppHandle) -> Result<(), Error> {
    // a menu-bar app: no Dock icon, no app menu (Info.plist's LSUIElement
    // says the same before the first window)
    #[cfg(target_os = "macos")]
    app.set_activation_policy(tauri::ActivationPolicy::Accessory)?;
    logging::init(app)?;
    tracing::info!(version = %app.package_info().version, "tokentray-app starting");
    settings::init(app)?;
    clipboard::init(app);
    login::init(app);
    demo::init(app);
    let consent = consent::init(app);
    host::init(app, Arc::new(login::SocketLogin::new(app.clone())), consent)?;
    account_view::init(app);
    tray::init(app)?;
    events::init(app);
    accounts_window::init(app);
    commands::init(app);
    host::stop_on_signals(app);
    Ok(())
}

/// A second launch hands over to this one and exits: the running app is
/// in the tray already.
fn on_second_instance(app: &AppHandle, _args: Vec<String>, _cwd: String) {
    tracing::info!("a second launch was handed to this instance");
    account_view::refresh(app);
}

fn on_run_event(app: &AppHandle, event: RunEvent) {
    match event {
        // Closing the last window must not end a tray app: only an exit we
        // asked for ourselves (Quit, a signal, start-up failure) carries a
        // code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            clipboard::clear_on_quit(app);
            demo::stop(app);
            host::stop(app);
            tracing::info!("tokentray-app exiting");
        }
        _ => {}
    }
}

fn exit_code(code: i32) -> ExitCode {
    match u8::try_from(code) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::FAILURE,
    }
}
