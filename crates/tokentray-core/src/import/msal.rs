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

use crate::error::{Error, Location, Result};
use crate::secret::{AccessTokenSecret, IdToken, RefreshToken};
use crate::token::{EpochSecs, Identity};
use base64::Engine;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Hosts of Microsoft Entra ID's public cloud, as MSAL stores them.
pub const MICROSOFT_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

/// The largest cache read (Azure CLI caches are tens of kilobytes).
const MAX_BYTES: u64 = 16 * 1024 * 1024;

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

/// A cache entry as stored; every field optional, unknown ones ignored,
/// wiped when dropped.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct Entry {
    home_account_id: Option<String>,
    environment: Option<String>,
    client_id: Option<String>,
    family_id: Option<String>,
    realm: Option<String>,
    target: Option<String>,
    secret: Option<String>,
    username: Option<String>,
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    expires_on: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    cached_at: Option<String>,
}

/// Accepts a string or a number (some writers store epoch seconds as
/// numbers); anything else counts as absent.
fn lenient_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

type Section = BTreeMap<String, Entry>;

/// The sections MSAL writes; section names are matched case-insensitively.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Cache {
    #[serde(alias = "accesstoken", alias = "access_token")]
    #[serde(rename = "AccessToken")]
    access_token: Option<Section>,
    #[serde(alias = "refreshtoken", alias = "refresh_token")]
    #[serde(rename = "RefreshToken")]
    refresh_token: Option<Section>,
    #[serde(alias = "idtoken", alias = "id_token")]
    #[serde(rename = "IdToken")]
    id_token: Option<Section>,
    #[serde(alias = "account")]
    #[serde(rename = "Account")]
    account: Option<Section>,
    #[serde(alias = "appmetadata", alias = "app_metadata")]
    #[serde(rename = "AppMetadata")]
    app_metadata: Option<Section>,
}

fn location(
    path: &Path,
    line: Option<usize>,
    column: Option<usize>,
    key: Option<&str>,
) -> Location {
    Location {
        file: path.to_path_buf(),
        line,
        column,
        key: key.map(str::to_string),
    }
}

/// Reads the MSAL cache at `path`; `now` decides which access tokens are
/// still valid.
pub fn read_cache(path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    if meta.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is a directory, not an MSAL token cache file (e.g. ~/.azure/msal_token_cache.json)",
            path.display()
        )));
    }
    if meta.len() > MAX_BYTES {
        return Err(Error::config(
            location(path, None, None, None),
            format!(
                "the file is {} bytes, too large for an MSAL token cache",
                meta.len()
            ),
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::config(
            location(path, None, None, None),
            "not an MSAL token cache: the file is not UTF-8 text",
        )
    })?;
    parse_cache(text, path, now)
}

/// Parses cache JSON read from `path` (named in errors).
pub fn parse_cache(text: &str, path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
    if text.trim().is_empty() {
        return Err(Error::config(
            location(path, None, None, None),
            "the file is empty: not an MSAL token cache",
        ));
    }
    // A first pass checks the syntax and the top level without keeping
    // any value (so no token sits in an unwiped copy).
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => {
                "the MSAL token cache is truncated (the JSON ends early)"
            }
            _ => "the MSAL token cache is not valid JSON",
        };
        // serde_json's position only: its message could quote the input.
        Error::config(location(path, Some(e.line()), Some(e.column()), None), what)
    })?;
    let Ok(top) = serde_json::from_str::<BTreeMap<String, serde::de::IgnoredAny>>(text) else {
        return Err(unknown_format(path));
    };
    const SECTIONS: [&str; 5] = [
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "account",
        "appmetadata",
    ];
    let known = top
        .keys()
        .any(|k| SECTIONS.contains(&k.to_ascii_lowercase().replace('_', "").as_str()));
    if !known {
        return Err(unknown_format(path));
    }
    let cache: Cache = serde_json::from_str(text).map_err(|e| {
        Error::config(
            location(path, None, None, None),
            format!(
                "not an MSAL token cache: a section is not a map of entries ({:?} error)",
                e.classify()
            ),
        )
    })?;
    build(&cache, path, now)
}

fn unknown_format(path: &Path) -> Error {
    Error::config(
        location(path, None, None, None),
        "unknown format: not an MSAL token cache (expected a JSON object with AccessToken, RefreshToken, IdToken, Account or AppMetadata sections)",
    )
}

fn entries(section: &Option<Section>) -> impl Iterator<Item = &Entry> {
    section.iter().flat_map(|s| s.values())
}

fn same(a: &Option<String>, b: &str) -> bool {
    a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b))
}

fn timestamp(
    value: &Option<String>,
    path: &Path,
    section: &str,
    field: &str,
) -> Result<Option<EpochSecs>> {
    value
        .as_deref()
        .map(|v| {
            v.trim().parse::<EpochSecs>().map_err(|_| {
                Error::config(
                    location(path, None, None, Some(&format!("{section}.*.{field}"))),
                    format!("`{field}` is not a number of epoch seconds"),
                )
            })
        })
        .transpose()
}

fn build(cache: &Cache, path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
    // Accounts: (home_account_id, environment), from Account entries and
    // from any credential that names one.
    let mut accounts: BTreeMap<(String, String), (Option<String>, Option<String>)> =
        BTreeMap::new();
    for entry in entries(&cache.account) {
        let (Some(home), Some(env)) = (&entry.home_account_id, &entry.environment) else {
            continue;
        };
        let slot = accounts
            .entry((home.clone(), env.to_ascii_lowercase()))
            .or_default();
        // Prefer the home tenant's entry (realm = the tid of OID.TID).
        let is_home = entry
            .realm
            .as_deref()
            .is_some_and(|r| home_tenant(home).as_deref() == Some(r));
        if slot.0.is_none() || is_home {
            let username = entry.username.clone().filter(|u| !u.is_empty());
            *slot = (entry.realm.clone(), username);
        }
    }
    for entry in entries(&cache.refresh_token)
        .chain(entries(&cache.id_token))
        .chain(entries(&cache.access_token))
    {
        if let (Some(home), Some(env)) = (&entry.home_account_id, &entry.environment) {
            accounts
                .entry((home.clone(), env.to_ascii_lowercase()))
                .or_default();
        }
    }

    let family_of = |client_id: &str| -> Option<String> {
        entries(&cache.app_metadata)
            .find(|m| same(&m.client_id, client_id))
            .and_then(|m| m.family_id.clone())
            .filter(|f| !f.is_empty())
    };

    let mut imports = Vec::new();
    for ((home, env), (realm, username)) in accounts {
        let mine = |e: &&Entry| same(&e.home_account_id, &home) && same(&e.environment, &env);
        // The clients this account holds credentials of.
        // The clients the account signed in to: those with an ID token or
        // an access token (a refresh token alone may be a family member's
        // that only serves as a fallback).
        let signed_in: BTreeSet<String> = entries(&cache.id_token)
            .chain(entries(&cache.access_token))
            .filter(mine)
            .filter_map(|e| e.client_id.clone())
            .collect();
        let clients = if signed_in.is_empty() {
            entries(&cache.refresh_token)
                .filter(mine)
                .filter_map(|e| e.client_id.clone())
                .collect()
        } else {
            signed_in
        };
        for client_id in clients {
            let family_id = family_of(&client_id).or_else(|| {
                entries(&cache.refresh_token)
                    .filter(mine)
                    .find(|e| same(&e.client_id, &client_id))
                    .and_then(|e| e.family_id.clone())
                    .filter(|f| !f.is_empty())
            });
            let refresh_token = entries(&cache.refresh_token)
                .filter(mine)
                .find(|e| same(&e.client_id, &client_id))
                .or_else(|| {
                    let family = family_id.as_deref()?;
                    entries(&cache.refresh_token)
                        .filter(mine)
                        .find(|e| same(&e.family_id, family))
                })
                .and_then(|e| e.secret.as_deref())
                .filter(|s| !s.is_empty())
                .map(RefreshToken::new);
            let id_token = entries(&cache.id_token)
                .filter(mine)
                .filter(|e| same(&e.client_id, &client_id))
                // The home realm's ID token first.
                .max_by_key(|e| realm.is_some() && e.realm == realm)
                .and_then(|e| e.secret.as_deref())
                .filter(|s| !s.is_empty())
                .map(IdToken::new);
            let mut access_tokens = Vec::new();
            for entry in entries(&cache.access_token)
                .filter(mine)
                .filter(|e| same(&e.client_id, &client_id))
            {
                let Some(secret) = entry.secret.as_deref().filter(|s| !s.is_empty()) else {
                    continue;
                };
                let Some(expires_at) =
                    timestamp(&entry.expires_on, path, "AccessToken", "expires_on")?
                else {
                    continue;
                };
                if expires_at <= now {
                    continue;
                }
                let scopes: Vec<String> = entry
                    .target
                    .as_deref()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                if scopes.is_empty() {
                    continue;
                }
                access_tokens.push(ImportedAccessToken {
                    scopes,
                    token: AccessTokenSecret::new(secret),
                    token_type: entry.token_type.clone().unwrap_or_else(|| "Bearer".into()),
                    cached_at: timestamp(&entry.cached_at, path, "AccessToken", "cached_at")?,
                    expires_at,
                });
            }
            imports.push(Import {
                home_account_id: home.clone(),
                environment: env.clone(),
                realm: realm.clone().filter(|r| !r.is_empty()),
                username: username.clone(),
                client_id,
                family_id,
                refresh_token,
                id_token,
                access_tokens,
            });
        }
    }
    Ok(imports)
}

/// Where a cache came from, for reports.
pub fn display_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests;
