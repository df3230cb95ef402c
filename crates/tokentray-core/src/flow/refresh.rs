//! The refresh token grant (RFC 6749 §6): a new access token from the
//! account's refresh token, with the identity kept bound to the account
//! (OIDC Core §12.2).

use super::response::token_response;
use super::{Identity, OAuth, TokenSet};
use crate::error::Result;
use crate::profile::Profile;
use crate::secret::RefreshToken;

impl OAuth {
    /// Refreshes. Returns the rotated refresh token when the provider sends
    /// one, else `refresh_token` again. An ID token that comes back is
    /// validated (no nonce) and must name the same issuer and subject as
    /// `previous` (OIDC Core §12.2; the audience is checked against our
    /// client id by the verifier). `invalid_grant` and friends surface as
    /// [`Error::Provider`](crate::Error::Provider): see
    /// [`requires_sign_in`](super::requires_sign_in).
    pub async fn refresh(
        &self,
        profile: &Profile,
        refresh_token: &RefreshToken,
        scopes: &[String],
        previous: Option<&Identity>,
    ) -> Result<TokenSet> {
        let info = self.provider(profile).await?;
        let scope = scopes.join(" ");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", profile.client_id.as_str()),
        ];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let reply = self
            .http
            .post_form(&info.metadata.token_endpoint, &form, None, "refresh")
            .await?;
        let raw = token_response(&info, reply)?;
        let mut tokens = self
            .token_set(profile, &info, raw, scopes, None, previous)
            .await?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        if tokens.identity.is_none() {
            tokens.identity = previous.cloned();
        }
        Ok(tokens)
    }
}
