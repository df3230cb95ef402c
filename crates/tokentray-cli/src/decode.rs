//! `tokentray decode`: a JWT's header and claims, for display only. The
//! signature is NOT verified (the access tokens Tokentray hands out are
//! opaque to it, S12): the output says so on top, and errors never echo
//! the token.

use crate::cli::DecodeArgs;
use crate::format::when;
use crate::output::{print_json, print_text, Failure};
use serde_json::{Map, Value};
use std::io::Read;
use std::process::ExitCode;
use tokentray_core::jwt::{decode, Decoded, NOT_VERIFIED, TIME_CLAIMS};
use tokentray_core::Error;

/// Longest token read from stdin.
const MAX_TOKEN: u64 = 1024 * 1024;

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
    let times: Vec<String> = TIME_CLAIMS
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

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn the_human_form_is_labelled_and_dates_the_times() {
        let decoded = Decoded {
            header: object(serde_json::json!({"alg": "RS256", "kid": "k1"})),
            claims: object(serde_json::json!({"sub": "alice", "exp": 1_767_225_600})),
        };
        let shown = pretty(&decoded, 1_767_225_600 - 120);
        assert!(shown.starts_with("NOT VERIFIED"), "{shown}");
        assert!(shown.contains("\"kid\": \"k1\""), "{shown}");
        assert!(
            shown.contains("expires     in 2 min (2026-01-01T00:00:00Z)"),
            "{shown}"
        );
    }
}
