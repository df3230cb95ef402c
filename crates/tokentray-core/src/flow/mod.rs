//! The OAuth 2.0 / OpenID Connect flows: authorization code with PKCE S256,
//! `state` and `nonce` (with the user agent pluggable: a face's webview, or
//! the system browser and a loopback listener), the device authorization
//! grant (RFC 8628), client credentials, refresh and revocation (RFC 7009).
//! Every flow ends in a [`TokenSet`]; ID tokens are validated by the
//! `openidconnect` crate's verifier ([`OAuth::validate_id_token`]).
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
mod code;
mod device;
mod id_token;
#[cfg(test)]
mod properties;

pub use crate::token::{Identity, TokenSet};
pub use browser::open_in_browser;
pub use code::PendingSignIn;
pub use device::DeviceSignIn;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::http::{oauth_error, parse_json, HttpClient, Reply};
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

    /// Client credentials grant (confidential client, `client_secret_basic`).
    /// For Microsoft every scope must be a `…/.default` scope.
    pub async fn client_credentials(
        &self,
        profile: &Profile,
        client_secret: &Secret,
        scopes: &[String],
    ) -> Result<TokenSet> {
        if matches!(profile.provider, Provider::Microsoft { .. })
            && (scopes.is_empty() || scopes.iter().any(|s| !s.ends_with("/.default")))
        {
            return Err(Error::InvalidInput(
                "Microsoft's client credentials grant takes `<resource>/.default` scopes only, e.g. https://graph.microsoft.com/.default".into(),
            ));
        }
        let info = self.provider(profile).await?;
        let scope = scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let reply = self
            .http
            .post_form(
                &info.metadata.token_endpoint,
                &form,
                Some((&profile.client_id, client_secret)),
                "token request",
            )
            .await?;
        let raw = token_response(&info, reply)?;
        self.token_set(profile, &info, raw, scopes, None, None)
            .await
    }

    /// Refreshes. Returns the rotated refresh token when the provider sends
    /// one, else `refresh_token` again. An ID token that comes back is
    /// validated (no nonce) and must name the same issuer and subject as
    /// `previous` (OIDC Core §12.2; the audience is checked against our
    /// client id by the verifier). `invalid_grant` and friends surface as
    /// [`Error::Provider`]: see [`requires_sign_in`].
    pub async fn refresh(
        &self,
        profile: &Profile,
        refresh_token: &Secret,
        scopes: &[String],
        previous: Option<&Identity>,
    ) -> Result<TokenSet> {
        let info = self.provider(profile).await?;
        let scope = scopes.join(" ");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", profile.client_id.as_str()),
        ];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let reply = self
            .http
            .post_form(&info.metadata.token_endpoint, &form, None, "refresh")
            .await?;
        let raw = token_response(&info, reply)?;
        let mut tokens = self
            .token_set(profile, &info, raw, scopes, None, previous)
            .await?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        if tokens.identity.is_none() {
            tokens.identity = previous.cloned();
        }
        Ok(tokens)
    }

    /// Revokes a refresh token (RFC 7009). `Ok(false)` when the provider has
    /// no revocation endpoint.
    pub async fn revoke(&self, profile: &Profile, refresh_token: &Secret) -> Result<bool> {
        let info = self.provider(profile).await?;
        let Some(endpoint) = info.metadata.revocation_endpoint.as_ref() else {
            return Ok(false);
        };
        let form = [
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", profile.client_id.as_str()),
        ];
        let reply = self
            .http
            .post_form(endpoint, &form, None, "revocation")
            .await?;
        if reply.is_success() {
            return Ok(true);
        }
        Err(error_reply(&info, &reply, "revocation"))
    }

    /// Validates an ID token for `profile` (S11): signature by the
    /// provider's JWKS (fetched again once on an unknown `kid`), `iss`,
    /// `aud`, `azp`, `exp` and `iat` with the configured skew, and `nonce`
    /// when `nonce` is given (sign-in) — `None` skips it (refresh, device).
    pub async fn validate_id_token(
        &self,
        profile: &Profile,
        id_token: &Secret,
        nonce: Option<&Secret>,
    ) -> Result<Identity> {
        let info = self.provider(profile).await?;
        self.validate_with(&info, &profile.client_id, id_token, nonce)
            .await
    }

    async fn validate_with(
        &self,
        info: &ProviderInfo,
        client_id: &str,
        id_token: &Secret,
        nonce: Option<&Secret>,
    ) -> Result<Identity> {
        let skew = self.options.clock_skew.min(MAX_CLOCK_SKEW);
        let keys = self.providers.keys(&self.http, info, false).await?;
        match id_token::verify(info, client_id, &keys, id_token, nonce, skew) {
            Err(id_token::Failure::UnknownKey) => {
                let keys = self.providers.keys(&self.http, info, true).await?;
                id_token::verify(info, client_id, &keys, id_token, nonce, skew)
                    .map_err(|failure| failure.into_error(info))
            }
            other => other.map_err(|failure| failure.into_error(info)),
        }
    }

    /// Builds the token set from a successful token response: expiry,
    /// scopes, ID token validated (with `nonce` when given) and, on
    /// refresh, bound to `previous`.
    async fn token_set(
        &self,
        profile: &Profile,
        info: &ProviderInfo,
        raw: RawTokens,
        requested: &[String],
        nonce: Option<&Secret>,
        previous: Option<&Identity>,
    ) -> Result<TokenSet> {
        let now = now_epoch();
        let given = raw.expires_in.as_ref().and_then(seconds);
        let expires_in = lifetime_secs(
            &profile.provider,
            given,
            self.options.default_expires_in_secs,
        );
        if given.is_none() {
            tracing::info!(
                provider = %info.name,
                assumed_secs = expires_in,
                "token response has no usable expires_in; assuming a lifetime"
            );
        }
        let separator: &[char] = if matches!(profile.provider, Provider::Github) {
            &[',', ' ']
        } else {
            &[' ']
        };
        let scopes = match raw.scope.as_deref() {
            Some(granted) if !granted.trim().is_empty() => granted
                .split(separator)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => requested.to_vec(),
        };
        let id_token = raw.id_token.filter(|t| !t.is_empty()).map(Secret::new);
        let identity = match (&id_token, info.oidc) {
            (Some(token), true) => {
                let identity = self
                    .validate_with(info, &profile.client_id, token, nonce)
                    .await?;
                if let Some(previous) = previous {
                    if previous.issuer != identity.issuer || previous.subject != identity.subject {
                        return Err(Error::Rejected {
                            provider: info.name.clone(),
                            reason: "the refreshed ID token names another issuer or subject than the account's".into(),
                        });
                    }
                }
                Some(identity)
            }
            _ => None,
        };
        let access_token = Secret::new(raw.access_token);
        let identity = match identity {
            Some(identity) if previous.is_none() => {
                Some(self.complete_identity(info, identity, &access_token).await)
            }
            None if previous.is_none() && !info.oidc => {
                self.oauth2_identity(info, &access_token).await?
            }
            other => other,
        };
        Ok(TokenSet {
            access_token,
            // `token_response` let only bearer tokens through.
            token_type: "Bearer".to_owned(),
            expires_at: add_secs(now, expires_in),
            scopes,
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
            refresh_expires_at: raw
                .refresh_expires_in
                .as_ref()
                .and_then(seconds)
                .map(|secs| add_secs(now, secs.min(MAX_EXPIRES_IN_SECS))),
            // every ID token kept here went through `validate_with` above
            id_token_validated_at: (info.oidc && id_token.is_some()).then_some(now),
            id_token: if info.oidc { id_token } else { None },
            identity: identity.map(shown),
        })
    }
}

/// An identity whose display fields (shown in menus, notifications and the
/// terminal) are made safe to show; issuer and subject, which bind the
/// account, stay exactly as the provider said.
fn shown(identity: Identity) -> Identity {
    let clean = |text: Option<String>| text.map(|text| crate::http::clean(&text, 256));
    Identity {
        name: clean(identity.name),
        username: clean(identity.username),
        email: clean(identity.email),
        ..identity
    }
}

impl crate::broker::Grants for OAuth {
    fn refresh(
        &self,
        profile: &Profile,
        refresh_token: &Secret,
        scopes: &[String],
        previous: Option<&Identity>,
    ) -> impl std::future::Future<Output = Result<TokenSet>> + Send {
        OAuth::refresh(self, profile, refresh_token, scopes, previous)
    }

    fn client_credentials(
        &self,
        profile: &Profile,
        client_secret: &Secret,
        scopes: &[String],
    ) -> impl std::future::Future<Output = Result<TokenSet>> + Send {
        OAuth::client_credentials(self, profile, client_secret, scopes)
    }

    fn revoke(
        &self,
        profile: &Profile,
        refresh_token: &Secret,
    ) -> impl std::future::Future<Output = Result<bool>> + Send {
        OAuth::revoke(self, profile, refresh_token)
    }
}

impl OAuth {
    /// Who signed in at a plain OAuth2 provider (GitHub), which has no ID
    /// token: its user endpoint, read with the new access token. `None`
    /// when the provider has no such endpoint.
    async fn oauth2_identity(
        &self,
        info: &ProviderInfo,
        access_token: &Secret,
    ) -> Result<Option<Identity>> {
        let Some(endpoint) = info.metadata.userinfo_endpoint.as_ref() else {
            return Ok(None);
        };
        let reply = self
            .http
            .get_json_bearer(endpoint, access_token, "user")
            .await?;
        if !reply.is_success() {
            return Err(error_reply(info, &reply, "user request"));
        }
        oauth2_user(&info.metadata.issuer, &reply.body).map(Some)
    }

    /// Fills display claims (name, username, email) the ID token left out
    /// from the userinfo endpoint, when its `sub` is the same. Display only:
    /// a failure leaves the identity as it was.
    async fn complete_identity(
        &self,
        info: &ProviderInfo,
        mut identity: Identity,
        access_token: &Secret,
    ) -> Identity {
        #[derive(Deserialize)]
        struct UserInfo {
            sub: String,
            name: Option<String>,
            preferred_username: Option<String>,
            email: Option<String>,
        }
        if identity.name.is_some() && identity.username.is_some() && identity.email.is_some() {
            return identity;
        }
        let Some(endpoint) = info.metadata.userinfo_endpoint.as_ref() else {
            return identity;
        };
        let reply = match self
            .http
            .get_json_bearer(endpoint, access_token, "userinfo")
            .await
        {
            Ok(reply) if reply.is_success() => reply,
            Ok(reply) => {
                tracing::debug!(
                    status = reply.status,
                    "userinfo refused; identity from the ID token only"
                );
                return identity;
            }
            Err(error) => {
                tracing::debug!(%error, "userinfo failed; identity from the ID token only");
                return identity;
            }
        };
        match parse_json::<UserInfo>(&reply.body, "userinfo") {
            Ok(user) if user.sub == identity.subject => {
                identity.name = identity.name.or(user.name);
                identity.username = identity.username.or(user.preferred_username);
                identity.email = identity.email.or(user.email);
            }
            _ => tracing::debug!("userinfo unusable or for another subject; ignored"),
        }
        identity
    }
}

/// An identity from a plain OAuth2 user endpoint (GitHub's `/user`: a
/// numeric `id`, the `login`, optional `name` and `email`). The subject is
/// the id, which stays when the user renames their login.
fn oauth2_user(issuer: &str, body: &[u8]) -> Result<Identity> {
    #[derive(Deserialize)]
    struct User {
        id: serde_json::Value,
        login: Option<String>,
        name: Option<String>,
        email: Option<String>,
    }
    let user: User = parse_json(body, "user")?;
    let subject = match user.id {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if !s.is_empty() => s,
        _ => {
            return Err(Error::Network(
                "the user endpoint's answer has no usable `id`".into(),
            ))
        }
    };
    Ok(Identity {
        issuer: issuer.to_owned(),
        subject,
        name: user.name,
        username: user.login,
        email: user.email,
        tenant: None,
    })
}

/// A token endpoint's successful answer, before it becomes a [`TokenSet`].
/// Strings are moved into [`Secret`]s straight away.
#[derive(Deserialize)]
struct RawTokens {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    refresh_expires_in: Option<serde_json::Value>,
    scope: Option<String>,
    id_token: Option<String>,
}

/// Parses a token endpoint reply: an OAuth error body (even with status 200,
/// as GitHub sends them) becomes [`Error::Provider`]; an empty access token
/// or a `token_type` other than `Bearer` (any case; a missing one is taken
/// as `Bearer`) is [`Error::Rejected`]: every face hands tokens out as
/// bearer tokens (RFC 6750), and the type must not reach a header line.
fn token_response(info: &ProviderInfo, reply: Reply) -> Result<RawTokens> {
    if !reply.is_success() || oauth_error(&reply.body).is_some() {
        return Err(error_reply(info, &reply, "token request"));
    }
    let raw: RawTokens = parse_json(&reply.body, "token response")?;
    let rejected = |reason: String| Error::Rejected {
        provider: info.name.clone(),
        reason,
    };
    if raw.access_token.is_empty() {
        return Err(rejected(
            "the token response has an empty access_token".into(),
        ));
    }
    match raw.token_type.as_deref() {
        None | Some("") => Ok(raw),
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => Ok(raw),
        Some(kind) => Err(rejected(format!(
            "token_type `{}` is not Bearer; only bearer tokens are supported",
            crate::http::clean(kind, 32)
        ))),
    }
}

/// The error for a failed reply: the provider's OAuth error when the body is
/// one, else a transport-level error with the status.
fn error_reply(info: &ProviderInfo, reply: &Reply, what: &str) -> Error {
    match oauth_error(&reply.body) {
        Some((code, description)) => Error::Provider {
            provider: info.name.clone(),
            code,
            description,
        },
        None => Error::Network(format!("{what} to {}: HTTP {}", info.name, reply.status)),
    }
}

/// An access token's lifetime: the provider's `expires_in` (at most
/// [`MAX_EXPIRES_IN_SECS`]); without one, GitHub OAuth-app tokens do not
/// expire until revoked (they are kept the longest believed lifetime, then
/// a sign-in is asked for), and others are assumed to live `default_secs`.
fn lifetime_secs(provider: &Provider, expires_in: Option<u64>, default_secs: u64) -> u64 {
    match (expires_in, provider) {
        (Some(secs), _) => secs.min(MAX_EXPIRES_IN_SECS),
        (None, Provider::Github) => MAX_EXPIRES_IN_SECS,
        (None, _) => default_secs,
    }
}

/// `expires_in` as a number, or a string of digits (some providers).
fn seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn add_secs(now: i64, secs: u64) -> i64 {
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn now_epoch() -> i64 {
    crate::token::now()
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

    #[test]
    fn github_users_become_identities_keyed_by_id() {
        let body = br#"{"login":"octocat","id":583231,"name":"The Octocat","email":null,"plan":{"name":"free"}}"#;
        let identity = oauth2_user("https://github.com", body).unwrap();
        assert_eq!(
            identity.subject, "583231",
            "the id, not the renamable login"
        );
        assert_eq!(identity.username.as_deref(), Some("octocat"));
        assert_eq!(identity.name.as_deref(), Some("The Octocat"));
        assert_eq!(identity.email, None);
        assert_eq!(identity.issuer, "https://github.com");
        assert!(oauth2_user("https://github.com", br#"{"login":"x"}"#).is_err());
        assert!(oauth2_user("https://github.com", br#"{"id":null}"#).is_err());
    }

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

    // S12: expiry comes from expires_in; GitHub OAuth-app tokens, which
    // carry none, do not turn into "sign-in required" after an hour
    #[test]
    fn lifetimes_without_expires_in_depend_on_the_provider() {
        let oidc = Provider::Oidc {
            issuer: "https://idp.example".into(),
        };
        assert_eq!(lifetime_secs(&oidc, Some(300), 3600), 300);
        assert_eq!(
            lifetime_secs(&oidc, Some(u64::MAX), 3600),
            MAX_EXPIRES_IN_SECS
        );
        assert_eq!(lifetime_secs(&oidc, None, 3600), 3600);
        assert_eq!(
            lifetime_secs(&Provider::Github, None, 3600),
            MAX_EXPIRES_IN_SECS
        );
        assert_eq!(lifetime_secs(&Provider::Github, Some(28_800), 3600), 28_800);
    }

    // S12: access tokens are opaque
    #[test]
    fn expires_in_may_be_a_number_or_a_string() {
        assert_eq!(seconds(&serde_json::json!(3599)), Some(3599));
        assert_eq!(seconds(&serde_json::json!("3599")), Some(3599));
        assert_eq!(seconds(&serde_json::json!(-1)), None);
        assert_eq!(seconds(&serde_json::json!(null)), None);
    }

    // S33: redaction
    #[test]
    fn token_set_debug_shows_no_secret() {
        // S33
        let tokens = TokenSet {
            access_token: Secret::new("canary-access"),
            token_type: "Bearer".into(),
            expires_at: 1,
            scopes: vec![],
            refresh_token: Some(Secret::new("canary-refresh")),
            refresh_expires_at: None,
            id_token: Some(Secret::new("canary-id")),
            id_token_validated_at: Some(1),
            identity: None,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
