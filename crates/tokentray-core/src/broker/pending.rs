//! Rotations the vault refused (S15): when the provider rotated the
//! refresh token and the vault would not store the new record, the record
//! is kept here, in memory, as the one to use, together with the profile's
//! cross-process lock, so no other process can read the retired refresh
//! token from the vault and replay it meanwhile. The write is retried with
//! backoff in the background and again by the next request; the first
//! write that succeeds releases the lock. Only if the process dies before
//! any write succeeds is the new refresh token lost (the account then
//! needs a sign-in; the old token was spent).

use super::{Broker, Event, Grants};
use crate::account::{Account, Record};
use crate::error::{Error, Result};
use crate::lock::ProfileLock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Tries of a record write before it counts as refused.
const WRITE_TRIES: u32 = 3;
/// Pause before the first retry inline; doubled each time.
const INLINE_PAUSE: Duration = Duration::from_millis(50);
/// Pause before the first background retry; doubled up to [`MAX_PAUSE`].
const BACKGROUND_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// A rotated record the vault has not taken yet.
#[derive(Debug)]
pub(super) struct Rotation {
    pub(super) account: Account,
    pub(super) record: Record,
    /// The profile's lock, held until the record is stored.
    pub(super) lock: Option<ProfileLock>,
}

/// The rotations waiting for the vault, by account id.
#[derive(Debug, Default)]
pub(super) struct Pending(Mutex<HashMap<String, Rotation>>);

impl Pending {
    pub(super) fn take(&self, id: &str) -> Option<Rotation> {
        self.lock().remove(id)
    }

    /// Forgets every rotation kept for `profile` (a new sign-in replaces
    /// them), releasing their locks.
    pub(super) fn drop_profile(&self, profile: &str) {
        self.lock()
            .retain(|_, rotation| rotation.account.profile != profile);
    }

    fn put(&self, rotation: Rotation) {
        self.lock().insert(rotation.account.id.clone(), rotation);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Rotation>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<G: Grants> Broker<G> {
    /// Writes `record` (read back, S15), trying a few times over a fraction
    /// of a second before giving up.
    pub(super) async fn write_with_retries(
        &self,
        account: &Account,
        record: &Record,
    ) -> Result<()> {
        let mut pause = INLINE_PAUSE;
        let mut tries = 1;
        loop {
            match self.inner.accounts.write_record(account, record) {
                Err(error) if tries < WRITE_TRIES => {
                    tracing::debug!(profile = %account.profile, tries, %error, "record write refused; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    tries += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// Keeps a rotation the vault refused, announces it, and starts its
    /// background writer. Returns the error the caller gets.
    pub(super) fn keep_refused(&self, rotation: Rotation, error: Error) -> Error {
        let profile = rotation.account.profile.clone();
        let id = rotation.account.id.clone();
        tracing::error!(%profile, %error, "the vault refused the rotated refresh token; keeping it in memory and retrying");
        // Nothing from the refused record is handed out until it is stored.
        self.forget(&id);
        self.inner.pending.put(rotation);
        self.emit(Event::VaultWriteFailed {
            profile: profile.clone(),
            message: error.to_string(),
        });
        self.spawn_writer(id);
        Error::RotationNotStored {
            profile,
            source: Box::new(error),
        }
    }

    /// Stores a kept rotation now (the caller holds the account's flight):
    /// on success its record and lock are the caller's to use; otherwise
    /// it is kept again and the caller gets the error.
    pub(super) async fn store_kept(&self, rotation: Rotation) -> Result<Rotation> {
        match self
            .write_with_retries(&rotation.account, &rotation.record)
            .await
        {
            Ok(()) => {
                tracing::info!(profile = %rotation.account.profile, "the rotated refresh token is stored now");
                Ok(rotation)
            }
            Err(error) => {
                let profile = rotation.account.profile.clone();
                self.inner.pending.put(rotation);
                Err(Error::RotationNotStored {
                    profile,
                    source: Box::new(error),
                })
            }
        }
    }

    /// Retries the write of the account's kept rotation with backoff until
    /// it is stored, or taken by a request or a sign-out.
    fn spawn_writer(&self, id: String) {
        let broker = self.clone();
        tokio::spawn(async move {
            let mut pause = BACKGROUND_PAUSE;
            loop {
                tokio::time::sleep(pause).await;
                let flight = broker.flight(&id);
                let _in_flight = flight.lock().await;
                let Some(rotation) = broker.inner.pending.take(&id) else {
                    return;
                };
                match broker
                    .inner
                    .accounts
                    .write_record(&rotation.account, &rotation.record)
                {
                    Ok(()) => {
                        tracing::info!(profile = %rotation.account.profile, "the rotated refresh token is stored now");
                        broker.remember(&id, rotation.record.access_tokens.clone());
                        broker.emit(Event::AccountsChanged);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(profile = %rotation.account.profile, %error, "the vault still refuses the rotated refresh token");
                        broker.inner.pending.put(rotation);
                        pause = (pause * 2).min(MAX_PAUSE);
                    }
                }
            }
        });
    }
}
