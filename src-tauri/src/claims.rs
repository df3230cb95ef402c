//! The claims inspector's data: a profile's cached access token and ID
//! token, decoded by the core for display only (NOT verified, S12). Only
//! the decoded header and claims leave this module; the raw tokens never
//! reach the webview (S20).

use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::jwt;
use tokentray_core::secret::SecretOf;
use tokentray_core::token::ScopeSet;
use tokentray_core::Error;

use crate::dto::{Claims, TokenClaims};

/// The decoded tokens of `profile`'s account, read from the vault
/// (blocking). The access token shown is the one for the profile's scopes,
/// else the latest-expiring one cached.
pub fn for_profile(broker: &Broker<OAuth>, profile: &str) -> Result<Claims, Error> {
    let scopes = ScopeSet::new(&broker.profiles().get(profile)?.scopes);
    let account = broker
        .accounts()
        .for_profile(profile)?
        .ok_or_else(|| Error::NotFound {
            what: format!("an account signed in to `{profile}`"),
        })?;
    let record = broker.accounts().record(&account)?.unwrap_or_default();
    let access = record
        .access_token(&scopes)
        .or_else(|| record.access_tokens.iter().max_by_key(|t| t.expires_at))
        .map(|cached| &cached.token);
    Ok(Claims {
        profile: profile.to_owned(),
        not_verified: jwt::NOT_VERIFIED.to_owned(),
        access_token: decoded(access),
        id_token: decoded(record.id_token.as_ref()),
    })
}

/// A token's header and claims, or why there are none (the core's error
/// never echoes the token).
pub fn decoded<K>(token: Option<&SecretOf<K>>) -> TokenClaims {
    let Some(token) = token else {
        return TokenClaims::Missing;
    };
    match jwt::decode(token.expose()) {
        Ok(decoded) => TokenClaims::Jwt {
            header: decoded.header,
            claims: decoded.claims,
        },
        // an encrypted JWT says so; anything else is an opaque token
        Err(error) if token.expose().split('.').count() == 5 => TokenClaims::Opaque {
            why: error.to_string(),
        },
        Err(_) => TokenClaims::Opaque {
            why: "opaque token (not a JWT)".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"; // {"alg":"RS256","kid":"k1"}
    const CLAIMS: &str = "eyJzdWIiOiJhbGljZSIsImV4cCI6MTgwMDAwMDAwMH0"; // {"sub":"alice","exp":1800000000}

    // S20: only decoded JSON goes to the webview, never the token itself
    #[test]
    fn a_jwt_decodes_to_header_and_claims_without_the_token() {
        let token =
            tokentray_core::IdToken::new(format!("{HEADER}.{CLAIMS}.c2lnbmF0dXJlLWNhbmFyeQ"));
        let view = decoded(Some(&token));
        let TokenClaims::Jwt { header, claims } = &view else {
            panic!("a JWT: {view:?}");
        };
        assert_eq!(header["kid"], "k1");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["exp"], 1_800_000_000_i64);
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("c2lnbmF0dXJlLWNhbmFyeQ"), "{json}");
        assert!(!json.contains(HEADER), "{json}");
    }

    // S20: an opaque token is named as such, and not echoed
    #[test]
    fn opaque_and_missing_tokens_say_so() {
        let view = decoded(Some(&tokentray_core::AccessTokenSecret::new(
            "opaque-canary-token",
        )));
        let TokenClaims::Opaque { why } = &view else {
            panic!("opaque: {view:?}");
        };
        assert_eq!(why, "opaque token (not a JWT)");
        let TokenClaims::Opaque { why } =
            decoded(Some(&tokentray_core::AccessTokenSecret::new("a.b.c.d.e")))
        else {
            panic!("a JWE is not decoded");
        };
        assert!(why.contains("encrypted"), "{why}");
        assert!(!serde_json::to_string(&view).unwrap().contains("canary"));
        assert_eq!(
            decoded(None::<&tokentray_core::IdToken>),
            TokenClaims::Missing
        );
    }
}
