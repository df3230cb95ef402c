//! Profiles: which provider to sign in to, with which client and scopes, and
//! how.
//!
//! A profile is configuration, never a secret: it lives in `profiles.toml` in
//! the platform config directory ([`config_dir`]); client secrets go to the
//! vault. This module owns the profile types, the provider presets and the
//! rules every profile must obey, whether it comes from the file
//! ([`file`]) or from a command ([`Profile::from_fields`]).

mod access;
mod file;
mod manage;
#[cfg(test)]
mod properties;
mod store;

pub use access::{Access, AccessField, Rule, RuleFields};
pub use file::parse_toml;
pub use manage::{add_profile, remove_profile, store_client_secret};
pub use store::{config_dir, write_config_file, ProfileStore, CONFIG_DIR_ENV, FILE_NAME};

use serde::{Deserialize, Serialize};
use url::Url;

/// Default refresh margin: refresh this long before an access token expires
/// (the same 5 minutes MSAL uses).
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;
/// Largest refresh margin a profile may ask for.
pub const MAX_REFRESH_MARGIN_SECS: u64 = 86_400;
/// Longest profile name.
pub const MAX_NAME_LEN: usize = 64;
/// Default least time between two forced refreshes that really reach the
/// provider (`force_refresh_interval`); forced requests in between get the
/// fresh token.
pub const DEFAULT_FORCE_REFRESH_INTERVAL_SECS: u64 = 30;
/// Largest `force_refresh_interval`.
pub const MAX_FORCE_REFRESH_INTERVAL_SECS: u64 = 3600;

/// The provider presets a profile can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Microsoft Entra ID (v2.0 endpoints of a tenant).
    Microsoft,
    /// Google accounts.
    Google,
    /// GitHub (plain OAuth2, no ID token).
    Github,
    /// Any OpenID Connect provider, by issuer URL.
    Oidc,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [
        Preset::Microsoft,
        Preset::Google,
        Preset::Github,
        Preset::Oidc,
    ];

    /// The preset's name as written in the file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Microsoft => "microsoft",
            Preset::Google => "google",
            Preset::Github => "github",
            Preset::Oidc => "oidc",
        }
    }

    /// Whether profiles of this preset may sign in with `login`.
    pub fn allows(self, login: LoginMode) -> bool {
        check_login(self, login).is_ok()
    }

    /// Login mode used when a profile names none (S1: Google refuses
    /// embedded webviews, so it signs in through the system browser).
    pub fn default_login(self) -> LoginMode {
        match self {
            Preset::Google => LoginMode::Browser,
            Preset::Microsoft | Preset::Github | Preset::Oidc => LoginMode::Embedded,
        }
    }

    /// Scopes used when a profile names none.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Preset::Microsoft => &["https://graph.microsoft.com/.default"],
            Preset::Google => &["openid", "email", "profile"],
            Preset::Github => &["read:user"],
            Preset::Oidc => &["openid", "profile", "email", "offline_access"],
        }
    }
}

/// The identity provider of a profile, with what each preset needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum Provider {
    /// Microsoft Entra ID; `tenant` is a tenant id, a domain, `common`,
    /// `organizations` or `consumers`.
    Microsoft {
        /// The tenant.
        tenant: String,
    },
    /// Google accounts.
    Google,
    /// GitHub OAuth apps.
    Github,
    /// A generic OpenID Connect provider.
    Oidc {
        /// The issuer exactly as configured (compared byte for byte with the
        /// discovery document's `issuer`, S6); discovery is at
        /// `{issuer}/.well-known/openid-configuration`.
        issuer: String,
    },
}

impl Provider {
    /// The preset this provider was built from.
    pub fn preset(&self) -> Preset {
        match self {
            Provider::Microsoft { .. } => Preset::Microsoft,
            Provider::Google => Preset::Google,
            Provider::Github => Preset::Github,
            Provider::Oidc { .. } => Preset::Oidc,
        }
    }
}

/// How a profile signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMode {
    /// Authorization code + PKCE in the app's own webview window.
    Embedded,
    /// Authorization code + PKCE in the system browser, loopback redirect.
    Browser,
    /// Device authorization grant (RFC 8628): a code typed on another device.
    Device,
    /// Client credentials of a confidential client (secret in the vault).
    ClientCredentials,
}

impl LoginMode {
    /// Every login mode.
    pub const ALL: [LoginMode; 4] = [
        LoginMode::Embedded,
        LoginMode::Browser,
        LoginMode::Device,
        LoginMode::ClientCredentials,
    ];

    /// The mode's name as written in the file and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMode::Embedded => "embedded",
            LoginMode::Browser => "browser",
            LoginMode::Device => "device",
            LoginMode::ClientCredentials => "client_credentials",
        }
    }
}

/// Parses a name among `all` by its `as_str`, listing the choices when it
/// is none of them.
fn parse_named<T: Copy>(
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| name(*v) == text)
        .ok_or_else(|| {
            let choices: Vec<_> = all.iter().map(|v| name(*v)).collect();
            format!(
                "unknown {what} {text:?}; expected one of: {}",
                choices.join(", ")
            )
        })
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_named(text, &Preset::ALL, Preset::as_str, "provider")
    }
}

impl std::str::FromStr for LoginMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_named(text, &LoginMode::ALL, LoginMode::as_str, "login mode")
    }
}

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// Unique name, used on the command line and in vault entry names.
    pub name: String,
    /// The identity provider.
    #[serde(flatten)]
    pub provider: Provider,
    /// The OAuth client id.
    pub client_id: String,
    /// Scopes asked for by default.
    pub scopes: Vec<String>,
    /// How to sign in.
    pub login: LoginMode,
    /// Refresh this many seconds before the access token expires.
    pub refresh_margin_secs: u64,
    /// Refresh proactively, before expiry, even when nobody asks.
    pub keep_fresh: bool,
    /// Who may take its tokens.
    pub access: Access,
    /// Scopes a caller may ask for besides [`Profile::scopes`]; any other
    /// is refused.
    pub extra_scopes: Vec<String>,
    /// Least seconds between two forced refreshes asked through the agent
    /// or the CLI (the tray's "Refresh now" is the user's own).
    pub force_refresh_interval_secs: u64,
}

/// A profile's fields before validation, as they come from the file or a
/// command. Optional fields fall back to the preset's defaults.
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    /// The preset; `None` is an error (the file must name one).
    pub provider: Option<Preset>,
    /// Microsoft tenant.
    pub tenant: Option<String>,
    /// OIDC issuer URL.
    pub issuer: Option<String>,
    /// OAuth client id.
    pub client_id: Option<String>,
    /// Scopes; `None` means the preset's defaults.
    pub scopes: Option<Vec<String>>,
    /// Login mode; `None` means the preset's default.
    pub login: Option<LoginMode>,
    /// Refresh margin in seconds; `None` means the default.
    pub refresh_margin: Option<i64>,
    /// Refresh proactively; `None` means no.
    pub keep_fresh: Option<bool>,
    /// Who may take its tokens; `None` means `any`.
    pub access: Option<AccessField>,
    /// Scopes allowed besides `scopes`; `None` means none.
    pub extra_scopes: Option<Vec<String>>,
    /// Least seconds between forced refreshes; `None` means the default.
    pub force_refresh_interval: Option<i64>,
}

/// A rule a profile broke: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as written in the file (`issuer`, `client_id`, …).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl Profile {
    /// Builds a profile from its fields, applying the preset's defaults and
    /// checking every rule. The one place those rules live.
    pub fn from_fields(name: &str, fields: ProfileFields) -> Result<Profile, FieldError> {
        check_name(name)?;
        let preset = fields.provider.ok_or_else(|| {
            FieldError::new(
                "provider",
                "missing `provider` (one of microsoft, google, github, oidc)",
            )
        })?;
        if fields.tenant.is_some() && preset != Preset::Microsoft {
            return Err(FieldError::new(
                "tenant",
                format!(
                    "`tenant` is only for the microsoft provider, not {}",
                    preset.as_str()
                ),
            ));
        }
        if fields.issuer.is_some() && preset != Preset::Oidc {
            return Err(FieldError::new(
                "issuer",
                format!(
                    "`issuer` is only for the oidc provider, not {} (its endpoints are built in)",
                    preset.as_str()
                ),
            ));
        }
        let provider = match preset {
            Preset::Microsoft => Provider::Microsoft {
                tenant: check_tenant(fields.tenant.as_deref().unwrap_or("common"))?,
            },
            Preset::Google => Provider::Google,
            Preset::Github => Provider::Github,
            Preset::Oidc => Provider::Oidc {
                issuer: check_issuer(fields.issuer.as_deref().ok_or_else(|| {
                    FieldError::new(
                        "issuer",
                        "missing `issuer`: the oidc provider needs the issuer URL, e.g. issuer = \"https://login.example.com\"",
                    )
                })?)?,
            },
        };
        let client_id = check_client_id(fields.client_id.as_deref())?;
        let scopes = match fields.scopes {
            None => preset
                .default_scopes()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Some(scopes) => check_scopes(scopes)?,
        };
        let login = fields.login.unwrap_or_else(|| preset.default_login());
        check_login(preset, login)?;
        let refresh_margin_secs = match fields.refresh_margin {
            None => DEFAULT_REFRESH_MARGIN_SECS,
            Some(secs) => u64::try_from(secs)
                .ok()
                .filter(|secs| *secs <= MAX_REFRESH_MARGIN_SECS)
                .ok_or_else(|| {
                    FieldError::new(
                        "refresh_margin",
                        format!("`refresh_margin` must be between 0 and {MAX_REFRESH_MARGIN_SECS} seconds, not {secs}"),
                    )
                })?,
        };
        let force_refresh_interval_secs = match fields.force_refresh_interval {
            None => DEFAULT_FORCE_REFRESH_INTERVAL_SECS,
            Some(secs) => u64::try_from(secs)
                .ok()
                .filter(|secs| *secs <= MAX_FORCE_REFRESH_INTERVAL_SECS)
                .ok_or_else(|| {
                    FieldError::new(
                        "force_refresh_interval",
                        format!("`force_refresh_interval` must be between 0 and {MAX_FORCE_REFRESH_INTERVAL_SECS} seconds, not {secs}"),
                    )
                })?,
        };
        let extra_scopes = match fields.extra_scopes {
            None => Vec::new(),
            Some(extra) if extra.is_empty() => Vec::new(),
            Some(extra) => {
                check_scopes(extra).map_err(|e| FieldError::new("extra_scopes", e.message))?
            }
        };
        Ok(Profile {
            name: name.to_string(),
            provider,
            client_id,
            scopes,
            login,
            refresh_margin_secs,
            keep_fresh: fields.keep_fresh.unwrap_or(false),
            access: fields
                .access
                .map(Access::try_from)
                .transpose()?
                .unwrap_or_default(),
            extra_scopes,
            force_refresh_interval_secs,
        })
    }
}

fn check_name(name: &str) -> Result<(), FieldError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() > MAX_NAME_LEN || !valid_chars || !starts_well {
        return Err(FieldError::new(
            "name",
            format!(
                "invalid profile name {name:?}: use 1 to {MAX_NAME_LEN} letters, digits, `-`, `_` or `.`, starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

fn check_tenant(tenant: &str) -> Result<String, FieldError> {
    let valid = !tenant.is_empty()
        && tenant.len() <= 253
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    if !valid {
        return Err(FieldError::new(
            "tenant",
            format!("invalid tenant {tenant:?}: use a tenant id (GUID), a domain such as contoso.onmicrosoft.com, or common, organizations, consumers"),
        ));
    }
    Ok(tenant.to_string())
}

/// An issuer must be an absolute `https` URL, or `http` to a loopback host
/// (S7), with no query, fragment or credentials.
fn check_issuer(issuer: &str) -> Result<String, FieldError> {
    let bad = |why: &str| FieldError::new("issuer", format!("invalid issuer {issuer:?}: {why}"));
    let url = Url::parse(issuer).map_err(|e| bad(&e.to_string()))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "plain http is only allowed to a loopback address; use https",
            ))
        }
        other => return Err(bad(&format!("unsupported scheme `{other}`; use https"))),
    }
    if url.host().is_none() {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("an issuer has no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("an issuer carries no credentials"));
    }
    Ok(issuer.to_string())
}

fn check_client_id(client_id: Option<&str>) -> Result<String, FieldError> {
    match client_id {
        None => Err(FieldError::new("client_id", "missing `client_id`")),
        Some(id) if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Err(FieldError::new(
                "client_id",
                format!("invalid client_id {id:?}: it must be non-empty, without spaces"),
            ))
        }
        Some(id) => Ok(id.to_string()),
    }
}

fn check_scopes(scopes: Vec<String>) -> Result<Vec<String>, FieldError> {
    if scopes.is_empty() {
        return Err(FieldError::new(
            "scopes",
            "`scopes` is empty: name at least one scope, or leave the key out for the provider's defaults",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| {
        s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
    }) {
        return Err(FieldError::new(
            "scopes",
            format!("invalid scope {bad:?}: one scope per list item, without spaces"),
        ));
    }
    Ok(scopes)
}

fn check_login(preset: Preset, login: LoginMode) -> Result<(), FieldError> {
    match (preset, login) {
        (Preset::Google, LoginMode::Embedded) => Err(FieldError::new(
            "login",
            "google refuses sign-in inside embedded webviews (disallowed_useragent); use login = \"browser\" or \"device\"",
        )),
        (Preset::Google | Preset::Github, LoginMode::ClientCredentials) => Err(FieldError::new(
            "login",
            format!("{} has no client credentials grant; use browser or device", preset.as_str()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(issuer: &str) -> ProfileFields {
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some(issuer.into()),
            client_id: Some("app".into()),
            ..Default::default()
        }
    }

    #[test]
    fn presets_fill_defaults() {
        let p = Profile::from_fields(
            "graph",
            ProfileFields {
                provider: Some(Preset::Microsoft),
                client_id: Some("abc".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            p.provider,
            Provider::Microsoft {
                tenant: "common".into()
            }
        );
        assert_eq!(p.login, LoginMode::Embedded);
        assert_eq!(p.scopes, vec!["https://graph.microsoft.com/.default"]);
        assert_eq!(p.refresh_margin_secs, 300);

        let g = Profile::from_fields(
            "g",
            ProfileFields {
                provider: Some(Preset::Google),
                client_id: Some("abc".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.login, LoginMode::Browser);
    }

    // S7: transport
    #[test]
    fn issuer_rules() {
        assert!(Profile::from_fields("a", oidc("https://idp.example.com/tenant")).is_ok());
        assert!(Profile::from_fields("a", oidc("http://127.0.0.1:8080")).is_ok());
        assert!(Profile::from_fields("a", oidc("http://[::1]:8080")).is_ok());
        assert!(Profile::from_fields("a", oidc("http://localhost:3000")).is_ok());
        for (bad, why) in [
            ("http://idp.example.com", "loopback"),
            ("ftp://idp.example.com", "scheme"),
            ("not a url", "relative URL"),
            ("https://idp.example.com/?x=1", "query"),
            ("https://user:pw@idp.example.com", "credentials"),
        ] {
            let error = Profile::from_fields("a", oidc(bad)).unwrap_err();
            assert_eq!(error.field, "issuer");
            assert!(error.message.contains(why), "{bad}: {}", error.message);
        }
    }

    #[test]
    fn missing_issuer_and_misplaced_fields_are_named() {
        let mut fields = oidc("x");
        fields.issuer = None;
        assert_eq!(
            Profile::from_fields("a", fields).unwrap_err().field,
            "issuer"
        );

        let fields = ProfileFields {
            provider: Some(Preset::Google),
            tenant: Some("contoso".into()),
            client_id: Some("c".into()),
            ..Default::default()
        };
        assert_eq!(
            Profile::from_fields("a", fields).unwrap_err().field,
            "tenant"
        );
    }

    // S10: no implicit grant, no password grant
    #[test]
    fn no_implicit_or_password_login_exists() {
        for refused in ["password", "implicit", "token", "id_token", "ropc"] {
            let error = refused.parse::<LoginMode>().unwrap_err();
            assert!(error.contains("embedded"), "{error}");
        }
        let grants: Vec<&str> = LoginMode::ALL.iter().map(|mode| mode.as_str()).collect();
        assert_eq!(
            grants,
            ["embedded", "browser", "device", "client_credentials"]
        );
    }

    // S1: login modes
    #[test]
    fn google_refuses_embedded_and_client_credentials() {
        for login in [LoginMode::Embedded, LoginMode::ClientCredentials] {
            let fields = ProfileFields {
                provider: Some(Preset::Google),
                client_id: Some("c".into()),
                login: Some(login),
                ..Default::default()
            };
            let error = Profile::from_fields("a", fields).unwrap_err();
            assert_eq!(error.field, "login");
        }
    }

    #[test]
    fn names_scopes_margins_and_client_ids_are_checked() {
        for name in ["", "-x", "a b", "a/b", &"x".repeat(65)] {
            assert_eq!(
                Profile::from_fields(name, oidc("https://i.example"))
                    .unwrap_err()
                    .field,
                "name"
            );
        }
        let mut fields = oidc("https://i.example");
        fields.scopes = Some(vec![]);
        assert_eq!(
            Profile::from_fields("a", fields.clone()).unwrap_err().field,
            "scopes"
        );
        fields.scopes = Some(vec!["openid profile".into()]);
        assert_eq!(
            Profile::from_fields("a", fields.clone()).unwrap_err().field,
            "scopes"
        );
        fields.scopes = None;
        fields.refresh_margin = Some(-1);
        assert_eq!(
            Profile::from_fields("a", fields.clone()).unwrap_err().field,
            "refresh_margin"
        );
        fields.refresh_margin = Some(90_000);
        assert_eq!(
            Profile::from_fields("a", fields.clone()).unwrap_err().field,
            "refresh_margin"
        );
        fields.refresh_margin = Some(60);
        fields.client_id = Some("has space".into());
        assert_eq!(
            Profile::from_fields("a", fields.clone()).unwrap_err().field,
            "client_id"
        );
        fields.client_id = Some("ok".into());
        assert_eq!(
            Profile::from_fields("a", fields)
                .unwrap()
                .refresh_margin_secs,
            60
        );
    }

    #[test]
    fn names_parse_back() {
        for preset in Preset::ALL {
            assert_eq!(preset.as_str().parse::<Preset>(), Ok(preset));
        }
        for mode in LoginMode::ALL {
            assert_eq!(mode.as_str().parse::<LoginMode>(), Ok(mode));
        }
        let err = "okta".parse::<Preset>().unwrap_err();
        assert!(err.contains("microsoft, google, github, oidc"), "{err}");
    }

    #[test]
    fn json_shape_is_flat() {
        let p = Profile::from_fields("a", oidc("https://i.example/")).unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["provider"], "oidc");
        assert_eq!(json["issuer"], "https://i.example/");
        let p = Profile::from_fields("a", oidc("https://i.example")).unwrap();
        assert_eq!(
            p.provider,
            Provider::Oidc {
                issuer: "https://i.example".into()
            },
            "kept as written"
        );
        assert_eq!(json["login"], "embedded");
    }
}
