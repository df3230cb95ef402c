//! Process hygiene shared by every face (S29): a process holding tokens is
//! made non-dumpable, so it writes no core dump and other processes of the
//! same user cannot attach a debugger to it or read its memory through
//! `/proc`. The flag resets when the process `exec`s another program,
//! so every program we start (a browser, a user's command, the sign-in
//! window's helper) is built by [`child_command`], which
//! keeps the file store's passphrase out of its environment.

use std::ffi::OsStr;
use std::process::Command;

use crate::vault::passphrase::PASSPHRASE_ENV;

/// Makes this process non-dumpable (Linux `PR_SET_DUMPABLE 0`); a no-op
/// elsewhere. Returns the reason when the kernel refuses.
pub fn make_non_dumpable() -> Result<(), std::io::Error> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

/// A command for `program` that does not inherit `TOKENTRAY_PASSPHRASE`
/// (the other variables are the caller's to set or remove).
pub fn child_command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env_remove(PASSPHRASE_ENV);
    command
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rustix::process::{dumpable_behavior, DumpableBehavior};

    // S29: children never inherit the file store's passphrase
    #[test]
    fn children_do_not_inherit_the_passphrase() {
        let command = child_command("env");
        assert!(command
            .get_envs()
            .any(|(name, value)| name == PASSPHRASE_ENV && value.is_none()));
    }

    // S29: the process is non-dumpable afterwards
    #[test]
    fn the_process_becomes_non_dumpable() {
        make_non_dumpable().unwrap();
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    }
}
