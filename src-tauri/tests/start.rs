//! Starts the real `tokentray-app` binary on the headless desktop (Xvfb + an
//! XEmbed tray host such as trayer, set up by `scripts/headless-session`),
//! waits for its tray icon, checks it runs with no window, and quits it: once
//! from the tray menu, once with SIGTERM.
//!
//! How the icon is found: with an XEmbed tray host, libayatana-appindicator
//! falls back to an icon window that the host reparents into its own window.
//! So "our tray icon exists" = a viewable X window with our `_NET_WM_PID`
//! whose top-level ancestor belongs to another client (the tray host).

// test helpers: a failed step is a failed test
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fs::File;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

const TRAY_TIMEOUT: Duration = Duration::from_secs(30);
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
const MENU_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// One tray host, one app at a time: the tests take turns.
static DESKTOP: Mutex<()> = Mutex::new(());

#[test]
fn quits_from_the_tray_menu() {
    let _turn = DESKTOP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
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
    let _turn = DESKTOP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut app = App::start();
    app.wait_for_tray_icon();
    app.assert_no_window();

    let pid = app.pid().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = app.wait_exit(EXIT_TIMEOUT);
    eprintln!("tokentray-app exited after SIGTERM: {status}");
}

/// The app under test, in a throwaway home; killed if a test fails early.
struct App {
    child: Child,
    home: TempDir,
}

impl App {
    fn start() -> App {
        require_headless_session();
        let home = tempfile::tempdir().unwrap();
        let path = |name: &str| {
            let dir = home.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        };
        let output = File::create(home.path().join("output.txt")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tokentray-app"))
            .env("HOME", home.path())
            .env("TOKENTRAY_CONFIG_DIR", path("tokentray-config"))
            .env("XDG_CONFIG_HOME", path("config"))
            .env("XDG_DATA_HOME", path("data"))
            .env("XDG_CACHE_HOME", path("cache"))
            .env("XDG_STATE_HOME", path("state"))
            .env("TOKENTRAY_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        App { child, home }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the tray host shows our icon; returns the icon's window.
    fn wait_for_tray_icon(&mut self) -> u64 {
        let started = Instant::now();
        loop {
            self.assert_running("waiting for the tray icon");
            let ours = pid_windows(self.pid());
            let tree = WindowTree::read();
            if let Some(icon) = ours.iter().copied().find(|w| tree.is_embedded(*w, &ours)) {
                eprintln!("tray icon 0x{icon:x} after {:?}", started.elapsed());
                return icon;
            }
            assert!(
                started.elapsed() < TRAY_TIMEOUT,
                "no tray icon after {TRAY_TIMEOUT:?}; is a tray host (trayer) running?\n\
                 windows:\n{}\n{}",
                tree.text,
                self.output()
            );
            sleep(POLL);
        }
    }

    /// The app runs in the tray only: every visible window of ours is
    /// embedded in the tray host.
    fn assert_no_window(&mut self) {
        self.assert_running("checking for windows");
        let ours = pid_windows(self.pid());
        let tree = WindowTree::read();
        let shown: Vec<_> = ours
            .iter()
            .filter(|w| !tree.is_embedded(**w, &ours))
            .collect();
        assert!(
            shown.is_empty(),
            "the app shows windows {shown:x?}\n{}",
            tree.text
        );
    }

    /// Waits until a visible window of ours outside the tray (the menu) shows.
    fn wait_for_menu(&mut self) {
        let started = Instant::now();
        loop {
            self.assert_running("waiting for the tray menu");
            let ours = pid_windows(self.pid());
            let tree = WindowTree::read();
            if ours.iter().any(|w| !tree.is_embedded(*w, &ours)) {
                return;
            }
            assert!(
                started.elapsed() < MENU_TIMEOUT,
                "the tray menu did not open\n{}",
                tree.text
            );
            sleep(POLL);
        }
    }

    fn assert_running(&mut self, doing: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "tokentray-app exited ({status}) while {doing}\n{}",
                self.output()
            );
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "still running after {timeout:?}\n{}",
                self.output()
            );
            sleep(POLL);
        }
    }

    fn log_file(&self) -> String {
        let path = self
            .home
            .path()
            .join("data/dev.tokentray.app/logs/tokentray-app.log");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn output(&self) -> String {
        let output =
            std::fs::read_to_string(self.home.path().join("output.txt")).unwrap_or_default();
        format!("--- app stdout/stderr ---\n{output}--- end ---")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn require_headless_session() {
    let session = std::env::var("TOKENTRAY_HEADLESS_SESSION").unwrap_or_default();
    let display = std::env::var("DISPLAY").unwrap_or_default();
    // without a session bus GTK would autolaunch one (and portals) in our
    // throwaway HOME and leave them running
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    assert!(
        session == "1" && !display.is_empty() && !bus.is_empty(),
        "this test needs the headless desktop (Xvfb, tray host, D-Bus): run under \
         scripts/headless-session (TOKENTRAY_HEADLESS_SESSION={session:?}, DISPLAY={display:?}, \
         DBUS_SESSION_BUS_ADDRESS={bus:?})"
    );
}

fn run_tool(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install x11-utils and xdotool): {e}"))
}

fn xdotool(args: &[&str]) {
    let out = run_tool("xdotool", args);
    assert!(
        out.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The visible X windows whose `_NET_WM_PID` is `pid`.
fn pid_windows(pid: u32) -> HashSet<u64> {
    // exits 1 when nothing matches
    let out = run_tool(
        "xdotool",
        &["search", "--onlyvisible", "--pid", &pid.to_string()],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// `xwininfo -root -tree`, reduced to each window's top-level ancestor.
struct WindowTree {
    text: String,
    top_level: Vec<(u64, u64)>,
}

impl WindowTree {
    fn read() -> WindowTree {
        let out = run_tool("xwininfo", &["-root", "-tree"]);
        assert!(
            out.status.success(),
            "xwininfo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut top_level = Vec::new();
        let mut top_indent = None;
        let mut current_top = 0;
        for line in text.lines() {
            let trimmed = line.trim_start();
            let Some(hex) = trimmed.strip_prefix("0x") else {
                continue;
            };
            let Some(id) = hex
                .split_whitespace()
                .next()
                .and_then(|h| u64::from_str_radix(h, 16).ok())
            else {
                continue;
            };
            let indent = line.len() - trimmed.len();
            // the first window listed is a child of the root: that sets the
            // top-level indentation
            let top = *top_indent.get_or_insert(indent);
            if indent <= top {
                current_top = id;
            }
            top_level.push((id, current_top));
        }
        WindowTree { text, top_level }
    }

    /// `window` sits inside a top-level window that is not ours: embedded.
    fn is_embedded(&self, window: u64, ours: &HashSet<u64>) -> bool {
        self.top_level
            .iter()
            .find(|(id, _)| *id == window)
            .is_some_and(|(id, top)| id != top && !ours.contains(top))
    }
}
