//! Starts the real `tokentray-app` binary on the headless desktop (Xvfb + an
//! XEmbed tray host such as trayer, set up by `scripts/headless-session`),
//! waits for its tray icon, checks it runs with no window, and quits it: once
//! from the tray menu, once with SIGTERM.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{desktop_turn, xdotool, App, EXIT_TIMEOUT};

#[test]
fn quits_from_the_tray_menu() {
    let _turn = desktop_turn();
    let mut app = App::start();
    let icon = app.wait_for_tray_icon();
    app.assert_no_window();

    // the native menu opens on a click; GTK grabs the keyboard for it, and
    // Up selects its last item, "Quit"
    xdotool(&[
        "mousemove",
        "--window",
        &icon.to_string(),
        "8",
        "8",
        "click",
        "1",
    ]);
    app.wait_for_menu();
    xdotool(&["key", "Up", "Return"]);

    let status = app.wait_exit(EXIT_TIMEOUT);
    assert!(
        status.success(),
        "Quit should exit with 0, got {status}\n{}",
        app.output()
    );
    let log = app.log_file();
    assert!(log.contains("quit from the tray menu"), "app log:\n{log}");
}

#[test]
fn exits_on_sigterm() {
    let _turn = desktop_turn();
    let mut app = App::start();
    app.wait_for_tray_icon();
    app.assert_no_window();

    let pid = app.pid().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = app.wait_exit(EXIT_TIMEOUT);
    eprintln!("tokentray-app exited after SIGTERM: {status}");
}
