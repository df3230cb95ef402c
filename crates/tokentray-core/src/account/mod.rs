//! Accounts: a signed-in identity of a profile (profile + issuer +
//! subject), and where its tokens are kept.
//!
//! Two kinds of vault entries (S21, S22):
//! - `accounts`: the account list, display fields only, no secret;
//! - `account/PROFILE/ID`: one record per account with the refresh token,
//!   the last ID token and the cached access tokens keyed by scope set
//!   (S16), each with its absolute UTC expiry.
//!
//! Record writes are read back and compared before they count (S15), so a
//! rotated refresh token is known to be stored before the access token that
//! came with it is handed out.
//!
//! [`Account`] and [`AccountInfo`] are here; `record` holds the secret
//! part ([`Record`], [`CachedToken`]) and its stored form; `store` keeps
//! both in the vault ([`AccountStore`]).

mod record;
mod store;

use crate::token::{EpochSecs, Identity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use record::{CachedToken, Record};
pub use store::AccountStore;

/// A signed-in account. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stable id: a hash of profile, issuer and subject.
    pub id: String,
    /// The profile it signed in with.
    pub profile: String,
    /// Who it is.
    #[serde(flatten)]
    pub identity: Identity,
    /// When it signed in.
    pub signed_in_at: EpochSecs,
    /// Why it needs an interactive sign-in again, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_required: Option<String>,
}

impl Account {
    /// The id of the account of `profile` with this identity.
    pub fn id_for(profile: &str, identity: &Identity) -> String {
        let mut hash = Sha256::new();
        for part in [profile, &identity.issuer, &identity.subject] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(&hash.finalize()[..8])
    }

    /// The vault key of this account's record.
    pub fn record_key(&self) -> String {
        format!("account/{}/{}", self.profile, self.id)
    }

    /// Why the account needs a sign-in when its record is gone from the
    /// vault (deleted by another program or by hand).
    pub fn missing_record_reason(&self) -> String {
        format!(
            "its tokens are missing from the vault (entry `{}` was deleted outside Tokentray)",
            self.record_key()
        )
    }

    /// What to do about a damaged record: a sign-in replaces it.
    fn damaged_record_fix(&self) -> String {
        format!(
            "sign in again with `tokentray login {}`, which replaces the entry (until then it is left as it is)",
            self.profile
        )
    }

    /// A short label for menus and messages: username, else e-mail, else
    /// name, else subject.
    pub fn label(&self) -> std::borrow::Cow<'_, str> {
        let i = &self.identity;
        match i
            .username
            .as_deref()
            .or(i.email.as_deref())
            .or(i.name.as_deref())
        {
            // display claims are cleaned when they are read (flow)
            Some(shown) => shown.into(),
            // the subject is kept as the provider sent it (it binds the
            // account), so it is cleaned for display here (S32)
            None => crate::http::clean(&i.subject, 128).into(),
        }
    }
}

/// An account as the faces show it: what served a token, or stands behind
/// a profile's status. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInfo {
    /// Username, e-mail, name or subject: what menus show.
    pub label: String,
    /// The issuer it is bound to.
    pub issuer: String,
    /// Its subject at that issuer.
    pub subject: String,
}

impl From<&Account> for AccountInfo {
    fn from(account: &Account) -> Self {
        Self {
            label: account.label().into_owned(),
            issuer: account.identity.issuer.clone(),
            subject: account.identity.subject.clone(),
        }
    }
}

/// Where a JSON error is, never what the text there says (it may be a token).
fn json_error_position(error: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {}, column {}",
        error.classify(),
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{AccessTokenSecret, IdToken, RefreshToken};
    use crate::token::{now, ScopeSet, TokenSet};
    use crate::vault::MemoryVault;
    use std::sync::Arc;

    pub(crate) fn identity(sub: &str) -> Identity {
        Identity {
            issuer: "https://idp.example".into(),
            subject: sub.into(),
            name: Some("Alice".into()),
            username: Some(format!("{sub}@example")),
            email: None,
            tenant: None,
        }
    }

    pub(super) fn tokens(access: &str, refresh: Option<&str>, expires_in: i64) -> TokenSet {
        TokenSet {
            access_token: AccessTokenSecret::new(access),
            token_type: "Bearer".into(),
            expires_at: now() + expires_in,
            scopes: vec!["api.read".into()],
            refresh_token: refresh.map(RefreshToken::new),
            refresh_expires_at: None,
            id_token: Some(IdToken::new("header.claims.sig")),
            id_token_validated_at: Some(now()),
            identity: Some(identity("alice")),
        }
    }

    // S32: a subject shown as the label loses control characters
    #[test]
    fn a_label_from_the_subject_is_safe_to_show() {
        let store = AccountStore::new(Arc::new(MemoryVault::in_memory()));
        let mut set = tokens("AT", Some("RT"), 3600);
        set.identity = Some(Identity {
            name: None,
            username: None,
            ..identity("mal\u{1b}]0;owned\u{7}\u{202E}lory")
        });
        let asked = ScopeSet::new(&["api.read"]);
        let account = store.save_sign_in("p", &set, &asked).unwrap();
        assert_eq!(account.label(), "mal]0;ownedlory");
        assert_eq!(
            account.identity.subject,
            "mal\u{1b}]0;owned\u{7}\u{202E}lory"
        );
    }
}
