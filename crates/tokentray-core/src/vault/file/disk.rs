//! The vault file on disk: in a private directory (0700, ours, not a
//! symbolic link), readable by us alone (0600, ours, never followed through
//! a symbolic link; what is checked on Windows is in [`super::private`]), replaced atomically (a temporary file in the same
//! directory, fsync, rename, fsync of the directory), with an advisory lock
//! (`flock` on `FILE.lock`) that serializes the read-modify-write cycles of
//! every process sharing the file. Reads need no lock: a rename replaces
//! the file whole, so a reader sees the old bytes or the new ones.

use super::private::{self, refused};
use crate::error::{Error, Result};
use rand::RngCore;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Where the file and its lock live.
#[derive(Debug, Clone)]
pub struct Disk {
    path: PathBuf,
    dir: PathBuf,
    lock_path: PathBuf,
    file_name: String,
}

/// The lock on the file, held until dropped (the OS drops it when the
/// process dies).
pub struct WriteLock {
    _file: File,
}

impl Disk {
    /// The file at `path` (absolute, with a file name).
    pub fn new(path: &Path) -> Result<Disk> {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Error::InvalidInput(format!(
                "the vault file path {} has no directory or no file name",
                path.display()
            )));
        };
        if !path.is_absolute() {
            return Err(Error::InvalidInput(format!(
                "the vault file path {} is not absolute",
                path.display()
            )));
        }
        let file_name = name.to_string_lossy().into_owned();
        Ok(Disk {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            lock_path: dir.join(format!("{file_name}.lock")),
            file_name,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the directory (0700) when missing, then checks it: not a
    /// symbolic link, a directory, ours, nothing for group or others.
    pub fn ensure_dir(&self) -> Result<()> {
        let dir = &self.dir;
        match std::fs::symlink_metadata(dir) {
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => {
                crate::private_dir::create(dir)
                    .map_err(|e| Error::io("cannot create the vault directory", dir, e))?
            }
            Err(e) => return Err(Error::io("cannot inspect", dir, e)),
            Ok(_) => {}
        }
        let meta =
            std::fs::symlink_metadata(dir).map_err(|e| Error::io("cannot inspect", dir, e))?;
        if meta.file_type().is_symlink() {
            return Err(refused(
                dir,
                "its directory is a symbolic link",
                "use the real directory: point TOKENTRAY_VAULT_FILE at a path without links",
            ));
        }
        if !meta.is_dir() {
            return Err(refused(
                dir,
                "its directory is not a directory",
                "remove it, or point TOKENTRAY_VAULT_FILE elsewhere",
            ));
        }
        private::check(dir, &meta, 0o700)
    }

    /// Whether the file exists (a symbolic link in its place is refused).
    pub fn exists(&self) -> Result<bool> {
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.file_type().is_symlink() => Err(self.symlink_refused()),
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => Ok(false),
            Err(e) => Err(Error::io("cannot inspect", &self.path, e)),
        }
    }

    fn symlink_refused(&self) -> Error {
        refused(
            &self.path,
            "it is a symbolic link",
            format!(
                "move the real file to {} (or point TOKENTRAY_VAULT_FILE at it)",
                self.path.display()
            ),
        )
    }

    /// The file's bytes, `Ok(None)` when there is no file. Never follows a
    /// symbolic link; refuses a file that is not ours or not private.
    pub fn read(&self) -> Result<Option<Vec<u8>>> {
        let opened = private::options().read(true).open(&self.path);
        let mut file = match opened {
            Ok(file) => file,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => return Ok(None),
            Err(e) if private::is_link_error(&e) => return Err(self.symlink_refused()),
            Err(e) => return Err(Error::io("cannot open", &self.path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| Error::io("cannot inspect", &self.path, e))?;
        if private::is_link(&meta) {
            return Err(self.symlink_refused());
        }
        if !meta.is_file() {
            return Err(refused(
                &self.path,
                "it is not a regular file",
                "remove it, or point TOKENTRAY_VAULT_FILE elsewhere",
            ));
        }
        private::check(&self.path, &meta, 0o600)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read", &self.path, e))?;
        Ok(Some(bytes))
    }

    /// Replaces the file with `bytes`, whole or not at all.
    pub fn replace(&self, bytes: &[u8]) -> Result<()> {
        let temp = self.dir.join(format!(
            ".{}.{}.{:016x}.tmp",
            self.file_name,
            std::process::id(),
            rand::rng().next_u64()
        ));
        let written = (|| {
            let mut file = private::options()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &self.path)) {
            let _ = std::fs::remove_file(&temp);
            return Err(Error::io("cannot write", &self.path, e));
        }
        private::sync_dir(&self.dir)
            .map_err(|e| Error::io("cannot sync the directory of", &self.path, e))
    }

    /// Takes the write lock, waiting for whoever holds it. Blocking.
    pub fn lock(&self) -> Result<WriteLock> {
        let file = private::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.lock_path)
            .map_err(|e| Error::io("cannot open the lock file", &self.lock_path, e))?;
        file.lock()
            .map_err(|e| Error::io("cannot lock", &self.lock_path, e))?;
        Ok(WriteLock { _file: file })
    }
}
