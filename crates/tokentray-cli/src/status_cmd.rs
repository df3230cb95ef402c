//! `tokentray status`: every profile's state, from the running agent or,
//! without one, from the profiles file and the vault. Prints no secret.

use crate::cli::StatusArgs;
use crate::format::{expiry, rfc3339};
use crate::output::{print_json, print_text, Failure};
use crate::store::Store;
use serde::Serialize;
use std::process::ExitCode;
use tokentray_core::account::AccountStore;
use tokentray_core::broker::Activity;
use tokentray_core::ipc::protocol::{ProfileStatus, SignInState, StatusReply};
use tokentray_core::profile::{LoginMode, ProfileStore};
use tokentray_core::token::{now, EpochSecs};
use tokentray_core::Result;

/// Who answered.
#[derive(Serialize)]
struct Agent {
    running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
}

#[derive(Serialize)]
struct Report {
    agent: Agent,
    profiles: Vec<Entry>,
}

/// A profile's state, with the expiry times also in RFC 3339.
#[derive(Serialize)]
struct Entry {
    #[serde(flatten)]
    status: ProfileStatus,
    access_expires_at: Option<String>,
    refresh_expires_at: Option<String>,
}

pub fn run(args: &StatusArgs, store: &Store) -> Result<ExitCode, Failure> {
    let (agent, reply) = match from_agent()? {
        Some((pid, reply)) => (
            Agent {
                running: true,
                pid: Some(pid),
            },
            reply,
        ),
        None => (
            Agent {
                running: false,
                pid: None,
            },
            from_vault(store)?,
        ),
    };
    let report = Report {
        agent,
        profiles: reply
            .profiles
            .into_iter()
            .map(|status| Entry {
                access_expires_at: status.access_expires_on.map(rfc3339),
                refresh_expires_at: status.refresh_expires_on.map(rfc3339),
                status,
            })
            .collect(),
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&human(&report, now()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn from_agent() -> Result<Option<(u32, StatusReply)>, Failure> {
    let client = tokentray_core::ipc::client::Client::from_env()?;
    let Some(pong) = client.ping()? else {
        return Ok(None);
    };
    Ok(client.status()?.map(|reply| (pong.pid, reply)))
}

/// The same answer the agent gives, read from the profiles file and the
/// vault by this process.
fn from_vault(store: &Store) -> Result<StatusReply> {
    let accounts = AccountStore::new(store.vault()?);
    tokentray_core::status::collect_from(&ProfileStore::open_default()?, &accounts, |_| {
        Activity::default()
    })
}

fn human(report: &Report, now: EpochSecs) -> String {
    let mut text = match report.agent.pid {
        Some(pid) => format!("agent: running (pid {pid})\n"),
        None => "agent: not running (read from the vault)\n".to_string(),
    };
    if report.profiles.is_empty() {
        text.push_str("no profiles; add one with `tokentray profile add`\n");
    }
    for entry in &report.profiles {
        let s = &entry.status;
        let state = match (s.state, &s.account) {
            (SignInState::SignedIn, _) if s.login == LoginMode::ClientCredentials => {
                "client credentials (no sign-in needed)".to_string()
            }
            (SignInState::SignedIn, Some(account)) => format!("signed in as {}", account.label),
            (SignInState::SignedIn, None) => "signed in".to_string(),
            (SignInState::SignedOut, _) => {
                format!("signed out: run `tokentray login {}`", s.name)
            }
            (SignInState::SignInRequired, account) => format!(
                "sign-in required{} ({}): run `tokentray login {}`",
                account
                    .as_ref()
                    .map(|a| format!(" for {}", a.label))
                    .unwrap_or_default(),
                s.reason.as_deref().unwrap_or("unknown reason"),
                s.name
            ),
        };
        text.push_str(&format!("\n{}: {state}\n", s.name));
        if let Some(at) = s.access_expires_on {
            text.push_str(&format!("  access token:      {}\n", expiry(at, now)));
        } else if s.account.is_some() {
            text.push_str("  access token:      none valid cached\n");
        }
        if let Some(at) = s.refresh_expires_on {
            text.push_str(&format!("  refresh token:     {}\n", expiry(at, now)));
        }
        text.push_str(&format!(
            "  needs interaction: {}\n",
            if s.needs_interaction { "yes" } else { "no" }
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentray_core::clock_words;
    use tokentray_core::profile::Preset;

    /// The CLI's side of the app's test of the same name
    /// (`src-tauri/src/commands.rs`): the status says what
    /// `clock_words::expiry` says for the same instants.
    #[test]
    fn one_wording_of_time_on_every_surface() {
        let at: EpochSecs = 1_800_000_000;
        let offsets = (-3600..3 * 3600).chain([2 * 86_400 - 1, 2 * 86_400, 366 * 86_400 + 5]);
        for left in offsets {
            let now = at - left;
            let report = Report {
                agent: Agent {
                    running: false,
                    pid: None,
                },
                profiles: vec![Entry {
                    status: ProfileStatus {
                        name: "graph".into(),
                        provider: Preset::Microsoft,
                        login: LoginMode::Embedded,
                        account: None,
                        state: SignInState::SignedIn,
                        reason: None,
                        access_expires_on: Some(at),
                        refresh_expires_on: Some(at),
                        needs_interaction: false,
                        refreshing: false,
                        refresh_failed: None,
                    },
                    access_expires_at: None,
                    refresh_expires_at: None,
                }],
            };
            let words = clock_words::expiry(now, at);
            let text = human(&report, now);
            for token in ["access token:     ", "refresh token:    "] {
                let line = format!("  {token} {words} ({})\n", rfc3339(at));
                assert!(text.contains(&line), "left {left}: {text}");
            }
        }
    }
}
