//! The real grants the broker runs: the OAuth layer ([`OAuth`]), seen
//! through the broker's [`Grants`] trait. (Here, not in `flow`, so the
//! flows know nothing of the broker above them.)

use super::Grants;
use crate::error::Result;
use crate::flow::OAuth;
use crate::profile::Profile;
use crate::secret::{ClientSecret, RefreshToken};
use crate::token::{Identity, TokenSet};

impl Grants for OAuth {
    fn refresh(
        &self,
        profile: &Profile,
        refresh_token: &RefreshToken,
        scopes: &[String],
        previous: Option<&Identity>,
    ) -> impl std::future::Future<Output = Result<TokenSet>> + Send {
        OAuth::refresh(self, profile, refresh_token, scopes, previous)
    }

    fn client_credentials(
        &self,
        profile: &Profile,
        client_secret: &ClientSecret,
        scopes: &[String],
    ) -> impl std::future::Future<Output = Result<TokenSet>> + Send {
        OAuth::client_credentials(self, profile, client_secret, scopes)
    }

    fn revoke(
        &self,
        profile: &Profile,
        refresh_token: &RefreshToken,
    ) -> impl std::future::Future<Output = Result<bool>> + Send {
        OAuth::revoke(self, profile, refresh_token)
    }
}
