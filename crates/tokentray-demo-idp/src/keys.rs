//! The provider's signing key: one P-256 key made at start (it dies with
//! the process, as every token does), the JWKS that publishes it, and ES256
//! ID tokens signed with it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};

use crate::StartError;

/// The signing key and its id.
pub struct Keys {
    key: SigningKey,
    kid: String,
}

impl Keys {
    /// A fresh key from 256 random bits (a value outside the curve's order
    /// is drawn again; it practically never is).
    pub fn generate() -> Result<Self, StartError> {
        let key = (0..8)
            .find_map(|_| SigningKey::from_slice(&rand::random::<[u8; 32]>()).ok())
            .ok_or(StartError::Key)?;
        let kid = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 9]>());
        Ok(Self { key, kid })
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        let point = self.key.verifying_key().to_sec1_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            // an uncompressed point always has both coordinates
            return json!({ "keys": [] });
        };
        json!({ "keys": [{
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }]})
    }

    /// `claims` as a compact JWS, ES256.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn tokens_verify_with_the_published_key_only() {
        let keys = Keys::generate().unwrap();
        let token = keys.sign(&json!({"sub": "alice"}));
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        let jwk = &keys.jwks()["keys"][0];
        assert_eq!(jwk["kid"], keys.kid);
        let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        let mut sec1 = vec![4u8];
        sec1.extend(coordinate("x"));
        sec1.extend(coordinate("y"));
        let published = VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        assert!(published.verify(input.as_bytes(), &signature).is_ok());
        let other = Keys::generate().unwrap();
        assert_ne!(other.kid, keys.kid);
        assert!(other
            .key
            .verifying_key()
            .verify(input.as_bytes(), &signature)
            .is_err());
    }
}
