//! What a grant gives back and what the broker hands out: the token types
//! shared by the flows, the account store and the faces.
//!
//! Access tokens are opaque (S12): their expiry comes from `expires_in` at
//! issuance, kept as an absolute UTC instant in epoch seconds.

use crate::secret::{AccessTokenSecret, IdToken, RefreshToken};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Seconds since the Unix epoch, UTC.
pub type EpochSecs = i64;

/// The wall clock in epoch seconds.
pub fn now() -> EpochSecs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Who signed in, as told by a validated ID token (or the provider's user
/// endpoint for plain OAuth2 providers). Display fields only; no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The issuer the account is bound to (S6).
    pub issuer: String,
    /// The subject (`sub`), stable per issuer.
    pub subject: String,
    /// Display name.
    pub name: Option<String>,
    /// `preferred_username` or `upn`.
    pub username: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Microsoft tenant id (`tid`).
    pub tenant: Option<String>,
}

/// The outcome of a successful grant.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessTokenSecret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// When the access token expires.
    pub expires_at: EpochSecs,
    /// The scopes the token was granted for.
    pub scopes: Vec<String>,
    /// The refresh token, rotated or not.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token expires, if the provider said.
    pub refresh_expires_at: Option<EpochSecs>,
    /// The raw ID token, if one came back.
    pub id_token: Option<IdToken>,
    /// When Tokentray validated `id_token` (S11); `None` when it did not
    /// (an ID token taken over from another tool's cache).
    pub id_token_validated_at: Option<EpochSecs>,
    /// Who signed in, from the validated ID token.
    pub identity: Option<Identity>,
}

/// A normalised scope set: sorted, deduplicated, used as the cache key of
/// access tokens (S16).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// The set of `scopes`, ignoring the OIDC-only scopes that do not change
    /// what an access token is for (`openid`, `profile`, `email`,
    /// `offline_access`) unless nothing else is asked.
    pub fn new<S: AsRef<str>>(scopes: &[S]) -> Self {
        let all: BTreeSet<String> = scopes
            .iter()
            .flat_map(|s| s.as_ref().split_whitespace())
            .map(str::to_string)
            .collect();
        let resource: BTreeSet<String> = all
            .iter()
            .filter(|s| {
                !matches!(
                    s.as_str(),
                    "openid" | "profile" | "email" | "offline_access"
                )
            })
            .cloned()
            .collect();
        Self(if resource.is_empty() { all } else { resource })
    }

    /// The scopes, sorted.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

/// An access token handed to a caller.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: AccessTokenSecret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// When it expires.
    pub expires_at: EpochSecs,
    /// The scopes it was granted for.
    pub scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    // S16: cache keyed by scope set
    #[test]
    fn scope_sets_ignore_order_duplicates_and_oidc_scopes() {
        let a = ScopeSet::new(&["api.read", "openid", "api.write", "api.read"]);
        let b = ScopeSet::new(&["api.write api.read", "offline_access"]);
        assert_eq!(a, b);
        assert_eq!(a.to_vec(), vec!["api.read", "api.write"]);
        assert_eq!(
            ScopeSet::new(&["openid", "profile"]).to_vec(),
            vec!["openid", "profile"]
        );
    }
}
