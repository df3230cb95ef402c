//! The tray menu as data: ids and labels declared once, and a pure function
//! from the accounts' state and the clock to the menu, the icon and the
//! tooltip, so it is tested without a display. (`tray.rs` turns the model
//! into native menu items and dispatches clicks.)
//!
//! No token material ever reaches a label or the tooltip (S32): the model
//! only knows user names, profile names, expiry instants and error codes.

use tokentray_core::clock_words;
use tokentray_core::status::{ProfileStatus, SignInState};
use tokentray_core::token::EpochSecs;

/// Below this much time left an account's token counts as "expiring soon"
/// (the tray icon turns to its warning state).
pub const EXPIRING_SOON_SECS: EpochSecs = 5 * 60;

/// What a click on an account's submenu does (the accounts window's
/// buttons do the same through the `account_action` command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum AccountAction {
    CopyAccessToken,
    CopyBearerHeader,
    CopyIdToken,
    RefreshNow,
    SignOut,
}

impl AccountAction {
    /// In menu order.
    pub const ALL: [AccountAction; 5] = [
        AccountAction::CopyAccessToken,
        AccountAction::CopyBearerHeader,
        AccountAction::CopyIdToken,
        AccountAction::RefreshNow,
        AccountAction::SignOut,
    ];

    /// The id prefix; the profile name follows, encoded.
    const fn key(self) -> &'static str {
        match self {
            AccountAction::CopyAccessToken => "copy-access",
            AccountAction::CopyBearerHeader => "copy-header",
            AccountAction::CopyIdToken => "copy-id",
            AccountAction::RefreshNow => "refresh",
            AccountAction::SignOut => "sign-out",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            AccountAction::CopyAccessToken => "Copy access token",
            AccountAction::CopyBearerHeader => "Copy as Authorization: Bearer header",
            AccountAction::CopyIdToken => "Copy ID token",
            AccountAction::RefreshNow => "Refresh now",
            AccountAction::SignOut => "Sign out",
        }
    }
}

/// Every menu item the tray can show. Items about a profile carry its name;
/// [`MenuId::encode`] and [`MenuId::parse`] turn them into the native
/// menu's string ids and back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MenuId {
    /// An account's row (the submenu itself).
    Account(String),
    /// An action in an account's submenu.
    Action(AccountAction, String),
    /// "Sign in to PROFILE…".
    SignIn(String),
    /// "Show claims…" of an account: the accounts window's claims view.
    ShowClaims(String),
    /// "Add account…": the accounts window's new-profile form.
    AddAccount,
    /// "Accounts…": the accounts window.
    Accounts,
    /// The start-at-login checkbox.
    Autostart,
    Quit,
}

const ACCOUNT_KEY: &str = "account";
const SIGN_IN_KEY: &str = "sign-in";
const SHOW_CLAIMS_KEY: &str = "claims";
const ADD_ACCOUNT_KEY: &str = "add-account";
const ACCOUNTS_KEY: &str = "accounts";
const AUTOSTART_KEY: &str = "autostart";
const QUIT_KEY: &str = "quit";
const SHOW_CLAIMS_LABEL: &str = "Show claims…";
const ADD_ACCOUNT_LABEL: &str = "Add account…";
const ACCOUNTS_LABEL: &str = "Accounts…";
const AUTOSTART_LABEL: &str = "Start at login";
const QUIT_LABEL: &str = "Quit";

impl MenuId {
    /// The id the native menu reports back on a click: `KEY` or
    /// `KEY:HEX(profile)`. Hex keeps any profile name unambiguous.
    pub fn encode(&self) -> String {
        match self {
            MenuId::Account(profile) => with_profile(ACCOUNT_KEY, profile),
            MenuId::Action(action, profile) => with_profile(action.key(), profile),
            MenuId::SignIn(profile) => with_profile(SIGN_IN_KEY, profile),
            MenuId::ShowClaims(profile) => with_profile(SHOW_CLAIMS_KEY, profile),
            MenuId::AddAccount => ADD_ACCOUNT_KEY.to_owned(),
            MenuId::Accounts => ACCOUNTS_KEY.to_owned(),
            MenuId::Autostart => AUTOSTART_KEY.to_owned(),
            MenuId::Quit => QUIT_KEY.to_owned(),
        }
    }

    pub fn parse(id: &str) -> Option<MenuId> {
        let Some((key, hex)) = id.split_once(':') else {
            return match id {
                ADD_ACCOUNT_KEY => Some(MenuId::AddAccount),
                ACCOUNTS_KEY => Some(MenuId::Accounts),
                AUTOSTART_KEY => Some(MenuId::Autostart),
                QUIT_KEY => Some(MenuId::Quit),
                _ => None,
            };
        };
        let profile = decode_hex(hex)?;
        if key == ACCOUNT_KEY {
            return Some(MenuId::Account(profile));
        }
        if key == SIGN_IN_KEY {
            return Some(MenuId::SignIn(profile));
        }
        if key == SHOW_CLAIMS_KEY {
            return Some(MenuId::ShowClaims(profile));
        }
        AccountAction::ALL
            .iter()
            .find(|action| action.key() == key)
            .map(|action| MenuId::Action(*action, profile))
    }
}

fn with_profile(key: &str, profile: &str) -> String {
    let mut id = String::with_capacity(key.len() + 1 + 2 * profile.len());
    id.push_str(key);
    id.push(':');
    for byte in profile.bytes() {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

fn decode_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

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
fn next_label_change(now: EpochSecs, expires_at: EpochSecs) -> Option<EpochSecs> {
    if expires_at > now {
        clock_words::next_change(now, expires_at)
    } else {
        None
    }
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
    use super::*;

    const NOW: EpochSecs = 1_800_000_000;

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
    fn ids_round_trip_and_are_unique() {
        let names = ["graph", "a:b", "dé jà", "x", "sign-in:66", ""];
        let mut ids = vec![
            MenuId::Autostart,
            MenuId::Quit,
            MenuId::AddAccount,
            MenuId::Accounts,
        ];
        for name in names {
            ids.push(MenuId::Account(name.into()));
            ids.push(MenuId::SignIn(name.into()));
            ids.push(MenuId::ShowClaims(name.into()));
            for action in AccountAction::ALL {
                ids.push(MenuId::Action(action, name.into()));
            }
        }
        for id in &ids {
            let encoded = id.encode();
            if matches!(id, MenuId::Account(p) | MenuId::SignIn(p) | MenuId::ShowClaims(p) | MenuId::Action(_, p) if p.is_empty())
            {
                // profile names are never empty; such an id does not parse
                assert_eq!(MenuId::parse(&encoded), None, "{encoded}");
                continue;
            }
            assert_eq!(MenuId::parse(&encoded).as_ref(), Some(id), "{encoded}");
        }
        let mut encoded: Vec<String> = ids.iter().map(MenuId::encode).collect();
        encoded.sort_unstable();
        encoded.dedup();
        assert_eq!(encoded.len(), ids.len());
    }

    #[test]
    fn foreign_ids_do_not_parse() {
        for id in [
            "nope",
            "quit:",
            "copy-access:zz",
            "copy-access:6",
            "unknown:6161",
            "sign-in:ff",
            "claims",
            "accounts:61",
        ] {
            assert_eq!(MenuId::parse(id), None, "{id}");
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
