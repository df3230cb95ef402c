//! Authorization code flow with PKCE S256, `state` and `nonce`, the user
//! agent left to the face: [`OAuth::begin_sign_in`] builds the authorize URL,
//! the face shows it and intercepts the redirect, [`OAuth::finish_sign_in`]
//! checks the redirect and exchanges the code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use url::Url;

use super::response::token_response;
use super::{constant_time_eq, interactive_scopes, parse_url, random_token, OAuth, TokenSet};
use crate::error::{Error, Result};
use crate::profile::{Profile, Provider};
use crate::provider::ProviderInfo;
use crate::secret::{CsrfState, Nonce, PkceVerifier};

/// A sign-in between the authorize URL and the redirect. Single use: once a
/// redirect with the right `state` was accepted, it cannot be finished again.
/// A redirect with a wrong `state` leaves it untouched (S3).
pub struct PendingSignIn {
    profile: Profile,
    info: Arc<ProviderInfo>,
    redirect_uri: Url,
    authorize_url: Url,
    scopes: Vec<String>,
    state: CsrfState,
    nonce: Option<Nonce>,
    verifier: PkceVerifier,
    used: AtomicBool,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("profile", &self.profile.name)
            .field("provider", &self.info.name)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("used", &self.used.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// Where to send the user agent.
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// The redirect URI the face must intercept.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The profile being signed in.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub(super) fn state(&self) -> &CsrfState {
        &self.state
    }
}

/// S4: the S256 challenge of a verifier.
pub(super) fn pkce_challenge(verifier: &PkceVerifier) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.expose().as_bytes()))
}

/// The query parameters of a redirect, first value of each name wins;
/// repeated security parameters make the callback invalid.
pub(super) fn callback_params(query: &str) -> Result<Vec<(String, String)>, String> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.iter().any(|(k, _)| *k == key) {
            if matches!(key.as_ref(), "state" | "code" | "iss" | "error") {
                return Err(format!("parameter `{key}` given twice"));
            }
            continue;
        }
        params.push((key.into_owned(), value.into_owned()));
    }
    Ok(params)
}

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// S3: `state` present and equal (constant time).
pub(super) fn state_matches(params: &[(String, String)], expected: &CsrfState) -> bool {
    param(params, "state")
        .is_some_and(|state| constant_time_eq(state.as_bytes(), expected.expose().as_bytes()))
}

impl OAuth {
    /// Starts a code flow: discovers the provider, creates a fresh PKCE
    /// verifier, `state` and `nonce`, and builds the authorize URL for
    /// `redirect_uri` (the loopback listener's, or the one a face
    /// intercepts, such as Microsoft's `…/oauth2/nativeclient`).
    pub async fn begin_sign_in(
        &self,
        profile: &Profile,
        redirect_uri: &str,
    ) -> Result<PendingSignIn> {
        let redirect_uri = parse_url(redirect_uri, "redirect URI")?;
        let info = self.provider(profile).await?;
        info.require_s256()?;
        let endpoint = info.authorization_endpoint()?;
        crate::http::check_url(endpoint)?;
        let scopes = interactive_scopes(&profile.provider, &profile.scopes);
        let state = CsrfState::from_secret(random_token());
        let nonce = info.oidc.then(|| Nonce::from_secret(random_token()));
        let verifier = PkceVerifier::from_secret(random_token());
        let mut authorize_url = endpoint.clone();
        {
            let mut query = authorize_url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &profile.client_id)
                .append_pair("redirect_uri", redirect_uri.as_str())
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", state.expose())
                .append_pair("code_challenge", &pkce_challenge(&verifier))
                .append_pair("code_challenge_method", "S256");
            if let Some(nonce) = &nonce {
                query.append_pair("nonce", nonce.expose());
            }
            if matches!(profile.provider, Provider::Google) {
                query
                    .append_pair("access_type", "offline")
                    .append_pair("prompt", "consent");
            }
        }
        Ok(PendingSignIn {
            profile: profile.clone(),
            info,
            redirect_uri,
            authorize_url,
            scopes,
            state,
            nonce,
            verifier,
            used: AtomicBool::new(false),
        })
    }

    /// Finishes a code flow with the redirect URL the face intercepted.
    /// Checks that it is the redirect URI, that `state` matches (else
    /// [`Error::Rejected`] and no token request, the pending sign-in stays
    /// usable), that `iss` names the issuer (RFC 9207), maps
    /// `error=access_denied` to [`Error::Cancelled`] and other errors to
    /// [`Error::Provider`], then exchanges the code and validates the ID
    /// token with the nonce.
    pub async fn finish_sign_in(
        &self,
        pending: &PendingSignIn,
        redirect_url: &str,
    ) -> Result<TokenSet> {
        let rejected = |reason: &str| Error::Rejected {
            provider: pending.info.name.clone(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(redirect_url).map_err(|_| rejected("the redirect is not a URL"))?;
        let expected = &pending.redirect_uri;
        if url.scheme() != expected.scheme()
            || url.host_str() != expected.host_str()
            || url.port_or_known_default() != expected.port_or_known_default()
            || url.path() != expected.path()
        {
            return Err(rejected(
                "the redirect does not go to this sign-in's redirect URI",
            ));
        }
        let params = callback_params(url.query().unwrap_or("")).map_err(|why| rejected(&why))?;
        self.finish_with_params(pending, &params).await
    }

    pub(super) async fn finish_with_params(
        &self,
        pending: &PendingSignIn,
        params: &[(String, String)],
    ) -> Result<TokenSet> {
        let info = &pending.info;
        let rejected = |reason: &str| Error::Rejected {
            provider: info.name.clone(),
            reason: reason.to_owned(),
        };
        if !state_matches(params, &pending.state) {
            return Err(rejected(
                "the redirect's state does not match this sign-in (S3)",
            ));
        }
        if pending.used.swap(true, Ordering::SeqCst) {
            return Err(rejected("this sign-in was already finished"));
        }
        // RFC 9207: when present (or promised), `iss` must be our issuer.
        match param(params, "iss") {
            Some(iss) if iss != info.metadata.issuer => {
                return Err(rejected("the redirect's iss names another issuer (mix-up)"))
            }
            None if info.metadata.authorization_response_iss_parameter_supported => {
                return Err(rejected(
                    "the redirect lacks the iss parameter the provider promises",
                ))
            }
            _ => {}
        }
        if let Some(code) = param(params, "error") {
            let code = crate::http::clean(code, 64);
            let description =
                param(params, "error_description").map(|d| crate::http::clean(d, 300));
            if code == "access_denied" {
                return Err(Error::Cancelled {
                    reason: "declined at the provider (access_denied)".into(),
                });
            }
            return Err(Error::Provider {
                provider: info.name.clone(),
                code,
                description,
            });
        }
        let code = param(params, "code")
            .filter(|code| !code.is_empty())
            .ok_or_else(|| rejected("the redirect carries neither code nor error"))?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("client_id", pending.profile.client_id.as_str()),
            ("code_verifier", pending.verifier.expose()),
        ];
        let reply = self
            .http
            .post_form(&info.metadata.token_endpoint, &form, None, "token request")
            .await?;
        let raw = token_response(info, reply)?;
        let wants_id_token = info.oidc && pending.scopes.iter().any(|s| s == "openid");
        if wants_id_token && raw.id_token.as_deref().is_none_or(str::is_empty) {
            return Err(rejected("no ID token in the token response"));
        }
        self.token_set(
            &pending.profile,
            info,
            raw,
            &pending.scopes,
            pending.nonce.as_ref(),
            None,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // S4: PKCE S256
    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        // S4
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    // S3: strict callback
    #[test]
    fn callback_query_parsing() {
        // S3
        let params =
            callback_params("code=a%2Bb&state=s1&iss=http%3A%2F%2F127.0.0.1%3A1&x=1&x=2").unwrap();
        assert_eq!(param(&params, "code"), Some("a+b"));
        assert_eq!(param(&params, "iss"), Some("http://127.0.0.1:1"));
        assert_eq!(param(&params, "x"), Some("1"));
        assert!(state_matches(&params, &CsrfState::new("s1")));
        assert!(!state_matches(&params, &CsrfState::new("s2")));
        assert!(!state_matches(&params, &CsrfState::new("s1x")));
        assert!(!state_matches(
            &callback_params("code=a").unwrap(),
            &CsrfState::new("")
        ));
        for twice in [
            "state=a&state=b",
            "code=a&code=b",
            "state=a&iss=x&iss=y",
            "error=a&error=b",
        ] {
            assert!(callback_params(twice).is_err(), "{twice}");
        }
        assert!(callback_params("").unwrap().is_empty());
    }
}
