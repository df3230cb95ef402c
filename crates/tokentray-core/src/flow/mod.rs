//! The OAuth 2.0 / OpenID Connect flows: authorization code with PKCE S256,
//! `state` and `nonce` (with the user agent pluggable: a face's webview, or
//! the system browser and a loopback listener), the device authorization
//! grant (RFC 8628), client credentials, refresh and revocation (RFC 7009).
//! Every flow ends in a [`TokenSet`]; ID tokens are validated by the
//! `openidconnect` crate's verifier ([`OAuth::validate_id_token`]).
//!
//! One file per grant, as oauth2-rs does: `code.rs` (authorization code,
//! the webview's half), `browser.rs` (its system-browser and loopback
//! half), `device.rs`, `client_credentials.rs`, `refresh.rs` and
//! `revoke.rs`; what they share lives in `response.rs` (token endpoint
//! answers and the lifetime policy), `id_token.rs` (validation) and
//! `userinfo.rs` (who signed in). This file holds the [`OAuth`] handle and
//! the small helpers.
//!
//! Errors the broker branches on:
//! - [`Error::Provider`] carries the provider's OAuth `code`. On a token
//!   request (refresh, code exchange, device poll) the codes in
//!   [`SIGN_IN_REQUIRED_CODES`] mean the grant is gone and only an
//!   interactive sign-in helps: check with [`requires_sign_in`] and turn it
//!   into [`Error::SignInRequired`]; never retry those.
//! - [`Error::Network`] is transient (transport, 5xx, garbage): retry with
//!   back-off.
//! - [`Error::Rejected`]: the answer failed a security check (state, issuer,
//!   ID token, identity changed on refresh); nothing was used.
//! - [`Error::Cancelled`]: the user declined (`access_denied`), the face
//!   cancelled, or a browser/device sign-in timed out.
//!
//! No token, code, verifier or secret is ever logged or put in an error.

mod browser;
mod client_credentials;
mod code;
mod device;
mod id_token;
#[cfg(test)]
mod properties;
mod refresh;
mod response;
mod revoke;
mod userinfo;

pub use crate::token::{Identity, TokenSet};
pub use browser::open_in_browser;
pub use code::PendingSignIn;
pub use device::DeviceSignIn;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::profile::{Profile, Provider};
use crate::provider::{ProviderInfo, Providers};
use crate::secret::Secret;

/// OAuth error codes that, on a token request, mean "sign in again".
pub const SIGN_IN_REQUIRED_CODES: [&str; 4] = [
    "invalid_grant",
    "interaction_required",
    "consent_required",
    "login_required",
];

/// Whether `error` is a provider answer after which only an interactive
/// sign-in helps (S13: terminal, no retry loop).
pub fn requires_sign_in(error: &Error) -> bool {
    matches!(error, Error::Provider { code, .. } if SIGN_IN_REQUIRED_CODES.contains(&code.as_str()))
}

/// Access-token lifetime assumed when a provider sends no `expires_in`.
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;
/// Longest lifetime believed from a provider's `expires_in` or
/// `refresh_expires_in` (366 days): a larger one is capped, so that every
/// expiry stays a real date (RFC 3339 in the CLI's output, kubectl's
/// `expirationTimestamp`) far from any overflow.
pub const MAX_EXPIRES_IN_SECS: u64 = 366 * 86_400;
/// Device polling interval when the provider sends none (RFC 8628 §3.2).
pub const DEFAULT_DEVICE_INTERVAL: Duration = Duration::from_secs(5);
/// Clock skew tolerated on ID-token `exp` and `iat` (S11: at most 2 min).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(120);

/// Tunables of the flows; the defaults are the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowOptions {
    /// Device polling interval when the provider names none.
    pub device_interval: Duration,
    /// Access-token lifetime assumed when `expires_in` is missing.
    pub default_expires_in_secs: u64,
    /// Clock skew tolerated on ID tokens (capped at [`MAX_CLOCK_SKEW`]).
    pub clock_skew: Duration,
}

impl Default for FlowOptions {
    fn default() -> Self {
        Self {
            device_interval: DEFAULT_DEVICE_INTERVAL,
            default_expires_in_secs: DEFAULT_EXPIRES_IN_SECS,
            clock_skew: MAX_CLOCK_SKEW,
        }
    }
}

/// The flows, over one HTTP client and one provider cache. Cheap to clone.
/// Also the broker's [`Grants`](crate::broker::Grants).
#[derive(Debug, Clone)]
pub struct OAuth {
    http: HttpClient,
    providers: Providers,
    options: Arc<FlowOptions>,
}

impl OAuth {
    /// Flows over `http` with a fresh provider cache and default options.
    pub fn new(http: HttpClient) -> Self {
        Self::with_options(http, Providers::default(), FlowOptions::default())
    }

    /// Flows with explicit cache and options.
    pub fn with_options(http: HttpClient, providers: Providers, options: FlowOptions) -> Self {
        Self {
            http,
            providers,
            options: Arc::new(options),
        }
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The provider cache.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// The provider of `profile`, discovered (cached) and checked.
    pub async fn provider(&self, profile: &Profile) -> Result<Arc<ProviderInfo>> {
        self.providers.resolve(&self.http, &profile.provider).await
    }
}

/// Compares two values in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 256 random bits, base64url without padding (state, nonce, PKCE
/// verifier).
pub(crate) fn random_token() -> Secret {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Scopes for an interactive sign-in: the profile's (or `scopes`), plus what
/// the preset needs for an ID token and a refresh token.
pub(crate) fn interactive_scopes(provider: &Provider, scopes: &[String]) -> Vec<String> {
    let mut all = scopes.to_vec();
    let extra: &[&str] = match provider {
        Provider::Microsoft { .. } => &["openid", "profile", "offline_access"],
        Provider::Oidc { .. } => &["openid", "offline_access"],
        // Google rejects `offline_access`: it wants `access_type=offline`.
        Provider::Google => &["openid"],
        Provider::Github => &[],
    };
    for scope in extra {
        if !all.iter().any(|s| s == scope) {
            all.push((*scope).to_owned());
        }
    }
    all
}

/// Parses a URL from a provider answer or a face, as an input error.
pub(crate) fn parse_url(text: &str, what: &str) -> Result<Url> {
    Url::parse(text).map_err(|err| Error::InvalidInput(format!("invalid {what}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    // S3: strict callback
    #[test]
    fn constant_time_eq_compares_values() {
        // S3
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    // S3 S4: strict callback, PKCE S256
    #[test]
    fn random_tokens_are_long_and_fresh() {
        // S3, S4: ≥128 bits, never repeated.
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    // S13: refresh rules
    #[test]
    fn terminal_codes_are_recognised() {
        // S13
        for code in SIGN_IN_REQUIRED_CODES {
            assert!(requires_sign_in(&Error::Provider {
                provider: "p".into(),
                code: code.into(),
                description: None,
            }));
        }
        assert!(!requires_sign_in(&Error::Provider {
            provider: "p".into(),
            code: "temporarily_unavailable".into(),
            description: None,
        }));
        assert!(!requires_sign_in(&Error::Network("invalid_grant".into())));
    }

    #[test]
    fn interactive_scopes_add_what_each_preset_needs() {
        let ms = Provider::Microsoft {
            tenant: "common".into(),
        };
        let got = interactive_scopes(&ms, &["https://graph.microsoft.com/.default".into()]);
        assert_eq!(
            got,
            [
                "https://graph.microsoft.com/.default",
                "openid",
                "profile",
                "offline_access"
            ]
        );
        let oidc = Provider::Oidc {
            issuer: "https://i.example".into(),
        };
        let got = interactive_scopes(&oidc, &["openid".into(), "api.read".into()]);
        assert_eq!(got, ["openid", "api.read", "offline_access"]);
        assert_eq!(interactive_scopes(&Provider::Google, &[]), ["openid"]);
        assert!(interactive_scopes(&Provider::Github, &[]).is_empty());
    }
}
