//! How `tokentray token` prints a token: raw, JSON, an HTTP header, shell
//! `export`s, a kubectl ExecCredential or git credential lines; and the
//! times shown next to tokens (RFC 3339 UTC beside the core's one wording,
//! "expires in 42 min"). Pure functions,
//! so every format is unit-tested here and end to end in `tests/`.
//!
//! The rendered text holds the token: it is returned in a buffer that is
//! wiped when dropped.

use crate::cli::Format;
use serde::Serialize;
use tokentray_core::clock_words;
use tokentray_core::ipc::protocol::TokenReply;
use tokentray_core::token::EpochSecs;
use tokentray_core::{Error, Result};
use zeroize::Zeroizing;

/// The user name `--format git-credential` gives git (GitLab requires
/// `oauth2` with OAuth tokens; most other hosts accept any).
pub const GIT_USERNAME: &str = "oauth2";

/// `reply` in `format`, ending with a newline.
pub fn render(reply: &TokenReply, format: Format) -> Result<Zeroizing<String>> {
    let token = reply.access_token.expose();
    // A token is a single printable line (RFC 6750's b64token); anything
    // else would break the line-based formats.
    if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::InvalidInput(
            "the provider's access token is not a single printable word; refusing to print it"
                .into(),
        ));
    }
    let text = match format {
        Format::Raw => format!("{token}\n"),
        Format::Json => json_line(&TokenJson {
            access_token: token,
            token_type: &reply.token_type,
            expires_on: reply.expires_on,
            expires_at: rfc3339(reply.expires_on),
            scopes: &reply.scopes,
            profile: &reply.profile,
            account: reply.account.as_deref(),
        })?,
        Format::Header => format!("Authorization: {} {token}\n", token_type(reply)),
        Format::Env => format!(
            "export TOKENTRAY_ACCESS_TOKEN={} TOKENTRAY_EXPIRES_ON={}\n",
            shell_quote(token),
            reply.expires_on
        ),
        Format::Kubectl => json_line(&ExecCredential {
            api_version: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            status: ExecStatus {
                token,
                expiration_timestamp: rfc3339(reply.expires_on),
            },
        })?,
        Format::GitCredential => git_credential(reply, GIT_USERNAME)?.to_string(),
    };
    Ok(Zeroizing::new(text))
}

/// The lines a git credential helper prints for `get`.
pub fn git_credential(reply: &TokenReply, username: &str) -> Result<Zeroizing<String>> {
    if username.is_empty() || username.contains(['\n', '\0', '=']) {
        return Err(Error::InvalidInput(
            "--username must be one line without `=`".into(),
        ));
    }
    Ok(Zeroizing::new(format!(
        "username={username}\npassword={}\npassword_expiry_utc={}\n",
        reply.access_token.expose(),
        reply.expires_on
    )))
}

fn token_type(reply: &TokenReply) -> &str {
    if reply.token_type.is_empty() {
        "Bearer"
    } else {
        &reply.token_type
    }
}

#[derive(Serialize)]
struct TokenJson<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_on: EpochSecs,
    expires_at: String,
    scopes: &'a [String],
    profile: &'a str,
    account: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential<'a> {
    api_version: &'static str,
    kind: &'static str,
    status: ExecStatus<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus<'a> {
    token: &'a str,
    expiration_timestamp: String,
}

fn json_line(value: &impl Serialize) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

/// `value` as one shell word: in single quotes, each `'` written `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// An epoch time as RFC 3339 UTC, e.g. `2026-01-01T00:00:00Z`.
pub fn rfc3339(at: EpochSecs) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| at.to_string())
}

/// An expiry: "expires in 42 min (2026-01-01T00:00:00Z)", "expired 3 min
/// ago (…)", in the core's one wording.
pub fn expiry(at: EpochSecs, now: EpochSecs) -> String {
    format!("{} ({})", clock_words::expiry(now, at), rfc3339(at))
}

/// Any other instant: "in 42 min (2026-01-01T00:00:00Z)", "3 min ago (…)".
pub fn when(at: EpochSecs, now: EpochSecs) -> String {
    format!("{} ({})", clock_words::relative(now, at), rfc3339(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentray_core::AccessTokenSecret;

    fn reply(token: &str) -> TokenReply {
        TokenReply {
            access_token: AccessTokenSecret::new(token),
            token_type: "Bearer".into(),
            expires_on: 1_767_225_600,
            scopes: vec!["api.read".into()],
            profile: "corp".into(),
            account: Some("alice".into()),
        }
    }

    fn text(format: Format) -> String {
        render(&reply("AT.x-y_z"), format).unwrap().to_string()
    }

    #[test]
    fn every_format_renders() {
        assert_eq!(text(Format::Raw), "AT.x-y_z\n");
        assert_eq!(text(Format::Header), "Authorization: Bearer AT.x-y_z\n");
        assert_eq!(
            text(Format::Env),
            "export TOKENTRAY_ACCESS_TOKEN='AT.x-y_z' TOKENTRAY_EXPIRES_ON=1767225600\n"
        );
        assert_eq!(
            text(Format::GitCredential),
            "username=oauth2\npassword=AT.x-y_z\npassword_expiry_utc=1767225600\n"
        );
        let json: serde_json::Value = serde_json::from_str(&text(Format::Json)).unwrap();
        assert_eq!(json["access_token"], "AT.x-y_z");
        assert_eq!(json["expires_at"], "2026-01-01T00:00:00Z");
        assert_eq!(json["expires_on"], 1_767_225_600);
        assert_eq!(json["account"], "alice");
        let kube: serde_json::Value = serde_json::from_str(&text(Format::Kubectl)).unwrap();
        assert_eq!(kube["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(kube["kind"], "ExecCredential");
        assert_eq!(kube["status"]["token"], "AT.x-y_z");
        assert_eq!(
            kube["status"]["expirationTimestamp"],
            "2026-01-01T00:00:00Z"
        );
    }

    // S29: process hygiene
    #[test]
    fn a_token_that_is_not_one_word_is_refused_without_echoing_it() {
        for bad in ["a\nb", "tok en", ""] {
            let err = render(&reply(bad), Format::Raw).unwrap_err();
            assert_eq!(err.kind(), tokentray_core::ErrorKind::InvalidInput);
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        assert_eq!(shell_quote("$(x)"), "'$(x)'");
    }

    #[test]
    fn times_read_well() {
        assert_eq!(
            when(100 + 3 * 3600 + 300, 100),
            "in 3 h 5 min (1970-01-01T03:06:40Z)"
        );
        assert_eq!(when(100, 220), "2 min ago (1970-01-01T00:01:40Z)");
        assert_eq!(
            expiry(100 + 42 * 60, 100),
            "expires in 42 min (1970-01-01T00:43:40Z)"
        );
        assert_eq!(expiry(100, 280), "expired 3 min ago (1970-01-01T00:01:40Z)");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
