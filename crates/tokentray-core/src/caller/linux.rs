//! Linux: `/proc/PID/{stat,exe,cmdline}` give the parent, the start time
//! (clock ticks since boot), the executable's real path and the arguments
//! (of which only an interpreter's script or an ssh client's destination
//! is kept, [`super::what_it_runs`]).

use super::{args_of, requester, what_it_runs, Process};

/// Reads processes from `/proc` (no state to keep between them).
pub(super) struct Reader;

impl Reader {
    pub(super) fn new() -> Reader {
        Reader
    }

    /// One process and its parent's pid.
    pub(super) fn read(&self, pid: u32) -> Option<(Process, Option<u32>)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (name, parent, started) = parse_stat(&stat)?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let args = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|raw| args_of(&raw, usize::MAX))
            .unwrap_or_default();
        let mut process = Process {
            pid,
            exe,
            name: crate::http::clean(&name, 32),
            script: None,
            started: Some(started),
        };
        process.script = what_it_runs(&requester::program_kind(&process), &args);
        Some((process, Some(parent)))
    }
}

/// Whether `process` still runs under its pid: the start time read then
/// is the start time now (false once the pid was reused or is gone).
pub fn still_running(process: &Process) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", process.pid))
        .ok()
        .and_then(|stat| parse_stat(&stat))
        .is_some_and(|(_, _, started)| Some(started) == process.started)
}

/// `(comm, ppid, starttime)` from `/proc/PID/stat`: `PID (COMM) S PPID …`,
/// with the start time as field 22; COMM may hold spaces and parentheses,
/// so it ends at the last `)`.
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
}
