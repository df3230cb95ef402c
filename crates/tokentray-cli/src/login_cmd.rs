//! `tokentray login` and `tokentray logout`: interactive sign-in from a
//! terminal (device code or system browser) and sign-out. A sign-in is
//! stored in the vault by the core's broker (`complete_sign_in`); a running agent
//! finds it on its next request. With `--store memory` the tokens can only
//! live in the agent, so the agent runs the sign-in ([`sign_in`] there,
//! showing the code in its own terminal). Sign-out goes through the agent
//! when one runs, so it forgets the tokens too.

use crate::cli::{LoginArgs, LogoutArgs};
use crate::direct;
use crate::output::{print_text, Failure};
use crate::store::{memory_needs_agent, Store};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use tokentray_core::clock_words;
use tokentray_core::flow::{open_in_browser, TokenSet};
use tokentray_core::profile::{LoginMode, Profile};
use tokentray_core::vault::StoreKind;
use tokentray_core::Error;
use tokio_util::sync::CancellationToken;

/// How long a browser sign-in may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Serialize)]
struct DeviceJson<'a> {
    verification_uri: &'a str,
    verification_uri_complete: Option<&'a str>,
    user_code: &'a str,
    expires_in: u64,
}

#[derive(Serialize)]
struct SignedInJson<'a> {
    profile: &'a str,
    account: &'a str,
}

/// How long `--store memory` waits for the agent to finish a sign-in.
const AGENT_LOGIN_TIMEOUT: Duration = Duration::from_secs(900);

pub fn login(args: &LoginArgs, store: &Store) -> Result<ExitCode, Failure> {
    if matches!(store.kind(), StoreKind::Memory) {
        return login_in_agent(args);
    }
    let broker = direct::broker(store)?;
    let profile = broker.profiles().get(&args.profile)?;
    let Some(mode) = terminal_mode(&profile, requested_mode(args))? else {
        eprintln!(
            "profile `{0}` uses client credentials: no sign-in needed; `tokentray token {0}` gets a token with its client secret",
            profile.name
        );
        return Ok(ExitCode::SUCCESS);
    };
    // The lock directory is checked now, not after the user signed in.
    if let Some(locks) = broker.lock_dir() {
        drop(locks.lock(&profile.name)?);
    }
    let runtime = direct::runtime()?;
    let tokens = runtime.block_on(sign_in(broker.grants(), &profile, mode, args.json))?;
    let account = runtime.block_on(broker.complete_sign_in(&profile, &tokens))?;
    eprintln!(
        "signed in as {} (profile `{}`)",
        account.label(),
        profile.name
    );
    if args.json {
        print_text(&json_line(&SignedInJson {
            profile: &profile.name,
            account: &account.label(),
        })?)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn requested_mode(args: &LoginArgs) -> Option<LoginMode> {
    if args.device {
        Some(LoginMode::Device)
    } else if args.browser {
        Some(LoginMode::Browser)
    } else {
        None
    }
}

/// The mode a terminal (or a headless agent) signs in with: `requested`,
/// else the profile's; `None` for client credentials, which need no
/// sign-in.
pub fn terminal_mode(
    profile: &Profile,
    requested: Option<LoginMode>,
) -> Result<Option<LoginMode>, Error> {
    match requested.unwrap_or(profile.login) {
        LoginMode::ClientCredentials => Ok(None),
        LoginMode::Embedded => Err(Error::InvalidInput(format!(
            "profile `{0}` signs in in the tray app's window (login = \"embedded\"), which a terminal cannot show: sign in from the tray app, or run `tokentray login {0} --device` or `tokentray login {0} --browser`",
            profile.name
        ))),
        mode @ (LoginMode::Device | LoginMode::Browser) => Ok(Some(mode)),
    }
}

/// `--store memory`: the agent signs in and keeps the tokens; it shows the
/// device code (or opens the browser) itself.
fn login_in_agent(args: &LoginArgs) -> Result<ExitCode, Failure> {
    let client = tokentray_core::ipc::client::Client::from_env()?.timeout(AGENT_LOGIN_TIMEOUT);
    let Some(pong) = client.ping()? else {
        return Err(memory_needs_agent().into());
    };
    eprintln!(
        "The agent (pid {}) keeps the tokens in memory and runs the sign-in to profile `{}`: follow what it shows in its terminal.",
        pong.pid, args.profile
    );
    match client.login(&args.profile, requested_mode(args))? {
        Some(()) => {
            eprintln!(
                "signed in (profile `{}`, in the agent's memory)",
                args.profile
            );
            Ok(ExitCode::SUCCESS)
        }
        None => Err(memory_needs_agent().into()),
    }
}

/// Runs the flow; Ctrl-C cancels it. Prints the device code (or the
/// browser URL) on stderr.
pub async fn sign_in(
    oauth: &tokentray_core::flow::OAuth,
    profile: &Profile,
    mode: LoginMode,
    json: bool,
) -> Result<TokenSet, Failure> {
    let cancel = CancellationToken::new();
    let interrupted = {
        let cancel = cancel.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
            std::future::pending::<()>().await;
        }
    };
    let flow = async {
        if mode == LoginMode::Device {
            let device = oauth.start_device(profile).await?;
            if json {
                print_text(&json_line(&DeviceJson {
                    verification_uri: &device.verification_uri,
                    verification_uri_complete: device.verification_uri_complete.as_deref(),
                    user_code: &device.user_code,
                    expires_in: device.expires_in,
                })?)?;
            }
            let expires = i64::try_from(device.expires_in).unwrap_or(i64::MAX);
            eprintln!(
                "To sign in to profile `{}`, open {} and enter the code {}",
                profile.name, device.verification_uri, device.user_code
            );
            if let Some(complete) = &device.verification_uri_complete {
                eprintln!("(or open {complete})");
            }
            eprintln!(
                "The code expires {}. Waiting… (Ctrl-C cancels)",
                clock_words::relative(0, expires)
            );
            oauth.finish_device(device, cancel.clone()).await
        } else {
            let browser = oauth.sign_in_with_browser(
                profile,
                |url| {
                    eprintln!(
                        "Opening the browser to sign in to profile `{}`. If it does not open, visit:\n{url}",
                        profile.name
                    );
                    if let Err(error) = open_in_browser(url) {
                        eprintln!("(could not open a browser: {error})");
                    }
                    Ok(())
                },
                BROWSER_TIMEOUT,
            );
            tokio::select! {
                done = browser => done,
                () = cancel.cancelled() => Err(Error::Cancelled { reason: "browser sign-in cancelled".into() }),
            }
        }
    };
    tokio::select! {
        done = flow => Ok(done?),
        () = interrupted => Err(Error::Cancelled { reason: "interrupted".into() }.into()),
    }
}

fn json_line(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value)
        .map(|line| line + "\n")
        .map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

pub fn logout(args: &LogoutArgs, store: &Store) -> Result<ExitCode, Failure> {
    let profile = &args.profile;
    let through_agent = logout_with_agent(profile)?;
    if through_agent && matches!(store.kind(), StoreKind::Memory) {
        eprintln!("signed out (profile `{profile}`, in the agent's memory)");
        return Ok(ExitCode::SUCCESS);
    }
    // Sign out here too: the agent may not have seen a sign-in that
    // another process stored since it last read the account list.
    let broker = direct::broker(store)?;
    broker.profiles().get(profile)?;
    let signed_out = direct::runtime()?.block_on(broker.sign_out(profile))?;
    match signed_out {
        Some(account) => eprintln!("signed out of {} (profile `{profile}`)", account.label()),
        None if through_agent => eprintln!("signed out (profile `{profile}`)"),
        None => eprintln!("profile `{profile}` had no account signed in"),
    }
    Ok(ExitCode::SUCCESS)
}

fn logout_with_agent(profile: &str) -> Result<bool, Failure> {
    let client = tokentray_core::ipc::client::Client::from_env()?;
    Ok(client.logout(profile)?.is_some())
}
