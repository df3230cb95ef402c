//! The first-run demo end to end, as an installed app runs it: no Node.js
//! on `PATH`, no checkout to look in. With no profile, "Accounts…" opens
//! the window on its first-run panel; "Try it with a local demo provider"
//! starts the demo provider built into the app on the demo port and adds
//! the `demo` profile, which the window then offers to sign in to; the
//! user signs in as alice in the sign-in window (the provider's login
//! page, no consent page) and the CLI gets a token the provider accepts;
//! no other process serves it; quitting the app stops the provider.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use common::{
    click, desktop_turn, notifications, run_tool, screenshot_window, tree_processes, wait_for,
    window_named, window_text, xdotool, App, Home, EXIT_TIMEOUT,
};

const STEP: Duration = Duration::from_secs(30);

// S43: the demo provider runs in the app (no Node.js), loopback only, stops with the app
#[test]
fn the_first_run_panel_starts_the_local_demo_provider() {
    let _turn = desktop_turn();
    let port = free_port();
    let path = path_without_node();
    let mut app = App::start_in(
        Home::new(),
        &[("TOKENTRAY_DEMO_PORT", &port.to_string()), ("PATH", &path)],
    );
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

    // sign in from the tray ("Sign in to demo…" is the first item), as
    // alice with the password the login page shows
    app.open_tray_menu(icon);
    xdotool(&["key", "Down"]);
    sleep(Duration::from_millis(300));
    xdotool(&["key", "Return"]);
    let login = wait_for(
        "the sign-in window",
        STEP,
        || window_named("^Sign in to demo "),
        || app.output(),
    );
    sleep(Duration::from_secs(3)); // the login page loads
    screenshot_window("15-demo-login", login);
    xdotool(&["windowfocus", "--sync", &login.to_string()]);
    xdotool(&["type", "--delay", "40", "alice"]);
    xdotool(&["key", "Tab"]);
    xdotool(&["type", "--delay", "40", tokentray_demo_idp::PASSWORD]);
    xdotool(&["key", "Return"]);
    let status = app.wait_signed_in("the demo account signed in", "demo", STEP);
    assert!(status.account.is_some());
    wait_for(
        "\"Signed in as alice\" reaches dunst",
        STEP,
        || notifications().contains("Signed in as alice").then_some(()),
        notifications,
    );
    // a token from the CLI (through the app's agent), which the demo
    // provider's userinfo accepts
    let token = app.home.cli(&["token", "demo"]).output().unwrap();
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap();
    let userinfo = run_tool(
        "curl",
        &[
            "-s",
            "-H",
            &format!("Authorization: Bearer {}", token.trim()),
            &format!("{issuer}/userinfo"),
        ],
    );
    assert!(
        String::from_utf8_lossy(&userinfo.stdout).contains("\"sub\":\"alice\""),
        "the CLI's token is alice's at the demo provider"
    );
    let processes = tree_processes(app.pid());
    assert!(
        !processes.iter().any(|(_, name, _)| name.contains("node")),
        "the demo runs in the app, no Node.js child: {processes:?}"
    );

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

/// `PATH` without the directories that hold a `node`: the demo must not
/// need Node.js.
fn path_without_node() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<_> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("node").exists())
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.local_addr().unwrap().port()
}
