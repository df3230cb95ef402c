//! MSAL token caches: the JSON that `msal.SerializableTokenCache` and Azure
//! CLI write.
//!
//! Sections `AccessToken`, `RefreshToken`, `IdToken`, `Account` and
//! `AppMetadata`, each a map from a key to an entry. Only the entries'
//! fields are read: the keys are lowercased joins whose parts may contain
//! `-`, so they are never parsed. Timestamps are strings of epoch seconds;
//! `environment` is the authority's host (no scheme, no port); `target` is
//! the space-joined scopes. Unknown sections and fields are ignored.
//!
//! Nothing here puts a token into an error message or a `Debug` output:
//! tokens leave the parser in their secret types ([`crate::secret`]), and
//! the raw entries are wiped when dropped.
//!
//! `read` checks the file and its JSON without quoting it; `entries`
//! holds the sections as stored and groups them into [`Import`]s.

mod entries;
mod read;

use crate::secret::{AccessTokenSecret, IdToken, RefreshToken};
use crate::token::{EpochSecs, Identity};
use base64::Engine;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub use read::{parse_cache, read_cache};

/// Hosts of Microsoft Entra ID's public cloud, as MSAL stores them.
pub const MICROSOFT_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

/// Where an account signed in, as far as the cache can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// Microsoft Entra ID; the tenant is the account's realm.
    Microsoft {
        /// Tenant id (or `common`, `organizations`, …).
        tenant: String,
    },
    /// Another provider: MSAL kept only its host, so the issuer URL must
    /// come from the user (`--issuer`).
    Other {
        /// The host, as MSAL stored it.
        host: String,
    },
}

/// A still-valid access token from the cache.
#[derive(Debug, Clone)]
pub struct ImportedAccessToken {
    /// Its scopes (`target`, split on spaces).
    pub scopes: Vec<String>,
    /// The token.
    pub token: AccessTokenSecret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// When it was cached, if known.
    pub cached_at: Option<EpochSecs>,
    /// When it expires.
    pub expires_at: EpochSecs,
}

/// One account of one client, ready to import.
#[derive(Debug, Clone)]
pub struct Import {
    /// MSAL's `home_account_id`.
    pub home_account_id: String,
    /// The authority's host.
    pub environment: String,
    /// The account's realm (tenant), when the cache names one.
    pub realm: Option<String>,
    /// The `username` of the `Account` entry.
    pub username: Option<String>,
    /// The OAuth client id the tokens were issued to.
    pub client_id: String,
    /// The client's family (`AppMetadata.family_id`), when it has one.
    pub family_id: Option<String>,
    /// The refresh token, when the cache holds one for this account and
    /// client (or its family).
    pub refresh_token: Option<RefreshToken>,
    /// The account's ID token for this client.
    pub id_token: Option<IdToken>,
    /// Access tokens still valid at read time.
    pub access_tokens: Vec<ImportedAccessToken>,
}

impl Import {
    /// Where the account signed in.
    pub fn authority(&self) -> Authority {
        if MICROSOFT_HOSTS.contains(&self.environment.as_str()) {
            Authority::Microsoft {
                tenant: self
                    .realm
                    .clone()
                    .or_else(|| home_tenant(&self.home_account_id))
                    .unwrap_or_else(|| "common".into()),
            }
        } else {
            Authority::Other {
                host: self.environment.clone(),
            }
        }
    }

    /// A short label: the username, else the ID token's username, e-mail
    /// or name, else the home account id.
    pub fn label(&self) -> String {
        self.username
            .clone()
            .or_else(|| {
                let who = self.claimed_identity()?;
                who.username.or(who.email).or(who.name)
            })
            .unwrap_or_else(|| self.home_account_id.clone())
    }

    /// Who it is, from the ID token's claims. NOT VERIFIED: the signature
    /// is not checked here (a refresh against the provider proves the
    /// account); `None` without an ID token or when its claims lack
    /// `iss` or `sub`.
    pub fn claimed_identity(&self) -> Option<Identity> {
        let token = self.id_token.as_ref()?;
        let payload = token.expose().split('.').nth(1)?;
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()?,
        );
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).ok()?;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Some(Identity {
            issuer: text("iss")?,
            subject: text("sub")?,
            name: text("name"),
            username: text("preferred_username")
                .or_else(|| text("upn"))
                .or_else(|| self.username.clone()),
            email: text("email"),
            tenant: text("tid"),
        })
    }

    /// Scopes of the cached access tokens, in the order found, without
    /// duplicates.
    pub fn scopes(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.access_tokens
            .iter()
            .flat_map(|t| t.scopes.iter())
            .filter(|s| seen.insert(s.to_string()))
            .cloned()
            .collect()
    }
}

/// The tenant part of a Microsoft `home_account_id` (`OID.TID`).
fn home_tenant(home_account_id: &str) -> Option<String> {
    home_account_id
        .split_once('.')
        .map(|(_, tid)| tid.to_string())
        .filter(|t| !t.is_empty())
}

/// Where a cache came from, for reports.
pub fn display_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests;
