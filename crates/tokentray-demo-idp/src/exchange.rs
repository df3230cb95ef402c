//! What the endpoints and `grants` hand each other: a checked
//! authorization request, the tokens a token request obtained, and a token
//! request's failure as its OAuth error (RFC 6749 §5.2, RFC 8628 §3.5).

use crate::client::User;

/// An authorization request the login page answers.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    /// The PKCE S256 challenge.
    pub challenge: String,
    pub nonce: Option<String>,
}

/// What a token request obtained: the tokens to hand out and for whom.
/// Its `Debug` leaves the tokens out.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub user: User,
    /// The access token's scopes.
    pub scopes: Vec<String>,
    /// The sign-in asked for `openid`: an ID token goes with the tokens.
    pub openid: bool,
    pub nonce: Option<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("user", &self.user)
            .field("scopes", &self.scopes)
            .field("openid", &self.openid)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// A token request's failure, as an OAuth error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    InvalidGrant(&'static str),
    InvalidScope,
    AuthorizationPending,
    AccessDenied,
    ExpiredToken,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::AuthorizationPending => "authorization_pending",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidGrant(why) => why,
            Self::InvalidScope => "the scope asks for more than was granted",
            Self::AuthorizationPending => "the user has not approved the code yet",
            Self::AccessDenied => "the user declined",
            Self::ExpiredToken => "the device code expired",
        }
    }
}
