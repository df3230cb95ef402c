//! Removing a plaintext token file for good: overwrite its bytes, flush
//! them to the disk, then delete it.

use crate::error::{Error, Result};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// Overwrites every byte of the regular file at `path` with zeros, syncs it,
/// deletes it and syncs its directory. (On copy-on-write or journaling file
/// systems and SSDs the old blocks may survive; this is the best a program
/// can do.)
pub fn shred_file(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io("cannot inspect", path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a regular file; not shredding it",
            path.display()
        )));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("cannot open for shredding", path, e))?;
    let zeros = [0u8; 8192];
    let mut left = meta.len();
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("cannot overwrite", path, e))?;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        file.write_all(&zeros[..n])
            .map_err(|e| Error::io("cannot overwrite", path, e))?;
        left -= n as u64;
    }
    file.sync_all()
        .map_err(|e| Error::io("cannot sync", path, e))?;
    drop(file);
    std::fs::remove_file(path).map_err(|e| Error::io("cannot delete", path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shred_removes_the_file_and_refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        std::fs::write(&path, "x".repeat(20_000)).unwrap();
        shred_file(&path).unwrap();
        assert!(!path.exists());
        let error = shred_file(dir.path()).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
    }
}
