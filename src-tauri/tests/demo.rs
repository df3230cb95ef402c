//! The first-run demo end to end: with no profile, "Accounts…" opens the
//! window on its first-run panel; "Try it with a local demo provider"
//! starts the project's own OpenID provider (`tests/idp`) on the demo port
//! and adds the `demo` profile, which the window then offers to sign in
//! to; quitting the app stops the provider.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::{
    click, desktop_turn, run_tool, screenshot_window, wait_for, window_text, xdotool, App, Home,
    EXIT_TIMEOUT,
};

const STEP: Duration = Duration::from_secs(30);

#[test]
fn the_first_run_panel_starts_the_local_demo_provider() {
    let _turn = desktop_turn();
    let port = free_port();
    let mut app = App::start_in(Home::new(), &[("TOKENTRAY_DEMO_PORT", &port.to_string())]);
    let icon = app.wait_for_tray_icon();
    let profiles = app.home.path("tokentray-config").join("profiles.toml");

    let window = app.open_accounts_window_with_no_profile(icon);
    wait_for(
        "the first-run panel offers the demo",
        STEP,
        || window_text(window).filter(|text| text.contains("Try it with a local demo provider")),
        || app.output(),
    );

    // (the text read leaves everything selected: click it away first)
    click(window, 5, 5);
    std::thread::sleep(Duration::from_millis(500));
    screenshot_window("13-first-run", window);

    // the demo button's access key
    xdotool(&["windowfocus", "--sync", &window.to_string()]);
    xdotool(&["key", "alt+d"]);
    let issuer = format!("http://127.0.0.1:{port}");
    let file = wait_for(
        "the demo profile in profiles.toml",
        STEP,
        || {
            std::fs::read_to_string(&profiles)
                .ok()
                .filter(|text| text.contains(&issuer))
        },
        || app.log_file(),
    );
    assert!(file.contains("[profiles.demo]"), "{file}");
    let discovery = run_tool(
        "curl",
        &["-s", &format!("{issuer}/.well-known/openid-configuration")],
    );
    assert!(
        String::from_utf8_lossy(&discovery.stdout).contains(&format!("\"issuer\":\"{issuer}\"")),
        "the demo provider answers at {issuer}"
    );
    wait_for(
        "the window offers to sign in to demo",
        STEP,
        || window_text(window).filter(|text| text.contains("Sign in to demo")),
        || app.output(),
    );
    screenshot_window("14-demo-ready", window);

    let kill = Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    app.wait_exit(EXIT_TIMEOUT);
    wait_for(
        "the demo provider stops with the app",
        STEP,
        || {
            TcpStream::connect(("127.0.0.1", port))
                .is_err()
                .then_some(())
        },
        String::new,
    );
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.local_addr().unwrap().port()
}
