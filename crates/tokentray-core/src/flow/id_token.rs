//! ID-token validation (S11) through the `openidconnect` crate's verifier:
//! we only configure it (allowed algorithms, clock, nonce) and add the checks
//! it leaves to the client (`azp`, Microsoft's `{tenantid}` issuer).

use std::time::Duration;

use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use super::{constant_time_eq, Identity, OAuth, MAX_CLOCK_SKEW};
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::provider::{IssuerRule, ProviderInfo};
use crate::secret;

impl OAuth {
    /// Validates an ID token for `profile` (S11): signature by the
    /// provider's JWKS (fetched again once on an unknown `kid`), `iss`,
    /// `aud`, `azp`, `exp` and `iat` with the configured skew, and `nonce`
    /// when `nonce` is given (sign-in) — `None` skips it (refresh, device).
    pub async fn validate_id_token(
        &self,
        profile: &Profile,
        id_token: &secret::IdToken,
        nonce: Option<&secret::Nonce>,
    ) -> Result<Identity> {
        let info = self.provider(profile).await?;
        self.validate_with(&info, &profile.client_id, id_token, nonce)
            .await
    }

    pub(super) async fn validate_with(
        &self,
        info: &ProviderInfo,
        client_id: &str,
        id_token: &secret::IdToken,
        nonce: Option<&secret::Nonce>,
    ) -> Result<Identity> {
        let skew = self.options.clock_skew.min(MAX_CLOCK_SKEW);
        let keys = self.providers.keys(&self.http, info, false).await?;
        match verify(info, client_id, &keys, id_token, nonce, skew) {
            Err(Failure::UnknownKey) => {
                let keys = self.providers.keys(&self.http, info, true).await?;
                verify(info, client_id, &keys, id_token, nonce, skew)
                    .map_err(|failure| failure.into_error(info))
            }
            other => other.map_err(|failure| failure.into_error(info)),
        }
    }
}

/// Claims beyond the standard ones that we read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct ExtraClaims {
    /// Microsoft tenant id.
    tid: Option<String>,
    /// Microsoft user principal name.
    upn: Option<String>,
}

impl AdditionalClaims for ExtraClaims {}

type Token = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Asymmetric algorithms only: no `none`, no HMAC (S11).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Why a token failed; `UnknownKey` asks the caller to fetch the JWKS again.
#[derive(Debug)]
pub(super) enum Failure {
    UnknownKey,
    Invalid(String),
}

impl Failure {
    pub(super) fn into_error(self, info: &ProviderInfo) -> Error {
        let reason = match self {
            Failure::UnknownKey => {
                "the ID token is signed with a key the provider does not publish".to_owned()
            }
            Failure::Invalid(reason) => reason,
        };
        Error::Rejected {
            provider: info.name.clone(),
            // The verifier's messages may quote claim values.
            reason: format!("invalid ID token: {}", crate::http::clean(&reason, 300)),
        }
    }
}

pub(super) fn verify(
    info: &ProviderInfo,
    client_id: &str,
    keys: &CoreJsonWebKeySet,
    id_token: &secret::IdToken,
    nonce: Option<&secret::Nonce>,
    skew: Duration,
) -> Result<Identity, Failure> {
    let token: Token = id_token
        .expose()
        .parse()
        .map_err(|_| Failure::Invalid("not a well-formed JWT".into()))?;
    let (issuer, exact) = match &info.issuer_rule {
        IssuerRule::Exact(issuer) => (issuer.clone(), true),
        // Checked below, with the token's own claims.
        IssuerRule::MicrosoftTemplate(_) | IssuerRule::Google => {
            (info.metadata.issuer.clone(), false)
        }
    };
    let issuer = IssuerUrl::new(issuer).map_err(|_| Failure::Invalid("bad issuer URL".into()))?;
    let skew = chrono::Duration::from_std(skew).unwrap_or_else(|_| chrono::Duration::zero());
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client_id.to_owned()),
        issuer,
        keys.clone(),
    )
    .set_allowed_algs(ALLOWED_ALGS)
    .require_issuer_match(exact)
    // exp: tolerate `skew` of clock difference.
    .set_time_fn(move || chrono::Utc::now() - skew)
    // iat: not in the future beyond the skew.
    .set_issue_time_verifier_fn(move |iat| {
        if iat > chrono::Utc::now() + skew {
            Err("issued in the future".to_owned())
        } else {
            Ok(())
        }
    });
    let nonce_check = |found: Option<&Nonce>| -> Result<(), String> {
        match (nonce, found) {
            (None, _) => Ok(()),
            (Some(expected), Some(found))
                if constant_time_eq(expected.expose().as_bytes(), found.secret().as_bytes()) =>
            {
                Ok(())
            }
            (Some(_), Some(_)) => Err("nonce mismatch".to_owned()),
            (Some(_), None) => Err("nonce missing".to_owned()),
        }
    };
    let claims = token
        .claims(&verifier, nonce_check)
        .map_err(|err| match err {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => Failure::UnknownKey,
            other => Failure::Invalid(describe(&other)),
        })?;

    // OIDC Core §3.1.3.7 steps 4–5, which the library leaves to us.
    let audiences = claims.audiences();
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != client_id => {
            return Err(Failure::Invalid("azp is another client".into()))
        }
        None if audiences.len() > 1 => {
            return Err(Failure::Invalid("several audiences but no azp".into()))
        }
        _ => {}
    }
    let extra = claims.additional_claims();
    let iss = claims.issuer().as_str();
    if !exact {
        info.issuer_rule
            .check(iss, extra.tid.as_deref())
            .map_err(Failure::Invalid)?;
    } else if iss != info.metadata.issuer {
        return Err(Failure::Invalid("issuer mismatch".into()));
    }

    Ok(Identity {
        issuer: iss.to_owned(),
        subject: claims.subject().as_str().to_owned(),
        name: claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_owned()),
        username: claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| extra.upn.clone()),
        email: claims.email().map(|e| e.as_str().to_owned()),
        tenant: extra.tid.clone(),
    })
}

/// The verifier's error, reworded; its messages quote claim values (issuer,
/// audiences, times), never the token itself.
fn describe(err: &ClaimsVerificationError) -> String {
    match err {
        ClaimsVerificationError::Expired(_) => "expired or issued in the future".into(),
        ClaimsVerificationError::InvalidAudience(_) => "not issued for this client (aud)".into(),
        ClaimsVerificationError::InvalidIssuer(_) => "issuer mismatch".into(),
        ClaimsVerificationError::InvalidNonce(why) => format!("{why} (replay or mix-up)"),
        ClaimsVerificationError::SignatureVerification(inner) => match inner {
            SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::UnsupportedAlg(_) => {
                "signature algorithm not allowed (none and HMAC are refused)".into()
            }
            SignatureVerificationError::NoSignature => "unsigned".into(),
            _ => "bad signature".into(),
        },
        other => format!("{other}"),
    }
}
