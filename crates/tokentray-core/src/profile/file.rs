//! Reading `profiles.toml`: TOML text in, validated profiles out, and every
//! problem located by file, line, column and dotted key.
//!
//! ```toml
//! [profiles.graph]
//! provider = "microsoft"
//! tenant = "contoso.onmicrosoft.com"
//! client_id = "00000000-0000-0000-0000-000000000000"
//! scopes = ["https://graph.microsoft.com/.default"]
//! login = "embedded"
//! refresh_margin = 300
//! keep_fresh = true
//! access = "confirm"            # see `access.rs`
//! extra_scopes = ["Mail.Read"]  # scopes a caller may ask for besides `scopes`
//! force_refresh_interval = 30   # least seconds between two forced refreshes
//! ```

use super::{AccessField, FieldError, LoginMode, Preset, Profile, ProfileFields};
use crate::error::{Error, Location, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    profiles: BTreeMap<Spanned<String>, RawProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    provider: Option<Spanned<Preset>>,
    tenant: Option<Spanned<String>>,
    issuer: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    scopes: Option<Spanned<Vec<String>>>,
    login: Option<Spanned<LoginMode>>,
    refresh_margin: Option<Spanned<i64>>,
    keep_fresh: Option<Spanned<bool>>,
    access: Option<Spanned<AccessField>>,
    extra_scopes: Option<Spanned<Vec<String>>>,
    force_refresh_interval: Option<Spanned<i64>>,
}

impl RawProfile {
    /// Where `field` was written, if it was.
    fn span_of(&self, field: &str) -> Option<Range<usize>> {
        match field {
            "provider" => self.provider.as_ref().map(Spanned::span),
            "tenant" => self.tenant.as_ref().map(Spanned::span),
            "issuer" => self.issuer.as_ref().map(Spanned::span),
            "client_id" => self.client_id.as_ref().map(Spanned::span),
            "scopes" => self.scopes.as_ref().map(Spanned::span),
            "login" => self.login.as_ref().map(Spanned::span),
            "refresh_margin" => self.refresh_margin.as_ref().map(Spanned::span),
            "keep_fresh" => self.keep_fresh.as_ref().map(Spanned::span),
            "access" => self.access.as_ref().map(Spanned::span),
            "extra_scopes" => self.extra_scopes.as_ref().map(Spanned::span),
            "force_refresh_interval" => self.force_refresh_interval.as_ref().map(Spanned::span),
            _ => None,
        }
    }

    fn fields(&self) -> ProfileFields {
        ProfileFields {
            provider: self.provider.as_ref().map(|v| *v.get_ref()),
            tenant: self.tenant.as_ref().map(|v| v.get_ref().clone()),
            issuer: self.issuer.as_ref().map(|v| v.get_ref().clone()),
            client_id: self.client_id.as_ref().map(|v| v.get_ref().clone()),
            scopes: self.scopes.as_ref().map(|v| v.get_ref().clone()),
            login: self.login.as_ref().map(|v| *v.get_ref()),
            refresh_margin: self.refresh_margin.as_ref().map(|v| *v.get_ref()),
            keep_fresh: self.keep_fresh.as_ref().map(|v| *v.get_ref()),
            access: self.access.as_ref().map(|v| v.get_ref().clone()),
            extra_scopes: self.extra_scopes.as_ref().map(|v| v.get_ref().clone()),
            force_refresh_interval: self.force_refresh_interval.as_ref().map(|v| *v.get_ref()),
        }
    }
}

/// Parses and validates the text of a profiles file; `path` is only used to
/// name the file in errors. Profiles come back in file order.
pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<Profile>> {
    let raw: RawFile = parse_toml(path, text)?;
    let mut entries: Vec<_> = raw.profiles.into_iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    entries
        .into_iter()
        .map(|(name, raw_profile)| {
            Profile::from_fields(name.get_ref(), raw_profile.fields()).map_err(
                |FieldError { field, message }| {
                    let (at, key) = match raw_profile.span_of(field) {
                        Some(span) => (span.start, format!("profiles.{}.{field}", name.get_ref())),
                        None => (name.span().start, format!("profiles.{}", name.get_ref())),
                    };
                    Error::config(locate(path, text, at, Some(key)), message)
                },
            )
        })
        .collect()
}

/// Parses one of Tokentray's TOML files (this one, the tray app's
/// settings) into `T`; a syntax or type error is located by file, line,
/// column and key.
pub fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|error| {
        let at = error.span().map_or(0, |span| span.start);
        Error::config(locate(path, text, at, None), error.message().trim_end())
    })
}

/// Turns a byte offset into a location. When the key is not known, it is
/// read off the text: the enclosing `[table]` header plus the key written
/// before `=` on the offending line.
fn locate(path: &Path, text: &str, offset: usize, key: Option<String>) -> Location {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    Location {
        file: path.to_path_buf(),
        line: Some(line),
        column: Some(column),
        key: key.or_else(|| key_at(text, line_start)),
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn key_at(text: &str, line_start: usize) -> Option<String> {
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = |line: &str| -> Option<String> {
        let inner = line.strip_prefix('[')?.trim_start_matches('[');
        let end = inner.find(']')?;
        Some(inner[..end].trim().to_string())
    };
    if let Some(table) = header(line) {
        return Some(table);
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| header(l.trim()));
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .filter(|key| !key.is_empty() && !key.starts_with('#'));
    match (table, key) {
        (Some(table), Some(key)) => Some(format!("{table}.{key}")),
        (None, Some(key)) => Some(key),
        (Some(table), None) => Some(table),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Provider;

    fn parse_err(text: &str) -> (Location, String) {
        match parse(Path::new("/cfg/profiles.toml"), text).unwrap_err() {
            Error::Config { location, message } => (*location, message),
            other => panic!("not a config error: {other}"),
        }
    }

    const GOOD: &str = r#"
# work account
[profiles.graph]
provider = "microsoft"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
scopes = ["https://graph.microsoft.com/.default"]

[profiles.local]
provider = "oidc"
issuer = "http://127.0.0.1:3000"
client_id = "tokentray-public"
login = "device"
refresh_margin = 60
keep_fresh = true
"#;

    #[test]
    fn good_file_parses_in_file_order() {
        let profiles = parse(Path::new("p.toml"), GOOD).unwrap();
        let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["graph", "local"]);
        assert_eq!(
            profiles[0].provider,
            Provider::Microsoft {
                tenant: "contoso.onmicrosoft.com".into()
            }
        );
        assert_eq!(profiles[1].login, LoginMode::Device);
        assert_eq!(profiles[1].refresh_margin_secs, 60);
        assert!(profiles[1].keep_fresh);
        assert!(!profiles[0].keep_fresh);
        assert!(parse(Path::new("p.toml"), "").unwrap().is_empty());
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let (at, message) = parse_err("[profiles.a]\nprovider = \"oidc\"\nclient_id = \n");
        assert_eq!((at.line, at.column), (Some(3), Some(13)));
        assert_eq!(at.key.as_deref(), Some("profiles.a.client_id"));
        assert!(!message.is_empty());
    }

    #[test]
    fn unknown_key_is_refused_with_its_name() {
        let (at, message) = parse_err(
            "[profiles.a]\nprovider = \"oidc\"\nissuer = \"https://i.example\"\nclient_id = \"c\"\nclient_secret = \"oops\"\n",
        );
        assert_eq!(at.line, Some(5));
        assert_eq!(at.key.as_deref(), Some("profiles.a.client_secret"));
        assert!(
            message.contains("unknown field `client_secret`"),
            "{message}"
        );
        assert!(!message.contains("oops"));

        let (at, message) = parse_err("colour = 1\n");
        assert_eq!((at.line, at.key.as_deref()), (Some(1), Some("colour")));
        assert!(message.contains("unknown field `colour`"), "{message}");
    }

    #[test]
    fn missing_issuer_points_at_the_profile() {
        let (at, message) =
            parse_err("\n\n[profiles.corp]\nprovider = \"oidc\"\nclient_id = \"c\"\n");
        assert_eq!(at.line, Some(3));
        assert_eq!(at.key.as_deref(), Some("profiles.corp"));
        assert!(message.starts_with("missing `issuer`"), "{message}");
    }

    #[test]
    fn bad_url_points_at_the_value() {
        let (at, message) =
            parse_err("[profiles.corp]\nprovider = \"oidc\"\nclient_id = \"c\"\nissuer = \"http://idp.example.com\"\n");
        assert_eq!((at.line, at.column), (Some(4), Some(10)));
        assert_eq!(at.key.as_deref(), Some("profiles.corp.issuer"));
        assert!(message.contains("loopback"), "{message}");
    }

    #[test]
    fn duplicate_name_is_refused() {
        let (at, message) = parse_err(
            "[profiles.a]\nprovider = \"github\"\nclient_id = \"c\"\n\n[profiles.a]\nprovider = \"github\"\nclient_id = \"d\"\n",
        );
        assert_eq!(at.line, Some(5));
        assert_eq!(at.key.as_deref(), Some("profiles.a"));
        assert!(message.contains("duplicate"), "{message}");
    }

    #[test]
    fn wrong_type_and_unknown_variant_are_located() {
        let (at, message) = parse_err("[profiles.a]\nprovider = \"okta\"\nclient_id = \"c\"\n");
        assert_eq!(
            (at.line, at.key.as_deref()),
            (Some(2), Some("profiles.a.provider"))
        );
        assert!(message.contains("unknown variant `okta`"), "{message}");

        let (at, _) = parse_err(
            "[profiles.a]\nprovider = \"github\"\nclient_id = \"c\"\nrefresh_margin = \"soon\"\n",
        );
        assert_eq!(
            (at.line, at.key.as_deref()),
            (Some(4), Some("profiles.a.refresh_margin"))
        );
    }
}
