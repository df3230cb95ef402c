//! `secret-tool` (libsecret-tools), for tests that look at or tamper with
//! the Secret Service's entries behind Tokentray's back.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `secret-tool ARGS` with `input` on its stdin, on the session bus at
/// `bus` (default: the caller's own).
pub fn secret_tool(
    bus: Option<&str>,
    args: &[&str],
    input: Option<&str>,
) -> std::io::Result<Output> {
    let mut command = Command::new("secret-tool");
    if let Some(bus) = bus {
        command.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(input), Some(stdin)) = (input, child.stdin.as_mut()) {
        stdin.write_all(input.as_bytes())?;
    }
    drop(child.stdin.take());
    child.wait_with_output()
}
