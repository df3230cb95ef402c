//! Who took a token, as the agent names it: the requesting program read
//! from the OS behind a `tokentray token` process (a Python script that
//! runs the CLI), logged the first time it takes a profile's token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common::{idp, stderr, Env};
use crate::watched::Watched;

const FIRST: &str = "agent: a program took its first token of this profile";

#[test]
fn the_agent_names_the_script_behind_the_cli_once() {
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);
    env.login_device(&idp, "corp", "alice");
    let agent = Watched::start(&env, &[("RUST_LOG", "tokentray_core=info")]);

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fetch_report.py");
    std::fs::write(
        &script,
        "import subprocess, sys\nsubprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n",
    )
    .unwrap();
    for _ in 0..2 {
        // python3 fetch_report.py tokentray token corp, with this setup's
        // environment
        let cli = env.command();
        let out = std::process::Command::new("python3")
            .arg(&script)
            .arg(cli.get_program())
            .args(["token", "corp"])
            .envs(cli.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }

    let log = agent.stderr();
    let named: Vec<&str> = log.lines().filter(|l| l.contains(FIRST)).collect();
    assert_eq!(named.len(), 1, "named once, not at every token: {log}");
    let line = named[0];
    eprintln!("the agent logged: {line}");
    assert!(line.contains("profile=corp"), "{line}");
    assert!(
        line.contains("fetch_report.py ← ") && line.contains("python3"),
        "the script is the program, its parents follow: {line}"
    );
    assert!(
        !line.contains("tokentray token"),
        "the CLI is not the program: {line}"
    );
}
