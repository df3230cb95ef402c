//! End to end with the real app, the real IdP (testkit), the real keyring,
//! dunst and trayer (`scripts/headless-session`): from the tray menu, sign
//! in inside the embedded window (typing into the IdP's login and consent
//! pages with xdotool), see the account in the vault, in the agent socket's
//! status and in the menu; copy an access token that the IdP's userinfo
//! endpoint accepts, get the "expires soon" reminder, watch the clipboard
//! clear itself; open the accounts window from the menu ("Accounts…") and
//! read the account and its live countdown there; sign out from the menu
//! and see the window and the vault follow; quit and see the socket gone. Screenshots go to `target/tmp/tokentray-app-e2e/`.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use common::{
    clipboard, desktop_turn, notifications, report_idle, screenshot, screenshot_window,
    tree_processes, tree_rss_kib, wait_for, window_named, window_text, window_title, xdotool, App,
    Home,
};
use tokentray_core::ipc::client::Client;
use tokentray_core::ipc::protocol::{SignInState, TokenParams};
use tokentray_core::profile::LoginMode;
use tokentray_core::token::{now, EpochSecs};
use tokentray_core::ErrorKind;
use tokentray_testkit::Idp;

const PROFILE: &str = "demo";
const USER: &str = "alice";
const CLEAR_SECS: u64 = 6;
const STEP: Duration = Duration::from_secs(30);

// S1 S18 S19 S20 S22 S30 S31: login modes, navigation locked down, ephemeral login store, the accounts window shows no token, sign-out empties the vault, clipboard hints and auto-clear
#[test]
fn sign_in_copy_and_sign_out_from_the_tray() {
    let _turn = desktop_turn();
    let idp = Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)");
    let home = Home::new();
    home.write_profiles(&profiles_toml(&idp));
    let clear = CLEAR_SECS.to_string();
    let mut app = App::start_in(home, &[("TOKENTRAY_CLIPBOARD_CLEAR_SECS", &clear)]);
    let icon = app.wait_for_tray_icon();
    app.assert_no_window();
    sleep(Duration::from_secs(1));
    eprintln!(
        "RSS (app + WebKit processes), tray only: {} KiB {:?}",
        tree_rss_kib(app.pid()),
        tree_processes(app.pid())
    );
    let socket = app.home.socket();
    let agent = Client::new(&socket);
    wait_for(
        "the app serves the agent socket",
        STEP,
        || agent.ping().ok().flatten(),
        || app.output(),
    );

    // 1. tray → "Sign in to demo…" (the first item)
    app.open_tray_menu(icon);
    xdotool(&["key", "Down"]);
    sleep(Duration::from_millis(300));
    screenshot("01-menu-sign-in");
    xdotool(&["key", "Return"]);

    // 2. the embedded window: the IdP's login form, then its consent form
    let login = wait_for(
        "the sign-in window",
        STEP,
        || window_named(&format!("^Sign in to {PROFILE} ")),
        || app.output(),
    );
    let title = window_title(login);
    assert_eq!(
        title,
        format!("Sign in to {PROFILE} — {}", origin(idp.issuer())),
        "the title shows the origin only"
    );
    screenshot("02-sign-in-window");
    type_login(login);
    screenshot("03-consent");
    consent(login, true);

    // 3. the redirect was intercepted: account stored, window gone
    let status = app.wait_signed_in("the account in the socket's status", PROFILE, STEP);
    assert!(status.account.is_some());
    wait_for(
        "the sign-in window closes",
        STEP,
        || {
            window_named(&format!("^Sign in to {PROFILE} "))
                .is_none()
                .then_some(())
        },
        || app.output(),
    );
    let (attributes, values) = app.home.vault();
    assert!(
        attributes.contains(&format!("account/{PROFILE}/")),
        "vault: {attributes}"
    );
    assert!(!values.is_empty());
    let log = app.log_file();
    assert!(log.contains("sign-in redirect intercepted"), "{log}");
    assert!(!log.contains("code="), "no callback URL in the log (S33)");
    let kept = stored_idp_cookies(app.home.dir.path());
    assert!(
        kept.is_empty(),
        "the sign-in window is incognito (S19), yet the IdP's cookies are on disk: {kept:?}"
    );
    wait_for(
        "\"Signed in as alice\" reaches dunst",
        STEP,
        || notifications().contains("Signed in as alice").then_some(()),
        notifications,
    );

    // 4. the menu shows the account; Copy access token, chosen in a menu
    // that stays open across a change of its countdown label (labels are
    // updated in place, so the open menu and the click survive it).
    let expires_on = status.access_expires_on.expect("a cached access token");
    let next_change = |after| {
        tokentray_core::clock_words::next_change(after, expires_on)
            .expect("the account's label counts down")
    };
    let mut change = next_change(now());
    if change - now() < 3 {
        // too close to open the menu before it: take the one after
        change = next_change(change);
    }
    sleep_until(change - 2);
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Right"]);
    sleep(Duration::from_millis(300));
    screenshot("04-menu-account");
    sleep_until(change + 1);
    sleep(Duration::from_millis(500));
    app.assert_running("keeping the menu open across a label change");
    xdotool(&["key", "Return"]);
    let token = wait_for(
        "a token on the clipboard",
        STEP,
        || clipboard("clipboard"),
        || app.output(),
    );
    assert!(!token.contains(char::is_whitespace));
    assert_ne!(
        clipboard("primary").as_deref(),
        Some(token.as_str()),
        "never the PRIMARY selection (S30)"
    );
    let userinfo = idp.discovery().unwrap()["userinfo_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        userinfo_status(&userinfo, &token),
        "200",
        "the IdP accepts the copied token"
    );
    assert_eq!(userinfo_status(&userinfo, "not-a-token"), "401");

    // the IdP's tokens live 300 s, the reminder lead is 300 s: due at once,
    // a few seconds after the sign-in, so it says what the menu says then:
    // 4 min (whole minutes, rounded down), or 5 min within the first second
    wait_for(
        "the copied-token reminder reaches dunst",
        STEP,
        || {
            let notes = notifications();
            ["4 min", "5 min"]
                .iter()
                .any(|left| {
                    notes.contains(&format!(
                        "The token you copied for {PROFILE} expires in {left}"
                    ))
                })
                .then_some(())
        },
        notifications,
    );
    screenshot("05-notification");
    let notes = notifications();
    assert!(!notes.contains(&token), "no token in notifications (S32)");

    wait_for(
        "the clipboard clears itself",
        Duration::from_secs(CLEAR_SECS + 10),
        || clipboard("clipboard").is_none().then_some(()),
        || app.log_file(),
    );

    // 5. the other items: the header, the ID token, Refresh now
    menu_action(&mut app, icon, 1);
    let header = wait_for(
        "the Authorization header on the clipboard",
        STEP,
        || clipboard("clipboard"),
        || app.output(),
    );
    assert_eq!(header, format!("Authorization: Bearer {token}"));
    menu_action(&mut app, icon, 2);
    let id_token = wait_for(
        "the ID token on the clipboard",
        STEP,
        || clipboard("clipboard").filter(|text| *text != header),
        || app.output(),
    );
    assert_eq!(id_token.split('.').count(), 3, "a JWT");
    let (refreshed, _) = idp.token_requests("refresh_token").unwrap();
    menu_action(&mut app, icon, 3);
    wait_for(
        "Refresh now reaches the IdP",
        STEP,
        || (idp.token_requests("refresh_token").unwrap().0 > refreshed).then_some(()),
        || app.log_file(),
    );
    sleep(Duration::from_secs(1)); // the menu shows the new expiry

    // 6. "Accounts…" (after the account, "Add account…"): the window lists
    // the account with a countdown that runs by itself
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Down", "Down"]);
    sleep(Duration::from_millis(300));
    screenshot("06a-menu-accounts");
    xdotool(&["key", "Return"]);
    let accounts = wait_for(
        "the accounts window",
        STEP,
        || window_named("^Tokentray — Accounts$"),
        || app.output(),
    );
    sleep(Duration::from_secs(2)); // the page renders
    screenshot_window("06b-accounts-window", accounts);
    let text = wait_for(
        "the account and its countdown in the accounts window",
        STEP,
        || window_text(accounts).filter(|text| text.contains("expires in")),
        || app.output(),
    );
    assert!(
        text.contains(&format!("{USER} · {PROFILE} · expires in ")),
        "{text}"
    );
    assert!(text.contains("Copy access token") && text.contains("Show claims…"));
    assert!(!text.contains(&token), "no token in the window (S20)");
    let countdown = |text: &str| {
        text.lines()
            .find(|line| line.contains("expires in"))
            .map(str::to_owned)
    };
    // the window asks the app again exactly when the text changes (at most
    // a minute away): the countdown moves by itself
    wait_for(
        "the countdown moves on by itself",
        Duration::from_secs(75),
        || {
            let later = window_text(accounts)?;
            (countdown(&later) != countdown(&text)).then_some(())
        },
        || app.output(),
    );
    // the window's "Copy access token" (first button of the account's card,
    // as laid out in the screenshot) copies in the app: the account's
    // current token (the refreshed one) lands on the clipboard
    let mut marker = Command::new("xclip")
        .args(["-selection", "clipboard"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut marker.stdin.take().unwrap(), b"marker").unwrap();
    assert!(marker.wait().unwrap().success());
    common::click(accounts, 60, 148);
    let copied = wait_for(
        "a token copied from the window",
        STEP,
        || {
            clipboard("clipboard")
                .filter(|text| text != "marker" && !text.contains(char::is_whitespace))
        },
        || app.output(),
    );
    let served = agent
        .token(TokenParams::for_profile(PROFILE))
        .unwrap()
        .unwrap();
    assert!(
        copied == served.access_token.expose(),
        "the window copied the account's current access token"
    );

    // "Show claims…" (the submenu's fifth item): the window shows the
    // decoded tokens, each with what was verified (the ID token at sign-in
    // or refresh, the access token never), times in words, and never the
    // tokens
    menu_action(&mut app, icon, 4);
    let claims = wait_for(
        "the claims view",
        STEP,
        || {
            window_text(accounts)
                .filter(|text| text.contains("Validated by Tokentray when it came"))
        },
        || app.output(),
    );
    assert!(
        claims.contains("Not verified: an access token is for the API"),
        "{claims}"
    );
    assert!(
        claims.contains("issued less than a minute ago") || claims.contains("min ago"),
        "the time claims in words: {claims}"
    );
    assert!(claims.contains("expires in "), "{claims}");
    assert!(
        claims.contains("Access token") && claims.contains("ID token"),
        "{claims}"
    );
    assert!(
        claims.contains("\"iss\":") && claims.contains("\"sub\":"),
        "{claims}"
    );
    assert!(
        !claims.contains(&token) && !claims.contains(&id_token),
        "no token in the claims view (S20)"
    );
    screenshot_window("06d-claims", accounts);

    // 7. Sign out (the submenu's last item) with the claims on screen: they
    // go, and the window follows
    app.open_tray_menu(icon);
    xdotool(&[
        "key", "Down", "Right", "Down", "Down", "Down", "Down", "Down",
    ]);
    sleep(Duration::from_millis(300));
    screenshot("06c-menu-sign-out");
    xdotool(&["key", "Return"]);
    wait_for(
        "the vault forgets the account",
        STEP,
        || {
            let (attributes, _) = app.home.vault();
            (!attributes.contains(&format!("account/{PROFILE}/"))).then_some(())
        },
        || app.log_file(),
    );
    let demo = agent
        .status()
        .unwrap()
        .unwrap()
        .profiles
        .into_iter()
        .find(|p| p.name == PROFILE)
        .unwrap();
    assert_eq!(demo.state, SignInState::SignedOut);
    wait_for(
        "the signed-out account's claims leave the screen",
        STEP,
        || window_text(accounts).filter(|text| !text.contains("\"sub\":")),
        || app.output(),
    );
    // back to the list through the menu: the open window navigates
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Down", "Down", "Return"]);
    wait_for(
        "the accounts window shows the sign-out",
        STEP,
        || {
            window_text(accounts)
                .filter(|text| text.contains(&format!("{PROFILE} — not signed in")))
                .map(|_| ())
        },
        || app.output(),
    );
    assert_eq!(
        userinfo_status(&userinfo, &token),
        "401",
        "signing out revoked the grant"
    );

    // 8. quit: the socket goes away with the app
    app.terminate();
    assert!(!socket.exists(), "the socket is removed on quit");
    let log = app.log_file();
    assert!(!log.contains(&token), "no token in the log (S32)");
    let output = app.output();
    assert!(
        !output.contains(&token) && !output.contains("code="),
        "no token or callback URL on stderr, the sign-in window's included (S33)"
    );
}

/// The agent socket's `login` (what `tokentray login` sends when the app
/// runs) opens the same window, one per profile at a time. Ending the
/// window's process (as closing it does) cancels; declining at the provider cancels and closes the
/// window; a third try signs in. Then the IdP forgets every grant: a
/// refresh gets `invalid_grant`, the user is told "Sign-in required", and
/// the menu offers the sign-in again.
#[test]
fn socket_login_cancel_decline_then_sign_in_required() {
    let _turn = desktop_turn();
    let mut idp = Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)");
    let home = Home::new();
    home.write_profiles(&profiles_toml(&idp));
    let mut app = App::start_in(home, &[]);
    let icon = app.wait_for_tray_icon();
    let socket = app.home.socket();
    let agent = Client::new(&socket).timeout(Duration::from_secs(90));
    wait_for(
        "the app serves the agent socket",
        STEP,
        || agent.ping().ok().flatten(),
        || app.output(),
    );
    let mut rss = Vec::new();
    for attempt in [Attempt::CloseWindow, Attempt::Decline, Attempt::Accept] {
        let request = {
            let agent = agent.clone();
            std::thread::spawn(move || agent.login(PROFILE, None))
        };
        let login = wait_for(
            "the sign-in window",
            STEP,
            || window_named(&format!("^Sign in to {PROFILE} ")),
            || app.output(),
        );
        match attempt {
            Attempt::CloseWindow => {
                // one sign-in per profile at a time
                let second = agent.login(PROFILE, None);
                let kind = second.as_ref().err().map(|e| e.kind());
                assert_eq!(kind, Some(ErrorKind::InvalidInput), "{second:?}");
                let helper = tree_processes(app.pid())
                    .into_iter()
                    .find(|(pid, name, _)| *pid != app.pid() && name == "tokentray-app")
                    .expect("the sign-in window's helper process");
                let kill = Command::new("kill")
                    .args(["-TERM", &helper.0.to_string()])
                    .status()
                    .unwrap();
                assert!(kill.success());
            }
            Attempt::Decline | Attempt::Accept => {
                type_login(login);
                consent(login, attempt == Attempt::Accept);
            }
        }
        let answer = request.join().unwrap();
        wait_for(
            "the sign-in window closes",
            STEP,
            || {
                window_named(&format!("^Sign in to {PROFILE} "))
                    .is_none()
                    .then_some(())
            },
            || app.output(),
        );
        let (attributes, _) = app.home.vault();
        if attempt == Attempt::Accept {
            assert!(answer.is_ok(), "{answer:?}");
            assert!(
                attributes.contains(&format!("account/{PROFILE}/")),
                "{attributes}"
            );
        } else {
            let kind = answer.as_ref().err().map(|e| e.kind());
            assert_eq!(kind, Some(ErrorKind::Cancelled), "{attempt:?}: {answer:?}");
            assert!(
                !attributes.contains(&format!("account/{PROFILE}/")),
                "{attributes}"
            );
        }
        sleep(Duration::from_secs(2)); // let the helper's processes end
        rss.push(tree_processes(app.pid()));
    }
    for (i, processes) in rss.iter().enumerate() {
        let total: u64 = processes.iter().map(|(_, _, kib)| kib).sum();
        eprintln!(
            "RSS after sign-in window {} closed: {total} KiB {processes:?}",
            i + 1
        );
    }

    report_idle(&app, "with one account signed in (a countdown in the menu)");

    // the IdP forgets every grant: the next refresh needs a sign-in
    idp.restart().unwrap();
    let refresh = agent.token(TokenParams {
        force_refresh: true,
        ..TokenParams::for_profile(PROFILE)
    });
    let kind = refresh.as_ref().err().map(|e| e.kind());
    assert_eq!(kind, Some(ErrorKind::SignInRequired));
    wait_for(
        "\"Sign-in required\" reaches dunst",
        STEP,
        || {
            notifications()
                .contains(&format!("Sign-in required for {PROFILE}"))
                .then_some(())
        },
        notifications,
    );
    sleep(Duration::from_secs(1));
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Right"]);
    sleep(Duration::from_millis(300));
    screenshot("07-menu-sign-in-required");
    xdotool(&["key", "Escape", "Escape", "Escape"]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    CloseWindow,
    Decline,
    Accept,
}

/// The other two login modes through the app (the agent socket's `login`
/// with a mode): **browser** opens `$BROWSER` on the authorize URL and
/// waits on its loopback listener; **device** tells the user code in a
/// notification and a small window (its "Copy code" copies it) and opens
/// the verification page. Quitting with a copied token on the clipboard
/// clears it.
// S1 S31: login modes, clipboard auto-clear
#[test]
fn browser_and_device_modes() {
    let _turn = desktop_turn();
    let idp = Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)");
    let home = Home::new();
    home.write_profiles(&profiles_toml(&idp));
    // a "browser" that only notes the URL it was asked to open
    let opened = home.path("opened.txt");
    let browser = home.path("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let browser = browser.display().to_string();
    let mut app = App::start_in(home, &[("BROWSER", &browser)]);
    let icon = app.wait_for_tray_icon();
    let agent = Client::new(app.home.socket()).timeout(Duration::from_secs(90));
    wait_for(
        "the app serves the agent socket",
        STEP,
        || agent.ping().ok().flatten(),
        || app.output(),
    );
    let opened_urls = || std::fs::read_to_string(&opened).unwrap_or_default();

    // browser: the user signs in in "their browser" (the testkit's agent)
    let request = {
        let agent = agent.clone();
        std::thread::spawn(move || agent.login(PROFILE, Some(LoginMode::Browser)))
    };
    let authorize = wait_for(
        "the browser opens the authorize URL",
        STEP,
        || opened_urls().lines().next().map(str::to_owned),
        || app.output(),
    );
    assert!(
        authorize.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{authorize}"
    );
    assert_eq!(idp.sign_in_and_follow(&authorize, "bob").unwrap(), 200);
    let answer = request.join().unwrap();
    assert!(answer.is_ok(), "{answer:?}");
    wait_for(
        "\"Signed in as bob\" reaches dunst",
        STEP,
        || notifications().contains("Signed in as bob").then_some(()),
        notifications,
    );
    agent.logout(PROFILE).unwrap();

    // device: the code comes in a notification, the page in the browser
    let request = {
        let agent = agent.clone();
        std::thread::spawn(move || agent.login(PROFILE, Some(LoginMode::Device)))
    };
    let prefix = format!("Sign in to {PROFILE}: enter ");
    let user_code = wait_for(
        "the user code reaches dunst",
        STEP,
        || {
            notifications().lines().find_map(|line| {
                let summary = line.split('\t').nth(1)?;
                summary.strip_prefix(&prefix).map(str::to_owned)
            })
        },
        notifications,
    );
    wait_for(
        "the browser opens the verification page",
        STEP,
        || (opened_urls().lines().count() == 2).then_some(()),
        || app.output(),
    );
    let window = wait_for(
        "the device window",
        STEP,
        || window_named(&format!("^Sign in to {PROFILE} — enter the code")),
        || app.output(),
    );
    sleep(Duration::from_secs(1)); // the page loads
    screenshot("08-device-window");
    // "Copy code" is the first link
    xdotool(&["windowfocus", "--sync", &window.to_string()]);
    xdotool(&["key", "Tab", "Return"]);
    wait_for(
        "\"Copy code\" puts the user code on the clipboard",
        STEP,
        || (clipboard("clipboard")? == user_code).then_some(()),
        || app.output(),
    );
    idp.approve_device(&user_code, "carol").unwrap();
    let answer = request.join().unwrap();
    assert!(answer.is_ok(), "{answer:?}");
    wait_for(
        "\"Signed in as carol\" reaches dunst",
        STEP,
        || notifications().contains("Signed in as carol").then_some(()),
        notifications,
    );
    let (attributes, _) = app.home.vault();
    assert!(
        attributes.contains(&format!("account/{PROFILE}/")),
        "{attributes}"
    );
    wait_for(
        "the device window closes",
        STEP,
        || {
            window_named(&format!("^Sign in to {PROFILE} "))
                .is_none()
                .then_some(())
        },
        || app.output(),
    );

    // quitting with our token on the clipboard clears it first
    menu_action(&mut app, icon, 0);
    wait_for(
        "a token on the clipboard",
        STEP,
        || clipboard("clipboard").filter(|text| *text != user_code),
        || app.output(),
    );
    app.terminate();
    let log = app.log_file();
    assert!(
        log.contains("cleared the copied token from the clipboard on quit"),
        "{log}"
    );
}

/// Files under `dir` (WebKit's cookie and storage databases, whatever
/// their layout) that hold one of the test IdP's session cookies.
fn stored_idp_cookies(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            if text.contains("_interaction_resume") || text.contains("_session.sig") {
                found.push(path);
            }
        }
    }
    found
}

/// Opens the tray menu and clicks the `index`th item (from 0) of the first
/// account's submenu.
fn menu_action(app: &mut App, icon: u64, index: usize) {
    app.open_tray_menu(icon);
    xdotool(&["key", "Down", "Right"]);
    for _ in 0..index {
        xdotool(&["key", "Down"]);
    }
    xdotool(&["key", "Return"]);
}

/// Types into the IdP's login form (its login field has the focus).
fn type_login(login: u64) {
    sleep(Duration::from_secs(3)); // the login page loads
    xdotool(&["windowfocus", "--sync", &login.to_string()]);
    xdotool(&["type", "--delay", "40", USER]);
    xdotool(&["key", "Tab"]);
    xdotool(&["type", "--delay", "40", "any-password"]);
    xdotool(&["key", "Return"]);
    sleep(Duration::from_secs(3)); // the consent page loads
}

/// Answers the IdP's consent page: "Continue" has the focus, "[ Cancel ]"
/// comes next.
fn consent(login: u64, accept: bool) {
    xdotool(&["windowfocus", "--sync", &login.to_string()]);
    if !accept {
        xdotool(&["key", "Tab"]);
    }
    xdotool(&["key", "Return"]);
}

/// The test's profile; its forced refreshes over the socket are real ones
/// (no `force_refresh_interval`), as the tests force them right after a
/// sign-in.
fn profiles_toml(idp: &Idp) -> String {
    format!(
        "[profiles.{PROFILE}]\nprovider = \"oidc\"\nissuer = \"{}\"\nclient_id = \"{}\"\n\
         login = \"embedded\"\nscopes = [\"api.read\"]\n\
         force_refresh_interval = 0\n",
        idp.issuer(),
        idp.public_client_id()
    )
}

fn origin(issuer: &str) -> String {
    let url = url::Url::parse(issuer).unwrap();
    url.origin().ascii_serialization()
}

/// The HTTP status of the userinfo endpoint for `token` (curl, so that
/// the token never lands in a panic message).
fn userinfo_status(userinfo: &str, token: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(userinfo)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sleeps until the wall clock reaches `at` (epoch seconds); at once when
/// it has.
fn sleep_until(at: EpochSecs) {
    let left = at - now();
    if left > 0 {
        sleep(Duration::from_secs(u64::try_from(left).unwrap_or(0)));
    }
}
