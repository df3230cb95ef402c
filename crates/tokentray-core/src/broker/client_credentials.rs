//! Client-credentials tokens (service principals): no account and no
//! refresh token; the profile's client secret comes from the vault, the
//! token lives in memory only, one grant per profile at a time.

use super::serve::{handed_out, Freshness};
use super::{Broker, Grants, Served};
use crate::account::Record;
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::secret::ClientSecret;
use crate::token::{now, AccessToken, ScopeSet};
use crate::vault::client_secret_key;

impl<G: Grants> Broker<G> {
    /// A client-credentials token: from memory, else one grant per
    /// profile at a time. No account, no refresh token, nothing stored.
    pub(super) async fn serve_client_credentials(
        &self,
        profile: &Profile,
        scopes: &[String],
        wanted: &ScopeSet,
        want: &Freshness,
    ) -> Result<Served> {
        let id = format!("cc/{}", profile.name);
        let answer = |token: AccessToken| Served {
            token,
            profile: profile.name.clone(),
            account: None,
            rate_limited: false,
        };
        let seen = self.in_memory(&id, wanted);
        if let Some(token) = seen.as_ref().filter(|t| want.accepts(t)) {
            return Ok(answer(handed_out(token)));
        }
        let flight = self.flight(&id);
        let _in_flight = flight.lock().await;
        if let Some(token) = self.in_memory(&id, wanted) {
            let newer = seen.as_ref().is_none_or(|s| s.token != token.token);
            if (newer && token.expires_at > now()) || want.accepts(&token) {
                return Ok(answer(handed_out(&token)));
            }
        }
        let secret = self.inner.vault.get(&client_secret_key(&profile.name))?.map(ClientSecret::from_secret).ok_or_else(|| Error::NotFound {
            what: format!(
                "client secret of profile `{}` in the vault (add it again with `tokentray profile add … --client-secret-stdin`)",
                profile.name
            ),
        })?;
        let tokens = self
            .with_retries(|| {
                self.inner
                    .grants
                    .client_credentials(profile, &secret, scopes)
            })
            .await
            .inspect_err(|error| self.failed(profile, error))?;
        self.inner.activity.failed(&profile.name, None);
        let mut record = Record::default();
        record.absorb(&tokens, wanted);
        Ok(answer(self.hand_out_new(
            profile,
            &id,
            record.access_tokens,
            tokens,
            wanted,
        )))
    }
}
