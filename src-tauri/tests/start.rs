//! Starts the real `tokentray-app` binary on the headless desktop (Xvfb + an
//! XEmbed tray host such as trayer, set up by `scripts/headless-session`),
//! waits for its tray icon, checks it runs with no window, and quits it: once
//! from the tray menu, once with SIGTERM.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use common::{desktop_turn, tree_processes, wait_for, xdotool, App, Home, EXIT_TIMEOUT};

#[test]
fn quits_from_the_tray_menu() {
    let _turn = desktop_turn();
    let mut app = App::start();
    let icon = app.wait_for_tray_icon();
    app.assert_no_window();

    // the native menu opens on a click; GTK grabs the keyboard for it, and
    // Up selects its last item, "Quit"
    app.open_tray_menu(icon);
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

/// A second launch hands over to the running app and exits at once; the
/// first keeps running.
#[test]
fn a_second_launch_exits_and_the_first_stays() {
    let _turn = desktop_turn();
    let mut first = App::start();
    first.wait_for_tray_icon();
    let mut second = App::start_in(Home::new(), &[]);
    let status = second.wait_exit(EXIT_TIMEOUT);
    assert!(status.success(), "{status}\n{}", second.output());
    first.assert_running("after a second launch");
    wait_for(
        "the first app hears of the second launch",
        EXIT_TIMEOUT,
        || {
            first
                .log_file()
                .contains("a second launch was handed to this instance")
                .then_some(())
        },
        || first.output(),
    );
}

/// When another agent owns the socket, the app says so and runs anyway,
/// without hosting it.
#[test]
fn runs_without_the_socket_when_another_agent_owns_it() {
    let _turn = desktop_turn();
    let home = Home::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_listener, _claim) = runtime
        .block_on(async { tokentray_core::ipc::server::bind(&home.socket()) })
        .unwrap();
    let mut app = App::start_in(home, &[]);
    app.wait_for_tray_icon();
    wait_for(
        "the app logs that it does not host the socket",
        EXIT_TIMEOUT,
        || {
            app.log_file()
                .contains("not hosting the agent endpoint")
                .then_some(())
        },
        || app.output(),
    );
    app.assert_running("without the socket");
}

/// "Start at login" writes and removes the XDG autostart entry, and the
/// checkbox follows.
#[test]
fn start_at_login_toggles_the_autostart_entry() {
    let _turn = desktop_turn();
    let mut app = App::start();
    let icon = app.wait_for_tray_icon();
    let autostart = app.home.dir.path().join(".config/autostart");
    let entries = || {
        std::fs::read_dir(&autostart)
            .map(|dir| dir.count())
            .unwrap_or(0)
    };
    assert_eq!(entries(), 0);
    for expected in [1, 0] {
        app.open_tray_menu(icon);
        // "Start at login" is the item above "Quit", the last one
        xdotool(&["key", "Up", "Up", "Return"]);
        wait_for(
            "the autostart entry follows the checkbox",
            EXIT_TIMEOUT,
            || (entries() == expected).then_some(()),
            || app.log_file(),
        );
    }
}

// S29: started with the file store and TOKENTRAY_PASSPHRASE, the app
// unlocks (creates) its vault file, and neither its own environment block
// nor that of any process under it (the accounts window's WebKit
// processes) holds the passphrase
#[test]
fn the_passphrase_is_in_no_environment_of_the_app_or_its_children() {
    const PASSPHRASE: &str = "app passphrase 7f3c1e";
    let _turn = desktop_turn();
    let home = Home::new();
    let vault_file = home.path("data").join("tokentray").join("vault.bin");
    let mut app = App::start_in(
        home,
        &[
            ("TOKENTRAY_STORE", "file"),
            ("TOKENTRAY_PASSPHRASE", PASSPHRASE),
        ],
    );
    let icon = app.wait_for_tray_icon();
    assert!(
        app.log_file().contains("secrets live in the file store"),
        "{}",
        app.log_file()
    );
    assert!(vault_file.exists(), "the app created its vault file");
    app.open_accounts_window_with_no_profile(icon);
    let tree = wait_for(
        "the accounts window's WebKit processes",
        EXIT_TIMEOUT,
        || {
            let tree = tree_processes(app.pid());
            tree.iter()
                .any(|(_, name, _)| name.starts_with("WebKit"))
                .then_some(tree)
        },
        || format!("{:?}\n{}", tree_processes(app.pid()), app.output()),
    );
    for (pid, name, _) in &tree {
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue; // gone meanwhile
        };
        let text = String::from_utf8_lossy(&environ);
        assert!(
            !text.contains(PASSPHRASE) && !text.contains("TOKENTRAY_PASSPHRASE="),
            "{name} ({pid}) has the passphrase in /proc/{pid}/environ"
        );
    }
    app.assert_running("with the accounts window open");
}
