//! Token revocation (RFC 7009): sign-out tells the provider to forget the
//! refresh token, where it has a revocation endpoint.

use super::response::error_reply;
use super::OAuth;
use crate::error::Result;
use crate::profile::Profile;
use crate::secret::RefreshToken;

impl OAuth {
    /// Revokes a refresh token (RFC 7009). `Ok(false)` when the provider has
    /// no revocation endpoint.
    pub async fn revoke(&self, profile: &Profile, refresh_token: &RefreshToken) -> Result<bool> {
        let info = self.provider(profile).await?;
        let Some(endpoint) = info.metadata.revocation_endpoint.as_ref() else {
            return Ok(false);
        };
        let form = [
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", profile.client_id.as_str()),
        ];
        let reply = self
            .http
            .post_form(endpoint, &form, None, "revocation")
            .await?;
        if reply.is_success() {
            return Ok(true);
        }
        Err(error_reply(&info, &reply, "revocation"))
    }
}
