//! The `tokentray` front and `tokentray-cli`, the whole command line it
//! hands over to (src/front.rs): an agent-served token needs nothing but
//! the front, its answers are the whole command line's to the byte, and
//! everything else is run by `tokentray-cli` in the same process.

use crate::common::{stderr, stdout, Agent, Env};
use std::path::PathBuf;

/// A copy of the front alone in a directory of its own: no
/// `tokentray-cli` beside it.
fn lone_front() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let front = dir.path().join("tokentray");
    std::fs::copy(assert_cmd::cargo::cargo_bin("tokentray"), &front).unwrap();
    (dir, front)
}

/// `program ARGS` with the setup's environment.
fn run(env: &Env, program: &PathBuf, args: &[&str]) -> std::process::Output {
    env.program(program).args(args).output().unwrap()
}

#[test]
fn the_front_alone_serves_the_agents_token_and_hands_every_other_command_over() {
    let idp = crate::common::idp(3600);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);
    env.login_device(&idp, "corp", "alice");
    let agent = Agent::start(&env);
    let (_dir, front) = lone_front();
    let full = assert_cmd::cargo::cargo_bin("tokentray-cli");

    // Served by the front with nothing beside it, the same bytes and exit
    // codes as the whole command line, for a token, its formats and an
    // error the agent sends.
    for args in [
        &["token", "corp"][..],
        &["token", "corp", "--format", "json"],
        &["token", "--format=header", "corp"],
        &["token", "nosuch"],
        &[
            "token",
            "corp",
            "--scope",
            "not.configured",
            "--format",
            "json",
        ],
    ] {
        let alone = run(&env, &front, args);
        let whole = run(&env, &full, args);
        assert_eq!(alone.status.code(), whole.status.code(), "{args:?}");
        assert_eq!(stdout(&alone), stdout(&whole), "{args:?}");
        assert_eq!(stderr(&alone), stderr(&whole), "{args:?}");
    }
    let token = run(&env, &front, &["token", "corp"]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(!stdout(&token).trim().is_empty());
    let unknown = run(&env, &front, &["token", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));

    // Any other command needs the whole command line: the lone front says
    // where it looked, and prints nothing else.
    let status = run(&env, &front, &["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(stdout(&status).is_empty());
    let looked = front.with_file_name("tokentray-cli");
    assert!(
        stderr(&status).contains(&format!("is not at {}", looked.display())),
        "{}",
        stderr(&status)
    );

    // With no agent the token comes from the vault, which only the whole
    // command line reads: the lone front hands over and cannot, the
    // installed pair serves the same token.
    assert!(agent.terminate().success());
    let alone = run(&env, &front, &["token", "corp"]);
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        stderr(&alone).contains("tokentray-cli"),
        "{}",
        stderr(&alone)
    );
    let pair = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert!(pair.status.success(), "{}", stderr(&pair));
    assert_eq!(stdout(&pair), stdout(&token));
}

#[test]
fn the_whole_command_line_speaks_as_tokentray() {
    let env = Env::new();
    let help = env.tokentray().arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(
        stdout(&help).contains("Usage: tokentray [OPTIONS] <COMMAND>"),
        "{}",
        stdout(&help)
    );
    let wrong = env.tokentray().args(["tokn", "corp"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("Usage: tokentray [OPTIONS] <COMMAND>"),
        "{}",
        stderr(&wrong)
    );
}
