//! What a token endpoint answers, made into a [`TokenSet`]: the OAuth error
//! body (even with status 200), the bearer-only check, the granted scopes,
//! the ID token validated, and the lifetime policy (a provider's
//! `expires_in`, capped; a default without one).

use serde::Deserialize;

use super::{Identity, OAuth, TokenSet, MAX_EXPIRES_IN_SECS};
use crate::error::{Error, Result};
use crate::http::{oauth_error, parse_json, Reply};
use crate::profile::{Profile, Provider};
use crate::provider::ProviderInfo;
use crate::secret::{AccessTokenSecret, IdToken, Nonce, RefreshToken};

impl OAuth {
    /// Builds the token set from a successful token response: expiry,
    /// scopes, ID token validated (with `nonce` when given) and, on
    /// refresh, bound to `previous`.
    pub(super) async fn token_set(
        &self,
        profile: &Profile,
        info: &ProviderInfo,
        raw: RawTokens,
        requested: &[String],
        nonce: Option<&Nonce>,
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
        let id_token = raw.id_token.filter(|t| !t.is_empty()).map(IdToken::new);
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
        let access_token = AccessTokenSecret::new(raw.access_token);
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
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
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

/// A token endpoint's successful answer, before it becomes a [`TokenSet`].
/// Strings are moved into their secret types straight away.
#[derive(Deserialize)]
pub(super) struct RawTokens {
    pub(super) access_token: String,
    pub(super) token_type: Option<String>,
    pub(super) expires_in: Option<serde_json::Value>,
    pub(super) refresh_token: Option<String>,
    pub(super) refresh_expires_in: Option<serde_json::Value>,
    pub(super) scope: Option<String>,
    pub(super) id_token: Option<String>,
}

/// Parses a token endpoint reply: an OAuth error body (even with status 200,
/// as GitHub sends them) becomes [`Error::Provider`]; an empty access token
/// or a `token_type` other than `Bearer` (any case; a missing one is taken
/// as `Bearer`) is [`Error::Rejected`]: every face hands tokens out as
/// bearer tokens (RFC 6750), and the type must not reach a header line.
pub(super) fn token_response(info: &ProviderInfo, reply: Reply) -> Result<RawTokens> {
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
pub(super) fn error_reply(info: &ProviderInfo, reply: &Reply, what: &str) -> Error {
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
pub(super) fn seconds(value: &serde_json::Value) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            access_token: AccessTokenSecret::new("canary-access"),
            token_type: "Bearer".into(),
            expires_at: 1,
            scopes: vec![],
            refresh_token: Some(RefreshToken::new("canary-refresh")),
            refresh_expires_at: None,
            id_token: Some(IdToken::new("canary-id")),
            id_token_validated_at: Some(1),
            identity: None,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
