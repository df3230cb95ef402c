//! Who is asking the agent: the peer's process and its parents, read from
//! the OS by the agent (never told by the client), and the requesting
//! program among them ([`requester`]). The agent names it in its log for
//! every token it serves and every sign-out it runs.
//!
//! Linux reads `/proc/PID/{stat,exe,cmdline}`: the parent, the start time
//! (so a reused pid is told apart), the executable's real path and, for an
//! interpreter, its script (no other argument is kept). Elsewhere only the
//! pid is known for now.

pub mod requester;

pub use requester::Process;
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
}

/// A peer's own process, read while it is surely alive (before it has its
/// answer); its parents outlive it and are read later ([`Caller::above`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerProcess {
    process: Process,
    parent: Option<u32>,
}

impl PeerProcess {
    /// Process `pid` as the OS describes it now (only its pid when it is
    /// gone or unreadable).
    pub fn read(pid: u32) -> PeerProcess {
        let (process, parent) = read_process(pid).unwrap_or_else(|| (unknown(pid), None));
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
            chain.extend(chain_of(parent));
        }
        let requester = requester::requester(&chain).unwrap_or(0);
        Caller { chain, requester }
    }

    /// A caller from a recorded chain (peer first); `None` when empty.
    pub fn from_chain(chain: Vec<Process>) -> Option<Caller> {
        let requester = requester::requester(&chain)?;
        Some(Caller { chain, requester })
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

/// `python3 /home/alice/sync.py ← bash ← tmux` (at most four parents, then
/// `← …`).
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

fn unknown(pid: u32) -> Process {
    Process {
        pid,
        exe: None,
        name: format!("pid {pid}"),
        script: None,
        started: None,
    }
}

/// The process `pid` and its parents, up to the first that cannot be read
/// or the init process.
fn chain_of(pid: u32) -> Vec<Process> {
    let mut chain = Vec::new();
    let mut next = Some(pid);
    while let Some(pid) = next.filter(|&p| p != 0) {
        if chain.len() + 1 >= MAX_DEPTH {
            break;
        }
        let Some((process, parent)) = read_process(pid) else {
            break;
        };
        chain.push(process);
        next = parent.filter(|&p| p != pid && pid != 1);
    }
    chain
}

/// One process and its parent's pid.
#[cfg(target_os = "linux")]
fn read_process(pid: u32) -> Option<(Process, Option<u32>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (name, parent, started) = parse_stat(&stat)?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let args: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut process = Process {
        pid,
        exe,
        name: crate::http::clean(&name, 32),
        script: None,
        started: Some(started),
    };
    process.script = requester::script_of(&requester::program_kind(&process), &args);
    Some((process, Some(parent)))
}

/// Whether `process` still runs under its pid: the start time read then
/// is the start time now (false once the pid was reused or is gone).
#[cfg(target_os = "linux")]
pub fn still_running(process: &Process) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", process.pid))
        .ok()
        .and_then(|stat| parse_stat(&stat))
        .is_some_and(|(_, _, started)| Some(started) == process.started)
}

/// Whether `process` still runs under its pid (unknown here: assumed).
#[cfg(not(target_os = "linux"))]
pub fn still_running(_process: &Process) -> bool {
    true
}

#[cfg(not(target_os = "linux"))]
fn read_process(pid: u32) -> Option<(Process, Option<u32>)> {
    Some((unknown(pid), None))
}

/// `(comm, ppid, starttime)` from `/proc/PID/stat`: `PID (COMM) S PPID …`,
/// with the start time as field 22; COMM may hold spaces and parentheses,
/// so it ends at the last `)`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str) -> Option<(String, u32, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // after COMM: field 3 (state) is index 0, so field N is index N - 3
    let parent = fields.get(1)?.parse().ok()?;
    let started = fields.get(19)?.parse().ok()?;
    Some((name, parent, started))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_are_read() {
        let line = "4242 (my (odd) prog) S 4100 4242 4100 34816 4242 4194560 339 0 0 0 1 0 0 0 20 0 1 0 987654 2351104 449 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(("my (odd) prog".to_string(), 4100, 987654))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (init) S"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_its_parents_are_read_from_proc() {
        let me = Caller::of_pid(std::process::id());
        assert_eq!(me.pid(), std::process::id());
        assert_eq!(
            me.program().exe.as_deref(),
            std::env::current_exe().ok().as_deref(),
            "the test binary is not tokentray, so it is the requester"
        );
        assert!(me.program().started.is_some());
        assert!(
            !me.parents().is_empty(),
            "cargo (or a shell) started the test"
        );
        assert!(me.to_string().contains(" ← "), "{me}");
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

    #[test]
    fn a_pid_that_is_gone_is_named_by_its_pid() {
        let gone = Caller::of_pid(u32::MAX - 1);
        assert_eq!(gone.pid(), u32::MAX - 1);
        assert_eq!(gone.to_string(), format!("pid {}", u32::MAX - 1));
    }
}
