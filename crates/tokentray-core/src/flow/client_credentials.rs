//! The client credentials grant (RFC 6749 §4.4): a confidential client
//! gets tokens for itself with its secret, no user and no refresh token.

use super::response::token_response;
use super::{OAuth, TokenSet};
use crate::error::{Error, Result};
use crate::profile::{Profile, Provider};
use crate::secret::ClientSecret;

impl OAuth {
    /// Client credentials grant (confidential client, `client_secret_basic`).
    /// For Microsoft every scope must be a `…/.default` scope.
    pub async fn client_credentials(
        &self,
        profile: &Profile,
        client_secret: &ClientSecret,
        scopes: &[String],
    ) -> Result<TokenSet> {
        if matches!(profile.provider, Provider::Microsoft { .. })
            && (scopes.is_empty() || scopes.iter().any(|s| !s.ends_with("/.default")))
        {
            return Err(Error::InvalidInput(
                "Microsoft's client credentials grant takes `<resource>/.default` scopes only, e.g. https://graph.microsoft.com/.default".into(),
            ));
        }
        let info = self.provider(profile).await?;
        let scope = scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let reply = self
            .http
            .post_form(
                &info.metadata.token_endpoint,
                &form,
                Some((&profile.client_id, client_secret)),
                "token request",
            )
            .await?;
        let raw = token_response(&info, reply)?;
        self.token_set(profile, &info, raw, scopes, None, None)
            .await
    }
}
