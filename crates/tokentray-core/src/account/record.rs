//! The secret part of an account: its refresh token, ID token and cached
//! access tokens (one per scope set, S16), how a grant's tokens are taken
//! in, and the JSON form it is stored in (wiped when dropped).

use super::json_error_position;
use crate::error::{Error, Result};
use crate::secret::{AccessTokenSecret, IdToken, RefreshToken, Secret};
use crate::token::{now, EpochSecs, ScopeSet, TokenSet};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

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

    pub(super) fn to_json(&self) -> Result<Secret> {
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

    pub(super) fn from_json(key: &str, json: &Secret) -> Result<Record> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::tokens;
    use super::*;

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
}
