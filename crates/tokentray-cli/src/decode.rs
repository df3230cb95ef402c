//! `tokentray decode`: a JWT's header and claims, for display only. The
//! signature is NOT verified (the access tokens Tokentray hands out are
//! opaque to it, S12): the output says so on top, and errors never echo
//! the token.

use crate::cli::DecodeArgs;
use crate::format::when;
use crate::output::{print_json, print_text, Failure};
use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};
use std::io::Read;
use std::process::ExitCode;
use tokentray_core::Error;

/// Longest token read from stdin.
const MAX_TOKEN: u64 = 1024 * 1024;

/// base64url, padded or not.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The label on everything `decode` prints.
pub const NOT_VERIFIED: &str =
    "NOT VERIFIED: the signature was not checked; nothing below can be trusted";

/// A decoded JWS.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

pub fn run(args: &DecodeArgs) -> Result<ExitCode, Failure> {
    let text = if args.token == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_TOKEN)
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read the token from", "<stdin>", e))?;
        text
    } else {
        args.token.clone()
    };
    let decoded = decode(&text)?;
    if args.json {
        print_json(&serde_json::json!({
            "verified": false,
            "header": decoded.header,
            "claims": decoded.claims,
        }))?;
    } else {
        print_text(&pretty(&decoded, tokentray_core::token::now()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Splits and decodes a compact JWS (`header.payload.signature`); a
/// leading `Bearer ` is ignored.
pub fn decode(text: &str) -> Result<Decoded, Error> {
    let text = text.trim();
    let text = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .unwrap_or(text)
        .trim();
    let parts: Vec<&str> = text.split('.').collect();
    match parts.len() {
        3 => {}
        5 => {
            return Err(Error::InvalidInput(
                "this is an encrypted JWT (JWE, 5 parts): its claims cannot be read without the key"
                    .into(),
            ))
        }
        n => {
            return Err(Error::InvalidInput(format!(
                "not a JWT: expected 3 parts separated by `.`, found {n} (opaque tokens cannot be decoded)"
            )))
        }
    }
    Ok(Decoded {
        header: part(parts[0], "header")?,
        claims: part(parts[1], "claims")?,
    })
}

fn part(text: &str, what: &str) -> Result<Map<String, Value>, Error> {
    let bytes = BASE64URL
        .decode(text)
        .map_err(|_| Error::InvalidInput(format!("not a JWT: its {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::InvalidInput(format!(
            "not a JWT: its {what} is not a JSON object"
        ))),
    }
}

/// The human form: the label, header and claims as indented JSON, then the
/// time claims as dates.
pub fn pretty(decoded: &Decoded, now: i64) -> String {
    let json = |map: &Map<String, Value>| {
        serde_json::to_string_pretty(map).unwrap_or_else(|_| "{}".into())
    };
    let mut text = format!(
        "{NOT_VERIFIED}\n\nheader:\n{}\n\nclaims:\n{}\n",
        json(&decoded.header),
        json(&decoded.claims)
    );
    let times: Vec<String> = [("iat", "issued"), ("nbf", "not before"), ("exp", "expires")]
        .iter()
        .filter_map(|(claim, label)| {
            let at = decoded.claims.get(*claim)?.as_i64()?;
            Some(format!("  {label:<11} {}\n", when(at, now)))
        })
        .collect();
    if !times.is_empty() {
        text.push_str("\ntimes:\n");
        text.extend(times);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(value: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
    }

    #[test]
    fn a_jws_decodes_and_is_labelled() {
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"iss":"https://idp.example","sub":"alice","exp":1767225600}"#)
        );
        let decoded = decode(&format!("Bearer {token}\n")).unwrap();
        assert_eq!(decoded.header["kid"], "k1");
        assert_eq!(decoded.claims["sub"], "alice");
        let shown = pretty(&decoded, 1_767_225_600 - 120);
        assert!(shown.starts_with("NOT VERIFIED"), "{shown}");
        assert!(
            shown.contains("expires     in 2 min (2026-01-01T00:00:00Z)"),
            "{shown}"
        );
    }

    #[test]
    fn garbage_is_refused_without_echoing_it() {
        for bad in ["opaque-canary", "a.b.c", "x.y.z.w.v", "e30.bm90LWpzb24.x"] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.kind(), "invalid_input");
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }
}
