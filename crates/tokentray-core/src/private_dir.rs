//! Private directories of ours. On Unix: created `0700`, and refused when
//! a symlink, not a directory, not ours, or open to group or others. The
//! agent socket's directory (S25), the refresh locks' directory and the
//! audit trail's live in such a directory; what is found there is checked,
//! never trusted (a world-writable `/tmp` lets anyone create a directory
//! there first). On Windows a directory is only created: it inherits its
//! parent's ACL, and owner and ACL are not checked (README says so).

use crate::error::{Error, Result};
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Our effective uid: what socket peers must match (S26) and what owns our
/// private directories and files.
#[cfg(unix)]
pub fn our_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates `dir` and its missing parents (`0700` on Unix).
pub fn create(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `dir` when missing ([`create`]), then on Unix checks it with
/// [`check`]. `role` names the directory in errors ("the agent socket
/// directory"), `elsewhere` says how to use another one.
pub fn ensure(dir: &Path, role: &str, elsewhere: &str) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => {
            create(dir).map_err(|e| Error::io("cannot create the private directory", dir, e))?;
        }
        Err(e) => return Err(Error::io("cannot inspect", dir, e)),
        Ok(_) => {}
    }
    #[cfg(unix)]
    check(dir, role, elsewhere)?;
    #[cfg(not(unix))]
    let _ = (role, elsewhere);
    Ok(())
}

/// Checks that `dir` is a private directory of ours; each refusal names
/// the directory and the fix.
#[cfg(unix)]
pub fn check(dir: &Path, role: &str, elsewhere: &str) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io("cannot inspect", dir, e))?;
    let refuse = |why: String, fix: String| {
        Err(Error::InvalidInput(format!(
            "refusing {role} {}: {why}. Fix: {fix}",
            dir.display()
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse(
            "it is a symbolic link".into(),
            format!("remove the link (`rm {}`) or {elsewhere}", dir.display()),
        );
    }
    if !meta.is_dir() {
        return refuse(
            "it is not a directory".into(),
            format!("remove it or {elsewhere}"),
        );
    }
    let uid = our_uid();
    if meta.uid() != uid {
        return refuse(
            format!("it belongs to uid {}, not to us (uid {uid})", meta.uid()),
            format!(
                "someone else may have created it to intercept tokens: remove it (as its owner or root) or {elsewhere}"
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

/// Makes `options` create a file `0600` and refuse to open one through a
/// symbolic link (a link planted where our file goes). On Windows a link
/// is opened as itself (`FILE_FLAG_OPEN_REPARSE_POINT`), never followed.
pub fn private_file_options(options: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        options.custom_flags(0x0020_0000);
    }
}

// the tests set and read Unix modes
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_missing_dir_is_created_private_and_an_open_one_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure(&dir, "the test directory", "use another").unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let err = check(&dir, "the test directory", "use another").unwrap_err();
        assert!(
            err.to_string().contains("refusing the test directory"),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 700"), "{err}");
    }
}
