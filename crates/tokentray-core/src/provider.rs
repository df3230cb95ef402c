//! What we know about an identity provider: its endpoints (from discovery,
//! or built in for GitHub), how its issuer is checked, and its signing keys
//! (JWKS). Both are fetched over [`HttpClient`] and cached per issuer for a
//! while; the JWKS is fetched again once when an ID token names a key we do
//! not have (S11).
//!
//! Issuer binding (S6): the discovery document's `issuer` must equal the
//! configured issuer byte for byte. Microsoft Entra is the one exception,
//! handled explicitly: the multi-tenant authorities (`common`,
//! `organizations`) publish the template
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, and `consumers` or a
//! domain tenant publish their tenant's GUID; the ID token's `iss` is then
//! matched against the template filled with its `tid`, or against that exact
//! GUID issuer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::http::{check_url, parse_json, HttpClient};
use crate::profile::Provider;

/// How long discovery documents and key sets are kept.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(3600);

const MICROSOFT_AUTHORITY: &str = "https://login.microsoftonline.com";
const MICROSOFT_TEMPLATE_SEGMENT: &str = "{tenantid}";
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GITHUB_ISSUER: &str = "https://github.com";

/// The parts of a discovery document (OpenID Connect Discovery, RFC 8414)
/// the flows use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    /// The issuer identifier.
    pub issuer: String,
    /// Where the user agent is sent.
    pub authorization_endpoint: Option<Url>,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: Url,
    /// The signing keys.
    pub jwks_uri: Option<Url>,
    /// OpenID Connect userinfo (display claims missing from the ID token).
    pub userinfo_endpoint: Option<Url>,
    /// RFC 8628.
    pub device_authorization_endpoint: Option<Url>,
    /// RFC 7009.
    pub revocation_endpoint: Option<Url>,
    /// PKCE methods (RFC 7636); when present it must contain `S256` (S4).
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: authorization responses carry `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// How the `iss` of an ID token is checked for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerRule {
    /// Equal to this string.
    Exact(String),
    /// Microsoft multi-tenant: the template with `{tenantid}` replaced by the
    /// token's `tid`.
    MicrosoftTemplate(String),
    /// Google: `https://accounts.google.com`, or the legacy
    /// `accounts.google.com` its documentation still allows.
    Google,
}

impl IssuerRule {
    /// Checks an ID token's `iss` (and `tid`, for the Microsoft template).
    pub fn check(&self, iss: &str, tid: Option<&str>) -> Result<(), String> {
        let ok = match self {
            IssuerRule::Exact(expected) => iss == expected,
            IssuerRule::MicrosoftTemplate(template) => tid.is_some_and(|tid| {
                is_guid(tid) && iss == template.replace(MICROSOFT_TEMPLATE_SEGMENT, tid)
            }),
            IssuerRule::Google => iss == GOOGLE_ISSUER || iss == "accounts.google.com",
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the ID token's issuer `{}` is not the expected one",
                crate::http::clean(iss, 200)
            ))
        }
    }
}

/// A provider ready for the flows: endpoints, issuer rule, whether it speaks
/// OpenID Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Name for messages: the issuer, or the preset's name.
    pub name: String,
    /// Endpoints and capabilities.
    pub metadata: Metadata,
    /// Whether ID tokens are issued (false for GitHub).
    pub oidc: bool,
    /// How an ID token's `iss` is checked.
    pub issuer_rule: IssuerRule,
}

impl ProviderInfo {
    /// The authorization endpoint, or an error naming the provider.
    pub fn authorization_endpoint(&self) -> Result<&Url> {
        self.metadata
            .authorization_endpoint
            .as_ref()
            .ok_or_else(|| self.lacks("an authorization endpoint"))
    }

    /// The device authorization endpoint, or an error naming the provider.
    pub fn device_authorization_endpoint(&self) -> Result<&Url> {
        self.metadata
            .device_authorization_endpoint
            .as_ref()
            .ok_or_else(|| self.lacks("a device authorization endpoint (RFC 8628)"))
    }

    /// S4: refuse a provider that lists PKCE methods without `S256`.
    pub fn require_s256(&self) -> Result<()> {
        match &self.metadata.code_challenge_methods_supported {
            Some(methods) if !methods.iter().any(|m| m == "S256") => Err(Error::InvalidInput(
                format!(
                    "{} does not offer PKCE with S256 (code_challenge_methods_supported); refusing to sign in",
                    self.name
                ),
            )),
            _ => Ok(()),
        }
    }

    fn lacks(&self, what: &str) -> Error {
        Error::InvalidInput(format!("{} has no {what}", self.name))
    }
}

/// The issuer a profile is configured for, and where its discovery document
/// is. `None` for GitHub (no discovery).
pub fn configured_issuer(provider: &Provider) -> Option<String> {
    match provider {
        Provider::Microsoft { tenant } => Some(format!("{MICROSOFT_AUTHORITY}/{tenant}/v2.0")),
        Provider::Google => Some(GOOGLE_ISSUER.to_owned()),
        Provider::Github => None,
        Provider::Oidc { issuer } => Some(issuer.clone()),
    }
}

/// GitHub's fixed OAuth endpoints (no discovery, no ID token).
pub fn github() -> Result<ProviderInfo> {
    let url = |text: &str| {
        Url::parse(text)
            .map_err(|err| Error::InvalidInput(format!("bad built-in URL {text}: {err}")))
    };
    Ok(ProviderInfo {
        name: "github".to_owned(),
        metadata: Metadata {
            issuer: GITHUB_ISSUER.to_owned(),
            authorization_endpoint: Some(url("https://github.com/login/oauth/authorize")?),
            token_endpoint: url("https://github.com/login/oauth/access_token")?,
            jwks_uri: None,
            // Plain OAuth2: the signed-in user comes from the REST API.
            userinfo_endpoint: Some(url("https://api.github.com/user")?),
            device_authorization_endpoint: Some(url("https://github.com/login/device/code")?),
            revocation_endpoint: None,
            code_challenge_methods_supported: None,
            authorization_response_iss_parameter_supported: false,
        },
        oidc: false,
        issuer_rule: IssuerRule::Exact(GITHUB_ISSUER.to_owned()),
    })
}

/// Checks the discovered issuer against the configured one (S6) and says
/// how ID tokens will be checked.
pub fn issuer_rule(provider: &Provider, configured: &str, discovered: &str) -> Result<IssuerRule> {
    let mismatch = || {
        Error::InvalidInput(format!(
            "the provider at {configured} names itself `{}` in its discovery document; \
             the issuer must match exactly (mix-up protection), so check the configured issuer",
            crate::http::clean(discovered, 200)
        ))
    };
    match provider {
        Provider::Microsoft { tenant } => {
            let segment = discovered
                .strip_prefix(MICROSOFT_AUTHORITY)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix("/v2.0"))
                .ok_or_else(mismatch)?;
            let multi = matches!(tenant.as_str(), "common" | "organizations");
            if segment == tenant {
                Ok(IssuerRule::Exact(discovered.to_owned()))
            } else if segment == MICROSOFT_TEMPLATE_SEGMENT && multi {
                Ok(IssuerRule::MicrosoftTemplate(discovered.to_owned()))
            } else if is_guid(segment) && !is_guid(tenant) && !multi {
                // `consumers` or a domain name: the document names the
                // tenant's GUID, and tokens must carry exactly that.
                Ok(IssuerRule::Exact(discovered.to_owned()))
            } else {
                Err(mismatch())
            }
        }
        Provider::Google if discovered == GOOGLE_ISSUER => Ok(IssuerRule::Google),
        _ if discovered == configured => Ok(IssuerRule::Exact(discovered.to_owned())),
        _ => Err(mismatch()),
    }
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

struct Entry<T> {
    fetched: Instant,
    value: Arc<T>,
}

#[derive(Default)]
struct Cache {
    providers: HashMap<String, Entry<ProviderInfo>>,
    keys: HashMap<String, Entry<CoreJsonWebKeySet>>,
}

/// Discovery documents and key sets, cached per issuer. Cheap to clone; all
/// clones share the cache.
#[derive(Clone)]
pub struct Providers {
    cache: Arc<Mutex<Cache>>,
    ttl: Duration,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers").field("ttl", &self.ttl).finish()
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_TTL)
    }
}

impl Providers {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            cache: Arc::new(Mutex::new(Cache::default())),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The provider of a profile: GitHub's fixed endpoints, or the
    /// discovery document (cached), with the issuer checked (S6) and every
    /// endpoint checked for transport (S7).
    pub async fn resolve(
        &self,
        http: &HttpClient,
        provider: &Provider,
    ) -> Result<Arc<ProviderInfo>> {
        let Some(issuer) = configured_issuer(provider) else {
            return Ok(Arc::new(github()?));
        };
        if let Some(entry) = self.lock().providers.get(&issuer) {
            if entry.fetched.elapsed() < self.ttl {
                return Ok(Arc::clone(&entry.value));
            }
        }
        let info = Arc::new(discover(http, provider, &issuer).await?);
        self.lock().providers.insert(
            issuer,
            Entry {
                fetched: Instant::now(),
                value: Arc::clone(&info),
            },
        );
        Ok(info)
    }

    /// The provider's signing keys, cached; `refetch` bypasses the cache
    /// (used once when an ID token names an unknown key).
    pub async fn keys(
        &self,
        http: &HttpClient,
        info: &ProviderInfo,
        refetch: bool,
    ) -> Result<Arc<CoreJsonWebKeySet>> {
        let uri = info.metadata.jwks_uri.as_ref().ok_or_else(|| {
            Error::InvalidInput(format!(
                "{} publishes no jwks_uri; cannot check ID tokens",
                info.name
            ))
        })?;
        if !refetch {
            if let Some(entry) = self.lock().keys.get(uri.as_str()) {
                if entry.fetched.elapsed() < self.ttl {
                    return Ok(Arc::clone(&entry.value));
                }
            }
        }
        let reply = http.get_json(uri, "JWKS").await?;
        if !reply.is_success() {
            return Err(Error::Network(format!(
                "JWKS of {}: HTTP {}",
                info.name, reply.status
            )));
        }
        let keys: Arc<CoreJsonWebKeySet> = Arc::new(parse_json(&reply.body, "JWKS")?);
        self.lock().keys.insert(
            uri.as_str().to_owned(),
            Entry {
                fetched: Instant::now(),
                value: Arc::clone(&keys),
            },
        );
        Ok(keys)
    }

    /// Drops everything cached (e.g. after a provider changed its setup).
    pub fn clear(&self) {
        let mut cache = self.lock();
        cache.providers.clear();
        cache.keys.clear();
    }
}

async fn discover(http: &HttpClient, provider: &Provider, issuer: &str) -> Result<ProviderInfo> {
    let base = Url::parse(issuer)
        .map_err(|err| Error::InvalidInput(format!("invalid issuer {issuer:?}: {err}")))?;
    check_url(&base)?;
    let url = Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
    .map_err(|err| Error::InvalidInput(format!("invalid issuer {issuer:?}: {err}")))?;
    let reply = http.get_json(&url, "discovery").await?;
    if !reply.is_success() {
        return Err(Error::Network(format!(
            "discovery of {issuer}: HTTP {}",
            reply.status
        )));
    }
    let metadata: Metadata = parse_json(&reply.body, "discovery document")?;
    let issuer_rule = issuer_rule(provider, issuer, &metadata.issuer)?;
    for endpoint in [
        metadata.authorization_endpoint.as_ref(),
        Some(&metadata.token_endpoint),
        metadata.jwks_uri.as_ref(),
        metadata.userinfo_endpoint.as_ref(),
        metadata.device_authorization_endpoint.as_ref(),
        metadata.revocation_endpoint.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        check_url(endpoint)?;
    }
    Ok(ProviderInfo {
        name: issuer.to_owned(),
        metadata,
        oidc: true,
        issuer_rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn ms(tenant: &str) -> Provider {
        Provider::Microsoft {
            tenant: tenant.into(),
        }
    }

    // S6: issuer binding and mix-up
    #[test]
    fn issuer_must_match_exactly() {
        // S6
        let p = Provider::Oidc {
            issuer: "https://idp.example".into(),
        };
        assert!(issuer_rule(&p, "https://idp.example", "https://idp.example").is_ok());
        for other in [
            "https://idp.example/",
            "https://evil.example",
            "http://idp.example",
        ] {
            assert!(
                issuer_rule(&p, "https://idp.example", other).is_err(),
                "{other}"
            );
        }
    }

    // S6: issuer binding and mix-up
    #[test]
    fn microsoft_template_only_for_multi_tenant_authorities() {
        // S6: {tenantid}
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let configured = configured_issuer(&ms("common")).unwrap();
        let rule = issuer_rule(&ms("common"), &configured, template).unwrap();
        assert_eq!(rule, IssuerRule::MicrosoftTemplate(template.into()));
        let iss = format!("https://login.microsoftonline.com/{GUID}/v2.0");
        assert!(rule.check(&iss, Some(GUID)).is_ok());
        assert!(rule.check(&iss, None).is_err());
        assert!(rule
            .check(&iss, Some("9188040d-6c67-4c5b-b112-36a304b66dad"))
            .is_err());
        assert!(rule
            .check("https://login.microsoftonline.com/x/v2.0", Some("x"))
            .is_err());

        // A single tenant must not accept the template.
        assert!(issuer_rule(&ms(GUID), "x", template).is_err());
        // A GUID tenant wants exactly itself.
        let own = format!("https://login.microsoftonline.com/{GUID}/v2.0");
        assert_eq!(
            issuer_rule(&ms(GUID), "x", &own).unwrap(),
            IssuerRule::Exact(own.clone())
        );
        let other = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
        assert!(issuer_rule(&ms(GUID), "x", other).is_err());
        // A domain tenant resolves to its GUID.
        assert!(issuer_rule(&ms("contoso.onmicrosoft.com"), "x", &own).is_ok());
        // Another authority is never accepted.
        assert!(issuer_rule(&ms("common"), "x", "https://evil.example/{tenantid}/v2.0").is_err());
    }

    // S11: ID tokens validated
    #[test]
    fn google_allows_its_legacy_issuer_in_tokens() {
        let rule = issuer_rule(&Provider::Google, GOOGLE_ISSUER, GOOGLE_ISSUER).unwrap();
        assert!(rule.check("accounts.google.com", None).is_ok());
        assert!(rule.check("https://accounts.google.com", None).is_ok());
        assert!(rule.check("https://evil.example", None).is_err());
    }

    // S4: PKCE S256
    #[test]
    fn s256_is_required_when_methods_are_listed() {
        // S4
        let mut info = github().unwrap();
        assert!(info.require_s256().is_ok());
        info.metadata.code_challenge_methods_supported = Some(vec!["plain".into()]);
        assert!(info.require_s256().is_err());
        info.metadata.code_challenge_methods_supported = Some(vec!["plain".into(), "S256".into()]);
        assert!(info.require_s256().is_ok());
    }

    #[test]
    fn presets_have_their_issuers() {
        assert_eq!(
            configured_issuer(&ms("organizations")).as_deref(),
            Some("https://login.microsoftonline.com/organizations/v2.0")
        );
        assert_eq!(
            configured_issuer(&Provider::Google).as_deref(),
            Some(GOOGLE_ISSUER)
        );
        assert_eq!(configured_issuer(&Provider::Github), None);
        let gh = github().unwrap();
        assert!(!gh.oidc);
        assert_eq!(
            gh.metadata.token_endpoint.as_str(),
            "https://github.com/login/oauth/access_token"
        );
        assert!(gh.device_authorization_endpoint().is_ok());
    }
}
