//! ES256 ID tokens for the hostile provider, signed with fixed throwaway
//! P-256 keys (test-only: the scalars below protect nothing), and the JWKS
//! that publishes the "known" key only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// `kid` of the key the JWKS publishes.
const KNOWN_KID: &str = "hostile-known";
/// `kid` of a key the JWKS never publishes.
const UNKNOWN_KID: &str = "hostile-unknown";
/// `kid` of the key a rotation brings: published only once rotated.
const ROTATED_KID: &str = "hostile-rotated";

/// Throwaway private scalars (any value below the P-256 order works).
const KNOWN_SCALAR: [u8; 32] = [0x11; 32];
const UNKNOWN_SCALAR: [u8; 32] = [0x22; 32];
const ROTATED_SCALAR: [u8; 32] = [0x33; 32];

/// Which key signs a token, or none (`alg: none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// The published key.
    Known,
    /// A key the JWKS does not hold.
    Unknown,
    /// The key a rotation brings (the JWKS holds it once rotated).
    Rotated,
    /// `{"alg":"none"}` and an empty signature.
    None,
}

fn key(scalar: &[u8; 32]) -> Result<SigningKey> {
    SigningKey::from_slice(scalar).map_err(|_| Error::new("bad throwaway P-256 scalar"))
}

/// A compact JWS of `claims`.
pub fn sign(claims: &Value, signing: Signing) -> Result<String> {
    let (header, key) = match signing {
        Signing::Known => (
            json!({"alg": "ES256", "typ": "JWT", "kid": KNOWN_KID}),
            Some(key(&KNOWN_SCALAR)?),
        ),
        Signing::Unknown => (
            json!({"alg": "ES256", "typ": "JWT", "kid": UNKNOWN_KID}),
            Some(key(&UNKNOWN_SCALAR)?),
        ),
        Signing::Rotated => (
            json!({"alg": "ES256", "typ": "JWT", "kid": ROTATED_KID}),
            Some(key(&ROTATED_SCALAR)?),
        ),
        Signing::None => (json!({"alg": "none", "typ": "JWT"}), None),
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = match key {
        Some(key) => {
            let signature: Signature = key.sign(input.as_bytes());
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        }
        None => String::new(),
    };
    Ok(format!("{input}.{signature}"))
}

/// The JWKS: the known key, and the rotated one once `rotated`.
pub fn jwks(rotated: bool) -> Result<Value> {
    let mut keys = vec![public_jwk(&KNOWN_SCALAR, KNOWN_KID)?];
    if rotated {
        keys.push(public_jwk(&ROTATED_SCALAR, ROTATED_KID)?);
    }
    Ok(json!({ "keys": keys }))
}

fn public_jwk(scalar: &[u8; 32], kid: &str) -> Result<Value> {
    let point = key(scalar)?.verifying_key().to_sec1_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(Error::new("the public key has no affine coordinates"));
    };
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
    }))
}
