//! End to end with the real app (hosting the agent socket), the real IdP,
//! the real keyring and a real requesting program: a Python script that
//! runs `tokentray token demo` for an `access = "confirm"` profile signed
//! in with the CLI's device flow. Each request opens the consent dialog,
//! which leaves the keyboard focus in a password field of another window
//! (typing there goes on), names the program, its script, the profile, the
//! account and the scopes, and counts down. *Allow once* serves that
//! request and the next one is asked again; *Deny* refuses it (exit 7);
//! no answer refuses it when the time is up (shortened to a few seconds
//! with `TOKENTRAY_CONSENT_TIMEOUT_SECS`, which the app reads and the
//! core's 60 s bounds); *Always* serves it, stores a rule with the
//! binary's SHA-256, and the next request is served without a dialog. The
//! audit trail shows each decision. Screenshot:
//! `target/tmp/tokentray-app-e2e/30-consent-dialog.png`.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{
    desktop_turn, run_tool, screenshot_window, wait_for, window_named, window_text, xdotool, App,
    Home,
};
use tokentray_core::ipc::client::Client;
use tokentray_testkit::Idp;

const PROFILE: &str = "demo";
const USER: &str = "alice";
const STEP: Duration = Duration::from_secs(30);
/// The dialog's wait in this test (the app's `TOKENTRAY_CONSENT_TIMEOUT_SECS`).
const TIMEOUT_SECS: u64 = 6;
/// The CLI's exit code for a refusal by the access policy.
const DENIED: i32 = 7;
const TITLE: &str = "^Tokentray — allow python3 to use demo\\?$";

// S40: the tray app's dialog: once, deny, timeout, always; the audit shows each
#[test]
fn the_dialog_allows_once_denies_times_out_and_always_allows() {
    let _turn = desktop_turn();
    let idp = Idp::start().expect("the local IdP starts (npm ci --prefix tests/idp?)");
    let home = Home::new();
    home.write_profiles(&format!(
        "[profiles.{PROFILE}]\nprovider = \"oidc\"\nissuer = \"{}\"\nclient_id = \"{}\"\n\
         login = \"device\"\nscopes = [\"api.read\"]\naccess = \"confirm\"\n",
        idp.issuer(),
        idp.public_client_id()
    ));
    sign_in(&home, &idp);
    let mut app = App::start_in(
        home,
        &[("TOKENTRAY_CONSENT_TIMEOUT_SECS", &TIMEOUT_SECS.to_string())],
    );
    app.wait_for_tray_icon();
    let agent = Client::new(app.home.socket());
    wait_for(
        "the app serves the agent socket",
        STEP,
        || agent.ping().ok().flatten(),
        || app.output(),
    );
    let requester = Requester::new(&app.home);
    let mut field = PasswordField::start(&app.home);

    // Allow once: served; the dialog names who asks for what
    let (request, dialog) = ask(&mut app, &requester, &mut field);
    // before reading its text selects it all
    let shot = screenshot_window("30-consent-dialog", dialog);
    let text = question_text(&app, dialog);
    for shown in [
        "Allow python3 to take a token of demo?",
        "python3 (pid ",
        &requester.python.display().to_string(),
        &requester.script.display().to_string(),
        PROFILE,
        USER,
        "api.read",
        "Deny",
        "Allow once",
        "Allow for 8 hours",
        "Always allow this program",
        " s unless you answer.",
    ] {
        assert!(text.contains(shown), "the dialog shows {shown:?}:\n{text}");
    }
    eprintln!(
        "the README's copy: docs/screenshots/consent-dialog.png ← {}",
        shot.display()
    );
    press(dialog, "alt+o");
    let served = finish(request);
    assert!(served.status.success(), "{}", stderr(&served));
    assert!(stdout(&served).trim().len() > 20, "a token on stdout");
    dialog_gone(&app);

    // once was once: asked again; Deny refuses
    let (request, dialog) = ask(&mut app, &requester, &mut field);
    question_text(&app, dialog);
    press(dialog, "alt+d");
    let denied = finish(request);
    assert_eq!(denied.status.code(), Some(DENIED), "{}", stderr(&denied));
    assert!(stdout(&denied).is_empty());
    assert!(
        stderr(&denied).contains("the user denied"),
        "{}",
        stderr(&denied)
    );
    dialog_gone(&app);

    // nobody answers: refused when the countdown ends, the dialog closes
    let asked = Instant::now();
    let (request, _dialog) = ask(&mut app, &requester, &mut field);
    let timed_out = finish(request);
    assert_eq!(
        timed_out.status.code(),
        Some(DENIED),
        "{}",
        stderr(&timed_out)
    );
    assert!(
        stderr(&timed_out).contains("nobody answered"),
        "{}",
        stderr(&timed_out)
    );
    assert!(asked.elapsed() >= Duration::from_secs(TIMEOUT_SECS - 1));
    dialog_gone(&app);

    // Always: served, remembered with the binary's hash, listed
    let (request, dialog) = ask(&mut app, &requester, &mut field);
    question_text(&app, dialog);
    press(dialog, "alt+a");
    let served = finish(request);
    assert!(served.status.success(), "{}", stderr(&served));
    dialog_gone(&app);
    let profiles =
        std::fs::read_to_string(app.home.path("tokentray-config").join("profiles.toml")).unwrap();
    assert!(
        profiles.contains(&requester.script.display().to_string()) && profiles.contains("sha256"),
        "{profiles}"
    );
    let listed = output(app.home.cli(&["access", "list", PROFILE]));
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains(&format!(
            "{} {}",
            requester.python.display(),
            requester.script.display()
        )),
        "{}",
        stdout(&listed)
    );

    // the rule serves the next request: no dialog
    let mut request = requester.spawn();
    while request.try_wait().unwrap().is_none() {
        assert!(window_named(TITLE).is_none(), "a dialog despite the rule");
        sleep(common::POLL);
    }
    let served = finish(request);
    assert!(served.status.success(), "{}", stderr(&served));

    let audit = output(app.home.cli(&["audit", "--json"]));
    assert!(audit.status.success(), "{}", stderr(&audit));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
    // the audit names the real executable (python3.11), the dialog its kind
    let program = format!(
        "{} {}",
        requester.python.file_name().unwrap().to_string_lossy(),
        requester.script.display()
    );
    let decisions: Vec<&str> = entries
        .iter()
        .filter(|entry| entry["program"] == program.as_str())
        .map(|entry| entry["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "allowed_by_user",
            "denied",
            "timed_out",
            "allowed_by_user",
            "allowed_by_rule"
        ],
        "{entries:#?}"
    );
    let token = stdout(&served);
    assert!(!String::from_utf8_lossy(&audit.stdout).contains(token.trim()));

    field.stop();
    app.terminate();
    let log = app.log_file();
    assert!(log.contains("consent dialog opened"), "{log}");
}

/// Signs the profile in with the CLI's device flow (no app runs yet),
/// approved at the IdP as [`USER`].
fn sign_in(home: &Home, idp: &Idp) {
    use std::io::{BufRead, BufReader};
    let mut login = home
        .cli(&["login", PROFILE, "--device", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(login.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let device: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("first line {line:?} is not JSON: {e}"));
    idp.approve_device(device["user_code"].as_str().unwrap(), USER)
        .unwrap();
    let done = login.wait_with_output().unwrap();
    assert!(done.status.success(), "login: {}", stderr(&done));
}

/// The requesting program: the system's Python running a script that
/// runs `tokentray token demo` and exits with its code.
struct Requester {
    python: PathBuf,
    script: PathBuf,
    cli: Command,
}

impl Requester {
    fn new(home: &Home) -> Self {
        let script = home.path("ask.py");
        std::fs::write(
            &script,
            "import subprocess, sys\nsys.exit(subprocess.run(sys.argv[1:]).returncode)\n",
        )
        .unwrap();
        Requester {
            // the real executable, as the agent reads it from /proc
            python: std::fs::canonicalize("/usr/bin/python3").unwrap(),
            script: std::fs::canonicalize(script).unwrap(),
            cli: home.cli(&["token", PROFILE]),
        }
    }

    fn spawn(&self) -> Child {
        Command::new(&self.python)
            .arg(&self.script)
            .arg(self.cli.get_program())
            .args(self.cli.get_args())
            .envs(self.cli.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// A window of another program whose password field has the keyboard
/// focus (Tk; every key typed there is written to a file).
struct PasswordField {
    child: Child,
    typed: PathBuf,
    window: u64,
}

impl PasswordField {
    fn start(home: &Home) -> Self {
        let typed = home.path("typed.txt");
        let script = home.path("password.py");
        std::fs::write(
            &script,
            "import sys, tkinter as tk\n\
             root = tk.Tk()\nroot.title('Password field')\n\
             entry = tk.Entry(root, show='*')\nentry.pack(padx=30, pady=30)\n\
             entry.bind('<KeyRelease>', lambda _: open(sys.argv[1], 'w').write(entry.get()))\n\
             entry.focus_set()\nroot.mainloop()\n",
        )
        .unwrap();
        // a Python with Tk: the one on PATH (pyenv's here) or the system's
        let child = Command::new("python3")
            .arg(&script)
            .arg(&typed)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let window = wait_for(
            "the password field's window",
            STEP,
            || window_named("^Password field$"),
            String::new,
        );
        PasswordField {
            child,
            typed,
            window,
        }
    }

    /// Gives the field the keyboard focus; returns X's focus window.
    fn focus(&self) -> String {
        xdotool(&["windowfocus", "--sync", &self.window.to_string()]);
        sleep(Duration::from_millis(200));
        focused_window()
    }

    /// Types `text` wherever the keyboard focus is; true when it reached
    /// the field.
    fn types(&self, text: &str) -> bool {
        xdotool(&["type", "--delay", "30", text]);
        sleep(Duration::from_millis(300));
        std::fs::read_to_string(&self.typed)
            .unwrap_or_default()
            .ends_with(text)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PasswordField {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The window X gives the keyboard to.
fn focused_window() -> String {
    let out = run_tool("xdotool", &["getwindowfocus"]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// With the password field focused, a request; returns it and its dialog
/// once that shows, after checking that typing still goes to the field.
fn ask(app: &mut App, requester: &Requester, field: &mut PasswordField) -> (Child, u64) {
    let before = field.focus();
    let request = requester.spawn();
    let dialog = wait_for(
        "the consent dialog",
        STEP,
        || window_named(TITLE),
        || app.output(),
    );
    sleep(Duration::from_secs(1)); // mapped and drawn
    assert_eq!(
        focused_window(),
        before,
        "the dialog took the keyboard focus"
    );
    assert!(
        field.types("hunter2"),
        "typing goes on in the password field"
    );
    (request, dialog)
}

/// The dialog's text, once its page shows the question.
fn question_text(app: &App, dialog: u64) -> String {
    wait_for(
        "the dialog's question",
        STEP,
        || window_text(dialog).filter(|text| text.contains("Allow python3")),
        || app.output(),
    )
}

/// Presses a button's access key in the dialog.
fn press(dialog: u64, key: &str) {
    xdotool(&["windowfocus", "--sync", &dialog.to_string()]);
    xdotool(&["key", key]);
}

fn dialog_gone(app: &App) {
    wait_for(
        "the dialog closes",
        STEP,
        || window_named(TITLE).is_none().then_some(()),
        || app.output(),
    );
}

/// Waits for a request: it ends within the dialog's wait and a step.
fn finish(mut request: Child) -> Output {
    let started = Instant::now();
    while request.try_wait().unwrap().is_none() {
        if started.elapsed() > STEP + Duration::from_secs(TIMEOUT_SECS) {
            let _ = request.kill();
            panic!("the request still runs after {:?}", started.elapsed());
        }
        sleep(common::POLL);
    }
    request.wait_with_output().unwrap()
}

fn output(mut command: Command) -> Output {
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
