//! Device authorization grant (RFC 8628): the user types a short code on
//! another device while we poll the token endpoint (S8: at `interval`, 5 s
//! more on `slow_down`, stopping on `access_denied`, `expired_token` or
//! `expires_in`, and cancellable). Only ever started interactively.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::response::{error_reply, token_response};
use super::{interactive_scopes, OAuth, TokenSet};
use crate::error::{Error, Result};
use crate::http::{oauth_error, parse_json};
use crate::profile::Profile;
use crate::provider::ProviderInfo;
use crate::secret::Secret;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Longest wait we accept from a provider's `expires_in`.
const MAX_EXPIRES_IN: u64 = 3600;

/// A started device sign-in: show `user_code` and `verification_uri` to the
/// user, then call [`OAuth::finish_device`].
pub struct DeviceSignIn {
    /// The code the user types.
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// The same with the code filled in, when the provider gives one.
    pub verification_uri_complete: Option<String>,
    /// Seconds the code is valid.
    pub expires_in: u64,
    /// Polling interval in seconds.
    pub interval: u64,
    device_code: Secret,
    poll: Duration,
    profile: Profile,
    info: Arc<ProviderInfo>,
    scopes: Vec<String>,
    deadline: tokio::time::Instant,
}

impl std::fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSignIn")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .field("profile", &self.profile.name)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
pub(super) struct DeviceResponse {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: u64,
    interval: Option<u64>,
}

/// A verification URI the user is shown and a face may open in the
/// browser: `https` (or `http` to loopback) without credentials (S7), and
/// in its normalised form, in which control characters are
/// percent-encoded and cannot reach a terminal.
fn shown_uri(info: &ProviderInfo, uri: &str, field: &str) -> Result<String> {
    let refused = |why: String| Error::Rejected {
        provider: info.name.clone(),
        reason: format!("the device authorization's {field} is refused: {why}"),
    };
    let url = url::Url::parse(uri).map_err(|err| refused(format!("not a URL ({err})")))?;
    crate::http::check_url(&url).map_err(|err| refused(err.to_string()))?;
    Ok(url.into())
}

impl OAuth {
    /// Asks the provider for a device code (RFC 8628 §3.1).
    pub async fn start_device(&self, profile: &Profile) -> Result<DeviceSignIn> {
        let info = self.provider(profile).await?;
        let endpoint = info.device_authorization_endpoint()?.clone();
        let scopes = interactive_scopes(&profile.provider, &profile.scopes);
        let scope = scopes.join(" ");
        let form = [
            ("client_id", profile.client_id.as_str()),
            ("scope", scope.as_str()),
        ];
        let reply = self
            .http
            .post_form(&endpoint, &form, None, "device authorization")
            .await?;
        if !reply.is_success() || oauth_error(&reply.body).is_some() {
            return Err(error_reply(&info, &reply, "device authorization"));
        }
        let answer: DeviceResponse = parse_json(&reply.body, "device authorization response")?;
        let expires_in = answer.expires_in.clamp(1, MAX_EXPIRES_IN);
        // Capped like `expires_in`: an interval longer than the code lives
        // ends the wait at once instead of overflowing the clock.
        let poll = answer
            .interval
            .filter(|secs| *secs > 0)
            .map(|secs| Duration::from_secs(secs.min(MAX_EXPIRES_IN)))
            .unwrap_or(self.options.device_interval);
        let verification_uri = shown_uri(&info, &answer.verification_uri, "verification_uri")?;
        let verification_uri_complete = answer
            .verification_uri_complete
            .as_deref()
            .map(|uri| shown_uri(&info, uri, "verification_uri_complete"))
            .transpose()?;
        Ok(DeviceSignIn {
            user_code: crate::http::clean(&answer.user_code, 64),
            verification_uri,
            verification_uri_complete,
            expires_in,
            interval: poll.as_secs(),
            device_code: Secret::new(answer.device_code),
            poll,
            profile: profile.clone(),
            info,
            scopes,
            deadline: tokio::time::Instant::now() + Duration::from_secs(expires_in),
        })
    }

    /// Polls until the user approved (tokens), declined
    /// ([`Error::Cancelled`]), the code expired (`expired_token`, as
    /// [`Error::Provider`]), or `cancel` fired ([`Error::Cancelled`]).
    pub async fn finish_device(
        &self,
        device: DeviceSignIn,
        cancel: CancellationToken,
    ) -> Result<TokenSet> {
        let info = Arc::clone(&device.info);
        let mut interval = device.poll;
        let expired = || Error::Provider {
            provider: info.name.clone(),
            code: "expired_token".into(),
            description: Some("the device code expired before it was approved".into()),
        };
        loop {
            let wake = tokio::time::Instant::now() + interval;
            if wake > device.deadline {
                return Err(expired());
            }
            tokio::select! {
                () = cancel.cancelled() => {
                    return Err(Error::Cancelled { reason: "device sign-in cancelled".into() });
                }
                () = tokio::time::sleep_until(wake) => {}
            }
            let form = [
                ("grant_type", DEVICE_GRANT),
                ("device_code", device.device_code.expose()),
                ("client_id", device.profile.client_id.as_str()),
            ];
            let reply = tokio::select! {
                () = cancel.cancelled() => {
                    return Err(Error::Cancelled { reason: "device sign-in cancelled".into() });
                }
                reply = self.http.post_form(&info.metadata.token_endpoint, &form, None, "device token poll") => reply?,
            };
            match oauth_error(&reply.body) {
                Some((code, _)) if code == "authorization_pending" => continue,
                Some((code, _)) if code == "slow_down" => {
                    interval += Duration::from_secs(5);
                    continue;
                }
                Some((code, _)) if code == "access_denied" => {
                    return Err(Error::Cancelled {
                        reason: "declined at the provider (access_denied)".into(),
                    })
                }
                Some((code, _)) if code == "expired_token" => return Err(expired()),
                _ => {}
            }
            let raw = token_response(&info, reply)?;
            return self
                .token_set(&device.profile, &info, raw, &device.scopes, None, None)
                .await;
        }
    }
}
