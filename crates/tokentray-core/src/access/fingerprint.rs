//! The SHA-256 of the executable a process runs, as a rule's `sha256`
//! compares it: read through `/proc/PID/exe` on Linux (the very file the
//! process runs, even when its path now names another), through the
//! executable's path elsewhere. Hashes are remembered per file (device,
//! inode, size, modification and change times), so an allowed program's
//! warm path costs one `fstat`, and a binary replaced or rewritten in
//! place is hashed afresh.

use crate::caller::Process;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;

/// How many files' hashes are remembered.
const MAX_KNOWN: usize = 256;

/// A file as `fstat` describes it: a change to any field means new bytes.
type FileKey = (u64, u64, u64, i64, i64, i64, i64);

/// Remembered hashes of executables.
#[derive(Debug, Default)]
pub struct Fingerprints {
    known: Mutex<HashMap<FileKey, String>>,
}

impl Fingerprints {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lowercase hex SHA-256 of the executable `process` runs; `None`
    /// when it cannot be read (the process is gone, or the OS does not
    /// say which file it runs).
    pub fn of(&self, process: &Process) -> Option<String> {
        let mut file = open_executable(process)?;
        let key = file_key(&file.metadata().ok()?);
        if let Some(hash) = key.and_then(|key| self.lock().get(&key).cloned()) {
            return Some(hash);
        }
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buffer).ok()?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let hash = hex::encode(hasher.finalize());
        if let Some(key) = key {
            let mut known = self.lock();
            if known.len() >= MAX_KNOWN {
                known.clear();
            }
            known.insert(key, hash.clone());
        }
        Some(hash)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FileKey, String>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running image (Linux: `/proc/PID/exe`; elsewhere the executable's
/// path), opened while the process is still the one that was read (its
/// start time unchanged after the open: a reused pid's file is never
/// hashed in its place).
fn open_executable(process: &Process) -> Option<std::fs::File> {
    #[cfg(target_os = "linux")]
    let file = std::fs::File::open(format!("/proc/{}/exe", process.pid)).ok()?;
    #[cfg(not(target_os = "linux"))]
    let file = std::fs::File::open(process.exe.as_deref()?).ok()?;
    crate::caller::still_running(process).then_some(file)
}

#[cfg(unix)]
fn file_key(metadata: &std::fs::Metadata) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    Some((
        metadata.dev(),
        metadata.ino(),
        metadata.size(),
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.ctime(),
        metadata.ctime_nsec(),
    ))
}

/// No stable file identity without unsafe calls: hashed every time.
#[cfg(not(unix))]
fn file_key(_metadata: &std::fs::Metadata) -> Option<FileKey> {
    None
}

/// The hex SHA-256 of the file at `path` (`tokentray access allow`).
pub fn of_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Process {
        crate::caller::Caller::of_pid(std::process::id())
            .program()
            .clone()
    }

    // S38: a pid reused since it was read is not hashed in its place
    #[test]
    fn a_running_program_hashes_as_its_file() {
        let fingerprints = Fingerprints::new();
        let running = fingerprints.of(&me()).expect("our own executable");
        assert_eq!(running.len(), 64);
        assert_eq!(running, of_file(&std::env::current_exe().unwrap()).unwrap());
        assert_eq!(fingerprints.of(&me()).as_deref(), Some(running.as_str()));
        let gone = Process {
            pid: u32::MAX - 1,
            exe: Some("/nonexistent/x".into()),
            ..me()
        };
        assert_eq!(fingerprints.of(&gone), None);
        // the same pid with another start time is another process
        #[cfg(target_os = "linux")]
        {
            let reused = Process {
                started: me().started.map(|t| t + 1),
                ..me()
            };
            assert_eq!(Fingerprints::new().of(&reused), None);
        }
    }

    #[test]
    fn a_rewritten_file_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tool");
        std::fs::write(&path, b"one").unwrap();
        let tool = Process {
            pid: u32::MAX - 1,
            exe: Some(path.clone()),
            ..me()
        };
        // no such pid: nothing is hashed in its place; only `of_file` applies
        let first = of_file(&path).unwrap();
        std::fs::write(&path, b"two").unwrap();
        assert_ne!(of_file(&path).unwrap(), first);
        assert_eq!(Fingerprints::new().of(&tool), None);
    }
}
