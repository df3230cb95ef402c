//! Process hygiene shared by every face (S29): a process holding tokens is
//! made non-dumpable, so it writes no core dump and other processes of the
//! same user cannot attach a debugger to it or read its memory through
//! `/proc`. The flag resets when the process `exec`s another program.

/// Makes this process non-dumpable (Linux `PR_SET_DUMPABLE 0`); a no-op
/// elsewhere. Returns the reason when the kernel refuses.
pub fn make_non_dumpable() -> Result<(), std::io::Error> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rustix::process::{dumpable_behavior, DumpableBehavior};

    // S29: the process is non-dumpable afterwards
    #[test]
    fn the_process_becomes_non_dumpable() {
        make_non_dumpable().unwrap();
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    }
}
