//! Who took a token, as the agent names it: the requesting program read
//! from the OS behind a `tokentray token` process (a Python script that
//! runs the CLI), logged the first time it takes a profile's token, and
//! every time in the audit trail that `tokentray audit` prints.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common::{idp, stderr, stdout, Env};
use crate::watched::Watched;

const FIRST: &str = "agent: a program took its first token of this profile";

// S32: the trail names programs, never tokens
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

    // the trail has every token, with the program and no token
    let token = stdout(&env.tokentray().args(["token", "corp"]).output().unwrap());
    let token = token.trim();
    assert!(!token.is_empty());
    let trail = env
        .tokentray()
        .args(["audit", "--json", "--since", "1h"])
        .output()
        .unwrap();
    assert!(trail.status.success(), "{}", stderr(&trail));
    let entries: serde_json::Value = serde_json::from_str(&stdout(&trail)).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    let by_script: Vec<_> = entries
        .iter()
        .filter(|e| e["program"].as_str().unwrap().ends_with("fetch_report.py"))
        .collect();
    assert_eq!(by_script.len(), 2, "{entries:?}");
    for entry in &by_script {
        assert_eq!(entry["profile"], "corp");
        assert_eq!(entry["account"], "alice");
        assert_eq!(entry["decision"], "allowed");
        assert_eq!(entry["rule"], "access = any");
        assert_eq!(entry["scopes"], serde_json::json!(["api.read"]));
        assert_eq!(entry["transport"], "unix socket");
        assert!(!entry["parents"].as_array().unwrap().is_empty());
    }
    let text = stdout(&env.tokentray().arg("audit").output().unwrap());
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("corp (alice)  token api.read  allowed  by python3"),
        "{text}"
    );
    let other = env
        .tokentray()
        .args(["audit", "--profile", "other", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout(&other).trim(), "[]");
    let file = std::fs::read_to_string(env.state.path().join("tokentray/audit.jsonl")).unwrap();
    assert!(!file.contains(token), "no token in the trail");
    drop(agent);
}
