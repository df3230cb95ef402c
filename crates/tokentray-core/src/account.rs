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

use crate::error::{Error, Result};
use crate::secret::{AccessTokenSecret, IdToken, RefreshToken, Secret};
use crate::token::{now, EpochSecs, Identity, ScopeSet, TokenSet};
use crate::vault::Vault;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use zeroize::{Zeroize, ZeroizeOnDrop};

const INDEX_KEY: &str = "accounts";

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

/// A cached access token.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The scope set it was granted for (the cache key).
    pub scopes: ScopeSet,
    /// The token.
    pub token: AccessTokenSecret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// When it was issued (as seen here).
    pub issued_at: EpochSecs,
    /// When it expires.
    pub expires_at: EpochSecs,
}

impl CachedToken {
    /// When it should be refreshed: `margin` seconds before expiry, but not
    /// before half its lifetime has passed (so a provider whose tokens live
    /// shorter than the margin does not get a refresh on every call).
    pub fn refresh_at(&self, margin: EpochSecs) -> EpochSecs {
        let halfway = self.issued_at + (self.expires_at - self.issued_at) / 2;
        (self.expires_at - margin).max(halfway)
    }

    /// Whether it can be handed out at `now` as is: before its refresh time
    /// and valid for at least `min_valid` more seconds.
    pub fn is_fresh(&self, now: EpochSecs, margin: EpochSecs, min_valid: EpochSecs) -> bool {
        now < self.refresh_at(margin) && self.expires_at - now > min_valid
    }
}

/// The secret part of an account.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The refresh token, when the provider gave one.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token expires, if known.
    pub refresh_expires_at: Option<EpochSecs>,
    /// The latest ID token.
    pub id_token: Option<IdToken>,
    /// When Tokentray validated `id_token` (at the sign-in or refresh that
    /// brought it); `None`: it did not (imported).
    pub id_token_validated_at: Option<EpochSecs>,
    /// Access tokens by scope set.
    pub access_tokens: Vec<CachedToken>,
}

impl Record {
    /// The cached token for exactly `scopes`, if any (S16).
    pub fn access_token(&self, scopes: &ScopeSet) -> Option<&CachedToken> {
        self.access_tokens.iter().find(|t| &t.scopes == scopes)
    }

    /// Takes in what a grant returned for `asked` scopes: the rotated
    /// refresh token (the old one is kept when none came back), the ID
    /// token, and the access token under its scope set; expired tokens are
    /// dropped.
    pub fn absorb(&mut self, tokens: &TokenSet, asked: &ScopeSet) {
        if let Some(refresh) = &tokens.refresh_token {
            self.refresh_token = Some(refresh.clone());
            self.refresh_expires_at = tokens.refresh_expires_at;
        }
        if let Some(id_token) = &tokens.id_token {
            self.id_token = Some(id_token.clone());
            self.id_token_validated_at = tokens.id_token_validated_at;
        }
        let at = now();
        self.access_tokens
            .retain(|t| &t.scopes != asked && t.expires_at > at);
        self.access_tokens.push(CachedToken {
            scopes: asked.clone(),
            token: tokens.access_token.clone(),
            token_type: tokens.token_type.clone(),
            issued_at: at,
            expires_at: tokens.expires_at,
        });
    }

    fn to_json(&self) -> Result<Secret> {
        let stored = StoredRecord {
            refresh_token: self.refresh_token.as_ref().map(|s| s.expose().to_string()),
            refresh_expires_at: self.refresh_expires_at,
            id_token: self.id_token.as_ref().map(|s| s.expose().to_string()),
            id_token_validated_at: self.id_token_validated_at,
            access_tokens: self
                .access_tokens
                .iter()
                .map(|t| StoredToken {
                    scopes: t.scopes.to_vec(),
                    token: t.token.expose().to_string(),
                    token_type: t.token_type.clone(),
                    issued_at: t.issued_at,
                    expires_at: t.expires_at,
                })
                .collect(),
        };
        serde_json::to_string(&stored)
            .map(Secret::new)
            .map_err(|e| Error::internal(format!("cannot encode an account record: {e}")))
    }

    fn from_json(key: &str, json: &Secret) -> Result<Record> {
        let stored: StoredRecord =
            serde_json::from_str(json.expose()).map_err(|e| Error::VaultCorrupt {
                key: key.to_string(),
                // serde_json's message names a line and column, never the value.
                reason: format!(
                    "the account record is not valid JSON ({})",
                    json_error_position(&e)
                ),
                fix: "sign in to the account again".into(),
            })?;
        Ok(Record {
            refresh_token: stored.refresh_token.as_deref().map(RefreshToken::new),
            refresh_expires_at: stored.refresh_expires_at,
            id_token: stored.id_token.as_deref().map(IdToken::new),
            id_token_validated_at: stored.id_token_validated_at,
            access_tokens: stored
                .access_tokens
                .iter()
                .map(|t| CachedToken {
                    scopes: ScopeSet::new(&t.scopes),
                    token: AccessTokenSecret::new(t.token.as_str()),
                    token_type: t.token_type.clone(),
                    issued_at: t.issued_at,
                    expires_at: t.expires_at,
                })
                .collect(),
        })
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

/// The record as stored: plain strings, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredRecord {
    refresh_token: Option<String>,
    refresh_expires_at: Option<i64>,
    id_token: Option<String>,
    /// Absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token_validated_at: Option<i64>,
    access_tokens: Vec<StoredToken>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredToken {
    scopes: Vec<String>,
    token: String,
    token_type: String,
    #[serde(default)]
    issued_at: i64,
    expires_at: i64,
}

/// The accounts and their records in a vault.
#[derive(Clone)]
pub struct AccountStore {
    vault: Arc<dyn Vault>,
    /// The account list as last read or written by this store: also
    /// serialises its read-modify-write in this process. The vault stays
    /// the truth; [`AccountStore::reload`] drops the copy.
    index: Arc<Mutex<Option<Vec<Account>>>>,
}

impl AccountStore {
    /// Accounts kept in `vault`.
    pub fn new(vault: Arc<dyn Vault>) -> Self {
        Self {
            vault,
            index: Arc::default(),
        }
    }

    /// Every account (from memory after the first read).
    pub fn list(&self) -> Result<Vec<Account>> {
        let mut index = self.lock_index();
        if let Some(accounts) = index.as_ref() {
            return Ok(accounts.clone());
        }
        let accounts = self.read_index()?;
        *index = Some(accounts.clone());
        Ok(accounts)
    }

    /// Forgets the in-memory copy of the account list, so the next read
    /// goes to the vault (after another process changed it).
    pub fn reload(&self) {
        *self.lock_index() = None;
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, Option<Vec<Account>>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read_index(&self) -> Result<Vec<Account>> {
        match self.vault.get(INDEX_KEY)? {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_str(json.expose()).map_err(|e| Error::VaultCorrupt {
                key: INDEX_KEY.into(),
                reason: format!(
                    "the account list is not valid ({})",
                    json_error_position(&e)
                ),
                fix: "sign in again to rebuild it".into(),
            }),
        }
    }

    /// The account a profile uses: the one signed in last.
    pub fn for_profile(&self, profile: &str) -> Result<Option<Account>> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|a| a.profile == profile)
            .max_by_key(|a| a.signed_in_at))
    }

    /// The record of `account`, if there is one. A damaged record (bad
    /// JSON, a missing or altered chunk, duplicates) is an error whose fix
    /// names the profile's sign-in; it is never rewritten here.
    pub fn record(&self, account: &Account) -> Result<Option<Record>> {
        let key = account.record_key();
        self.vault
            .get(&key)
            .and_then(|json| json.map(|json| Record::from_json(&key, &json)).transpose())
            .map_err(|error| match error {
                Error::VaultCorrupt { key, reason, .. } => Error::VaultCorrupt {
                    key,
                    reason,
                    fix: account.damaged_record_fix(),
                },
                other => other,
            })
    }

    /// Stores the record and reads it back; fails unless what is stored is
    /// what was written (S15).
    pub fn write_record(&self, account: &Account, record: &Record) -> Result<()> {
        let key = account.record_key();
        let json = record.to_json()?;
        self.vault.put(&key, &json)?;
        crate::fault::fault_point!("record-before-readback");
        match self.vault.get(&key)? {
            Some(back) if back == json => Ok(()),
            _ => Err(Error::VaultCorrupt {
                key,
                reason: "the record read back differs from the record written".into(),
                fix: "check the OS credential store; another program may be rewriting Tokentray's entries".into(),
            }),
        }
    }

    /// Records a sign-in: the record first, then the account in the list
    /// (replacing an earlier sign-in of the same identity).
    pub fn save_sign_in(
        &self,
        profile: &str,
        tokens: &TokenSet,
        asked: &ScopeSet,
    ) -> Result<Account> {
        let identity = tokens.identity.clone().ok_or_else(|| Error::Provider {
            provider: profile.to_string(),
            code: "no_identity".into(),
            description: Some(
                "the sign-in returned no ID token, so the account cannot be identified".into(),
            ),
        })?;
        let account = Account {
            id: Account::id_for(profile, &identity),
            profile: profile.to_string(),
            identity,
            signed_in_at: now(),
            sign_in_required: None,
        };
        let mut record = Record::default();
        record.absorb(tokens, asked);
        self.write_record(&account, &record)?;
        self.update_index(|accounts| {
            accounts.retain(|a| a.id != account.id);
            accounts.push(account.clone());
        })?;
        Ok(account)
    }

    /// Marks an account as needing an interactive sign-in, with the reason.
    pub fn mark_sign_in_required(&self, id: &str, reason: &str) -> Result<()> {
        self.update_index(|accounts| {
            for a in accounts.iter_mut().filter(|a| a.id == id) {
                a.sign_in_required = Some(reason.to_string());
            }
        })
    }

    /// Removes an account: its record, then its place in the list.
    pub fn remove(&self, account: &Account) -> Result<()> {
        self.vault.delete(&account.record_key())?;
        self.update_index(|accounts| accounts.retain(|a| a.id != account.id))
    }

    /// Read-modify-write of the account list, always from the vault.
    fn update_index(&self, change: impl FnOnce(&mut Vec<Account>)) -> Result<()> {
        let mut index = self.lock_index();
        *index = None;
        let mut accounts = self.read_index()?;
        change(&mut accounts);
        let json = serde_json::to_string(&accounts)
            .map_err(|e| Error::internal(format!("cannot encode the account list: {e}")))?;
        self.vault.put(INDEX_KEY, &Secret::new(json))?;
        *index = Some(accounts);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MemoryVault;

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

    fn tokens(access: &str, refresh: Option<&str>, expires_in: i64) -> TokenSet {
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

    // S21: vault only
    #[test]
    fn sign_in_round_trips_and_the_index_holds_no_secret() {
        let vault = Arc::new(MemoryVault::in_memory());
        let store = AccountStore::new(vault.clone());
        let asked = ScopeSet::new(&["api.read"]);
        let account = store
            .save_sign_in("p", &tokens("AT-canary", Some("RT-canary"), 3600), &asked)
            .unwrap();
        assert_eq!(store.for_profile("p").unwrap(), Some(account.clone()));
        assert_eq!(account.label(), "alice@example");
        let index = vault.get("accounts").unwrap().unwrap();
        assert!(
            !index.expose().contains("canary"),
            "no secret in the account list"
        );

        let record = store.record(&account).unwrap().unwrap();
        assert_eq!(record.refresh_token.as_ref().unwrap().expose(), "RT-canary");
        assert_eq!(
            record.access_token(&asked).unwrap().token.expose(),
            "AT-canary"
        );
        assert!(
            record
                .access_token(&ScopeSet::new(&["api.write"]))
                .is_none(),
            "S16"
        );
        assert!(!format!("{record:?}").contains("canary"));
    }

    // S15: crash-safe rotation
    #[test]
    fn absorb_keeps_the_old_refresh_token_unless_rotated() {
        let asked = ScopeSet::new(&["api.read"]);
        let mut record = Record::default();
        record.absorb(&tokens("a1", Some("r1"), 60), &asked);
        record.absorb(&tokens("a2", None, 60), &asked);
        assert_eq!(record.refresh_token.as_ref().unwrap().expose(), "r1");
        assert_eq!(record.access_tokens.len(), 1, "one token per scope set");
        record.absorb(
            &tokens("a3", Some("r2"), 60),
            &ScopeSet::new(&["api.write"]),
        );
        assert_eq!(record.refresh_token.as_ref().unwrap().expose(), "r2");
        assert_eq!(record.access_tokens.len(), 2);
    }

    /// The claims view says when the ID token was validated: the time
    /// travels with the token, survives the vault, and a record written
    /// before it was kept reads as "not known".
    #[test]
    fn the_id_tokens_validation_time_is_kept() {
        let asked = ScopeSet::new(&["api.read"]);
        let mut record = Record::default();
        let mut signed_in = tokens("a1", Some("r1"), 60);
        signed_in.id_token_validated_at = Some(1_700_000_000);
        record.absorb(&signed_in, &asked);
        let mut no_id_token = tokens("a2", None, 60);
        no_id_token.id_token = None;
        no_id_token.id_token_validated_at = None;
        record.absorb(&no_id_token, &asked);
        assert_eq!(record.id_token_validated_at, Some(1_700_000_000));
        let read = Record::from_json("k", &record.to_json().unwrap()).unwrap();
        assert_eq!(read.id_token_validated_at, Some(1_700_000_000));
        let old = Secret::new(
            r#"{"refresh_token":"r","refresh_expires_at":null,"id_token":"h.c.s","access_tokens":[]}"#,
        );
        assert_eq!(
            Record::from_json("k", &old).unwrap().id_token_validated_at,
            None
        );
    }

    // S13: refresh rules
    #[test]
    fn freshness_uses_the_margin_but_never_less_than_half_the_lifetime() {
        let token = |issued_at, expires_at| CachedToken {
            scopes: ScopeSet::new(&["x"]),
            token: AccessTokenSecret::new("t"),
            token_type: "Bearer".into(),
            issued_at,
            expires_at,
        };
        let hour = token(0, 3600);
        assert_eq!(hour.refresh_at(300), 3300);
        assert!(hour.is_fresh(3299, 300, 0));
        assert!(!hour.is_fresh(3300, 300, 0));
        assert!(
            !hour.is_fresh(100, 300, 3600),
            "min_valid beyond the expiry"
        );
        let minute = token(0, 60);
        assert_eq!(minute.refresh_at(300), 30, "halfway, not every call");
        assert!(minute.is_fresh(29, 300, 0));
        assert!(!minute.is_fresh(30, 300, 0));
    }

    #[test]
    fn a_damaged_record_is_reported_without_its_content() {
        let vault = Arc::new(MemoryVault::in_memory());
        let store = AccountStore::new(vault.clone());
        let account = store
            .save_sign_in("p", &tokens("AT", Some("RT"), 60), &ScopeSet::new(&["x"]))
            .unwrap();
        vault
            .put(
                &account.record_key(),
                &Secret::new("{\"refresh_token\": \"RT-canary\""),
            )
            .unwrap();
        let err = store.record(&account).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultCorrupt);
        assert!(!err.to_string().contains("canary"), "{err}");
    }

    #[test]
    fn remove_and_mark() {
        let store = AccountStore::new(Arc::new(MemoryVault::in_memory()));
        let account = store
            .save_sign_in("p", &tokens("AT", Some("RT"), 60), &ScopeSet::new(&["x"]))
            .unwrap();
        store
            .mark_sign_in_required(&account.id, "invalid_grant")
            .unwrap();
        assert_eq!(
            store
                .for_profile("p")
                .unwrap()
                .unwrap()
                .sign_in_required
                .as_deref(),
            Some("invalid_grant")
        );
        store.remove(&account).unwrap();
        assert!(store.list().unwrap().is_empty());
        assert!(store.record(&account).unwrap().is_none());
    }
}
