//! Planning one account's import: which profile it goes to (an existing
//! one of the same client and authority, or a new one with a free name),
//! the token set to store, and whether the vault holds it already.

use std::collections::BTreeSet;

use super::Options;
use crate::account::Account;
use crate::broker::Broker;
use crate::error::{Error, Result};
use crate::flow::OAuth;
use crate::import::msal::{Authority, Import};
use crate::profile::{LoginMode, Preset, Profile, ProfileFields, Provider, MAX_NAME_LEN};
use crate::secret::AccessTokenSecret;
use crate::token::TokenSet;

/// A profile to use for an account: an existing one, or one to create.
pub(super) struct Target {
    pub(super) profile: Profile,
    pub(super) create: bool,
}

/// The profile an account goes to, its token set, and whether the vault
/// holds it already.
pub(super) fn plan(
    broker: &Broker<OAuth>,
    import: &Import,
    args: &Options,
    taken: &mut BTreeSet<String>,
) -> Result<(Target, TokenSet, bool)> {
    let refresh = import.refresh_token.clone().ok_or_else(|| {
        Error::InvalidInput(
            "the cache holds no refresh token for this account and client (nor its family): sign in with `tokentray login` instead"
                .into(),
        )
    })?;
    let identity = import.claimed_identity().ok_or_else(|| {
        Error::InvalidInput(
            "the cache holds no usable ID token for this account and client, so the account cannot be identified"
                .into(),
        )
    })?;
    let provider = match import.authority() {
        Authority::Microsoft { tenant } => Provider::Microsoft { tenant },
        Authority::Other { host } => {
            let issuer = args.issuer.clone().ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the account signed in at `{host}`, which is not Microsoft, and MSAL keeps only the host: give the issuer URL with --issuer https://{host}/..."
                ))
            })?;
            if url_host(&issuer).as_deref() != Some(host.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "the account signed in at `{host}`, but --issuer {issuer} is another host"
                )));
            }
            if identity.issuer != issuer {
                return Err(Error::InvalidInput(format!(
                    "the account's ID token was issued by {}, not by --issuer {issuer}",
                    identity.issuer
                )));
            }
            Provider::Oidc { issuer }
        }
    };
    let scopes = import.scopes();
    let (preset, tenant, issuer, scopes) = match &provider {
        Provider::Microsoft { tenant } => (
            Preset::Microsoft,
            Some(tenant.clone()),
            None,
            (!scopes.is_empty()).then_some(scopes),
        ),
        Provider::Oidc { issuer } => {
            let mut all: Vec<String> = ["openid", "profile", "offline_access"]
                .map(String::from)
                .to_vec();
            for scope in scopes {
                if !all.contains(&scope) {
                    all.push(scope);
                }
            }
            (Preset::Oidc, None, Some(issuer.clone()), Some(all))
        }
        _ => return Err(Error::InvalidInput("unexpected provider".into())),
    };

    // An existing profile of the same client and authority: the one that
    // holds this identity, else one with no account.
    let accounts = broker.accounts().list()?;
    let same_client: Vec<Profile> = broker
        .profiles()
        .load()?
        .into_iter()
        .filter(|p| p.client_id == import.client_id && same_provider(&p.provider, &provider))
        .collect();
    let holds = |p: &Profile| {
        let id = Account::id_for(&p.name, &identity);
        accounts.iter().any(|a| a.profile == p.name && a.id == id)
    };
    let empty = |p: &Profile| !accounts.iter().any(|a| a.profile == p.name);
    let existing = same_client
        .iter()
        .find(|p| holds(p))
        .or_else(|| same_client.iter().find(|p| empty(p)));
    let (target, present) = match existing {
        Some(profile) => (
            Target {
                profile: profile.clone(),
                create: false,
            },
            holds(profile),
        ),
        None => {
            let name = new_name(&args.profile_prefix, import, taken)?;
            let fields = ProfileFields {
                provider: Some(preset),
                tenant,
                issuer,
                client_id: Some(import.client_id.clone()),
                scopes,
                login: Some(LoginMode::Device),
                ..ProfileFields::default()
            };
            let profile = Profile::from_fields(&name, fields).map_err(|e| {
                Error::InvalidInput(format!(
                    "cannot make a profile for it: {}: {}",
                    e.field, e.message
                ))
            })?;
            taken.insert(name);
            (
                Target {
                    profile,
                    create: true,
                },
                false,
            )
        }
    };

    // The token set: the longest-valid access token (a placeholder that is
    // dropped again when none is valid), the refresh and ID tokens.
    let first = import.access_tokens.iter().max_by_key(|t| t.expires_at);
    let tokens = TokenSet {
        access_token: first.map_or_else(|| AccessTokenSecret::new(""), |t| t.token.clone()),
        token_type: first.map_or_else(|| "Bearer".into(), |t| t.token_type.clone()),
        expires_at: first.map_or(0, |t| t.expires_at),
        scopes: first.map(|t| t.scopes.clone()).unwrap_or_default(),
        refresh_token: Some(refresh),
        refresh_expires_at: None,
        id_token: import.id_token.clone(),
        // another tool's ID token: not validated here
        id_token_validated_at: None,
        identity: Some(identity),
    };
    Ok((target, tokens, present))
}

/// The host of an `https://HOST[:PORT]/...` URL, lowercased.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

fn same_provider(a: &Provider, b: &Provider) -> bool {
    match (a, b) {
        (Provider::Microsoft { tenant: x }, Provider::Microsoft { tenant: y }) => {
            x.eq_ignore_ascii_case(y)
        }
        (Provider::Oidc { issuer: x }, Provider::Oidc { issuer: y }) => {
            x.trim_end_matches('/') == y.trim_end_matches('/')
        }
        _ => false,
    }
}

/// `PREFIX` + the account's username made name-safe, unique among `taken`.
fn new_name(prefix: &str, import: &Import, taken: &BTreeSet<String>) -> Result<String> {
    let user: String = import
        .label()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base: String = format!("{prefix}{user}")
        .chars()
        .take(MAX_NAME_LEN - 4)
        .collect();
    let base = base.trim_end_matches(['-', '.', '_']).to_string();
    (1..1000)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken.contains(name))
        .ok_or_else(|| Error::InvalidInput("no free profile name".into()))
}
