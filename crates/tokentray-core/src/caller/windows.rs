//! Windows: a process's executable and creation time through a query
//! handle, every parent from one Toolhelp snapshot per reader (one for the
//! peer, one for its parents: a snapshot lists every process, so one per
//! process of a chain would cost as many). The calls are in
//! [`crate::win32`].
//!
//! No script or ssh destination: another process's command line is only
//! in its own memory (its PEB), which the agent does not read.

use super::Process;
use crate::win32::{parent_pids, ProcessQuery};
use std::collections::HashMap;
use std::path::Path;

/// Reads processes, with the parents of all from one snapshot.
pub(super) struct Reader {
    parents: HashMap<u32, u32>,
}

impl Reader {
    /// Takes the snapshot (no parents are known when it fails).
    pub(super) fn new() -> Reader {
        let parents = parent_pids().unwrap_or_else(|error| {
            tracing::debug!(%error, "no process snapshot");
            HashMap::new()
        });
        Reader { parents }
    }

    /// One process and its parent's pid (its creator's, as of the
    /// snapshot); `None` when it cannot be opened.
    pub(super) fn read(&self, pid: u32) -> Option<(Process, Option<u32>)> {
        let query = ProcessQuery::open(pid).ok()?;
        let started = query.created().ok()?;
        let exe = query.image_path().ok();
        let name = exe.as_deref().and_then(Path::file_name).map_or_else(
            || format!("pid {pid}"),
            |n| n.to_string_lossy().into_owned(),
        );
        let process = Process {
            pid,
            exe,
            name: crate::http::clean(&name, 32),
            script: None,
            started: Some(started),
        };
        Some((process, self.parents.get(&pid).copied()))
    }
}

/// Whether `process` still runs under its pid: its creation time then is
/// its creation time now (false once the pid was reused or is gone).
pub fn still_running(process: &Process) -> bool {
    ProcessQuery::open(process.pid)
        .and_then(|query| query.created())
        .is_ok_and(|started| Some(started) == process.started)
}
