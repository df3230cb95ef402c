//! The menu's item ids: the account actions with their labels, and every
//! item as a [`MenuId`] that encodes to the native menu's string id (the
//! profile name hex-encoded) and parses back.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
