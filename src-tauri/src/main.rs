//! `tokentray-app`: the tray face of Tokentray. Everything lives in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // First, while there is one thread and no WebKit child: the passphrase
    // leaves the environment (on Unix the app re-executes itself once for
    // that, which would undo the non-dumpable flag below)
    if let Err(error) = tokentray_core::vault::passphrase::take_from_environment() {
        eprintln!("tokentray-app: warning: {error}");
    }
    // S29: no core dump, no ptrace by other processes while tokens are in
    // memory (WebKit's helper processes start dumpable and hold none)
    if let Err(error) = tokentray_core::hardening::make_non_dumpable() {
        eprintln!("tokentray-app: cannot make the process non-dumpable: {error}");
    }
    tokentray_app::run()
}
