//! Decoding a JWT's header and claims for display only (the claims
//! inspector, `tokentray decode`). Nothing here verifies a signature: access
//! tokens are opaque to Tokentray (S12), and ID tokens are verified by the
//! flow with a library verifier. Errors never echo the token.

use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::Error;

/// base64url, padded or not.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The label on everything `decode` prints.
pub const NOT_VERIFIED: &str =
    "NOT VERIFIED: the signature was not checked; nothing below can be trusted";

/// The claims that hold instants (epoch seconds), with what each instant
/// is, in the order they are shown.
pub const TIME_CLAIMS: [(&str, &str); 4] = [
    ("auth_time", "signed in"),
    ("iat", "issued"),
    ("nbf", "not before"),
    ("exp", "expires"),
];

/// A decoded JWS: header and claims, NOT verified.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(value: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
    }

    #[test]
    fn a_jws_decodes_with_or_without_bearer() {
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"iss":"https://idp.example","sub":"alice"}"#)
        );
        let decoded = decode(&format!("Bearer {token}\n")).unwrap();
        assert_eq!(decoded.header["kid"], "k1");
        assert_eq!(decoded.claims["sub"], "alice");
        assert_eq!(decode(&token).unwrap(), decoded);
    }

    // S12: access tokens are opaque
    #[test]
    fn garbage_is_refused_without_echoing_it() {
        for bad in ["opaque-canary", "a.b.c", "x.y.z.w.v", "e30.bm90LWpzb24.x"] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }
}
