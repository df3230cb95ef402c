//! The tray menu as data: ids and labels declared once, and a pure function
//! from the accounts' state and the clock to the menu, the icon and the
//! tooltip, so it is tested without a display. (`tray.rs` turns the model
//! into native menu items and dispatches clicks.)
//!
//! No token material ever reaches a label or the tooltip (S32): the model
//! only knows user names, profile names, expiry instants and error codes.
//!
//! `ids` declares the items' ids and the account actions; `account_state`
//! says how an account reads (status text, icon, next change); this module
//! builds the whole menu from them.

mod account_state;
mod ids;

use tokentray_core::token::EpochSecs;

pub use account_state::{
    next_status_change, status, AccountState, AccountView, EXPIRING_SOON_SECS,
};
pub use ids::{AccountAction, MenuId};

const SHOW_CLAIMS_LABEL: &str = "Show claims…";
const ADD_ACCOUNT_LABEL: &str = "Add account…";
const ACCOUNTS_LABEL: &str = "Accounts…";
const AUTOSTART_LABEL: &str = "Start at login";
const QUIT_LABEL: &str = "Quit";

/// What the menu is built from, besides the clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayState {
    /// Profile names, in file order.
    pub profiles: Vec<String>,
    pub accounts: Vec<AccountView>,
    pub autostart: bool,
}

/// One row of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuEntry {
    Item {
        id: MenuId,
        label: String,
    },
    Check {
        id: MenuId,
        label: String,
        checked: bool,
    },
    Submenu {
        id: MenuId,
        label: String,
        entries: Vec<MenuEntry>,
    },
    Separator,
}

/// The tray icon's states, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IconState {
    SignInRequired,
    Warning,
    /// No account at all: the plain key, no "signed in" badge.
    NoAccount,
    Ok,
}

/// The whole tray at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuModel {
    pub entries: Vec<MenuEntry>,
    pub icon: IconState,
    pub tooltip: String,
    /// When a label changes next (a countdown's minute boundary); `None`
    /// when nothing on the menu depends on the clock.
    pub next_change: Option<EpochSecs>,
}

/// The menu for `state` at `now`: one submenu per account, "Sign in to
/// PROFILE…" per profile without one, then "Add account…", "Accounts…",
/// "Start at login" and "Quit" (always last).
pub fn menu(state: &TrayState, now: EpochSecs) -> MenuModel {
    let mut entries = Vec::new();
    let mut next_change: Option<EpochSecs> = None;
    let mut icon = if state.accounts.is_empty() {
        IconState::NoAccount
    } else {
        IconState::Ok
    };
    let mut reasons: Vec<String> = Vec::new();

    for account in ordered_accounts(state) {
        let (status, account_icon) = status(&account.state, now);
        next_change = earliest(next_change, next_status_change(&account.state, now));
        if account_icon != IconState::Ok {
            reasons.push(format!("{}: {status}", account.profile));
        }
        icon = icon.min(account_icon);
        entries.push(MenuEntry::Submenu {
            id: MenuId::Account(account.profile.clone()),
            label: format!("{} · {} · {status}", account.user, account.profile),
            entries: account_entries(account),
        });
    }
    for profile in &state.profiles {
        if !state.accounts.iter().any(|a| &a.profile == profile) {
            entries.push(MenuEntry::Item {
                id: MenuId::SignIn(profile.clone()),
                label: sign_in_label(profile),
            });
        }
    }
    if !entries.is_empty() {
        entries.push(MenuEntry::Separator);
    }
    entries.push(MenuEntry::Item {
        id: MenuId::AddAccount,
        label: ADD_ACCOUNT_LABEL.to_owned(),
    });
    entries.push(MenuEntry::Item {
        id: MenuId::Accounts,
        label: ACCOUNTS_LABEL.to_owned(),
    });
    entries.push(MenuEntry::Check {
        id: MenuId::Autostart,
        label: AUTOSTART_LABEL.to_owned(),
        checked: state.autostart,
    });
    entries.push(MenuEntry::Item {
        id: MenuId::Quit,
        label: QUIT_LABEL.to_owned(),
    });

    MenuModel {
        entries,
        icon,
        tooltip: tooltip(state, &reasons),
        next_change,
    }
}

/// Accounts in the profiles' order; accounts of profiles no longer in the
/// file come last (they can still be signed out).
pub fn ordered_accounts(state: &TrayState) -> Vec<&AccountView> {
    let position = |account: &AccountView| {
        state
            .profiles
            .iter()
            .position(|p| *p == account.profile)
            .unwrap_or(usize::MAX)
    };
    let mut accounts: Vec<&AccountView> = state.accounts.iter().collect();
    accounts.sort_by_key(|a| position(a));
    accounts
}

/// "Sign in to PROFILE…", for a profile without an account.
pub fn sign_in_label(profile: &str) -> String {
    format!("Sign in to {profile}…")
}

/// An account's submenu (the accounts window shows the same as buttons).
pub fn account_entries(account: &AccountView) -> Vec<MenuEntry> {
    let profile = &account.profile;
    let action = |action: AccountAction| MenuEntry::Item {
        id: MenuId::Action(action, profile.clone()),
        label: action.label().to_owned(),
    };
    if account.state == AccountState::SignInRequired {
        return vec![
            MenuEntry::Item {
                id: MenuId::SignIn(profile.clone()),
                label: format!("Sign in to {profile} again…"),
            },
            action(AccountAction::SignOut),
        ];
    }
    let mut entries: Vec<MenuEntry> = AccountAction::ALL.iter().copied().map(action).collect();
    // before "Sign out", which stays last
    entries.insert(
        entries.len() - 1,
        MenuEntry::Item {
            id: MenuId::ShowClaims(profile.clone()),
            label: SHOW_CLAIMS_LABEL.to_owned(),
        },
    );
    entries
}

fn earliest(a: Option<EpochSecs>, b: Option<EpochSecs>) -> Option<EpochSecs> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn tooltip(state: &TrayState, reasons: &[String]) -> String {
    if !reasons.is_empty() {
        return format!("Tokentray — {}", reasons.join("; "));
    }
    match state.accounts.len() {
        0 if state.profiles.is_empty() => "Tokentray — no profile yet".to_owned(),
        0 => "Tokentray — not signed in".to_owned(),
        1 => "Tokentray — 1 account, all fine".to_owned(),
        n => format!("Tokentray — {n} accounts, all fine"),
    }
}

#[cfg(test)]
mod tests {
    use super::account_state::next_label_change;
    use super::*;

    pub(super) const NOW: EpochSecs = 1_800_000_000;

    fn every_state(profile: &str, index: usize) -> AccountView {
        let state = match index % 6 {
            0 => AccountState::SignedIn {
                expires_at: Some(NOW + 42 * 60),
            },
            1 => AccountState::SignedIn {
                expires_at: Some(NOW + 3 * 60),
            },
            2 => AccountState::SignedIn { expires_at: None },
            3 => AccountState::Refreshing,
            4 => AccountState::RefreshFailed {
                code: "temporarily_unavailable".into(),
            },
            _ => AccountState::SignInRequired,
        };
        AccountView {
            profile: profile.into(),
            user: format!("user{index}@example.test"),
            state,
        }
    }

    fn labels(entries: &[MenuEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|entry| match entry {
                MenuEntry::Item { label, .. }
                | MenuEntry::Check { label, .. }
                | MenuEntry::Submenu { label, .. } => label.clone(),
                MenuEntry::Separator => "---".into(),
            })
            .collect()
    }

    fn all_ids(entries: &[MenuEntry], out: &mut Vec<MenuId>) {
        for entry in entries {
            match entry {
                MenuEntry::Item { id, .. } | MenuEntry::Check { id, .. } => out.push(id.clone()),
                MenuEntry::Submenu { id, entries, .. } => {
                    out.push(id.clone());
                    all_ids(entries, out);
                }
                MenuEntry::Separator => {}
            }
        }
    }

    #[test]
    fn no_profile_no_account() {
        let model = menu(&TrayState::default(), NOW);
        assert_eq!(
            labels(&model.entries),
            ["Add account…", "Accounts…", "Start at login", "Quit"]
        );
        assert_eq!(model.icon, IconState::NoAccount);
        assert_eq!(model.next_change, None);
        assert_eq!(model.tooltip, "Tokentray — no profile yet");
    }

    #[test]
    fn profiles_without_accounts_offer_sign_in() {
        let state = TrayState {
            profiles: vec!["graph".into(), "demo".into()],
            accounts: vec![],
            autostart: true,
        };
        let model = menu(&state, NOW);
        assert_eq!(
            labels(&model.entries),
            [
                "Sign in to graph…",
                "Sign in to demo…",
                "---",
                "Add account…",
                "Accounts…",
                "Start at login",
                "Quit"
            ]
        );
        assert!(model.entries.contains(&MenuEntry::Check {
            id: MenuId::Autostart,
            label: "Start at login".into(),
            checked: true
        }));
        assert_eq!(model.tooltip, "Tokentray — not signed in");
        assert_eq!(
            model.icon,
            IconState::NoAccount,
            "no green badge without an account"
        );
        assert_eq!(model.next_change, None);
    }

    #[test]
    fn one_account_counts_down_by_the_minute() {
        let state = TrayState {
            profiles: vec!["graph".into(), "demo".into()],
            accounts: vec![AccountView {
                profile: "graph".into(),
                user: "alice@contoso".into(),
                state: AccountState::SignedIn {
                    expires_at: Some(NOW + 42 * 60),
                },
            }],
            autostart: false,
        };
        let cases = [
            (
                0,
                "alice@contoso · graph · expires in 42 min",
                IconState::Ok,
            ),
            (
                1,
                "alice@contoso · graph · expires in 41 min",
                IconState::Ok,
            ),
            (
                61,
                "alice@contoso · graph · expires in 40 min",
                IconState::Ok,
            ),
            (
                37 * 60,
                "alice@contoso · graph · expires in 5 min",
                IconState::Ok,
            ),
            (
                37 * 60 + 1,
                "alice@contoso · graph · expires in 4 min",
                IconState::Warning,
            ),
            (
                42 * 60 - 59,
                "alice@contoso · graph · expires in less than a minute",
                IconState::Warning,
            ),
            (
                42 * 60,
                "alice@contoso · graph · token expired, renewed on use",
                IconState::Ok,
            ),
        ];
        for (offset, label, icon) in cases {
            let model = menu(&state, NOW + offset);
            assert_eq!(labels(&model.entries)[0], label, "at +{offset}");
            assert_eq!(model.icon, icon, "at +{offset}");
            assert_eq!(
                labels(&model.entries)[1..],
                [
                    "Sign in to demo…",
                    "---",
                    "Add account…",
                    "Accounts…",
                    "Start at login",
                    "Quit"
                ]
            );
        }
        let MenuEntry::Submenu { id, entries, .. } = &menu(&state, NOW).entries[0] else {
            panic!("an account is a submenu");
        };
        assert_eq!(id, &MenuId::Account("graph".into()));
        assert_eq!(
            labels(entries),
            [
                "Copy access token",
                "Copy as Authorization: Bearer header",
                "Copy ID token",
                "Refresh now",
                "Show claims…",
                "Sign out"
            ]
        );
        let mut ids = Vec::new();
        all_ids(entries, &mut ids);
        assert!(ids
            .iter()
            .all(|id| matches!(id, MenuId::Action(_, p) | MenuId::ShowClaims(p) if p == "graph")));
        assert_eq!(ids[4], MenuId::ShowClaims("graph".into()));
        // the one timer: the next minute boundary, then none after expiry
        assert_eq!(menu(&state, NOW).next_change, Some(NOW + 1));
        assert_eq!(menu(&state, NOW + 1).next_change, Some(NOW + 61));
        assert_eq!(menu(&state, NOW + 42 * 60).next_change, None);
        assert_eq!(menu(&state, NOW).tooltip, "Tokentray — 1 account, all fine");
        assert_eq!(
            menu(&state, NOW + 40 * 60).tooltip,
            "Tokentray — graph: expires in 2 min"
        );
    }

    #[test]
    fn one_account_in_every_state() {
        let expect = [
            ("expires in 42 min", IconState::Ok),
            ("expires in 3 min", IconState::Warning),
            ("signed in", IconState::Ok),
            ("refreshing…", IconState::Ok),
            (
                "refresh failed (temporarily_unavailable)",
                IconState::Warning,
            ),
            ("sign-in required", IconState::SignInRequired),
        ];
        for (index, (status, icon)) in expect.into_iter().enumerate() {
            let state = TrayState {
                profiles: vec!["p".into()],
                accounts: vec![every_state("p", index)],
                autostart: false,
            };
            let model = menu(&state, NOW);
            assert_eq!(
                labels(&model.entries)[0],
                format!("user{index}@example.test · p · {status}")
            );
            assert_eq!(model.icon, icon, "{status}");
            if icon == IconState::Ok {
                assert!(model.tooltip.ends_with("all fine"), "{}", model.tooltip);
            } else {
                assert_eq!(model.tooltip, format!("Tokentray — p: {status}"));
            }
            let MenuEntry::Submenu { entries, .. } = &model.entries[0] else {
                panic!("an account is a submenu");
            };
            if icon == IconState::SignInRequired {
                assert_eq!(labels(entries), ["Sign in to p again…", "Sign out"]);
            } else {
                assert_eq!(entries.len(), AccountAction::ALL.len() + 1);
                assert_eq!(labels(entries)[4], "Show claims…");
            }
        }
    }

    // S32: no token material on other surfaces
    #[test]
    fn thirty_accounts_in_every_state_at_several_instants() {
        let profiles: Vec<String> = (0..32).map(|i| format!("profile{i:02}")).collect();
        let accounts: Vec<AccountView> = (0..30)
            .rev()
            .map(|i| every_state(&profiles[i], i))
            .collect();
        let state = TrayState {
            profiles: profiles.clone(),
            accounts,
            autostart: false,
        };
        for offset in [0, 1, 59, 60, 3 * 60, 42 * 60, 3600] {
            let model = menu(&state, NOW + offset);
            let labels = labels(&model.entries);
            // 30 accounts in profile order, 2 sign-ins, separator, 4 fixed
            assert_eq!(labels.len(), 37);
            for (i, label) in labels[..30].iter().enumerate() {
                assert!(
                    label.starts_with(&format!("user{i}@example.test · profile{i:02} · ")),
                    "{label}"
                );
            }
            assert_eq!(labels[30], "Sign in to profile30…");
            assert_eq!(labels[31], "Sign in to profile31…");
            assert_eq!(
                labels[32..],
                ["---", "Add account…", "Accounts…", "Start at login", "Quit"]
            );
            // one account needs a sign-in: that wins
            assert_eq!(model.icon, IconState::SignInRequired);
            let mut ids = Vec::new();
            all_ids(&model.entries, &mut ids);
            let count = ids.len();
            ids.sort_by_key(MenuId::encode);
            ids.dedup();
            assert_eq!(ids.len(), count, "ids are unique");
            // the earliest countdown decides the one timer
            let expected = (0..30)
                .filter_map(|i| match every_state("x", i).state {
                    AccountState::SignedIn {
                        expires_at: Some(at),
                    } => next_label_change(NOW + offset, at),
                    _ => None,
                })
                .min();
            assert_eq!(model.next_change, expected, "at +{offset}");
        }
    }
}
