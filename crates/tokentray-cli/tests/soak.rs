//! Load and soak (S14, S27): the real agent serves 50 concurrent clients
//! (the core's socket client, as the CLI uses it) in a bounded loop for
//! 60 s while the IdP's access tokens live 60 s. No request may fail, and
//! the IdP must see exactly one refresh per token lifetime: the number
//! expected is computed from the tokens' own expiries and refresh margin
//! over the run's timeline, not written down. One profile is refreshed on
//! demand by the clients, the other is also kept fresh by the agent's
//! scheduler (whose refreshes race the clients' at the same deadline). The
//! agent's RSS at start and end is printed (`--nocapture`), with only a
//! generous sanity bound.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common;
use crate::watched;

use common::Env;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokentray_core::ipc::client::Client;
use tokentray_core::ipc::protocol::TokenParams;
use watched::{refreshes, Watched};

const CLIENTS: usize = 50;
const RUN: Duration = Duration::from_secs(60);
/// Pause between two requests of one client (the loop is bounded: about
/// 1,000 requests a second in all, not a flood).
const PAUSE: Duration = Duration::from_millis(50);
const TOKEN_TTL: u64 = 60;
const MARGIN: i64 = 10;
const PROFILES: [&str; 2] = ["on-demand", "kept-fresh"];

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    requests: u64,
    failures: Vec<String>,
    /// Each token the first time this client got it: (when, token, expiry).
    tokens: Vec<(f64, String, i64)>,
}

fn client_loop(socket: std::path::PathBuf, profile: &'static str, until: Instant) -> Seen {
    let client = Client::new(socket);
    let mut seen = Seen::default();
    while Instant::now() < until {
        let params = TokenParams {
            profile: profile.to_string(),
            scopes: None,
            min_valid: None,
            force_refresh: false,
        };
        seen.requests += 1;
        match client.token(params) {
            Ok(Some(reply)) => {
                let at = epoch();
                let token = reply.access_token.expose().to_string();
                if (reply.expires_on as f64) <= at - 1.0 {
                    seen.failures.push(format!("an expired token at {at}"));
                }
                if seen.tokens.last().is_none_or(|(_, last, _)| *last != token) {
                    seen.tokens.push((at, token, reply.expires_on));
                }
            }
            Ok(None) => seen.failures.push("no agent".into()),
            Err(error) => seen.failures.push(format!("{}: {error}", error.kind())),
        }
        std::thread::sleep(PAUSE);
    }
    seen
}

/// VmRSS and VmHWM of a process, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The refreshes one profile's tokens call for between `start` and `end`:
/// each token served is due `MARGIN` s before its expiry, and its successor
/// must appear no earlier than that (no early or double refresh) and no
/// later than the expiry. Returns (refreshes certainly due, refreshes that
/// may or may not have happened at the very end) and checks the order.
fn expected_refreshes(name: &str, tokens: &[(f64, String, i64)], end: f64) -> (u64, u64) {
    let mut due = 0;
    for pair in tokens.windows(2) {
        let ((_, _, expiry), (next_seen, _, _)) = (&pair[0], &pair[1]);
        let deadline = (expiry - MARGIN) as f64;
        assert!(
            *next_seen >= deadline - 1.0,
            "{name}: refreshed at {next_seen}, before its deadline {deadline}"
        );
        assert!(
            *next_seen <= *expiry as f64 + 1.0,
            "{name}: no new token until {next_seen}, after the expiry {expiry}"
        );
        due += 1;
    }
    let (_, _, last_expiry) = tokens.last().unwrap();
    let last_deadline = (last_expiry - MARGIN) as f64;
    assert!(
        last_deadline >= end - 2.0,
        "{name}: the last token was due at {last_deadline} and not refreshed by {end}"
    );
    // A deadline in the last two seconds may have been met or not.
    (due, u64::from(last_deadline < end))
}

// S14, S27: 50 clients for 60 s with tokens living 60 s: no failed
// request, exactly one refresh per token lifetime (single flight, also
// against the keep-fresh scheduler), memory measured.
#[test]
fn fifty_clients_for_a_minute_of_expiring_tokens() {
    let idp = common::idp(TOKEN_TTL);
    let env = Env::new();
    let margin = MARGIN.to_string();
    env.add_profile(&idp, PROFILES[0], &["--refresh-margin", &margin]);
    env.add_profile(
        &idp,
        PROFILES[1],
        &["--refresh-margin", &margin, "--keep-fresh"],
    );
    for profile in PROFILES {
        env.login_device(&idp, profile, "alice");
    }
    let mut agent = Watched::start(&env, &[]);
    let pid = agent.pid();
    let warm = Client::new(env.socket());
    for profile in PROFILES {
        warm.token(TokenParams {
            profile: profile.into(),
            scopes: None,
            min_valid: None,
            force_refresh: false,
        })
        .unwrap()
        .unwrap();
    }
    let (rss_start, _) = memory_kb(pid);
    let before = refreshes(&idp);

    let start = epoch();
    let until = Instant::now() + RUN;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let socket = env.socket();
            let profile = PROFILES[i % PROFILES.len()];
            (
                profile,
                std::thread::spawn(move || client_loop(socket, profile, until)),
            )
        })
        .collect();
    let mut requests = 0;
    let mut failures = Vec::new();
    let mut tokens: HashMap<&str, HashMap<String, (f64, i64)>> = HashMap::new();
    for (profile, worker) in workers {
        let seen = worker.join().unwrap();
        requests += seen.requests;
        failures.extend(seen.failures);
        let by_token = tokens.entry(profile).or_default();
        for (at, token, expiry) in seen.tokens {
            let first = by_token.entry(token).or_insert((at, expiry));
            first.0 = first.0.min(at);
        }
    }
    let end = epoch();
    let (rss_end, hwm) = memory_kb(pid);
    let after = refreshes(&idp);
    assert!(agent.alive(), "{}", agent.stderr());

    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let (mut due, mut maybe) = (0, 0);
    for profile in PROFILES {
        let mut served: Vec<(f64, String, i64)> = tokens[profile]
            .iter()
            .map(|(token, (at, expiry))| (*at, token.clone(), *expiry))
            .collect();
        served.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (certain, open) = expected_refreshes(profile, &served, end);
        eprintln!(
            "soak: {profile}: {} tokens served, {certain} refreshes due (+{open} at the very end)",
            served.len()
        );
        due += certain;
        maybe += open;
    }
    let done = after.0 - before.0;
    eprintln!(
        "soak: {requests} requests from {CLIENTS} clients in {:.1} s, 0 failed; {done} refreshes at the IdP ({due} expected, +{maybe} possible at the end); agent RSS {rss_start} kB at start, {rss_end} kB at end (peak {hwm} kB)",
        end - start
    );
    assert_eq!(after.1, before.1, "no refresh was refused");
    assert!(
        (due..=due + maybe).contains(&done),
        "{done} refreshes at the IdP, expected {due} (+{maybe})"
    );
    assert!(due >= 1, "the run saw at least one expiry");
    assert!(rss_end < 200 * 1024, "sanity: {rss_end} kB");
}
