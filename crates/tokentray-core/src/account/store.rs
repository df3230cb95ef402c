//! The accounts and their records in a vault: the account list (display
//! fields only, cached in memory) and one record per account, each write
//! read back before it counts (S15).

use super::{json_error_position, Account, Record};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token::{now, ScopeSet, TokenSet};
use crate::vault::Vault;
use std::sync::{Arc, Mutex};

const INDEX_KEY: &str = "accounts";

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
    use super::super::tests::tokens;
    use super::*;
    use crate::vault::MemoryVault;

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
