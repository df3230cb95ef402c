//! The claims inspector's data: a profile's cached access token and ID
//! token, decoded by the core for display, each with a truthful line on
//! what was verified: the ID token was validated by the core's flow when it
//! came (S11; the record keeps when), the access token is opaque to
//! Tokentray and never verified (S12). Times are shown raw, in local time
//! and in the core's one wording. Only the decoded header and claims leave
//! this module; the raw tokens never reach the webview (S20).

use serde_json::Map;
use tokentray_core::broker::Broker;
use tokentray_core::clock_words;
use tokentray_core::flow::OAuth;
use tokentray_core::jwt::{self, TIME_CLAIMS};
use tokentray_core::secret::SecretOf;
use tokentray_core::token::{now, EpochSecs, ScopeSet};
use tokentray_core::{Error, IdToken};

use crate::dto::{ClaimTime, Claims, TokenClaims, TokenView};

/// What is said above a decoded access token.
const ACCESS_TOKEN_TRUST: &str = "Not verified: an access token is for the API that receives it; \
     Tokentray treats it as opaque and never checks its signature. Decoded for display only.";

/// What is said above an ID token Tokentray did not validate.
const ID_TOKEN_NOT_VALIDATED: &str = "Not validated by Tokentray: this ID token was imported \
     from another tool's cache (or stored by an older version); its signature was not checked here.";

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
    let now = now();
    Ok(Claims {
        profile: profile.to_owned(),
        access_token: TokenView {
            trust: ACCESS_TOKEN_TRUST.to_owned(),
            verified: false,
            claims: decoded(access, now),
        },
        id_token: id_token_view(record.id_token.as_ref(), record.id_token_validated_at, now),
    })
}

/// The ID token, and whether (and when) the flow validated it.
fn id_token_view(
    token: Option<&IdToken>,
    validated_at: Option<EpochSecs>,
    now: EpochSecs,
) -> TokenView {
    let trust = match validated_at {
        Some(at) => format!(
            "Validated by Tokentray when it came (sign-in or refresh), {} ({}): signature \
             against the provider's published keys, issuer, audience, expiry and issue time, \
             and the nonce at sign-in. The claims below are that token's.",
            clock_words::local_time(at),
            clock_words::relative(now, at)
        ),
        None => ID_TOKEN_NOT_VALIDATED.to_owned(),
    };
    TokenView {
        trust,
        verified: validated_at.is_some(),
        claims: decoded(token, now),
    }
}

/// A token's header, claims and time claims, or why there are none (the
/// core's error never echoes the token).
fn decoded<K>(token: Option<&SecretOf<K>>, now: EpochSecs) -> TokenClaims {
    let Some(token) = token else {
        return TokenClaims::Missing;
    };
    match jwt::decode(token.expose()) {
        Ok(decoded) => TokenClaims::Jwt {
            times: times(&decoded.claims, now),
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

/// The time claims present, in the core's order, in words.
fn times(claims: &Map<String, serde_json::Value>, now: EpochSecs) -> Vec<ClaimTime> {
    TIME_CLAIMS
        .iter()
        .filter_map(|(claim, label)| {
            let at = claims.get(*claim)?.as_i64()?;
            let words = if *claim == "exp" {
                clock_words::expiry(now, at)
            } else {
                format!("{label} {}", clock_words::relative(now, at))
            };
            Some(ClaimTime {
                claim: (*claim).to_owned(),
                value: at,
                local: clock_words::local_time(at),
                words,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"; // {"alg":"RS256","kid":"k1"}
    const CLAIMS: &str = "eyJzdWIiOiJhbGljZSIsImV4cCI6MTgwMDAwMDAwMH0"; // {"sub":"alice","exp":1800000000}

    // S20: only decoded JSON goes to the webview, never the token itself
    #[test]
    fn a_jwt_decodes_to_header_and_claims_without_the_token() {
        let token = IdToken::new(format!("{HEADER}.{CLAIMS}.c2lnbmF0dXJlLWNhbmFyeQ"));
        let view = decoded(Some(&token), 1_800_000_000 - 42 * 60);
        let TokenClaims::Jwt {
            header,
            claims,
            times,
        } = &view
        else {
            panic!("a JWT: {view:?}");
        };
        assert_eq!(header["kid"], "k1");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["exp"], 1_800_000_000_i64);
        assert_eq!(times.len(), 1);
        assert_eq!(times[0].claim, "exp");
        assert_eq!(times[0].value, 1_800_000_000);
        assert_eq!(times[0].words, "expires in 42 min");
        assert_eq!(times[0].local, clock_words::local_time(1_800_000_000));
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("c2lnbmF0dXJlLWNhbmFyeQ"), "{json}");
        assert!(!json.contains(HEADER), "{json}");
    }

    // S20: an opaque token is named as such, and not echoed
    #[test]
    fn opaque_and_missing_tokens_say_so() {
        let view = decoded(
            Some(&tokentray_core::AccessTokenSecret::new(
                "opaque-canary-token",
            )),
            0,
        );
        let TokenClaims::Opaque { why } = &view else {
            panic!("opaque: {view:?}");
        };
        assert_eq!(why, "opaque token (not a JWT)");
        let TokenClaims::Opaque { why } = decoded(
            Some(&tokentray_core::AccessTokenSecret::new("a.b.c.d.e")),
            0,
        ) else {
            panic!("a JWE is not decoded");
        };
        assert!(why.contains("encrypted"), "{why}");
        assert!(!serde_json::to_string(&view).unwrap().contains("canary"));
        assert_eq!(decoded(None::<&IdToken>, 0), TokenClaims::Missing);
    }

    /// The ID token says truthfully whether the flow validated it, and when.
    #[test]
    fn the_id_token_says_when_it_was_validated() {
        let token = IdToken::new(format!("{HEADER}.{CLAIMS}.c2ln"));
        let at = 1_800_000_000 - 3 * 60;
        let view = id_token_view(Some(&token), Some(at), 1_800_000_000);
        assert!(view.verified);
        assert!(
            view.trust.starts_with("Validated by Tokentray"),
            "{}",
            view.trust
        );
        assert!(
            view.trust.contains(&clock_words::local_time(at)),
            "{}",
            view.trust
        );
        assert!(view.trust.contains("(3 min ago)"), "{}", view.trust);
        let imported = id_token_view(Some(&token), None, 1_800_000_000);
        assert!(!imported.verified);
        assert_eq!(imported.trust, ID_TOKEN_NOT_VALIDATED);
        assert!(!ACCESS_TOKEN_TRUST.contains("Validated"));
    }
}
