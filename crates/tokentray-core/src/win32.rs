//! The Windows calls behind the named pipe's rules ([`crate::ipc::endpoint`]):
//! the SID a process runs as, the pids at the two ends of a pipe, and the
//! security attributes a pipe instance is created with; and those that
//! name a caller ([`crate::caller`]): a process's executable and creation
//! time, every process's parent. Every handle and buffer Windows hands out
//! is released by a guard here.
//!
//! Nearly all of the core's `unsafe` is here (the rest is macOS's
//! `getpeereid` call and its process queries in `caller/macos.rs`): C calls with no safe wrapper in the crates we use;
//! each block says why it is sound.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::collections::HashMap;
use std::ffi::{c_void, OsString};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::RawHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, ERROR_INSUFFICIENT_BUFFER, FILETIME, HANDLE, HLOCAL,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
    TOKEN_USER,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::Pipes::{
    GetNamedPipeClientProcessId, GetNamedPipeServerProcessId, WaitNamedPipeW,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessTimes, OpenProcess, OpenProcessToken, QueryFullProcessImageNameW,
    PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};

/// The SID this process runs as, in its string form.
pub fn current_user_sid() -> io::Result<String> {
    // SAFETY: the pseudo-handle of the current process needs no closing.
    token_user_sid(unsafe { GetCurrentProcess() })
}

/// The SID process `pid` runs as.
pub fn process_user_sid(pid: u32) -> io::Result<String> {
    token_user_sid(ProcessQuery::open(pid)?.0 .0)
}

/// A process opened for queries only (`PROCESS_QUERY_LIMITED_INFORMATION`),
/// closed when dropped; while it is open the pid stays this process's.
pub struct ProcessQuery(Handle);

impl ProcessQuery {
    /// Opens process `pid`.
    pub fn open(pid: u32) -> io::Result<ProcessQuery> {
        // SAFETY: a plain call; the handle is closed by the guard.
        let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        if process.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(ProcessQuery(Handle(process)))
    }

    /// When the process was created, in 100 ns units since 1601 (UTC).
    pub fn created(&self) -> io::Result<u64> {
        let zero = FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        };
        let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
        // SAFETY: a live process handle and four out-parameters on our stack.
        let ok = unsafe {
            GetProcessTimes(self.0 .0, &mut created, &mut exited, &mut kernel, &mut user)
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime))
    }

    /// The full path of the process's executable (its Win32 form).
    pub fn image_path(&self) -> io::Result<PathBuf> {
        // a path fits in MAX_PATH nearly always; long paths up to 32767
        for capacity in [MAX_PATH_CHARS, MAX_LONG_PATH_CHARS] {
            let mut buffer = vec![0u16; capacity as usize];
            let mut len = capacity;
            // SAFETY: the buffer holds `len` UTF-16 units; Windows writes at
            // most that many and sets `len` to the count written.
            let ok = unsafe {
                QueryFullProcessImageNameW(
                    self.0 .0,
                    PROCESS_NAME_WIN32,
                    buffer.as_mut_ptr(),
                    &mut len,
                )
            };
            if ok != 0 {
                buffer.truncate(len as usize);
                return Ok(PathBuf::from(OsString::from_wide(&buffer)));
            }
            let error = io::Error::last_os_error();
            if error.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) {
                return Err(error);
            }
        }
        Err(io::Error::from_raw_os_error(
            ERROR_INSUFFICIENT_BUFFER as i32,
        ))
    }
}

/// UTF-16 units of a classic path with its NUL, and of the longest path.
const MAX_PATH_CHARS: u32 = 260;
const MAX_LONG_PATH_CHARS: u32 = 32_768;

/// Every process's parent pid (pid → the pid of the process that created
/// it, which may have ended since and the pid been reused), from one
/// Toolhelp snapshot.
pub fn parent_pids() -> io::Result<HashMap<u32, u32>> {
    // SAFETY: a plain call; the snapshot is closed by the guard.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    let snapshot = Handle(snapshot);
    let mut entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    let mut parents = HashMap::new();
    // SAFETY: a live snapshot and an entry on our stack with `dwSize` set,
    // as the call requires.
    let mut more = unsafe { Process32FirstW(snapshot.0, &mut entry) } != 0;
    while more {
        parents.insert(entry.th32ProcessID, entry.th32ParentProcessID);
        // SAFETY: as above.
        more = unsafe { Process32NextW(snapshot.0, &mut entry) } != 0;
    }
    Ok(parents)
}

/// The pid of the process at the client end of a connected pipe instance.
pub fn pipe_client_pid(pipe: RawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: `pipe` is a live pipe handle owned by the caller.
    if unsafe { GetNamedPipeClientProcessId(pipe as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// The pid of the process that created the pipe a client opened.
pub fn pipe_server_pid(pipe: RawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: `pipe` is a live pipe handle owned by the caller.
    if unsafe { GetNamedPipeServerProcessId(pipe as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// Waits up to `limit` for an instance of the pipe to be free (false when
/// none was, or the pipe is gone).
pub fn wait_for_pipe(name: &Path, limit: Duration) -> bool {
    let wide: Vec<u16> = name.as_os_str().encode_wide().chain(Some(0)).collect();
    let millis = u32::try_from(limit.as_millis()).unwrap_or(u32::MAX).max(1);
    // SAFETY: `wide` is NUL-terminated and outlives the call.
    unsafe { WaitNamedPipeW(wide.as_ptr(), millis) != 0 }
}

/// Creates an instance of the agent pipe, local clients only, with
/// `security`; the first instance with `FILE_FLAG_FIRST_PIPE_INSTANCE`, so
/// the call fails (access denied) when any other process has the name.
pub fn create_pipe_instance(
    name: &Path,
    security: &PipeSecurity,
    first: bool,
) -> io::Result<NamedPipeServer> {
    let mut options = ServerOptions::new();
    options
        .first_pipe_instance(first)
        .reject_remote_clients(true);
    // SAFETY: the attributes and the descriptor they point to live in
    // `security` for the whole call; Windows copies what it keeps.
    unsafe { options.create_with_security_attributes_raw(name, security.attributes_ptr()) }
}

/// Security attributes built from an SDDL string, for creating pipe
/// instances; the descriptor is freed when this is dropped.
pub struct PipeSecurity {
    descriptor: PSECURITY_DESCRIPTOR,
    attributes: SECURITY_ATTRIBUTES,
}

// SAFETY: the descriptor is a private heap block that Windows only reads;
// nothing else holds a pointer to it.
unsafe impl Send for PipeSecurity {}
// SAFETY: as above; `attributes_ptr` hands out a pointer to read only.
unsafe impl Sync for PipeSecurity {}

impl PipeSecurity {
    /// Parses `sddl` (see [`crate::ipc::endpoint::pipe_security`]).
    pub fn from_sddl(sddl: &str) -> io::Result<Self> {
        let wide: Vec<u16> = sddl.encode_utf16().chain(Some(0)).collect();
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `wide` is NUL-terminated; the descriptor is ours to free.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                wide.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            descriptor,
            attributes: SECURITY_ATTRIBUTES {
                nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
                lpSecurityDescriptor: descriptor,
                bInheritHandle: 0,
            },
        })
    }

    /// The attributes for `CreateNamedPipeW` (Windows reads, never writes
    /// them; the pointer lives as long as `self`).
    pub fn attributes_ptr(&self) -> *mut c_void {
        std::ptr::addr_of!(self.attributes).cast_mut().cast()
    }
}

impl Drop for PipeSecurity {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe { LocalFree(self.descriptor as HLOCAL) };
    }
}

/// The user SID of a process's token, as a string.
fn token_user_sid(process: HANDLE) -> io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: `process` is live; the token is closed by the guard.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let token = Handle(token);
    let mut size = 0u32;
    // SAFETY: a size query with no buffer; it fails with the size needed.
    unsafe { GetTokenInformation(token.0, TokenUser, std::ptr::null_mut(), 0, &mut size) };
    if size == 0 {
        return Err(io::Error::last_os_error());
    }
    // u64 blocks keep the buffer aligned for TOKEN_USER.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8)];
    // SAFETY: the buffer holds `size` bytes.
    let ok = unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            size,
            &mut size,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: filled in by GetTokenInformation as a TOKEN_USER.
    let user = unsafe { &*buffer.as_ptr().cast::<TOKEN_USER>() };
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: the SID points into `buffer`; the string is ours to free.
    if unsafe { ConvertSidToStringSidW(user.User.Sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a NUL-terminated string allocated by Windows.
    let sid = unsafe {
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text as HLOCAL);
        sid
    };
    Ok(sid)
}

/// Closes a handle when dropped.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle this module opened and nothing else closes.
        unsafe { CloseHandle(self.0) };
    }
}
