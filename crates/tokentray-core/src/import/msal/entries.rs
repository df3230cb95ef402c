//! The cache's sections as MSAL stores them (every field optional, wiped
//! when dropped) and how their entries make one [`Import`] per account
//! and client: the client's refresh token (or its family's), its ID token
//! and its still-valid access tokens.

use super::read::location;
use super::{home_tenant, Import, ImportedAccessToken};
use crate::error::{Error, Result};
use crate::secret::{AccessTokenSecret, IdToken, RefreshToken};
use crate::token::EpochSecs;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use zeroize::{Zeroize, ZeroizeOnDrop};

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
pub(super) struct Cache {
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

pub(super) fn build(cache: &Cache, path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
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
