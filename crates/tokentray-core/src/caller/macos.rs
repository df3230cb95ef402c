//! macOS: `proc_pidinfo(PROC_PIDTBSDINFO)` gives the parent, the start time
//! (microseconds since 1970) and the short name, `proc_pidpath` the
//! executable's real path, `sysctl(KERN_PROCARGS2)` the arguments (of the
//! user's own processes only; at most [`MAX_ARGS`] bytes, else none are
//! read), of which only an interpreter's script or an ssh client's
//! destination is kept ([`super::what_it_runs`]).
//!
//! C calls with no safe wrapper in the crates we use; each block says why
//! it is sound.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use super::{procargs, requester, what_it_runs, Process};
use std::ffi::{c_char, c_int, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// The most bytes of arguments and environment read of a process (macOS's
/// own limit, `ARG_MAX`, is 1 MiB).
const MAX_ARGS: usize = 1 << 20;

/// Reads processes through the kernel (no state to keep between them).
pub(super) struct Reader;

impl Reader {
    pub(super) fn new() -> Reader {
        Reader
    }

    /// One process and its parent's pid.
    pub(super) fn read(&self, pid: u32) -> Option<(Process, Option<u32>)> {
        let pid_c = c_int::try_from(pid).ok()?;
        let info = bsd_info(pid_c)?;
        let name = [c_name(&info.pbi_name), c_name(&info.pbi_comm)]
            .into_iter()
            .find(|n| !n.is_empty())
            .unwrap_or_else(|| format!("pid {pid}"));
        let mut process = Process {
            pid,
            exe: executable(pid_c),
            name: crate::http::clean(&name, 32),
            script: None,
            started: Some(started(&info)),
        };
        let args = arguments(pid_c).unwrap_or_default();
        process.script = what_it_runs(&requester::program_kind(&process), &args);
        Some((process, Some(info.pbi_ppid)))
    }
}

/// Whether `process` still runs under its pid: the start time read then
/// is the start time now (false once the pid was reused or is gone).
pub fn still_running(process: &Process) -> bool {
    c_int::try_from(process.pid)
        .ok()
        .and_then(bsd_info)
        .is_some_and(|info| Some(started(&info)) == process.started)
}

fn started(info: &libc::proc_bsdinfo) -> u64 {
    info.pbi_start_tvsec
        .saturating_mul(1_000_000)
        .saturating_add(info.pbi_start_tvusec)
}

/// The kernel's BSD view of process `pid`.
fn bsd_info(pid: c_int) -> Option<libc::proc_bsdinfo> {
    // SAFETY: proc_bsdinfo is plain integers and byte arrays: all zeroes
    // is a valid value.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    let size = c_int::try_from(std::mem::size_of::<libc::proc_bsdinfo>()).ok()?;
    // SAFETY: `info` is a proc_bsdinfo on our stack of `size` bytes; the
    // kernel writes at most that many.
    let written = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            std::ptr::addr_of_mut!(info).cast(),
            size,
        )
    };
    (written == size).then_some(info)
}

/// A NUL-terminated name in a fixed array (the whole array when unended).
fn c_name(raw: &[c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| u8::from_ne_bytes(c.to_ne_bytes()))
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The real path of process `pid`'s executable.
fn executable(pid: c_int) -> Option<PathBuf> {
    let mut buffer = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
    let capacity = u32::try_from(buffer.len()).ok()?;
    // SAFETY: the buffer holds `capacity` bytes; the kernel writes at most
    // that many and returns the path's length.
    let len = unsafe { libc::proc_pidpath(pid, buffer.as_mut_ptr().cast(), capacity) };
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n > 0 && n <= buffer.len())?;
    buffer.truncate(len);
    Some(PathBuf::from(OsString::from_vec(buffer)))
}

/// Process `pid`'s arguments, when the kernel shows them and they fit in
/// [`MAX_ARGS`].
fn arguments(pid: c_int) -> Option<Vec<String>> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid];
    let mut size: libc::size_t = 0;
    // SAFETY: a size query: no buffer, `size` on our stack receives the
    // length the answer needs.
    let asked = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            std::ptr::null_mut(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    if asked != 0 || size == 0 || size > MAX_ARGS {
        return None;
    }
    let mut buffer = vec![0u8; size];
    // SAFETY: the buffer holds `size` bytes; the kernel writes at most that
    // many and sets `size` to the count written.
    let read = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            3,
            buffer.as_mut_ptr().cast(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    if read != 0 {
        return None;
    }
    buffer.truncate(size);
    procargs::arguments(&buffer)
}
