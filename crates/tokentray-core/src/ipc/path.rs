//! Where the agent socket lives, and the checks on its directory (S25).
//!
//! The path is `$TOKENTRAY_SOCKET` when set, else
//! `$XDG_RUNTIME_DIR/tokentray/agent.sock`, else
//! `<temp dir>/tokentray-<uid>/agent.sock`. The directory holding the
//! socket is private: created `0700`, and refused when it is a symlink, is
//! not ours, or grants anything to group or others — a world-writable
//! `/tmp` lets anyone create `/tmp/tokentray-1000` first, so what is found
//! there is checked, never trusted.

use crate::error::{Error, Result};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable that overrides the socket path.
pub const SOCKET_ENV: &str = "TOKENTRAY_SOCKET";

/// The socket's file name in its directory.
pub const SOCKET_NAME: &str = "agent.sock";

/// Our effective uid: what peers must match (S26) and what owns the
/// socket's directory.
pub fn our_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The socket path from the environment (no file-system access).
pub fn socket_path() -> Result<PathBuf> {
    socket_path_from(
        std::env::var_os(SOCKET_ENV).map(PathBuf::from),
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
    )
}

/// The socket path given `$TOKENTRAY_SOCKET` and `$XDG_RUNTIME_DIR`.
pub fn socket_path_from(
    overridden: Option<PathBuf>,
    runtime_dir: Option<PathBuf>,
) -> Result<PathBuf> {
    if let Some(path) = overridden.filter(|p| !p.as_os_str().is_empty()) {
        if path.is_relative() || path.file_name().is_none() {
            return Err(Error::InvalidInput(format!(
                "{SOCKET_ENV}={} is not an absolute path to a socket file",
                path.display()
            )));
        }
        return Ok(path);
    }
    // Like the XDG spec says: a relative XDG_RUNTIME_DIR is to be ignored.
    let dir = match runtime_dir.filter(|d| d.is_absolute()) {
        Some(runtime) => runtime.join("tokentray"),
        None => std::env::temp_dir().join(format!("tokentray-{}", our_uid())),
    };
    Ok(dir.join(SOCKET_NAME))
}

/// Creates the socket's directory (`0700`) when missing, then checks it:
/// not a symlink, a directory, owned by us, nothing for group or others.
/// Each refusal names the directory and the fix.
pub fn ensure_private_dir(socket: &Path) -> Result<PathBuf> {
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "the agent socket path {} has no directory",
                socket.display()
            ))
        })?
        .to_path_buf();
    match std::fs::symlink_metadata(&dir) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| Error::io("cannot create the agent socket directory", &dir, e))?;
        }
        Err(e) => return Err(Error::io("cannot inspect", &dir, e)),
        Ok(_) => {}
    }
    check_private_dir(&dir)?;
    Ok(dir)
}

/// Checks that `dir` is a private directory of ours.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io("cannot inspect", dir, e))?;
    let refuse = |why: String, fix: String| {
        Err(Error::InvalidInput(format!(
            "refusing the agent socket directory {}: {why}. Fix: {fix}",
            dir.display()
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse(
            "it is a symbolic link".into(),
            format!(
                "remove the link (`rm {}`) or point {SOCKET_ENV} elsewhere",
                dir.display()
            ),
        );
    }
    if !meta.is_dir() {
        return refuse(
            "it is not a directory".into(),
            format!("remove it or point {SOCKET_ENV} elsewhere"),
        );
    }
    let uid = our_uid();
    if meta.uid() != uid {
        return refuse(
            format!("it belongs to uid {}, not to us (uid {uid})", meta.uid()),
            format!(
                "someone else may have created it to intercept tokens: remove it (as its owner or root) or set {SOCKET_ENV} to a path in a directory of yours"
            ),
        );
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return refuse(
            format!("its mode is {mode:04o}, open to group or others"),
            format!("`chmod 700 {}`", dir.display()),
        );
    }
    Ok(())
}

/// Sets the socket file to `0600` (after bind; the directory is already
/// private, this is belt and braces).
pub fn restrict_socket(socket: &Path) -> Result<()> {
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("cannot restrict the permissions of", socket, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // S25: socket location and modes
    #[test]
    fn the_override_wins_then_the_runtime_dir_then_temp() {
        assert_eq!(
            socket_path_from(Some("/x/s.sock".into()), Some("/run/user/1".into())).unwrap(),
            PathBuf::from("/x/s.sock")
        );
        assert_eq!(
            socket_path_from(None, Some("/run/user/1".into())).unwrap(),
            PathBuf::from("/run/user/1/tokentray/agent.sock")
        );
        let fallback = socket_path_from(Some("".into()), Some("relative".into())).unwrap();
        assert_eq!(
            fallback,
            std::env::temp_dir()
                .join(format!("tokentray-{}", our_uid()))
                .join("agent.sock")
        );
        assert!(socket_path_from(Some("rel.sock".into()), None).is_err());
    }

    // S25: socket location and modes
    #[test]
    fn a_missing_dir_is_created_private() {
        let tmp = tempfile::tempdir().unwrap();
        let socket = tmp.path().join("a/b/agent.sock");
        let dir = ensure_private_dir(&socket).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
