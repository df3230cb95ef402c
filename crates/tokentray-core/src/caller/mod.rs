//! Who is asking the agent: the peer's process and its parents, read from
//! the OS by the agent (never told by the client), and the requesting
//! program among them ([`requester`]). The agent names it in its log for
//! every token it serves and every sign-out it runs.
//!
//! Each platform's module reads one process: its parent, its start time
//! (so a reused pid is told apart), its executable's real path and, where
//! the OS shows another process's arguments, an interpreter's script or an
//! ssh client's destination (no other argument is kept):
//! - Linux (`linux`): `/proc/PID/{stat,exe,cmdline}`;
//! - macOS (`macos`): `proc_pidpath`, `proc_pidinfo(PROC_PIDTBSDINFO)` and
//!   the arguments from `sysctl(KERN_PROCARGS2)` (the user's own processes
//!   only; bounded in size);
//! - Windows (`windows`): `QueryFullProcessImageNameW` and
//!   `GetProcessTimes` through a query handle, the parent from a Toolhelp
//!   snapshot. No script or destination: another process's command line is
//!   in its own memory (its PEB), which the agent does not read, so `python
//!   sync.py` is named by `python.exe`.
//!
//! The chain is built here, the same on every platform: it stops at a
//! parent that started after its child (its pid was reused after the real
//! parent ended, as Windows keeps the creator's pid and never reparents).
//!
//! A peer that is an ssh client carries requests from the other end of an
//! SSH connection (`tokentray ssh`, or any `ssh -R` onto the agent's
//! socket): such a caller is [`Caller::forwarded`], with the destination
//! the agent read from that `ssh` process ([`ssh`]).

pub mod requester;
pub mod ssh;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(any(target_os = "macos", test))]
mod procargs;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod os {
    //! Elsewhere only the pid is known.
    use super::Process;

    pub(super) struct Reader;

    impl Reader {
        pub(super) fn new() -> Reader {
            Reader
        }

        pub(super) fn read(&self, pid: u32) -> Option<(Process, Option<u32>)> {
            Some((super::unknown(pid), None))
        }
    }

    /// Whether `process` still runs under its pid (unknown here: assumed).
    pub fn still_running(_process: &Process) -> bool {
        true
    }
}

pub use os::still_running;

pub use requester::Process;
pub use ssh::Forward;
use std::fmt;

/// How many parents are read at most.
const MAX_DEPTH: usize = 32;

/// A peer of the agent and the chain of processes above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The peer first, then its parents.
    chain: Vec<Process>,
    /// Index of the requesting program in `chain`.
    requester: usize,
    /// Set when the peer is an ssh client: the request came through an
    /// SSH forward.
    forward: Option<Forward>,
}

/// A peer's own process, read while it is surely alive (before it has its
/// answer); its parents outlive it and are read later ([`Caller::above`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerProcess {
    process: Process,
    parent: Option<u32>,
}

impl PeerProcess {
    /// Whether the peer is an ssh client: its requests came through an
    /// SSH forward ([`Caller::forwarded`]).
    pub fn is_forward(&self) -> bool {
        requester::program_kind(&self.process) == ssh::SSH_CLIENT
    }

    /// Process `pid` as the OS describes it now (only its pid when it is
    /// gone or unreadable).
    pub fn read(pid: u32) -> PeerProcess {
        let (process, parent) = os::Reader::new()
            .read(pid)
            .unwrap_or_else(|| (unknown(pid), None));
        PeerProcess { process, parent }
    }
}

impl Caller {
    /// The caller behind process `pid`, as far as the OS tells.
    pub fn of_pid(pid: u32) -> Caller {
        Caller::above(PeerProcess::read(pid))
    }

    /// The caller behind a peer read before: its parents are read now.
    pub fn above(peer: PeerProcess) -> Caller {
        let mut chain = vec![peer.process];
        if let Some(parent) = peer
            .parent
            .filter(|&p| p != chain[0].pid && chain[0].pid != 1)
        {
            let started = chain[0].started;
            chain.extend(chain_of(parent, started));
        }
        let requester = requester::requester(&chain).unwrap_or(0);
        let forward = forward_of(&chain);
        Caller {
            chain,
            requester,
            forward,
        }
    }

    /// A caller from a recorded chain (peer first); `None` when empty.
    pub fn from_chain(chain: Vec<Process>) -> Option<Caller> {
        let requester = requester::requester(&chain)?;
        let forward = forward_of(&chain);
        Some(Caller {
            chain,
            requester,
            forward,
        })
    }

    /// Where the request came from when it came through an SSH forward:
    /// the peer is an ssh client, and this is its destination (as the
    /// agent read it from that process, never as a client told it). The
    /// program on the remote machine is not known; the ssh client is the
    /// requester.
    pub fn forwarded(&self) -> Option<&Forward> {
        self.forward.as_ref()
    }

    /// The requesting program.
    pub fn program(&self) -> &Process {
        &self.chain[self.requester]
    }

    /// The peer's pid.
    pub fn pid(&self) -> u32 {
        self.chain[0].pid
    }

    /// The requesting program's parents, nearest first.
    pub fn parents(&self) -> &[Process] {
        &self.chain[self.requester + 1..]
    }

    /// The parents' short names (`bash`, `tmux`), nearest first.
    pub fn parent_names(&self) -> Vec<String> {
        self.parents().iter().map(requester::program_kind).collect()
    }
}

/// How many parents are shown.
const SHOWN_PARENTS: usize = 4;

/// `python3 /home/alice/sync.py ← bash ← tmux`, `ssh alice@build-box ←
/// bash` (at most four parents, then `← …`).
impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program().display_name())?;
        let parents = self.parent_names();
        for parent in parents.iter().take(SHOWN_PARENTS) {
            write!(f, " ← {parent}")?;
        }
        if parents.len() > SHOWN_PARENTS {
            write!(f, " ← …")?;
        }
        Ok(())
    }
}

/// The forward a chain's peer carries, when it is an ssh client.
fn forward_of(chain: &[Process]) -> Option<Forward> {
    let peer = chain.first()?;
    (requester::program_kind(peer) == ssh::SSH_CLIENT)
        .then(|| Forward::from_shown(peer.script.as_deref().and_then(|s| s.to_str())))
}

/// What tells a program apart beyond its executable: an interpreter's
/// script, an ssh client's destination.
#[cfg(any(target_os = "linux", target_os = "macos", test))]
fn what_it_runs(kind: &str, args: &[String]) -> Option<std::path::PathBuf> {
    if kind == ssh::SSH_CLIENT {
        return ssh::destination(args).map(|forward| forward.to_string().into());
    }
    requester::script_of(kind, args)
}

/// The first `count` NUL-terminated arguments in `raw`, empty ones left
/// out (`/proc/PID/cmdline`, the arguments of `KERN_PROCARGS2`).
#[cfg(any(target_os = "linux", target_os = "macos", test))]
fn args_of(raw: &[u8], count: usize) -> Vec<String> {
    raw.split(|&b| b == 0)
        .take(count)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn unknown(pid: u32) -> Process {
    Process {
        pid,
        exe: None,
        name: format!("pid {pid}"),
        script: None,
        started: None,
    }
}

/// The process `pid` and its parents, up to the first that cannot be read,
/// the init process, or one that started after the child it was read for
/// (`child_started`): then the pid is another process's now.
fn chain_of(pid: u32, child_started: Option<u64>) -> Vec<Process> {
    let reader = os::Reader::new();
    let mut chain = Vec::new();
    let mut next = Some(pid);
    let mut child_started = child_started;
    while let Some(pid) = next.filter(|&p| p != 0) {
        if chain.len() + 1 >= MAX_DEPTH {
            break;
        }
        let Some((process, parent)) = reader.read(pid) else {
            break;
        };
        if started_after(&process, child_started) {
            break;
        }
        child_started = process.started;
        chain.push(process);
        next = parent.filter(|&p| p != pid && pid != 1);
    }
    chain
}

/// Whether `process` started after its child (known only when both start
/// times are): it cannot be that child's parent.
fn started_after(process: &Process, child_started: Option<u64>) -> bool {
    matches!((process.started, child_started), (Some(parent), Some(child)) if parent > child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_and_its_parents_are_read() {
        let me = Caller::of_pid(std::process::id());
        assert_eq!(me.pid(), std::process::id());
        // the OS's own spelling of the path (`\\?\` or not on Windows)
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        assert_eq!(
            me.program()
                .exe
                .as_deref()
                .map(|p| p.canonicalize().unwrap()),
            Some(exe),
            "the test binary is not tokentray, so it is the requester"
        );
        assert!(me.program().started.is_some());
        assert!(crate::caller::still_running(me.program()));
        let reused = Process {
            started: me.program().started.map(|t| t + 1),
            ..me.program().clone()
        };
        assert!(!crate::caller::still_running(&reused));
        // a child of ours (under Wine, cargo is no Windows process: the
        // test's own parents are not known there)
        let (shell, wait): (&str, &[&str]) = if cfg!(windows) {
            ("cmd.exe", &["/c", "set /p line="])
        } else {
            ("/bin/sh", &["-c", "read line"])
        };
        let mut child = std::process::Command::new(shell)
            .args(wait)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let caller = Caller::of_pid(child.id());
        drop(child.stdin.take());
        child.wait().unwrap();
        assert_eq!(caller.pid(), child.id());
        let parent = caller.parents().first().expect("this process is read");
        assert_eq!(parent.pid, std::process::id(), "{caller:?}");
        assert_eq!(parent.exe, me.program().exe);
        assert_eq!(parent.started, me.program().started);
        for (child, parent) in std::iter::once(caller.program())
            .chain(caller.parents())
            .zip(caller.parents())
        {
            assert!(parent.started <= child.started, "{caller:?}");
        }
        assert!(caller.to_string().contains(" ← "), "{caller}");
    }

    #[test]
    fn a_parent_younger_than_its_child_is_another_process() {
        let at = |started| Process {
            started,
            ..unknown(8)
        };
        assert!(started_after(&at(Some(11)), Some(10)));
        assert!(!started_after(&at(Some(10)), Some(10)));
        assert!(!started_after(&at(Some(9)), Some(10)));
        assert!(!started_after(&at(None), Some(10)));
        assert!(!started_after(&at(Some(11)), None));
    }

    #[test]
    fn arguments_are_split_at_nuls() {
        assert_eq!(
            args_of(b"python3\0-u\0\0sync.py\0", usize::MAX),
            ["python3", "-u", "sync.py"]
        );
        assert_eq!(
            args_of(b"python3\0sync.py\0HOME=/h\0", 2),
            ["python3", "sync.py"]
        );
    }

    #[test]
    fn a_long_chain_shows_its_nearest_parents() {
        let process = |pid: u32, name: &str| Process {
            pid,
            exe: Some(format!("/usr/bin/{name}").into()),
            name: name.into(),
            script: None,
            started: None,
        };
        let chain = ["fetcher", "make", "bash", "tmux", "sshd", "systemd"]
            .iter()
            .zip(1u32..)
            .map(|(name, pid)| process(pid, name))
            .collect();
        let caller = Caller::from_chain(chain).unwrap();
        assert_eq!(
            caller.to_string(),
            "/usr/bin/fetcher ← make ← bash ← tmux ← sshd ← …"
        );
    }

    /// A recorded process: `exe` run with `args`, read as the OS would.
    fn ran(pid: u32, exe: &str, args: &[&str]) -> Process {
        let args: Vec<String> = std::iter::once(exe)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let mut process = Process {
            pid,
            exe: Some(exe.into()),
            name: exe.rsplit('/').next().unwrap_or(exe).into(),
            script: None,
            started: Some(u64::from(pid)),
        };
        process.script = what_it_runs(&requester::program_kind(&process), &args);
        process
    }

    #[test]
    fn a_request_through_an_ssh_forward_names_the_connection() {
        // `tokentray ssh alice@build-box` became this ssh (it execs), run
        // from bash in tmux
        let ssh = ran(
            40,
            "/usr/bin/ssh",
            &[
                "-R",
                "/tmp/tokentray-ssh-0f.sock:/run/user/1000/tokentray/agent.sock",
                "alice@build-box",
                "-p",
                "2222",
                "--",
                "deploy",
                "--token-file",
                "/secret/path",
            ],
        );
        let chain = vec![
            ssh,
            ran(30, "/usr/bin/bash", &[]),
            ran(20, "/usr/bin/tmux", &[]),
        ];
        let caller = Caller::from_chain(chain).unwrap();
        let forward = caller.forwarded().expect("an ssh peer is a forward");
        assert_eq!(forward.user.as_deref(), Some("alice"));
        assert_eq!(forward.host.as_deref(), Some("build-box"));
        assert_eq!(forward.port, Some(2222));
        assert_eq!(caller.to_string(), "ssh alice@build-box:2222 ← bash ← tmux");
        // the audit trail's program field
        assert_eq!(caller.program().display_name(), "ssh alice@build-box:2222");
        assert_eq!(
            caller.program().exe.as_deref(),
            Some(std::path::Path::new("/usr/bin/ssh"))
        );
        // only the destination is kept
        let kept = format!("{caller:?}");
        assert!(
            !kept.contains("secret") && !kept.contains("deploy"),
            "{kept}"
        );

        // the tokentray process stays when ssh is spawned, not exec'd
        let spawned = Caller::from_chain(vec![
            ran(41, "/usr/bin/ssh", &["build-box"]),
            ran(40, "/usr/local/bin/tokentray", &["ssh", "build-box"]),
            ran(30, "/bin/bash", &[]),
        ])
        .unwrap();
        assert_eq!(spawned.to_string(), "ssh build-box ← tokentray ← bash");
        assert!(spawned.forwarded().is_some());
    }

    #[test]
    fn an_ssh_above_the_cli_is_no_forward() {
        // `ssh -o ProxyCommand='tokentray …' build-box`: the CLI runs under
        // ssh on this machine; ssh is the requester, nothing is forwarded
        let chain = vec![
            ran(50, "/usr/bin/tokentray", &["token", "proxy"]),
            ran(40, "/usr/bin/ssh", &["-o", "ProxyCommand=x", "build-box"]),
            ran(30, "/usr/bin/bash", &[]),
        ];
        let caller = Caller::from_chain(chain).unwrap();
        assert_eq!(caller.forwarded(), None);
        assert_eq!(caller.to_string(), "ssh build-box ← bash");
        // a program of the user's on the socket is no forward either
        let local = Caller::from_chain(vec![ran(5, "/usr/bin/python3", &["x.py"])]).unwrap();
        assert_eq!(local.forwarded(), None);
    }

    #[test]
    fn an_ssh_peer_whose_command_line_is_unreadable_is_still_a_forward() {
        let mut ssh = ran(40, "/usr/bin/ssh", &["build-box"]);
        ssh.script = None;
        let caller = Caller::from_chain(vec![ssh, ran(30, "/usr/bin/bash", &[])]).unwrap();
        let forward = caller.forwarded().expect("still a forward");
        assert_eq!(forward.host, None);
        assert_eq!(forward.to_string(), "an unknown destination");
        assert_eq!(caller.to_string(), "/usr/bin/ssh ← bash");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_live_ssh_process_is_read_from_proc() {
        use std::io::Write;
        // a shell under the name `ssh`, its arguments shaped like ssh's:
        // `-c` takes a value for both
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("ssh");
        std::fs::copy("/bin/sh", &fake).unwrap();
        let mut child = std::process::Command::new(&fake)
            .args(["-c", "read line", "carol@db-host", "-p", "2200"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let fake = fake.canonicalize().unwrap();
        // until the fork has become the program: its exe link changes
        // before its new arguments are in place
        let exe = format!("/proc/{}/exe", child.id());
        let cmdline = format!("/proc/{}/cmdline", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_link(&exe).ok().as_deref() != Some(fake.as_path())
            || !std::fs::read(&cmdline).is_ok_and(|raw| raw.ends_with(b"2200\0"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the fake ssh never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let caller = Caller::of_pid(child.id());
        let _ = child.stdin.take().unwrap().write_all(b"\n");
        child.wait().unwrap();
        let forward = caller.forwarded().expect("the peer is an ssh client");
        assert_eq!(forward.to_string(), "carol@db-host:2200");
        assert_eq!(caller.program().exe.as_deref(), Some(fake.as_path()));
        assert!(
            caller.to_string().starts_with("ssh carol@db-host:2200 ← "),
            "{caller}"
        );
    }

    #[test]
    fn a_pid_that_is_gone_is_named_by_its_pid() {
        let gone = Caller::of_pid(u32::MAX - 1);
        assert_eq!(gone.pid(), u32::MAX - 1);
        assert_eq!(gone.to_string(), format!("pid {}", u32::MAX - 1));
    }
}
