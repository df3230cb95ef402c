//! The tray app: builds the Tauri app and wires each concern's module in.
//!
//! The app has no window at start; it lives in the tray until "Quit". Each
//! concern (logging, tray, commands) is a small module with an `init`.

mod commands;
mod error;
mod logging;
pub mod menu;
mod tray;

use std::process::ExitCode;

use tauri::{App, AppHandle, RunEvent};

pub use error::{CommandError, Error};

/// Builds and runs the app until it is asked to quit; returns its exit code.
pub fn run() -> ExitCode {
    match build() {
        Ok(app) => exit_code(app.run_return(on_run_event)),
        Err(error) => {
            // no log file yet when the app cannot even be built
            eprintln!("tokentray-app: {error}");
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<App, Error> {
    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .setup(|app| {
            if let Err(error) = setup(app.handle()) {
                tracing::error!(%error, "start-up failed");
                eprintln!("tokentray-app: start-up failed: {error}");
                app.handle().exit(1);
            }
            Ok(())
        })
        .build(tauri::generate_context!())?;
    Ok(app)
}

fn setup(app: &AppHandle) -> Result<(), Error> {
    logging::init(app)?;
    tracing::info!(version = %app.package_info().version, "tokentray-app starting");
    tray::init(app)?;
    Ok(())
}

fn on_run_event(_app: &AppHandle, event: RunEvent) {
    match event {
        // Closing the last window must not end a tray app: only an exit we
        // asked for ourselves (Quit, start-up failure) carries a code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => tracing::info!("tokentray-app exiting"),
        _ => {}
    }
}

fn exit_code(code: i32) -> ExitCode {
    match u8::try_from(code) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::FAILURE,
    }
}
