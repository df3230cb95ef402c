//! What "private" means for the vault file and its directory on each
//! platform. Unix: directory 0700 and file 0600, owned by us, never opened
//! through a symbolic link (`O_NOFOLLOW`). Windows: a link (reparse point)
//! is opened as itself and then refused, but the owner and the ACL are
//! **not** checked: the file inherits its directory's ACL, which in the
//! user's profile (the default, `%LOCALAPPDATA%`) is the user's, SYSTEM's
//! and the administrators' (README says so).

use crate::error::{Error, Result};
use std::fs::{Metadata, OpenOptions};
use std::path::Path;

pub(super) fn refused(path: &Path, reason: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::VaultFileRefused {
        path: path.to_path_buf(),
        reason: reason.into(),
        fix: fix.into(),
    }
}

/// Options that create files readable by us alone (0600 on Unix) and never
/// follow a link in the file's place.
pub(super) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    crate::private_dir::private_file_options(&mut options);
    options
}

/// Whether an open failed because a link was in the file's place (Unix:
/// `O_NOFOLLOW`'s `ELOOP`; Windows opens the link instead, see
/// [`is_link`]).
pub(super) fn is_link_error(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Whether an opened file is a link (Windows, see [`options`]).
pub(super) fn is_link(meta: &Metadata) -> bool {
    meta.file_type().is_symlink()
}

/// Refuses metadata that is not ours or is open to group or others (Unix);
/// nothing is checked on Windows (see the module docs).
pub(super) fn check(path: &Path, meta: &Metadata, mode_wanted: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let uid = crate::private_dir::our_uid();
        if meta.uid() != uid {
            return Err(refused(
                path,
                format!("it belongs to uid {}, not to us (uid {uid})", meta.uid()),
                "someone else may have placed it to read or feed your tokens: remove it (as its owner or root), or point TOKENTRAY_VAULT_FILE at a file in a directory of yours",
            ));
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(refused(
                path,
                format!("its mode is {mode:04o}, open to group or others"),
                format!("`chmod {mode_wanted:o} {}`", path.display()),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta, mode_wanted);
    Ok(())
}

/// Makes a rename in `dir` durable (Unix: fsync of the directory; Windows
/// has no directory handle to sync through std, and NTFS journals the
/// rename itself).
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir).and_then(|dir| dir.sync_all())
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
