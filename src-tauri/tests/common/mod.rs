//! The harness for the app's end-to-end tests on the headless desktop
//! (Xvfb, an XEmbed tray host such as trayer, D-Bus, gnome-keyring, dunst:
//! `scripts/headless-session`): starts the real `tokentray-app` in a
//! throwaway home with its own vault service and agent socket, finds its
//! tray icon and windows, drives them with xdotool, takes screenshots.
//!
//! How the icon is found: with an XEmbed tray host, libayatana-appindicator
//! falls back to an icon window that the host reparents into its own window.
//! So "our tray icon exists" = a viewable X window with our `_NET_WM_PID`
//! whose top-level ancestor belongs to another client (the tray host).

// a helper may be without a user between changes
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const TRAY_TIMEOUT: Duration = Duration::from_secs(30);
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const MENU_TIMEOUT: Duration = Duration::from_secs(5);
pub const POLL: Duration = Duration::from_millis(100);

/// One tray host, one app at a time: every test that starts the app takes
/// its turn (all areas share one test binary, `tests/tests.rs`, and run as
/// its threads).
static DESKTOP: Mutex<()> = Mutex::new(());

pub fn desktop_turn() -> MutexGuard<'static, ()> {
    DESKTOP
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A throwaway home for one app: config, data, vault service, socket.
pub struct Home {
    pub dir: TempDir,
    pub service: String,
}

impl Home {
    pub fn new() -> Home {
        require_headless_session();
        let dir = tempfile::tempdir().unwrap();
        let service = format!(
            "tokentray-app-test-{}-{}",
            std::process::id(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let home = Home { dir, service };
        for name in ["tokentray-config", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(home.path(name)).unwrap();
        }
        std::fs::create_dir_all(home.path("run")).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.path("run"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        home
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("run").join("agent.sock")
    }

    /// The environment that puts the app and the CLI in this home: its
    /// config, data and state, its vault service, its agent socket.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.dir.path().to_path_buf()),
            ("TOKENTRAY_CONFIG_DIR", self.path("tokentray-config")),
            ("XDG_CONFIG_HOME", self.path("config")),
            ("XDG_DATA_HOME", self.path("data")),
            ("XDG_CACHE_HOME", self.path("cache")),
            ("XDG_STATE_HOME", self.path("state")),
            ("TOKENTRAY_VAULT_SERVICE", PathBuf::from(&self.service)),
            ("TOKENTRAY_SOCKET", self.socket()),
        ]
    }

    /// `tokentray ARGS` in this home (stdin closed).
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cli_binary());
        command.args(args).envs(self.env()).stdin(Stdio::null());
        command
    }

    pub fn write_profiles(&self, toml: &str) {
        std::fs::write(self.path("tokentray-config").join("profiles.toml"), toml).unwrap();
    }

    /// `secret-tool search --all service SERVICE`: (attributes, values).
    pub fn vault(&self) -> (String, Vec<String>) {
        let out = run_tool(
            "secret-tool",
            &["search", "--all", "service", &self.service],
        );
        let values = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("secret = ").map(str::to_string))
            .collect();
        (String::from_utf8_lossy(&out.stderr).into_owned(), values)
    }
}

/// The app under test; killed if a test fails early.
pub struct App {
    child: Child,
    pub home: Home,
}

impl App {
    pub fn start() -> App {
        App::start_in(Home::new(), &[])
    }

    /// Starts the app in `home` with extra environment variables.
    pub fn start_in(home: Home, env: &[(&str, &str)]) -> App {
        let output = File::create(home.path("output.txt")).unwrap();
        // TOKENTRAY_APP_BIN runs another build (release) through the same test
        let binary = std::env::var("TOKENTRAY_APP_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_tokentray-app").to_owned());
        let mut command = Command::new(binary);
        command
            .envs(home.env())
            .env("TOKENTRAY_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap();
        App { child, home }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the tray host shows our icon; returns the icon's window.
    pub fn wait_for_tray_icon(&mut self) -> u64 {
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
    pub fn assert_no_window(&mut self) {
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
    pub fn wait_for_menu(&mut self) {
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

    /// Clicks the tray icon until its menu shows (a click that lands while
    /// the app replaces the menu can be lost).
    pub fn open_tray_menu(&mut self, icon: u64) {
        for _ in 0..3 {
            click(icon, 8, 8);
            let started = Instant::now();
            while started.elapsed() < MENU_TIMEOUT {
                self.assert_running("opening the tray menu");
                let ours = pid_windows(self.pid());
                let tree = WindowTree::read();
                if ours.iter().any(|w| !tree.is_embedded(*w, &ours)) {
                    // let GTK finish mapping it and grab the keyboard
                    sleep(Duration::from_millis(200));
                    return;
                }
                sleep(POLL);
            }
        }
        panic!(
            "the tray menu did not open after 3 clicks\n{}",
            WindowTree::read().text
        );
    }

    /// "Accounts…" from the tray menu of an app with no profile (the menu
    /// is then Add account…, Accounts…, …); returns the window.
    pub fn open_accounts_window_with_no_profile(&mut self, icon: u64) -> u64 {
        self.open_tray_menu(icon);
        xdotool(&["key", "Down", "Down", "Return"]);
        wait_for(
            "the accounts window",
            MENU_TIMEOUT * 6,
            || window_named("^Tokentray — Accounts$"),
            || self.output(),
        )
    }

    pub fn assert_running(&mut self, doing: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "tokentray-app exited ({status}) while {doing}\n{}",
                self.output()
            );
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
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

    /// SIGTERM, and the app quits cleanly (exit status 0) in time.
    pub fn terminate(&mut self) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let exit = self.wait_exit(EXIT_TIMEOUT);
        assert!(exit.success(), "{exit}\n{}", self.output());
    }

    pub fn log_file(&self) -> String {
        let path = self
            .home
            .path("data/dev.tokentray.app/logs/tokentray-app.log");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn output(&self) -> String {
        let output = std::fs::read_to_string(self.home.path("output.txt")).unwrap_or_default();
        format!("--- app stdout/stderr ---\n{output}--- end ---")
    }

    /// Waits until the app's agent says `profile` is signed in (`what`
    /// names the step); returns that profile's status.
    pub fn wait_signed_in(
        &self,
        what: &str,
        profile: &str,
        timeout: Duration,
    ) -> tokentray_core::status::ProfileStatus {
        let agent = tokentray_core::ipc::client::Client::new(self.home.socket());
        wait_for(
            what,
            timeout,
            || {
                let status = agent.status().ok().flatten()?;
                let found = status.profiles.into_iter().find(|p| p.name == profile)?;
                (found.state == tokentray_core::ipc::protocol::SignInState::SignedIn)
                    .then_some(found)
            },
            || format!("{}\n{}", self.log_file(), self.output()),
        )
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

/// `tokentray` next to this test's binary (built by `cargo test
/// --workspace`, or `cargo build -p tokentray-cli`), or `TOKENTRAY_CLI_BIN`.
pub fn cli_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TOKENTRAY_CLI_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("tokentray"))
        .unwrap();
    assert!(
        binary.is_file(),
        "{} is missing: build it first (`cargo build -p tokentray-cli`) or set TOKENTRAY_CLI_BIN",
        binary.display()
    );
    binary
}

pub fn require_headless_session() {
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

pub fn run_tool(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install x11-utils and xdotool): {e}"))
}

pub fn xdotool(args: &[&str]) {
    let out = run_tool("xdotool", args);
    assert!(
        out.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The visible X windows whose `_NET_WM_PID` is `pid`.
pub fn pid_windows(pid: u32) -> HashSet<u64> {
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
pub struct WindowTree {
    pub text: String,
    top_level: Vec<(u64, u64)>,
}

impl WindowTree {
    pub fn read() -> WindowTree {
        // a window that goes away during the walk fails it (BadWindow):
        // walk again
        let mut out = run_tool("xwininfo", &["-root", "-tree"]);
        for _ in 0..5 {
            if out.status.success() {
                break;
            }
            sleep(POLL);
            out = run_tool("xwininfo", &["-root", "-tree"]);
        }
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
    pub fn is_embedded(&self, window: u64, ours: &HashSet<u64>) -> bool {
        self.top_level
            .iter()
            .find(|(id, _)| *id == window)
            .is_some_and(|(id, top)| id != top && !ours.contains(top))
    }
}

/// Polls `check` until it gives a value, or fails after `timeout` with
/// `what` and `context()` in the message.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            eprintln!("{what}: after {:?}", started.elapsed());
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "{what}: nothing after {timeout:?}\n{}",
            context()
        );
        sleep(POLL * 2);
    }
}

/// Clicks the tray icon (the native menu opens and grabs the keyboard).
pub fn click(window: u64, x: u32, y: u32) {
    xdotool(&[
        "mousemove",
        "--window",
        &window.to_string(),
        &x.to_string(),
        &y.to_string(),
        "click",
        "1",
    ]);
}

/// A visible window whose title matches `regex`.
pub fn window_named(regex: &str) -> Option<u64> {
    let out = run_tool("xdotool", &["search", "--onlyvisible", "--name", regex]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .next()
}

pub fn window_title(window: u64) -> String {
    let out = run_tool("xdotool", &["getwindowname", &window.to_string()]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The CLIPBOARD selection's text (`None`: nothing there).
pub fn clipboard(selection: &str) -> Option<String> {
    let out = run_tool("xclip", &["-o", "-selection", selection]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Every notification dunst received in this session, one per line.
pub fn notifications() -> String {
    let path = std::env::var("TOKENTRAY_NOTIFY_LOG").unwrap_or_default();
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Where the screenshots go (under `target/`, not committed).
pub fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tokentray-app-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `import -window root` into the artefacts directory; never fails a test.
pub fn screenshot(name: &str) -> PathBuf {
    let path = artefacts().join(format!("{name}.png"));
    match Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()
    {
        Ok(status) if status.success() => eprintln!("screenshot {}", path.display()),
        other => eprintln!("no screenshot {name}: {other:?}"),
    }
    path
}

/// The text a webview window shows: a click on a blank spot (its bottom
/// right corner) so that no input has the focus, select all, copy, read
/// the clipboard.
pub fn window_text(window: u64) -> Option<String> {
    let id = window.to_string();
    xdotool(&["windowfocus", "--sync", &id]);
    let (width, height) = window_size(window);
    click(
        window,
        width.saturating_sub(8).max(1),
        height.saturating_sub(8).max(1),
    );
    xdotool(&["key", "ctrl+a", "ctrl+c"]);
    std::thread::sleep(Duration::from_millis(300));
    clipboard("clipboard")
}

fn window_geometry(window: u64) -> HashMap<String, u32> {
    let out = run_tool(
        "xdotool",
        &["getwindowgeometry", "--shell", &window.to_string()],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

fn window_size(window: u64) -> (u32, u32) {
    let geometry = window_geometry(window);
    (
        geometry.get("WIDTH").copied().unwrap_or(0),
        geometry.get("HEIGHT").copied().unwrap_or(0),
    )
}

/// One window as it shows on the screen (the root window cropped to its
/// geometry: WebKit's windows grab as black on their own) into the
/// artefacts directory; never fails a test.
pub fn screenshot_window(name: &str, window: u64) -> PathBuf {
    let path = artefacts().join(format!("{name}.png"));
    let geometry = window_geometry(window);
    let value = |key: &str| geometry.get(key).copied().unwrap_or(0);
    let crop = format!(
        "{}x{}+{}+{}",
        value("WIDTH"),
        value("HEIGHT"),
        value("X"),
        value("Y")
    );
    match Command::new("import")
        .args(["-window", "root", "-crop", &crop])
        .arg(&path)
        .status()
    {
        Ok(status) if status.success() => eprintln!("screenshot {}", path.display()),
        other => eprintln!("no screenshot {name}: {other:?}"),
    }
    path
}

/// Resident memory of `pid` and all its descendants (the WebKit
/// processes), in KiB: a figure to report, not to assert.
pub fn tree_rss_kib(pid: u32) -> u64 {
    tree_processes(pid).iter().map(|(_, _, rss)| rss).sum()
}

/// `pid` and its descendants: (pid, command name, RSS in KiB).
pub fn tree_processes(pid: u32) -> Vec<(u32, String, u64)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // the fields after the command name's closing parenthesis
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((child, ppid));
        }
    }
    let mut tree = vec![pid];
    let mut at = 0;
    while at < tree.len() {
        let parent = tree[at];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        at += 1;
    }
    tree.iter()
        .filter_map(|p| {
            let status = std::fs::read_to_string(format!("/proc/{p}/status")).ok()?;
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            let rss = field("VmRSS:")?
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()?;
            Some((*p, field("Name:").unwrap_or_default(), rss))
        })
        .collect()
}

/// CPU time (user + system, in clock ticks) of `pid` and its descendants.
pub fn tree_cpu_ticks(pid: u32) -> u64 {
    tree_processes(pid)
        .iter()
        .filter_map(|(p, _, _)| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are the 14th and 15th fields of the line
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .sum()
}

/// With `TOKENTRAY_MEASURE_IDLE_SECS=N`, reports the app's CPU use over N
/// idle seconds and its RSS (a measurement, not a check).
pub fn report_idle(app: &App, what: &str) {
    let Some(secs) = std::env::var("TOKENTRAY_MEASURE_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let before = tree_cpu_ticks(app.pid());
    sleep(Duration::from_secs(secs));
    let ticks = tree_cpu_ticks(app.pid()) - before;
    // USER_HZ is 100 on Linux
    let percent = ticks as f64 / 100.0 / secs as f64 * 100.0;
    eprintln!(
        "idle {what}: {ticks} ticks of CPU over {secs} s = {percent:.3} %; RSS {} KiB",
        tree_rss_kib(app.pid())
    );
}
