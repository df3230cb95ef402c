//! Help texts and completions: every command a script uses documents
//! itself with examples, and completion scripts generate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{stdout, Env};

#[test]
fn every_new_command_has_examples_and_the_exit_codes_are_listed() {
    let env = Env::new();
    for command in [
        "token",
        "login",
        "logout",
        "status",
        "exec",
        "git-credential",
        "decode",
        "agent",
        "completions",
    ] {
        let out = env.tokentray().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command}");
        assert!(stdout(&out).contains("Examples:"), "{command} --help");
    }
    let top = stdout(&env.tokentray().arg("--help").output().unwrap());
    for line in [
        "3  sign-in required",
        "4  the identity provider",
        "6  network",
    ] {
        assert!(top.contains(line), "{top}");
    }
}

#[test]
fn completions_generate() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = env
            .tokentray()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(stdout(&out).contains("git-credential"), "{shell}");
    }
}
