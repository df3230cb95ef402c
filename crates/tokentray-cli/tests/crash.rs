//! Crash-safe rotation (S13, S14, S15): the real agent is stopped at each
//! fault point of its refresh path (`tokentray_core::fault`, built
//! into test binaries), killed with SIGKILL there, restarted, and asked
//! again. The local IdP rotates refresh tokens with reuse detection, so a
//! refresh token that was never stored is gone for good: the account must
//! then say "sign-in required" (exit 3) — never loop, and never replay the
//! retired refresh token more than once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;
use crate::watched;

use common::{stderr, stdout, Env};
use std::process::{Output, Stdio};
use watched::{refreshes, stored_record, Watched};

/// A signed-in profile `p` (access tokens live an hour: nothing is due
/// unless forced; every forced refresh is a real one, no interval).
fn signed_in() -> (Env, tokentray_testkit::Idp) {
    let idp = common::idp(3600);
    let env = Env::new();
    env.add_profile(&idp, "p", &["--force-refresh-interval", "0"]);
    env.login_device(&idp, "p", "alice");
    (env, idp)
}

fn token(env: &Env, extra: &[&str]) -> Output {
    env.command()
        .args(["token", "p", "--format", "json"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn access_token(out: &Output) -> String {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    reply["access_token"].as_str().unwrap().to_string()
}

/// Exit 3: sign-in required.
fn assert_exit_3(out: &Output) {
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(out), stderr(out));
}

/// The stored refresh token and the access token cached in the record.
fn stored_tokens(env: &Env) -> (String, String) {
    let record = stored_record(env);
    (
        record["refresh_token"].as_str().unwrap().to_string(),
        record["access_tokens"][0]["token"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Holds a forced refresh at `point`, checks that it reached the IdP (at
/// every point after `refresh-before-request`), kills the agent with
/// SIGKILL there and starts a plain one. Returns the tokens stored before
/// the crash.
fn crash_at(env: &Env, idp: &tokentray_testkit::Idp, point: &str) -> (String, String) {
    let before = stored_tokens(env);
    let agent = Watched::start(
        env,
        &[
            ("FAILPOINTS", &format!("{point}=sleep(120000)")),
            ("RUST_LOG", "tokentray::fault=debug"),
        ],
    );
    let client = spawn_forced_refresh(env);
    agent.wait_for_line(&["fault point reached", point]);
    let sent = u64::from(point != "refresh-before-request");
    assert_eq!(refreshes(idp), (sent, 0), "the refresh reached the IdP");
    agent.kill9();
    let out = client.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no token from a killed agent");
    assert!(
        stderr(&out).contains("no answer from the agent"),
        "{}",
        stderr(&out)
    );
    before
}

/// `tokentray token p --force-refresh`, started (its output piped).
fn spawn_forced_refresh(env: &Env) -> std::process::Child {
    env.command()
        .args(["token", "p", "--force-refresh"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Signs in, crashes at `point` ([`crash_at`]) and checks the outcome with
/// `after`.
fn crash_then(point: &str, after: fn(&Env, &tokentray_testkit::Idp, &(String, String))) {
    let (env, idp) = signed_in();
    let before = crash_at(&env, &idp, point);
    after(&env, &idp, &before);
}

/// After the restart the account works on, with the new refresh token:
/// the token stored by the killed agent is served without a refresh, and
/// the next forced refresh rotates normally.
fn assert_still_usable(env: &Env, idp: &tokentray_testkit::Idp, before: &(String, String)) {
    let _agent = Watched::start(env, &[]);
    let stored = stored_tokens(env);
    assert_ne!(stored.0, before.0, "the rotated refresh token was stored");
    assert_eq!(access_token(&token(env, &[])), stored.1);
    assert_eq!(refreshes(idp), (1, 0), "served from the vault");
    let fresh = access_token(&token(env, &["--force-refresh"]));
    assert_ne!(fresh, stored.1);
    assert_eq!(refreshes(idp), (2, 0), "no replay of a retired token");
}

/// After the restart the account is clearly "sign-in required": the one
/// replay of the retired refresh token fails, and nothing more is sent.
fn assert_sign_in_required(env: &Env, idp: &tokentray_testkit::Idp, before: &(String, String)) {
    let _agent = Watched::start(env, &[]);
    assert_eq!(stored_tokens(env), *before, "nothing new was stored");
    // The access token of before the crash is still valid and served.
    assert_eq!(access_token(&token(env, &[])), before.1);
    let out = token(env, &["--force-refresh"]);
    assert_exit_3(&out);
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["kind"], "sign_in_required");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tokentray login p"),
        "{error}"
    );
    assert_eq!(refreshes(idp), (1, 1), "exactly one replay, refused");
    for _ in 0..3 {
        assert_exit_3(&token(env, &[]));
    }
    assert_eq!(refreshes(idp), (1, 1), "no retry loop");
    let status = env.tokentray().args(["status", "--json"]).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["profiles"][0]["state"], "sign_in_required",
        "{status}"
    );
}

// S15: killed before the refresh request is sent: nothing changed, the
// account goes on with its refresh token.
#[test]
fn killed_before_the_request_keeps_the_account() {
    let (env, idp) = signed_in();
    let before = crash_at(&env, &idp, "refresh-before-request");
    let _agent = Watched::start(&env, &[]);
    assert_eq!(stored_tokens(&env), before);
    access_token(&token(&env, &["--force-refresh"]));
    assert_eq!(refreshes(&idp), (1, 0), "the old refresh token still works");
}

// S15, S13: killed after the provider rotated the refresh token and before
// the vault write: the new refresh token is lost, which shows as "sign-in
// required" after one refused replay, never as a loop.
#[test]
fn killed_before_the_vault_write_needs_a_sign_in_after_one_replay() {
    crash_then("refresh-before-store", assert_sign_in_required);
}

// S15: killed after the vault write and before the read-back: the rotated
// refresh token is in the vault and the account goes on.
#[test]
fn killed_before_the_read_back_keeps_the_account() {
    crash_then("record-before-readback", assert_still_usable);
}

// S15: killed as the new token is handed out: the account goes on.
#[test]
fn killed_after_the_hand_out_keeps_the_account() {
    crash_then("refresh-after-handout", assert_still_usable);
}

// S15, S33: one panic in the refresh path (the canary scan's trigger,
// `FAILPOINTS=refresh-after-handout=1*panic`) fails that request only; the
// agent lives on, serves the refreshed token, and its trace log and panic
// message hold no token.
#[test]
fn a_panic_in_the_refresh_path_fails_one_request_and_leaks_nothing() {
    let (env, idp) = signed_in();
    let mut agent = Watched::start(
        &env,
        &[
            ("FAILPOINTS", "refresh-after-handout=1*panic"),
            ("RUST_LOG", "trace"),
        ],
    );
    let out = token(&env, &["--force-refresh"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    agent.wait_for_line(&["panicked"]);
    assert!(agent.alive(), "the agent survives the panic");
    let (refresh, access) = stored_tokens(&env);
    assert_eq!(
        access_token(&token(&env, &[])),
        access,
        "served from memory"
    );
    assert_eq!(refreshes(&idp), (1, 0));
    let log = agent.stderr();
    assert!(log.contains("refresh-after-handout"), "{log}");
    let id_token = stored_record(&env)["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    for secret in [&refresh, &access, &id_token] {
        assert!(!log.contains(secret.as_str()), "a token in the agent's log");
    }
}

/// `tokentray token p --force-refresh` without an agent, held at `point`
/// for `millis` (returns once it is there).
fn cli_held_at(env: &Env, point: &str, millis: u64) -> Watched {
    let cli = Watched::spawn(
        env.command()
            .args(["token", "p", "--force-refresh"])
            .env("FAILPOINTS", format!("{point}=sleep({millis})"))
            .env("RUST_LOG", "tokentray::fault=debug"),
    );
    cli.wait_for_line(&["fault point reached", point]);
    cli
}

// S15, S13, S14: the same crash without an agent: `tokentray token` itself
// is killed after the provider rotated the refresh token and before its
// vault write, holding the profile's cross-process refresh lock. The lock
// dies with it (no stale lock blocks the next process), and the account
// ends "sign-in required" after one refused replay.
#[test]
fn a_cli_killed_before_the_vault_write_leaves_no_lock_and_one_replay() {
    let (env, idp) = signed_in();
    let before = stored_tokens(&env);
    let cli = cli_held_at(&env, "refresh-before-store", 120_000);
    assert_eq!(refreshes(&idp), (1, 0), "the refresh reached the IdP");
    cli.kill9();
    assert_eq!(stored_tokens(&env), before, "nothing new was stored");
    let out = token(&env, &["--force-refresh"]);
    assert_exit_3(&out);
    assert_eq!(refreshes(&idp), (1, 1), "exactly one replay, refused");
    assert_exit_3(&token(&env, &[]));
    assert_eq!(refreshes(&idp), (1, 1), "no retry loop");
}

// S14, S15, S13: after that crash, two processes ask at once: the first
// replays the retired refresh token (refused) while the second waits on
// the profile's lock; the second then sees the account marked and sends
// nothing — one replay in all, not one per process.
#[test]
fn two_processes_after_the_crash_replay_the_retired_token_once() {
    let (env, idp) = signed_in();
    cli_held_at(&env, "refresh-before-store", 120_000).kill9();

    // The first holds the lock a few seconds before it sends the replay,
    // long enough for the second to queue behind it.
    let mut first = cli_held_at(&env, "refresh-before-request", 5_000);
    let mut second = Watched::spawn(
        env.command()
            .args(["token", "p", "--force-refresh"])
            .env("RUST_LOG", "tokentray_core::lock=debug"),
    );
    second.wait_for_line(&["waiting for the refresh lock"]);
    for process in [&mut first, &mut second] {
        let status = process.child.wait().unwrap();
        assert_eq!(status.code(), Some(3), "{}", process.stderr());
    }
    assert_eq!(refreshes(&idp), (1, 1), "one replay in all");
}

// S14, S15: a sign-out sent to the agent while its refresh is held at a
// fault point waits for that refresh (the account's single flight and the
// profile's lock), then revokes the refresh token the refresh rotated in:
// nothing of the account is left in the vault, and the IdP saw the live
// token revoked, not the retired one.
#[test]
fn a_sign_out_during_a_refresh_waits_and_revokes_the_new_token() {
    let (env, idp) = signed_in();
    let agent = Watched::start(
        &env,
        &[
            ("FAILPOINTS", "refresh-before-request=sleep(3000)"),
            ("RUST_LOG", "tokentray::fault=debug"),
        ],
    );
    let refreshing = spawn_forced_refresh(&env);
    agent.wait_for_line(&["fault point reached", "refresh-before-request"]);
    let out = env.command().args(["logout", "p"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let refreshed = refreshing.wait_with_output().unwrap();
    assert!(
        refreshed.status.success(),
        "the refresh ended before the sign-out: {}",
        stderr(&refreshed)
    );
    assert_eq!(refreshes(&idp), (1, 0), "one refresh, no replay");
    assert_eq!(
        idp.revoked_refresh_tokens().unwrap(),
        (1, 0),
        "the rotated (live) refresh token was revoked"
    );
    let left: Vec<String> = env
        .vault_values()
        .into_iter()
        .filter(|v| v.contains("refresh_token") || v.contains("access_tokens"))
        .collect();
    assert!(left.is_empty(), "an account record was left: {left:?}");
    let out = token(&env, &[]);
    assert_exit_3(&out);
}
