//! Who signed in, beyond the ID token: a plain OAuth2 provider's user
//! endpoint (GitHub's `/user`) for providers without ID tokens, and the
//! OIDC userinfo endpoint for display claims an ID token left out.

use serde::Deserialize;

use super::response::error_reply;
use super::{Identity, OAuth};
use crate::error::{Error, Result};
use crate::http::parse_json;
use crate::provider::ProviderInfo;
use crate::secret::AccessTokenSecret;

impl OAuth {
    /// Who signed in at a plain OAuth2 provider (GitHub), which has no ID
    /// token: its user endpoint, read with the new access token. `None`
    /// when the provider has no such endpoint.
    pub(super) async fn oauth2_identity(
        &self,
        info: &ProviderInfo,
        access_token: &AccessTokenSecret,
    ) -> Result<Option<Identity>> {
        let Some(endpoint) = info.metadata.userinfo_endpoint.as_ref() else {
            return Ok(None);
        };
        let reply = self
            .http
            .get_json_bearer(endpoint, access_token, "user")
            .await?;
        if !reply.is_success() {
            return Err(error_reply(info, &reply, "user request"));
        }
        oauth2_user(&info.metadata.issuer, &reply.body).map(Some)
    }

    /// Fills display claims (name, username, email) the ID token left out
    /// from the userinfo endpoint, when its `sub` is the same. Display only:
    /// a failure leaves the identity as it was.
    pub(super) async fn complete_identity(
        &self,
        info: &ProviderInfo,
        mut identity: Identity,
        access_token: &AccessTokenSecret,
    ) -> Identity {
        #[derive(Deserialize)]
        struct UserInfo {
            sub: String,
            name: Option<String>,
            preferred_username: Option<String>,
            email: Option<String>,
        }
        if identity.name.is_some() && identity.username.is_some() && identity.email.is_some() {
            return identity;
        }
        let Some(endpoint) = info.metadata.userinfo_endpoint.as_ref() else {
            return identity;
        };
        let reply = match self
            .http
            .get_json_bearer(endpoint, access_token, "userinfo")
            .await
        {
            Ok(reply) if reply.is_success() => reply,
            Ok(reply) => {
                tracing::debug!(
                    status = reply.status,
                    "userinfo refused; identity from the ID token only"
                );
                return identity;
            }
            Err(error) => {
                tracing::debug!(%error, "userinfo failed; identity from the ID token only");
                return identity;
            }
        };
        match parse_json::<UserInfo>(&reply.body, "userinfo") {
            Ok(user) if user.sub == identity.subject => {
                identity.name = identity.name.or(user.name);
                identity.username = identity.username.or(user.preferred_username);
                identity.email = identity.email.or(user.email);
            }
            _ => tracing::debug!("userinfo unusable or for another subject; ignored"),
        }
        identity
    }
}

/// An identity from a plain OAuth2 user endpoint (GitHub's `/user`: a
/// numeric `id`, the `login`, optional `name` and `email`). The subject is
/// the id, which stays when the user renames their login.
pub(super) fn oauth2_user(issuer: &str, body: &[u8]) -> Result<Identity> {
    #[derive(Deserialize)]
    struct User {
        id: serde_json::Value,
        login: Option<String>,
        name: Option<String>,
        email: Option<String>,
    }
    let user: User = parse_json(body, "user")?;
    let subject = match user.id {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if !s.is_empty() => s,
        _ => {
            return Err(Error::Network(
                "the user endpoint's answer has no usable `id`".into(),
            ))
        }
    };
    Ok(Identity {
        issuer: issuer.to_owned(),
        subject,
        name: user.name,
        username: user.login,
        email: user.email,
        tenant: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_users_become_identities_keyed_by_id() {
        let body = br#"{"login":"octocat","id":583231,"name":"The Octocat","email":null,"plan":{"name":"free"}}"#;
        let identity = oauth2_user("https://github.com", body).unwrap();
        assert_eq!(
            identity.subject, "583231",
            "the id, not the renamable login"
        );
        assert_eq!(identity.username.as_deref(), Some("octocat"));
        assert_eq!(identity.name.as_deref(), Some("The Octocat"));
        assert_eq!(identity.email, None);
        assert_eq!(identity.issuer, "https://github.com");
        assert!(oauth2_user("https://github.com", br#"{"login":"x"}"#).is_err());
        assert!(oauth2_user("https://github.com", br#"{"id":null}"#).is_err());
    }
}
