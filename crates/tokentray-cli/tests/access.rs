//! Who may take a profile's tokens, decided by the real agent for real
//! processes: a `confirm` profile refuses programs nobody allowed (exit 7,
//! with the command that allows them), serves the one `tokentray access
//! allow` named, refuses it again once its binary is replaced, refuses a
//! sign-out from a program it does not allow, and the audit trail shows
//! every decision; scopes outside the profile are
//! refused and a burst of forced refreshes reaches the provider once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common::{idp, stderr, stdout, Env};
use crate::watched::Watched;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The CLI's exit code for a refusal by the access policy.
const DENIED: i32 = 7;

/// Runs `program script tokentray token corp` in `env`'s setup: the
/// script runs the CLI and exits with its code.
fn through(env: &Env, program: &Path, script: &Path) -> Output {
    let cli = env.command();
    std::process::Command::new(program)
        .arg(script)
        .arg(cli.get_program())
        .args(["token", "corp"])
        .envs(cli.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap()
}

/// A copy of the system's Python under another path (`…/bin/python3`),
/// with `extra` bytes after the ELF image (ignored when it runs).
fn python_copy(dir: &Path, extra: &[u8]) -> PathBuf {
    // the system's interpreter itself (a version manager's `python3` on
    // PATH may be a shell script)
    let python = std::fs::canonicalize("/usr/bin/python3").unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copy = bin.join("python3");
    let mut bytes = std::fs::read(&python).unwrap();
    bytes.extend_from_slice(extra);
    // a new file at the path, as an upgrade would write it
    let fresh = bin.join(".python3.new");
    std::fs::write(&fresh, bytes).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&fresh, &copy).unwrap();
    copy
}

fn audit(env: &Env) -> Vec<serde_json::Value> {
    let out = env.tokentray().args(["audit", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

// S38: identity from the OS: programs are told apart by their executables and scripts
// S39: a replaced binary no longer matches its rule
#[test]
fn a_confirm_profile_serves_only_the_program_allowed() {
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &["--access", "confirm"]);
    env.login_device(&idp, "corp", "alice");
    let agent = Watched::start(&env, &[]);

    let dir = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(dir.path()).unwrap();
    let python = python_copy(&dir, b"");
    let py_script = dir.join("sync.py");
    std::fs::write(
        &py_script,
        "import subprocess, sys\nsys.exit(subprocess.run(sys.argv[1:]).returncode)\n",
    )
    .unwrap();
    let sh_script = dir.join("sync.sh");
    std::fs::write(&sh_script, "\"$@\"\nexit $?\n").unwrap();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();

    // nobody allowed either: both refused, each told how to allow it
    let refused = through(&env, &python, &py_script);
    assert_eq!(refused.status.code(), Some(DENIED), "{}", stderr(&refused));
    let allow = format!(
        "tokentray access allow corp --program {} --script {}",
        python.display(),
        py_script.display()
    );
    assert!(stderr(&refused).contains(&allow), "{}", stderr(&refused));
    assert!(stdout(&refused).is_empty());
    let refused = through(&env, &sh, &sh_script);
    assert_eq!(refused.status.code(), Some(DENIED), "{}", stderr(&refused));

    // allow the Python script: it gets its token, the shell script does not
    env.tokentray()
        .args(["access", "allow", "corp", "--program"])
        .arg(&python)
        .arg("--script")
        .arg(&py_script)
        .assert()
        .success();
    let served = through(&env, &python, &py_script);
    assert!(served.status.success(), "{}", stderr(&served));
    let token = stdout(&served);
    assert!(token.trim().len() > 20, "{token}");
    assert_eq!(through(&env, &sh, &sh_script).status.code(), Some(DENIED));
    let listed = stdout(
        &env.tokentray()
            .args(["access", "list", "corp"])
            .output()
            .unwrap(),
    );
    assert!(
        listed.contains(&format!("{} {}", python.display(), py_script.display())),
        "{listed}"
    );
    assert!(listed.contains("sha256 "), "{listed}");

    // another binary at the same path: refused until allowed again
    python_copy(&dir, b"\0tampered");
    let refused = through(&env, &python, &py_script);
    assert_eq!(refused.status.code(), Some(DENIED), "{}", stderr(&refused));

    let entries = audit(&env);
    let decisions: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["decision"].as_str().unwrap().to_string(),
                e["program"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let py = format!("python3 {}", py_script.display());
    // /bin/sh is dash on Debian: the real executable names it
    let shell = format!(
        "{} {}",
        sh.file_name().unwrap().to_string_lossy(),
        sh_script.display()
    );
    let expected: Vec<(String, String)> = [
        ("denied", &py),
        ("denied", &shell),
        ("allowed_by_rule", &py),
        ("denied", &shell),
        ("denied", &py),
    ]
    .iter()
    .map(|(d, p)| (d.to_string(), p.to_string()))
    .collect();
    assert_eq!(decisions, expected);
    assert!(entries[2]["rule"]
        .as_str()
        .unwrap()
        .contains(&python.display().to_string()));
    assert!(!serde_json::to_string(&entries)
        .unwrap()
        .contains(token.trim()));

    // revoked: refused again
    env.tokentray()
        .args(["access", "revoke", "corp", "--all"])
        .assert()
        .success();
    python_copy(&dir, b"");
    assert_eq!(
        through(&env, &python, &py_script).status.code(),
        Some(DENIED)
    );

    // a sign-out over the socket passes the same policy: this test's own
    // binary is no allowed program, and the account stays
    let out = env.tokentray().args(["logout", "corp"]).output().unwrap();
    assert_eq!(out.status.code(), Some(DENIED), "{}", stderr(&out));
    let status = stdout(&env.tokentray().args(["status", "--json"]).output().unwrap());
    assert!(status.contains("alice"), "still signed in: {status}");
    let last = audit(&env).pop().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["decision"].as_str()),
        (Some("sign-out"), Some("denied"))
    );
    drop(agent);
}

// S41: scopes outside the profile are refused; forced refreshes are limited per profile
#[test]
fn foreign_scopes_are_refused_and_fifty_forced_refreshes_make_one() {
    let idp = idp(300);
    let env = Env::new();
    let interval = 10;
    env.add_profile(
        &idp,
        "corp",
        &[
            "--extra-scope",
            "api.write",
            "--force-refresh-interval",
            &interval.to_string(),
        ],
    );
    env.login_device(&idp, "corp", "alice");
    let agent = Watched::start(&env, &[]);
    let extra = env
        .tokentray()
        .args(["token", "corp", "--scope", "api.write"])
        .output()
        .unwrap();
    // an extra scope passes the policy and reaches the provider (which did
    // not grant it to this sign-in: exit 4, not 7)
    assert_eq!(extra.status.code(), Some(4), "{}", stderr(&extra));
    assert!(
        stderr(&extra).contains("invalid_scope"),
        "{}",
        stderr(&extra)
    );

    let out = env
        .tokentray()
        .args(["token", "corp", "--scope", "admin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(DENIED), "{}", stderr(&out));
    assert!(stderr(&out).contains("scope `admin`"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    // past the interval since the sign-in's token: one forced refresh may go
    std::thread::sleep(std::time::Duration::from_secs(interval + 1));
    let (before, _) = idp.token_requests("refresh_token").unwrap();
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..50)
        .map(|_| {
            env.command()
                .args(["token", "corp", "--force-refresh"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    eprintln!("50 forced requests took {:?}", started.elapsed());
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    let (after, _) = idp.token_requests("refresh_token").unwrap();
    assert_eq!(after - before, 1, "one refresh at the provider");
    let tokens: std::collections::BTreeSet<String> = outputs.iter().map(stdout).collect();
    assert_eq!(tokens.len(), 1, "all got the refreshed token");

    let entries = audit(&env);
    let count = |decision: &str| entries.iter().filter(|e| e["decision"] == decision).count();
    assert_eq!(count("scope_refused"), 1, "{entries:#?}");
    assert_eq!(count("rate_limited") + count("allowed"), 50, "{entries:#?}");
    assert!(count("rate_limited") >= 1, "{entries:#?}");
    drop(agent);
}
