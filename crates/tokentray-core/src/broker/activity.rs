//! What each profile is doing, as the broker sees it: a refresh request
//! out at the provider, or the error code of the last refresh that failed
//! (until one succeeds or the account signs in again). Status reports and
//! every face read it from here, so the tray menu and the accounts window
//! never disagree.

use std::collections::HashMap;
use std::sync::Mutex;

/// A profile's activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// A refresh request is out at the provider.
    pub refreshing: bool,
    /// The error kind or provider code of the last failed refresh.
    pub failed: Option<String>,
}

/// Every profile's activity.
#[derive(Debug, Default)]
pub(super) struct Board(Mutex<HashMap<String, Activity>>);

impl Board {
    pub(super) fn get(&self, profile: &str) -> Activity {
        self.lock().get(profile).cloned().unwrap_or_default()
    }

    /// A refresh went out (`true`) or came back (`false`).
    pub(super) fn refreshing(&self, profile: &str, refreshing: bool) {
        self.lock()
            .entry(profile.to_string())
            .or_default()
            .refreshing = refreshing;
    }

    /// The outcome of the last refresh: `None` when it worked.
    pub(super) fn failed(&self, profile: &str, code: Option<String>) {
        self.lock().entry(profile.to_string()).or_default().failed = code;
    }

    /// Forgets the profile (signed in anew, signed out, removed).
    pub(super) fn clear(&self, profile: &str) {
        self.lock().remove(profile);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Activity>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
