//! `tokentray-app`: the tray face of Tokentray. Everything lives in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tokentray_app::run()
}
