//! End to end with the real app on the headless desktop: with no profile,
//! "Accounts…" opens the window on its first-run panel; "Add account…"
//! (the window being open) turns it to the new-profile form; a value the
//! core refuses is not saved and its field gets the focus back (the form
//! shows what to register at the provider); corrected,
//! the profile lands in `profiles.toml` and in the tray menu. Then the
//! Import view's dry run reports what an MSAL cache holds and changes
//! nothing; the Settings view refuses a clear delay of 0 and saves 7 s to
//! `settings.toml`; the Activity view lists the profile as asking about
//! programs. Screenshots go to `target/tmp/tokentray-app-e2e/`.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use common::{desktop_turn, screenshot_window, wait_for, window_text, xdotool, App, Home};

const STEP: Duration = Duration::from_secs(30);
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";

#[test]
fn first_run_panel_then_a_profile_added_in_the_window() {
    let _turn = desktop_turn();
    let mut app = App::start_in(Home::new(), &[]);
    let icon = app.wait_for_tray_icon();
    let profiles = app.home.path("tokentray-config").join("profiles.toml");

    let window = app.open_accounts_window_with_no_profile(icon);
    let text = wait_for(
        "the first-run panel",
        STEP,
        || window_text(window).filter(|text| text.contains("Welcome to Tokentray")),
        || app.output(),
    );
    assert!(text.contains("Add a profile…"), "{text}");
    screenshot_window("10-first-run", window);

    // "Add account…" while the window is open: it turns to the form, the
    // provider (Microsoft, the first preset) focused
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Return"]);
    let form = wait_for(
        "the new-profile form",
        STEP,
        // the form's own field, not the first-run panel's "Add a profile…"
        || window_text(window).filter(|text| text.contains("Profile name")),
        || app.output(),
    );
    // it says what to register at Entra for the default (embedded) sign-in
    assert!(
        form.contains("Register an app with Microsoft Entra ID")
            && form.contains("Mobile and desktop applications")
            && form.contains("Redirect URI to register, exactly:"),
        "{form}"
    );
    // the text read left the focus on the page: back to the provider field
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Return"]);
    sleep(Duration::from_secs(1));
    xdotool(&["windowfocus", "--sync", &window.to_string()]);
    xdotool(&["key", "Tab"]);
    xdotool(&["type", "--delay", "30", "graph"]);
    xdotool(&["key", "Tab"]);
    xdotool(&["type", "--delay", "30", "not a tenant!"]);
    xdotool(&["key", "Tab"]);
    xdotool(&["type", "--delay", "30", CLIENT_ID]);
    xdotool(&["key", "Return"]);
    sleep(Duration::from_secs(1));
    screenshot_window("11-profile-form-error", window);
    assert!(!profiles.exists(), "a refused profile is not saved");

    // the tenant field has the focus again: correct it, submit
    xdotool(&["key", "ctrl+a"]);
    xdotool(&["type", "--delay", "30", "contoso.onmicrosoft.com"]);
    xdotool(&["key", "Return"]);
    let file = wait_for(
        "the profile in profiles.toml",
        STEP,
        || std::fs::read_to_string(&profiles).ok(),
        || app.output(),
    );
    assert!(file.contains("[profiles.graph]"), "{file}");
    assert!(
        file.contains("tenant = \"contoso.onmicrosoft.com\""),
        "{file}"
    );
    assert!(file.contains(CLIENT_ID), "{file}");
    assert!(
        file.contains("access = \"confirm\""),
        "a profile made in the app asks about programs: {file}"
    );
    let list = wait_for(
        "the profile list",
        STEP,
        || window_text(window).filter(|text| text.contains("Profiles") && text.contains("graph")),
        || app.output(),
    );
    assert!(list.contains("Microsoft Entra ID"), "{list}");
    screenshot_window("12-profiles", window);

    // Import… (its nav button's access key, Alt+I): a dry run of a
    // hand-made MSAL cache with two accounts
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/tokentray-core/tests/fixtures/msal/two-accounts.json");
    let cache = app.home.path("msal_token_cache.json");
    std::fs::copy(fixtures, &cache).unwrap();
    xdotool(&["key", "alt+i"]);
    sleep(Duration::from_secs(1));
    // the view focuses the path field; then issuer, shred, "Dry run"
    xdotool(&["type", "--delay", "20", &cache.display().to_string()]);
    xdotool(&["key", "Tab", "Tab", "Tab", "Return"]);
    let report = wait_for(
        "the dry run's report",
        STEP,
        || window_text(window).filter(|text| text.contains("Dry run: nothing was changed")),
        || app.output(),
    );
    assert_eq!(
        report.matches("would be imported → profile msal-").count(),
        2,
        "{report}"
    );
    assert!(report.contains("still holds these tokens"), "{report}");
    screenshot_window("14-import-dry-run", window);
    let file = std::fs::read_to_string(&profiles).unwrap();
    assert!(!file.contains("msal-"), "a dry run changes nothing: {file}");
    assert!(cache.exists());

    // Settings (Alt+S): the clear delay field has the focus
    let settings = app.home.path("tokentray-config").join("settings.toml");
    xdotool(&["key", "alt+s"]);
    sleep(Duration::from_secs(1));
    xdotool(&["key", "ctrl+a"]);
    xdotool(&["type", "0"]);
    xdotool(&["key", "Return"]);
    let refused = wait_for(
        "the refused clear delay",
        STEP,
        || window_text(window).filter(|text| text.contains("must be between 1 and 3600")),
        || app.output(),
    );
    assert!(refused.contains("`clipboard_clear_secs`"), "{refused}");
    assert!(!settings.exists(), "a refused value is not saved");
    xdotool(&["key", "alt+s"]);
    sleep(Duration::from_secs(1));
    xdotool(&["key", "ctrl+a"]);
    xdotool(&["type", "7"]);
    xdotool(&["key", "Return"]);
    let saved = wait_for(
        "settings.toml",
        STEP,
        || std::fs::read_to_string(&settings).ok(),
        || app.output(),
    );
    assert!(saved.contains("clipboard_clear_secs = 7\n"), "{saved}");
    assert!(saved.contains("reminder_lead_secs = 300\n"), "{saved}");
    assert!(saved.contains("notify_new_programs = true\n"), "{saved}");
    screenshot_window("15-settings", window);

    // Activity (Alt+V): who may take graph's tokens, and who took any
    xdotool(&["key", "alt+v"]);
    let activity = wait_for(
        "the Activity view",
        STEP,
        || window_text(window).filter(|text| text.contains("Who may take tokens")),
        || app.output(),
    );
    assert!(
        activity.contains("graph · Programs you allowed"),
        "{activity}"
    );
    assert!(activity.contains("No program allowed yet."), "{activity}");
    assert!(activity.contains("Who took tokens"), "{activity}");
    screenshot_window("16-activity", window);

    // the menu offers the sign-in: it is the first item now
    app.open_tray_menu(icon);
    xdotool(&["key", "Down"]);
    sleep(Duration::from_millis(300));
    common::screenshot("13-menu-new-profile");
    xdotool(&["key", "Escape"]);

    app.terminate();
    let log = app.log_file();
    assert!(
        log.contains("profile saved from the accounts window"),
        "{log}"
    );
}
