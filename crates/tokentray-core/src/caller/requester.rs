//! Which program in a chain of processes is asking: the one rule, on plain
//! data, so it is tested on recorded process trees.
//!
//! The chain starts at the peer (the process connected to the agent) and
//! goes up through its parents. When the peer is the `tokentray` CLI
//! (`tokentray token`, `exec`, `git-credential`), the requester is the
//! nearest ancestor that is not tokentray and not a pass-through (`env`,
//! `sudo`, `timeout`, `xargs`, `nohup`, …, [`PASS_THROUGH`]). A shell
//! counts as a pass-through when it is interactive, and as an interpreter
//! when it runs a script, like `python3 sync.py`: then the script is the
//! program. When nothing but pass-throughs is found up to the chain's end,
//! the first of them (the interactive shell the user typed in) is the
//! requester.

use std::path::{Path, PathBuf};

/// One process as the OS describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid.
    pub pid: u32,
    /// The executable's real path, when the OS tells.
    pub exe: Option<PathBuf>,
    /// The program's short name (Linux `comm`, macOS `pbi_name`, Windows
    /// the executable's file name).
    pub name: String,
    /// The script it runs, for an interpreter (`python3 /home/a/sync.py`);
    /// for an ssh client, the destination it connects to, in the shown
    /// form of [`super::ssh::Forward`] (`ssh alice@build-box`). Never the
    /// other arguments, which may carry anything.
    pub script: Option<PathBuf>,
    /// When it started, in the OS's own unit (clock ticks since boot on
    /// Linux, microseconds since 1970 on macOS, 100 ns since 1601 on
    /// Windows), so a reused pid is told apart.
    pub started: Option<u64>,
}

impl Process {
    /// How it is shown: `python3 /home/a/sync.py`, `ssh alice@build-box`,
    /// or the executable.
    pub fn display_name(&self) -> String {
        let program = self
            .exe
            .as_deref()
            .map_or_else(|| self.name.clone(), |p| p.display().to_string());
        match &self.script {
            Some(script) => format!("{} {}", base_name(&program), script.display()),
            None => program,
        }
    }
}

/// The executable of Tokentray's whole command line, which the `tokentray`
/// front hands commands to (`tokentray-cli`); counted as `tokentray`.
pub const CLI_PROGRAM: &str = "tokentray-cli";

/// Programs that only pass a command on: never the requester.
pub const PASS_THROUGH: &[&str] = &[
    "env", "sudo", "doas", "su", "runuser", "timeout", "xargs", "nohup", "nice", "ionice", "time",
    "stdbuf", "setsid", "flock", "chrt", "taskset", "watch", "exec", "command",
];

/// Shells: pass-throughs when interactive, interpreters with a script.
pub const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "ash", "busybox",
];

/// Interpreters whose first non-option argument is a script.
pub const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "node",
    "nodejs",
    "deno",
    "bun",
    "ruby",
    "perl",
    "php",
    "pwsh",
    "powershell",
    "lua",
    "Rscript",
];

/// The name a process is known by: its executable's file name without a
/// Windows `.exe`, or its short name; version suffixes of interpreters
/// (`python3.11`) are dropped.
pub fn program_kind(process: &Process) -> String {
    let name = process
        .exe
        .as_deref()
        .and_then(Path::file_name)
        .map_or_else(
            || process.name.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
    let name = name.strip_suffix(".exe").unwrap_or(&name).to_string();
    if name == CLI_PROGRAM {
        return "tokentray".into();
    }
    match name.split_once('.') {
        Some((stem, version)) if version.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            stem.to_string()
        }
        _ => name,
    }
}

/// The index in `chain` (peer first, then its parents) of the requesting
/// program; `None` for an empty chain.
pub fn requester(chain: &[Process]) -> Option<usize> {
    let first = chain.first()?;
    if program_kind(first) != "tokentray" {
        return Some(0);
    }
    let mut first_pass_through = None;
    for (index, process) in chain.iter().enumerate().skip(1) {
        let kind = program_kind(process);
        let shell_without_script = SHELLS.contains(&kind.as_str()) && process.script.is_none();
        if kind == "tokentray" {
            continue;
        }
        if shell_without_script || PASS_THROUGH.contains(&kind.as_str()) {
            first_pass_through.get_or_insert(index);
            continue;
        }
        return Some(index);
    }
    Some(first_pass_through.unwrap_or(0))
}

/// The script an interpreter runs, from its arguments (the program name
/// first): the first argument that is not an option; `None` for inline
/// code (`-c`, `-e`), a module (`-m`) or standard input.
pub fn script_of(kind: &str, args: &[String]) -> Option<PathBuf> {
    // the options that mean "no script file": a shell's `-e` is errexit
    let inline: &[&str] = if SHELLS.contains(&kind) {
        &["-c", "-s", "-"]
    } else if INTERPRETERS.contains(&kind) {
        &[
            "-c", "-e", "-m", "-E", "--eval", "-p", "--print", "-Command", "-",
        ]
    } else {
        return None;
    };
    for arg in args.iter().skip(1) {
        if inline.contains(&arg.as_str()) {
            return None;
        }
        if !arg.starts_with('-') {
            return Some(PathBuf::from(arg));
        }
    }
    None
}

fn base_name(program: &str) -> String {
    Path::new(program)
        .file_name()
        .map_or_else(|| program.to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: u32, exe: &str, args: &[&str]) -> Process {
        let exe = PathBuf::from(exe);
        let name = exe
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let args: Vec<String> = std::iter::once(exe.display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .collect();
        let mut p = Process {
            pid,
            exe: Some(exe),
            name,
            script: None,
            started: Some(u64::from(pid) * 10),
        };
        p.script = script_of(&program_kind(&p), &args);
        p
    }

    fn asked_by(chain: &[Process]) -> String {
        chain[requester(chain).unwrap()].display_name()
    }

    #[test]
    fn a_script_behind_the_cli_is_the_requester() {
        // tokentray token graph  ←  python3 sync.py  ←  bash  ←  tmux
        let chain = [
            process(40, "/usr/bin/tokentray", &["token", "graph"]),
            process(
                30,
                "/usr/bin/python3.11",
                &["-u", "/home/alice/sync.py", "--all"],
            ),
            process(20, "/usr/bin/bash", &[]),
            process(10, "/usr/bin/tmux", &[]),
        ];
        assert_eq!(asked_by(&chain), "python3.11 /home/alice/sync.py");
    }

    #[test]
    fn pass_throughs_and_nested_clis_are_skipped() {
        // tokentray ← timeout ← env ← tokentray exec ← node deploy.js
        let chain = [
            process(50, "/usr/bin/tokentray", &["token", "x"]),
            process(40, "/usr/bin/timeout", &["5", "tokentray"]),
            process(35, "/usr/bin/env", &["FOO=1"]),
            process(30, "/usr/local/bin/tokentray", &["exec", "x", "--"]),
            process(20, "/usr/bin/node", &["deploy.js"]),
            process(1, "/usr/lib/systemd/systemd", &[]),
        ];
        assert_eq!(asked_by(&chain), "node deploy.js");
    }

    #[test]
    fn the_whole_command_line_behind_the_front_counts_as_tokentray() {
        // `tokentray exec` handed to tokentray-cli (same pid), its child
        // `tokentray token` served by the front, under a script
        let chain = [
            process(40, "/usr/bin/tokentray", &["token", "x"]),
            process(30, "/usr/libexec/tokentray/tokentray-cli", &["exec", "x"]),
            process(20, "/usr/bin/python3", &["/srv/job.py"]),
        ];
        assert_eq!(asked_by(&chain), "python3 /srv/job.py");
        let windows = process(7, "C:/Program Files/Tokentray/tokentray-cli.exe", &[]);
        assert_eq!(program_kind(&windows), "tokentray");
    }

    #[test]
    fn a_shell_script_is_a_program_and_an_interactive_shell_is_the_user() {
        let script = [
            process(30, "/usr/bin/tokentray", &["token", "x"]),
            process(20, "/bin/sh", &["-e", "/etc/cron.daily/sync"]),
            process(10, "/usr/sbin/cron", &[]),
        ];
        // `sh -e script`: -e is errexit for a shell, so the script counts
        assert_eq!(asked_by(&script), "sh /etc/cron.daily/sync");
        let typed = [
            process(30, "/usr/bin/tokentray", &["token", "x"]),
            process(20, "/usr/bin/bash", &[]),
            process(10, "/usr/bin/sudo", &["-u", "alice"]),
        ];
        assert_eq!(asked_by(&typed), "/usr/bin/bash");
    }

    #[test]
    fn a_program_on_the_socket_itself_is_the_requester() {
        let chain = [
            process(20, "/opt/tool/bin/fetcher", &[]),
            process(10, "/usr/bin/bash", &[]),
        ];
        assert_eq!(asked_by(&chain), "/opt/tool/bin/fetcher");
        assert_eq!(requester(&[]), None);
        // only the CLI, its parents unreadable: the CLI itself
        assert_eq!(requester(&[process(5, "/usr/bin/tokentray", &[])]), Some(0));
    }

    #[test]
    fn inline_code_modules_and_windows_names_are_understood() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            script_of("python3", &args(&["python3", "-c", "print(1)"])),
            None
        );
        assert_eq!(script_of("python3", &args(&["python3", "-m", "pkg"])), None);
        assert_eq!(script_of("node", &args(&["node", "-e", "1"])), None);
        assert_eq!(script_of("bash", &args(&["bash", "-c", "x"])), None);
        assert_eq!(script_of("ls", &args(&["ls", "/etc"])), None);
        let windows = Process {
            pid: 7,
            exe: Some(PathBuf::from("C:/Tools/TokenTray.exe")),
            name: "TokenTray.exe".into(),
            script: None,
            started: None,
        };
        assert_eq!(program_kind(&windows), "TokenTray");
        let cli = Process {
            exe: Some(PathBuf::from("C:/bin/tokentray.exe")),
            ..windows
        };
        assert_eq!(program_kind(&cli), "tokentray");
    }
}
