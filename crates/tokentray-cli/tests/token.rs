//! `tokentray login`, `token` (every format), `exec`, `git-credential`,
//! `decode`, `status`, `logout` and `agent`, run as real processes against
//! the local IdP and the real Secret Service. Refresh counts are read from
//! the IdP itself, so "exactly one refresh" is what the provider saw.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;

use common::{idp, stderr, stdout, the_same_token, Agent, Env};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

const REFRESH: &str = "refresh_token";
const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs `count` `tokentray token NAME` processes at once; their outputs.
fn concurrent_tokens(env: &Env, name: &str, count: usize) -> Vec<std::process::Output> {
    concurrent_tokens_with(env, name, count, |_, _| {})
}

/// The same, each command set up by `configure` (with its index) first.
fn concurrent_tokens_with(
    env: &Env,
    name: &str,
    count: usize,
    configure: impl Fn(usize, &mut std::process::Command),
) -> Vec<std::process::Output> {
    let children: Vec<_> = (0..count)
        .map(|n| {
            let mut command = env.command();
            configure(n, &mut command);
            command
                .args(["token", name])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

/// Signs in with an IdP whose access tokens live 20 s under a profile that
/// refreshes 300 s before expiry, then waits until the token is past half
/// its life: cached but due for refresh. Returns when that point is reached.
fn signed_in_with_a_due_token(env: &Env, idp: &tokentray_testkit::Idp) -> Instant {
    env.add_profile(idp, "corp", &["--refresh-margin", "300"]);
    env.login_device(idp, "corp", "alice");
    let signed_in = Instant::now();
    std::thread::sleep(Duration::from_secs(11));
    signed_in
}

// S29: process hygiene
#[test]
fn login_then_every_format_exec_decode_status_and_logout() {
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);

    let status = json(&stdout(
        &env.tokentray().args(["status", "--json"]).output().unwrap(),
    ));
    assert_eq!(status["agent"]["running"], false);
    assert_eq!(status["profiles"][0]["name"], "corp");
    assert_eq!(status["profiles"][0]["state"], "signed_out");
    assert_eq!(status["profiles"][0]["needs_interaction"], true);

    let (device, done, err) = env.login_device(&idp, "corp", "alice");
    assert!(device["verification_uri"]
        .as_str()
        .unwrap()
        .starts_with(idp.issuer()));
    assert!(device["expires_in"].as_u64().unwrap() > 0);
    assert!(device.get("verification_uri_complete").is_some());
    assert!(err.contains("enter the code"), "{err}");
    assert!(err.contains("signed in as alice"), "{err}");
    assert_eq!(json(&done)["account"], "alice");

    let status = json(&stdout(
        &env.tokentray().args(["status", "--json"]).output().unwrap(),
    ));
    let corp = &status["profiles"][0];
    assert_eq!(corp["state"], "signed_in");
    assert_eq!(corp["account"]["label"], "alice");
    assert_eq!(corp["needs_interaction"], false);
    assert!(corp["access_expires_at"].as_str().unwrap().ends_with('Z'));
    let human = stdout(&env.tokentray().arg("status").output().unwrap());
    assert!(human.contains("corp: signed in as alice"), "{human}");
    assert!(human.contains("access token:      expires in "), "{human}");

    // json
    let out = env
        .tokentray()
        .args(["token", "corp", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&stdout(&out));
    let token = doc["access_token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    assert_eq!(doc["token_type"], "Bearer");
    assert_eq!(doc["profile"], "corp");
    assert_eq!(doc["account"], "alice");
    assert_eq!(doc["scopes"], serde_json::json!(["api.read"]));
    let expires_on = doc["expires_on"].as_i64().unwrap();
    assert!(expires_on > epoch_now() + 200, "{doc}");
    let expires_at = doc["expires_at"].as_str().unwrap().to_string();
    let parsed = chrono::DateTime::parse_from_rfc3339(&expires_at).unwrap();
    assert_eq!(parsed.timestamp(), expires_on);
    assert!(expires_at.ends_with('Z'));

    let run = |args: &[&str]| {
        let out = env.tokentray().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains(&token),
            "{args:?} leaked the token on stderr"
        );
        stdout(&out)
    };
    // raw (the default) and header
    assert_eq!(run(&["token", "corp"]), format!("{token}\n"));
    assert_eq!(
        run(&["token", "corp", "--format", "raw"]),
        format!("{token}\n")
    );
    assert_eq!(
        run(&["token", "corp", "--format", "header"]),
        format!("Authorization: Bearer {token}\n")
    );
    // env: one shell-quoted line that a shell evaluates back to the values
    let env_line = run(&["token", "corp", "--format", "env"]);
    assert!(
        env_line.starts_with("export TOKENTRAY_ACCESS_TOKEN='"),
        "{env_line}"
    );
    let evaluated = std::process::Command::new("sh")
        .args([
            "-c",
            "eval \"$1\"; printf '%s|%s' \"$TOKENTRAY_ACCESS_TOKEN\" \"$TOKENTRAY_EXPIRES_ON\"",
            "sh",
            &env_line,
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&evaluated), format!("{token}|{expires_on}"));
    // kubectl: an ExecCredential as client.authentication.k8s.io/v1 reads it
    let kube = json(&run(&["token", "corp", "--format", "kubectl"]));
    assert_eq!(kube["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(kube["kind"], "ExecCredential");
    assert_eq!(kube["status"]["token"], token.as_str());
    assert_eq!(kube["status"]["expirationTimestamp"], expires_at.as_str());
    // git-credential, as a format and as a helper
    let lines = format!("username=oauth2\npassword={token}\npassword_expiry_utc={expires_on}\n");
    assert_eq!(run(&["token", "corp", "--format", "git-credential"]), lines);
    let helper = env
        .tokentray()
        .args(["git-credential", "--profile", "corp", "get"])
        .write_stdin("protocol=https\nhost=git.example\n\n")
        .output()
        .unwrap();
    assert!(helper.status.success(), "{}", stderr(&helper));
    assert_eq!(stdout(&helper), lines);
    for op in ["store", "erase"] {
        env.tokentray()
            .args(["git-credential", "--profile", "corp", op])
            .write_stdin(format!(
                "protocol=https\nhost=git.example\nusername=oauth2\npassword={token}\n\n"
            ))
            .assert()
            .success()
            .stdout("");
    }

    // exec: the token in the child's environment, not in its argv
    let out = env
        .tokentray()
        .args(["exec", "corp", "--", "sh", "-c"])
        .arg("printf '%s\\n%s\\n' \"$TOKENTRAY_ACCESS_TOKEN\" \"$TOKENTRAY_EXPIRES_ON\"; tr '\\0' ' ' < /proc/$$/cmdline; exit 7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "exits with the child's code");
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(token.as_str()));
    assert_eq!(lines.next(), Some(expires_on.to_string().as_str()));
    let argv = lines.next().unwrap();
    assert!(argv.contains("TOKENTRAY_ACCESS_TOKEN"), "{argv}");
    assert!(!argv.contains(&token), "the token is in the child's argv");

    // decode: a real ID token (from the vault) shows its claims, unverified
    let id_token = env
        .vault_values()
        .iter()
        .filter_map(|v| serde_json::from_str::<Value>(v).ok())
        .find_map(|v| v["id_token"].as_str().map(str::to_string))
        .expect("an ID token in the account record");
    let shown = env
        .tokentray()
        .args(["decode", "-"])
        .write_stdin(id_token.clone())
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.starts_with("NOT VERIFIED"), "{text}");
    assert!(
        text.contains(&format!("\"iss\": \"{}\"", idp.issuer())),
        "{text}"
    );
    assert!(text.contains("\"sub\": \"alice\""), "{text}");
    assert!(text.contains("expires"), "{text}");
    let decoded = json(&run(&["decode", "--json", &id_token]));
    assert_eq!(decoded["verified"], false);
    assert_eq!(decoded["claims"]["sub"], "alice");
    assert_eq!(decoded["claims"]["iss"], idp.issuer());
    assert!(decoded["header"]["alg"].is_string());
    // the access token is opaque: refused, and not echoed
    let out = env
        .tokentray()
        .args(["decode", "-"])
        .write_stdin(token.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains(&token));

    // logout, then a token needs a sign-in: exit 3, naming the command
    let out = env.tokentray().args(["logout", "corp"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("signed out of alice"),
        "{}",
        stderr(&out)
    );
    let out = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tokentray login corp"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
    let out = env
        .tokentray()
        .args(["token", "corp", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json(&stdout(&out))["error"]["kind"], "sign_in_required");
    let status = json(&stdout(
        &env.tokentray().args(["status", "--json"]).output().unwrap(),
    ));
    assert_eq!(status["profiles"][0]["state"], "signed_out");
    assert!(
        env.vault_values().iter().all(|v| !v.contains("id_token")),
        "logout deleted the account record"
    );
}

// S8: device flow
#[test]
fn non_interactive_without_an_account_exits_3_and_asks_the_idp_nothing() {
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);
    let before = (
        idp.token_requests(REFRESH).unwrap(),
        idp.token_requests(DEVICE).unwrap(),
    );
    let out = env
        .tokentray()
        .args(["token", "corp", "--non-interactive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tokentray login corp"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
    let after = (
        idp.token_requests(REFRESH).unwrap(),
        idp.token_requests(DEVICE).unwrap(),
    );
    assert_eq!(before, after, "no request reached the IdP");
    // an unknown profile is a usage error
    env.tokentray()
        .args(["token", "nope", "--non-interactive"])
        .assert()
        .code(2);
}

// S14: single-flight refresh
#[test]
fn two_hundred_processes_through_the_agent_cause_one_refresh() {
    let idp = idp(20);
    let env = Env::new();
    signed_in_with_a_due_token(&env, &idp);
    let agent = Agent::start(&env);

    // A second agent on the same socket says who owns it, and leaves.
    let second = env
        .tokentray()
        .arg("agent")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_ne!(second.status.code(), Some(0));
    assert!(
        stderr(&second).contains(&format!("pid {}", agent.pid())),
        "{}",
        stderr(&second)
    );

    let (before, _) = idp.token_requests(REFRESH).unwrap();
    let outputs = concurrent_tokens(&env, "corp", 200);
    let token = the_same_token(&outputs);
    let (after, _) = idp.token_requests(REFRESH).unwrap();
    assert_eq!(after, before + 1, "exactly one refresh for 200 processes");

    // The agent's status sees the account; SIGTERM stops it and removes
    // its socket.
    let status = json(&stdout(
        &env.tokentray().args(["status", "--json"]).output().unwrap(),
    ));
    assert_eq!(status["agent"]["running"], true);
    assert_eq!(status["agent"]["pid"], agent.pid());
    assert_eq!(status["profiles"][0]["state"], "signed_in");
    let exit = agent.terminate();
    assert!(exit.success(), "the agent exits cleanly: {exit:?}");
    assert!(!env.socket().exists(), "the socket is removed");
    // Without the agent the same token comes from the vault.
    let out = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert_eq!(stdout(&out).trim(), token);
}

// S14: single-flight refresh
#[test]
fn twenty_processes_without_an_agent_cause_one_refresh() {
    let idp = idp(20);
    let env = Env::new();
    signed_in_with_a_due_token(&env, &idp);
    let (before, _) = idp.token_requests(REFRESH).unwrap();
    let outputs = concurrent_tokens(&env, "corp", 20);
    the_same_token(&outputs);
    let (after, _) = idp.token_requests(REFRESH).unwrap();
    assert_eq!(after, before + 1, "the file lock makes it one refresh");
}

// S14: the refresh locks follow the vault, not the environment: an agent
// and processes whose runtime directory and socket are elsewhere (they
// find no agent) share the profile's lock, so 20 of them on a due token
// make one refresh at the IdP.
#[test]
fn an_agent_and_processes_of_another_runtime_dir_cause_one_refresh() {
    let idp = idp(20);
    let env = Env::new();
    signed_in_with_a_due_token(&env, &idp);
    let agent = Agent::start(&env);
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        elsewhere.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let (before, _) = idp.token_requests(REFRESH).unwrap();
    let outputs = concurrent_tokens_with(&env, "corp", 20, |n, command| {
        if n % 2 == 1 {
            command
                .env("XDG_RUNTIME_DIR", elsewhere.path())
                .env("TOKENTRAY_SOCKET", elsewhere.path().join("agent.sock"));
        }
    });
    the_same_token(&outputs);
    let (after, failed) = idp.token_requests(REFRESH).unwrap();
    assert_eq!(
        after,
        before + 1,
        "one refresh for the agent and the others"
    );
    assert_eq!(failed, 0, "no replay");
    assert!(agent.terminate().success());
}

// S14: a profile whose refresh lock another process holds keeps its own
// callers waiting a bounded time, with an error that names the holder;
// the agent's other profiles answer meanwhile.
#[test]
fn a_held_lock_bounds_its_profile_and_leaves_the_others_alone() {
    let idp = idp(20);
    let env = Env::new();
    env.add_profile(&idp, "other", &["--refresh-margin", "300"]);
    env.login_device(&idp, "other", "bob");
    signed_in_with_a_due_token(&env, &idp);
    let agent = Agent::start(&env);
    let lock = env.lock_dir().join("corp.lock");
    // `-o`: the lock stays with flock(1) itself, not with its `sleep`
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let held = env
        .command()
        .args(["token", "corp"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let other = env.tokentray().args(["token", "other"]).output().unwrap();
    let other_took = started.elapsed();
    assert!(other.status.success(), "{}", stderr(&other));
    let held = held.wait_with_output().unwrap();
    let held_took = started.elapsed();
    assert!(
        other_took < held_took,
        "the other profile answered while the held one waited ({other_took:?} vs {held_took:?})"
    );
    // A generous bound, not a benchmark: the wait limit is 15 s.
    assert!(other_took < Duration::from_secs(5), "{other_took:?}");
    assert!(held_took < Duration::from_secs(40), "{held_took:?}");
    assert_eq!(held.status.code(), Some(1), "{}", stderr(&held));
    let message = stderr(&held);
    assert!(message.contains("profile `corp` is busy"), "{message}");
    assert!(
        message.contains(&format!("pid {}", holder.id())) && message.contains("flock"),
        "the holder is named: {message}"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Once the holder is gone, the profile is served again.
    let out = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(agent.terminate().success());
}

#[test]
fn with_the_idp_down_a_valid_token_is_served_and_an_expired_one_exits_6() {
    let mut idp = idp(20);
    let env = Env::new();
    env.add_profile(&idp, "corp", &["--refresh-margin", "300"]);
    env.login_device(&idp, "corp", "alice");
    let signed_in = Instant::now();
    let first = stdout(&env.tokentray().args(["token", "corp"]).output().unwrap());
    assert!(!first.trim().is_empty());

    std::thread::sleep(Duration::from_secs(11).saturating_sub(signed_in.elapsed()));
    idp.stop();
    let out = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert!(
        out.status.success(),
        "a still-valid token is served: {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), first);

    std::thread::sleep(Duration::from_secs(21).saturating_sub(signed_in.elapsed()));
    let out = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("network"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(first.trim()));
    assert_eq!(stdout(&out), "");
}
