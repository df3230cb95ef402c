//! `tokentray login` and `tokentray logout`: interactive sign-in from a
//! terminal (device code or system browser) and sign-out. A sign-in is
//! stored in the vault by the core (`complete_sign_in`); a running agent
//! finds it on its next request. Sign-out goes through the agent when one
//! runs, so it forgets the tokens too.

use crate::cli::{LoginArgs, LogoutArgs};
use crate::direct;
use crate::format::relative;
use crate::output::{print_text, Failure};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use tokentray_core::flow::{open_in_browser, TokenSet};
use tokentray_core::profile::{LoginMode, Profile};
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

pub fn login(args: &LoginArgs) -> Result<ExitCode, Failure> {
    let broker = direct::broker()?;
    let profile = broker.profiles().get(&args.profile)?;
    let mode = if args.device {
        LoginMode::Device
    } else if args.browser {
        LoginMode::Browser
    } else {
        profile.login
    };
    match mode {
        LoginMode::ClientCredentials => {
            eprintln!(
                "profile `{0}` uses client credentials: no sign-in needed; `tokentray token {0}` gets a token with its client secret",
                profile.name
            );
            return Ok(ExitCode::SUCCESS);
        }
        LoginMode::Embedded => {
            return Err(Error::InvalidInput(format!(
                "profile `{0}` signs in in the tray app's window (login = \"embedded\"), which a terminal cannot show: sign in from the tray app, or run `tokentray login {0} --device` or `tokentray login {0} --browser`",
                profile.name
            ))
            .into())
        }
        LoginMode::Device | LoginMode::Browser => {}
    }
    // The lock directory is checked now, not after the user signed in.
    drop(direct::lock_profile(&profile.name)?);
    let runtime = direct::runtime()?;
    let tokens = runtime.block_on(sign_in(broker.grants(), &profile, mode, args.json))?;
    let account = {
        let _lock = direct::lock_profile(&profile.name)?;
        broker.complete_sign_in(&profile, &tokens)?
    };
    eprintln!(
        "signed in as {} (profile `{}`)",
        account.label(),
        profile.name
    );
    if args.json {
        print_text(&json_line(&SignedInJson {
            profile: &profile.name,
            account: account.label(),
        })?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the flow; Ctrl-C cancels it.
async fn sign_in(
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
                relative(expires, 0)
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
        .map_err(|e| Error::InvalidInput(format!("cannot encode JSON: {e}")))
}

pub fn logout(args: &LogoutArgs) -> Result<ExitCode, Failure> {
    let profile = &args.profile;
    let through_agent = logout_with_agent(profile)?;
    // Sign out here too: the agent may not have seen a sign-in that
    // another process stored since it last read the account list.
    let broker = direct::broker()?;
    broker.profiles().get(profile)?;
    let signed_out = {
        let _lock = direct::lock_profile(profile)?;
        direct::runtime()?.block_on(broker.sign_out(profile))?
    };
    match signed_out {
        Some(account) => eprintln!("signed out of {} (profile `{profile}`)", account.label()),
        None if through_agent => eprintln!("signed out (profile `{profile}`)"),
        None => eprintln!("profile `{profile}` had no account signed in"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn logout_with_agent(profile: &str) -> Result<bool, Failure> {
    let client = tokentray_core::ipc::client::Client::from_env()?;
    Ok(client.logout(profile)?.is_some())
}

#[cfg(not(unix))]
fn logout_with_agent(_profile: &str) -> Result<bool, Failure> {
    Ok(false)
}
