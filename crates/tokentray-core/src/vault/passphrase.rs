//! Where the file store's passphrase comes from: never argv.
//!
//! In order: `$TOKENTRAY_PASSPHRASE` (for unattended use; weaker, since
//! other processes of the same user can read a process's environment),
//! the file named by `$TOKENTRAY_PASSPHRASE_FILE` (0600, ours), else the
//! terminal, when the caller allows asking and stdin is one (twice when a
//! new store is being created). Anything else is an error that says how to
//! supply one.
//!
//! Every face calls [`take_from_environment`] first thing, before any thread
//! or child exists: the variable leaves the environment and the value stays
//! in this process's memory only. On Linux the process re-executes itself
//! for that, as only `exec` replaces the environment block other processes
//! read (`/proc/PID/environ`; see the `handover` module). Elsewhere the
//! variable is removed, so no child inherits it: on Windows that is the
//! whole story (the process environment is the one block
//! `SetEnvironmentVariable` edits); on macOS and the BSDs the original
//! block stays readable by the same user's `ps -E` (not checked here).

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;

/// Environment variable holding the passphrase itself.
pub const PASSPHRASE_ENV: &str = "TOKENTRAY_PASSPHRASE";
/// Environment variable naming a file that holds the passphrase.
pub const PASSPHRASE_FILE_ENV: &str = "TOKENTRAY_PASSPHRASE_FILE";

/// Whether the passphrase may be asked for on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Ask on the terminal when stdin is one (the CLI).
    Terminal,
    /// Never ask (the tray app: there is no terminal to ask on).
    Never,
}

/// The passphrase [`take_from_environment`] took out of the environment.
static TAKEN: OnceLock<Secret> = OnceLock::new();

/// Takes `TOKENTRAY_PASSPHRASE` out of the process environment and keeps it
/// in memory for [`passphrase_for`]; call it first thing in `main`, while
/// the process has one thread. On Unix, when the variable is set, this
/// re-executes the program (same binary, arguments, pid and stdin) and
/// does not return; in the new image it receives the passphrase and
/// returns. An error means the variable is gone from the environment but
/// the process could not re-execute (the passphrase is then still usable,
/// but `/proc/PID/environ` shows it) or the new image could not receive it
/// (it is then lost): callers report it as a warning and go on.
pub fn take_from_environment() -> Result<()> {
    #[cfg(target_os = "linux")]
    if std::env::var_os(super::handover::HANDOVER_ENV).is_some() {
        std::env::remove_var(super::handover::HANDOVER_ENV);
        std::env::remove_var(PASSPHRASE_ENV);
        let passphrase = super::handover::receive_on_stdin()?;
        keep(passphrase);
        return Ok(());
    }
    let Some(value) = std::env::var_os(PASSPHRASE_ENV) else {
        return Ok(());
    };
    std::env::remove_var(PASSPHRASE_ENV);
    if value.is_empty() {
        return Ok(());
    }
    let passphrase = Secret::new(
        value
            .into_string()
            .map_err(|_| Error::InvalidInput(format!("{PASSPHRASE_ENV} is not valid UTF-8")))?,
    );
    #[cfg(target_os = "linux")]
    {
        let failed = super::handover::reexec_without(PASSPHRASE_ENV, &passphrase);
        keep(passphrase);
        Err(failed)
    }
    #[cfg(not(target_os = "linux"))]
    {
        keep(passphrase);
        Ok(())
    }
}

fn keep(passphrase: Secret) {
    // Only the first call keeps one: `main` runs once.
    let _ = TAKEN.set(passphrase);
}

/// The passphrase for the vault file at `vault` (`creating`: no file yet,
/// so a new passphrase is being chosen).
pub fn passphrase_for(vault: &Path, creating: bool, ask: Ask) -> Result<Secret> {
    if let Some(taken) = TAKEN.get() {
        return Ok(taken.clone());
    }
    if let Some(value) = std::env::var_os(PASSPHRASE_ENV).filter(|v| !v.is_empty()) {
        let value = value
            .into_string()
            .map_err(|_| Error::InvalidInput(format!("{PASSPHRASE_ENV} is not valid UTF-8")))?;
        return Ok(Secret::new(value));
    }
    if let Some(file) = std::env::var_os(PASSPHRASE_FILE_ENV).filter(|v| !v.is_empty()) {
        return from_file(Path::new(&file));
    }
    if ask == Ask::Terminal && std::io::stdin().is_terminal() {
        return from_terminal(vault, creating);
    }
    Err(Error::VaultFileLocked {
        path: vault.to_path_buf(),
        reason: format!("no passphrase for the vault file {}", vault.display()),
        fix: format!(
            "run in a terminal to be asked, or set {PASSPHRASE_FILE_ENV} to a file (mode 0600) holding it, or {PASSPHRASE_ENV} (weaker: other processes of yours can read it from the environment)"
        ),
    })
}

/// The file's first line. The file must be ours and private, like an SSH
/// key.
fn from_file(path: &Path) -> Result<Secret> {
    let text = read_private(path)?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{PASSPHRASE_FILE_ENV}: {} holds no passphrase",
            path.display()
        )));
    }
    Ok(Secret::new(line))
}

#[cfg(unix)]
fn read_private(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::io("cannot open the passphrase file", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot inspect", path, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() != crate::private_dir::our_uid() || mode & 0o077 != 0 {
        return Err(Error::VaultFileRefused {
            path: path.to_path_buf(),
            reason: format!(
                "the passphrase file is not private to us (owner uid {}, mode {mode:04o})",
                meta.uid()
            ),
            fix: format!("`chmod 600 {}` (as its owner)", path.display()),
        });
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(|e| Error::io("cannot read", path, e))?;
    Ok(text)
}

#[cfg(not(unix))]
fn read_private(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    std::fs::read_to_string(path)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| Error::io("cannot read the passphrase file", path, e))
}

fn from_terminal(vault: &Path, creating: bool) -> Result<Secret> {
    let prompt = |text: String| {
        rpassword::prompt_password(text)
            .map(Secret::new)
            .map_err(|e| Error::io("cannot read the passphrase from", "the terminal", e))
    };
    if !creating {
        return prompt(format!("Passphrase for {}: ", vault.display()));
    }
    eprintln!(
        "Creating the encrypted vault file {}. Choose a passphrase: it cannot be recovered.",
        vault.display()
    );
    let first = prompt("New passphrase: ".into())?;
    if first.is_empty() {
        return Err(Error::InvalidInput(
            "the passphrase is empty; nothing was created".into(),
        ));
    }
    let again = prompt("Repeat it: ".into())?;
    if first != again {
        return Err(Error::InvalidInput(
            "the two passphrases differ; nothing was created".into(),
        ));
    }
    Ok(first)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // S24: a passphrase file must be ours and private
    #[test]
    fn a_passphrase_file_gives_its_first_line_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "s3cret phrase\nignored\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(from_file(&file).unwrap().expose(), "s3cret phrase");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = from_file(&file).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultUnavailable);
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
