//! An account as the menu sees it: its state, the status text and icon
//! state that follow from it at an instant, and when that text changes
//! next (a countdown's boundary, in the core's one wording).

use super::IconState;
use tokentray_core::clock_words;
use tokentray_core::status::{ProfileStatus, SignInState};
use tokentray_core::token::EpochSecs;

/// Below this much time left an account's token counts as "expiring soon"
/// (the tray icon turns to its warning state).
pub const EXPIRING_SOON_SECS: EpochSecs = 5 * 60;

/// An account as the menu sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub profile: String,
    /// User name, email or subject.
    pub user: String,
    pub state: AccountState,
}

impl AccountView {
    /// The account of a profile's status, if it has one.
    pub fn of(status: &ProfileStatus) -> Option<AccountView> {
        let account = status.account.as_ref()?;
        let state = if status.state == SignInState::SignInRequired {
            AccountState::SignInRequired
        } else if status.refreshing {
            AccountState::Refreshing
        } else if let Some(code) = &status.refresh_failed {
            AccountState::RefreshFailed { code: code.clone() }
        } else {
            AccountState::SignedIn {
                expires_at: status.access_expires_on,
            }
        };
        Some(AccountView {
            profile: status.name.clone(),
            user: account.label.clone(),
            state,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountState {
    /// Signed in; the access token expires at this instant (`None`: no
    /// access token cached, one is fetched on first use).
    SignedIn { expires_at: Option<EpochSecs> },
    /// A refresh the user asked for is running.
    Refreshing,
    /// The last refresh failed (the account may recover).
    RefreshFailed { code: String },
    /// Only an interactive sign-in helps.
    SignInRequired,
}

/// An account's status text and what it means for the icon.
pub fn status(state: &AccountState, now: EpochSecs) -> (String, IconState) {
    match state {
        AccountState::SignedIn { expires_at: None } => ("signed in".to_owned(), IconState::Ok),
        AccountState::SignedIn {
            expires_at: Some(expires_at),
        } => {
            let left = expires_at - now;
            if left <= 0 {
                // refreshed on next use (or by the scheduler): not a problem
                ("token expired, renewed on use".to_owned(), IconState::Ok)
            } else if left < EXPIRING_SOON_SECS {
                (clock_words::expiry(now, *expires_at), IconState::Warning)
            } else {
                (clock_words::expiry(now, *expires_at), IconState::Ok)
            }
        }
        AccountState::Refreshing => ("refreshing…".to_owned(), IconState::Ok),
        AccountState::RefreshFailed { code } => {
            (format!("refresh failed ({code})"), IconState::Warning)
        }
        AccountState::SignInRequired => ("sign-in required".to_owned(), IconState::SignInRequired),
    }
}

/// When an account's status text reads differently next: only a
/// countdown changes by itself.
pub fn next_status_change(state: &AccountState, now: EpochSecs) -> Option<EpochSecs> {
    match state {
        AccountState::SignedIn {
            expires_at: Some(at),
        } => next_label_change(now, *at),
        _ => None,
    }
}

/// When the countdown to `expires_at` reads differently next (the core's
/// one wording, [`clock_words::next_change`]); `None` once expired: the
/// label no longer counts.
pub(super) fn next_label_change(now: EpochSecs, expires_at: EpochSecs) -> Option<EpochSecs> {
    if expires_at > now {
        clock_words::next_change(now, expires_at)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::NOW;
    use super::*;

    /// The menu redraws exactly when its label changes: the core's one
    /// wording decides both.
    #[test]
    fn the_menu_wakes_exactly_when_its_label_changes() {
        let at = NOW + 1000;
        let label = |now: EpochSecs| {
            status(
                &AccountState::SignedIn {
                    expires_at: Some(at),
                },
                now,
            )
            .0
        };
        for now in (at - 4000)..at {
            let next = next_label_change(now, at).unwrap();
            assert!(next > now && next <= at, "now {now}");
            assert_eq!(label(now), label(next - 1), "now {now}");
            assert_ne!(label(now), label(next), "now {now}");
        }
        assert_eq!(next_label_change(NOW, at), Some(NOW + 41)); // 16 -> 15 min at 959 s left
        assert_eq!(next_label_change(at, at), None);
        assert_eq!(next_label_change(at + 5, at), None);
        // days from two days on, one change a day
        let far = NOW + 366 * 86_400;
        assert_eq!(label(NOW - (far - at)), "expires in 366 days");
        assert_eq!(next_label_change(NOW, far), Some(NOW + 1));
        assert_eq!(next_label_change(NOW + 1, far), Some(NOW + 1 + 86_400));
    }
}
