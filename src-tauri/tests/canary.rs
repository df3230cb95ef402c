//! Canary scan (S34): the test IdP puts a unique marker into every token,
//! code and ID token it issues (and into the confidential client's
//! secret); then the real tray app, the `tokentray` CLI through the app's
//! socket, and `tokentray agent` with one forced panic in its refresh path
//! all run at log level `trace` through sign-in, every output format,
//! client credentials, `exec`, a forced refresh, copying from the tray
//! menu, reminders and sign-out; the agent's stderr goes to a file. Afterwards no form of the marker (raw, or
//! base64url inside a JWT) may appear in any file under the session's
//! `HOME` (but the keyring's encrypted files), `/tmp` (the app's home, its
//! log files and stdout/stderr captures live there), `$XDG_RUNTIME_DIR`,
//! the notifications dunst received, the CLI's stderr, or the command line
//! and environment of the CLI and of `exec`'s child.
//!
//! Positive controls keep the scan honest: the tokens printed on stdout
//! and copied to the clipboard do carry the marker.

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{clipboard, desktop_turn, notifications, wait_for, xdotool, App, Home};
use tokentray_core::ipc::client::Client;
use tokentray_testkit::{Canary, Finding, Idp, IdpOptions, CONFIDENTIAL_CLIENT_ID};

const PROFILE: &str = "demo";
const SERVICE_PROFILE: &str = "svc";
const STEP: Duration = Duration::from_secs(30);
const FORMATS: [&str; 6] = ["raw", "json", "header", "env", "kubectl", "git-credential"];

// S21 S29 S32 S33 S34: no canary anywhere after the app, CLI and agent ran at trace level
// S29: exec passes the token in the child's environment only; errors and
// stderr never carry it
// S32 S33: logs, notifications and panic output carry no token material
#[test]
fn no_canary_leaks_from_the_app_the_cli_or_the_agent() {
    let _turn = desktop_turn();
    let canary = Canary::new();
    let marker = canary.marker().to_owned();
    let idp = Idp::start_with(IdpOptions {
        access_token_ttl: Duration::from_secs(40),
        confidential_secret: format!("{marker}secret"),
        canary: Some(marker.clone()),
        ..IdpOptions::default()
    })
    .expect("the local IdP starts (npm ci --prefix tests/idp?)");
    let home = Home::new();
    home.write_profiles(&format!(
        "[profiles.{PROFILE}]\nprovider = \"oidc\"\nissuer = \"{}\"\nclient_id = \"{}\"\n\
         login = \"browser\"\nscopes = [\"openid\", \"offline_access\", \"api.read\"]\n\
         force_refresh_interval = 0\n",
        idp.issuer(),
        idp.public_client_id()
    ));
    let browser = browser_script(&home);
    let mut findings = Vec::new();
    let mut cli = Cli::new(&home, &canary);
    cli.env.push(("BROWSER", PathBuf::from(&browser)));

    // the client secret goes from stdin to the vault only (S9)
    cli.run_with_stdin(
        &[
            "profile",
            "add",
            SERVICE_PROFILE,
            "--issuer",
            idp.issuer(),
            "--client-id",
            CONFIDENTIAL_CLIENT_ID,
            "--login",
            "client_credentials",
            "--scope",
            "api.read",
            "--client-secret-stdin",
        ],
        &format!("{marker}secret\n"),
    );

    let mut app = App::start_in(
        home,
        &[
            ("TOKENTRAY_LOG", "trace"),
            ("RUST_LOG", "trace"),
            ("BROWSER", &browser),
            ("TOKENTRAY_CLIPBOARD_CLEAR_SECS", "3"),
            ("TOKENTRAY_REMINDER_LEAD_SECS", "35"),
        ],
    );
    let icon = app.wait_for_tray_icon();
    let agent = Client::new(app.home.socket());
    wait_for(
        "the app serves the agent socket",
        STEP,
        || agent.ping().ok().flatten(),
        || app.output(),
    );

    // sign in from the CLI, sign out, then through the app's socket; each
    // time in "the browser"
    let opened = app.home.path("opened.txt");
    let authorize_urls = || std::fs::read_to_string(&opened).unwrap_or_default();
    let mut login = cli.spawn(&["login", PROFILE, "--browser"]);
    findings.extend(canary.scan_process(login.id()));
    let authorize = wait_for(
        "the CLI opens the authorize URL",
        STEP,
        || authorize_urls().lines().next().map(str::to_owned),
        || app.output(),
    );
    assert_eq!(idp.sign_in_and_follow(&authorize, "alice").unwrap(), 200);
    cli.finish(&mut login, "login");
    cli.run(&["logout", PROFILE]);
    let request = {
        let agent = agent.clone();
        std::thread::spawn(move || agent.login(PROFILE, None))
    };
    let authorize = wait_for(
        "the app opens the authorize URL",
        STEP,
        || authorize_urls().lines().nth(1).map(str::to_owned),
        || app.output(),
    );
    assert_eq!(idp.sign_in_and_follow(&authorize, "alice").unwrap(), 200);
    assert!(request.join().unwrap().is_ok());

    // every format prints the token (the positive control), stderr never
    for format in FORMATS {
        let stdout = cli.run(&["token", PROFILE, "--format", format]);
        assert!(
            canary.scan_bytes("stdout", stdout.as_bytes()).is_some(),
            "the token printed in {format} format carries the canary"
        );
    }
    let refreshed = cli.run(&["token", PROFILE, "--force-refresh"]);
    assert!(canary.scan_bytes("stdout", refreshed.as_bytes()).is_some());
    let service = cli.run(&["token", SERVICE_PROFILE]);
    assert!(canary.scan_bytes("stdout", service.as_bytes()).is_some());
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["profile", "show", SERVICE_PROFILE],
    ] {
        let stdout = cli.run(args);
        findings.extend(canary.scan_bytes(&format!("stdout of {args:?}"), stdout.as_bytes()));
    }

    // exec: the child has the token in its environment, not its arguments
    let mut exec = cli.spawn(&[
        "exec",
        PROFILE,
        "--",
        "sh",
        "-c",
        "test -n \"$TOKENTRAY_ACCESS_TOKEN\" && sleep 2",
    ]);
    let child = wait_for(
        "exec starts its child",
        STEP,
        || children(exec.id()).into_iter().next(),
        String::new,
    );
    // (`exec` replaces itself with the command: its environment holds the
    // token by design, its command line must not)
    for pid in [exec.id(), child] {
        findings.extend(canary.scan_file(Path::new(&format!("/proc/{pid}/cmdline"))));
    }
    cli.finish(&mut exec, "exec");

    // copy the access token, then the ID token, from the tray menu
    for (index, what) in [(0, "access token"), (2, "ID token")] {
        app.open_tray_menu(icon);
        xdotool(&["key", "Down", "Right"]);
        for _ in 0..index {
            xdotool(&["key", "Down"]);
        }
        xdotool(&["key", "Return"]);
        let copied = wait_for(
            &format!("the {what} on the clipboard"),
            STEP,
            || {
                clipboard("clipboard")
                    .filter(|text| canary.scan_bytes("", text.as_bytes()).is_some())
            },
            || app.output(),
        );
        drop(copied);
        wait_for(
            "the clipboard clears itself",
            STEP,
            || clipboard("clipboard").is_none().then_some(()),
            || app.output(),
        );
    }
    wait_for(
        "the copied token's reminder reaches dunst",
        Duration::from_secs(60),
        || notifications().contains("expires in").then_some(()),
        notifications,
    );

    let kill = Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    app.wait_exit(common::EXIT_TIMEOUT);

    // `tokentray agent` at trace level, with one panic forced in its
    // refresh path (a fault point of test builds): the forced refresh
    // fails, the agent serves on
    let mut agent_process = cli
        .command(&["agent"])
        .env("FAILPOINTS", "refresh-after-handout=1*panic")
        .stdout(std::fs::File::create(app.home.path("agent-output.txt")).unwrap())
        .stderr(std::fs::File::create(app.home.path("agent-log.txt")).unwrap())
        .spawn()
        .unwrap();
    wait_for(
        "tokentray agent serves the socket",
        STEP,
        || agent.ping().ok().flatten(),
        || std::fs::read_to_string(app.home.path("agent-log.txt")).unwrap_or_default(),
    );
    findings.extend(canary.scan_process(agent_process.id()));
    let forced = cli
        .command(&["token", PROFILE, "--force-refresh"])
        .output()
        .unwrap();
    assert_eq!(
        forced.status.code(),
        Some(1),
        "the forced refresh panics in the agent (a test build of tokentray has the \
         `failpoints` feature: build it with `cargo test --workspace`)"
    );
    findings.extend(canary.scan_bytes("stderr of the failed refresh", &forced.stderr));
    let after = cli.run(&["token", PROFILE]);
    assert!(
        canary.scan_bytes("stdout", after.as_bytes()).is_some(),
        "the agent serves on"
    );
    let agent_log = std::fs::read_to_string(app.home.path("agent-log.txt")).unwrap();
    assert!(agent_log.contains("panicked"), "the fault point fired");
    cli.run(&["logout", PROFILE]);
    agent_process.kill().unwrap();
    agent_process.wait().unwrap();

    findings.extend(canary.scan_bytes("notifications", notifications().as_bytes()));
    findings.extend(cli.findings.iter().cloned());
    findings.extend(scan_places(&canary));
    assert!(
        findings.is_empty(),
        "the canary leaked:\n{}",
        findings
            .iter()
            .map(|f| format!("  {} ({})", f.place, f.form))
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(app);
}

/// `HOME` but the keyring's encrypted files, `/tmp`, `$XDG_RUNTIME_DIR`.
fn scan_places(canary: &Canary) -> Vec<Finding> {
    let home = PathBuf::from(std::env::var("HOME").unwrap());
    let mut findings = canary.scan_dir(&home, &[home.join(".local/share/keyrings")]);
    findings.extend(canary.scan_dir(Path::new("/tmp"), &[]));
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR") {
        findings.extend(canary.scan_dir(Path::new(&runtime), &[]));
    }
    findings
}

/// A "browser" that only notes the URL it is asked to open.
fn browser_script(home: &Home) -> String {
    let script = home.path("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            home.path("opened.txt").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    script.display().to_string()
}

/// The children of `pid` (from `/proc/PID/task/*/children`).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// The `tokentray` CLI in the app's home, at log level `trace`; every
/// stderr it writes is scanned.
struct Cli<'a> {
    binary: PathBuf,
    env: Vec<(&'static str, PathBuf)>,
    canary: &'a Canary,
    findings: Vec<Finding>,
}

impl<'a> Cli<'a> {
    /// The CLI in the same home as the app (`App::start_in`).
    fn new(home: &Home, canary: &'a Canary) -> Self {
        Cli {
            binary: common::cli_binary(),
            env: home.env(),
            canary,
            findings: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&mut self, args: &[&str]) -> String {
        let output = self.command(args).output().unwrap();
        self.check(args, &output)
    }

    fn run_with_stdin(&mut self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = self.command(args).stdin(Stdio::piped()).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        self.check(args, &output)
    }

    fn spawn(&mut self, args: &[&str]) -> Child {
        self.command(args).spawn().unwrap()
    }

    fn finish(&mut self, child: &mut Child, what: &str) {
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < STEP, "`tokentray {what}` still runs");
            sleep(Duration::from_millis(100));
        }
        let mut stderr = Vec::new();
        if let Some(mut pipe) = child.stderr.take() {
            use std::io::Read;
            pipe.read_to_end(&mut stderr).unwrap();
        }
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "`tokentray {what}`: {status}\n{}",
            self.scrubbed(&stderr)
        );
        self.findings.extend(
            self.canary
                .scan_bytes(&format!("stderr of {what}"), &stderr),
        );
    }

    /// Asserts success and scans stderr; returns stdout.
    fn check(&mut self, args: &[&str], output: &Output) -> String {
        assert!(
            output.status.success(),
            "`tokentray {}` failed: {}\n{}",
            args.join(" "),
            output.status,
            self.scrubbed(&output.stderr)
        );
        self.findings.extend(
            self.canary
                .scan_bytes(&format!("stderr of {args:?}"), &output.stderr),
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Cli<'_> {
    /// `stderr` for a failure message, the raw marker masked.
    fn scrubbed(&self, stderr: &[u8]) -> String {
        String::from_utf8_lossy(stderr).replace(self.canary.marker(), "[canary]")
    }
}
