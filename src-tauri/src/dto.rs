//! What the accounts window, the consent dialog and their commands
//! exchange, and the TypeScript
//! it is typed with: `ui/src/generated/dto.ts` is generated from these
//! types (the test `generated_typescript_is_current` fails when the
//! committed file differs; `TOKENTRAY_WRITE_TS=1` rewrites it).
//!
//! No DTO carries a token (S20): accounts are named by their profile,
//! claims travel decoded, and the one secret that comes in — a new
//! profile's client secret — goes straight to the vault.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
#[cfg(test)]
use ts_rs::TS;

/// The event the app emits to the accounts window when the accounts or
/// their state change (the window asks for them again).
pub const ACCOUNTS_CHANGED: &str = "accounts-changed";
/// The event that asks the accounts window to show another view (it asks
/// `take_view` which).
pub const NAVIGATE: &str = "navigate";

/// What the accounts window shows about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub config_dir: String,
}

/// The accounts and the profiles, as the tray menu sees them and words
/// them (every label and status text comes from [`crate::menu`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountsView {
    /// The app's clock (epoch seconds) when this was read.
    pub now: i64,
    /// Profile names, in file order.
    pub profiles: Vec<String>,
    /// One account per signed-in profile, in the profiles' order.
    pub accounts: Vec<AccountRow>,
    /// "Sign in to PROFILE…" for each profile without an account.
    pub sign_ins: Vec<SignInRow>,
    /// The earliest `nextChange` of the accounts: when to ask again.
    pub next_change: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountRow {
    pub profile: String,
    /// User name, e-mail or subject.
    pub user: String,
    pub status: AccountStatus,
    /// The status as the tray menu words it: "expires in 42 min",
    /// "refreshing…", "refresh failed (CODE)", …
    pub status_text: String,
    /// When `statusText` reads differently next (epoch seconds on the
    /// app's clock); `null`: not until the account changes.
    pub next_change: Option<i64>,
    /// The account's actions, labelled and ordered as its tray submenu.
    pub actions: Vec<ActionButton>,
}

/// Which kind of state an account is in (the window styles it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum AccountStatus {
    SignedIn,
    Refreshing,
    RefreshFailed,
    SignInRequired,
}

/// A button of an account's card: what it does and its menu label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ActionButton {
    pub action: ButtonAction,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ButtonAction {
    /// The `account_action` command with this action.
    Account { action: crate::menu::AccountAction },
    /// The `sign_in` command.
    SignIn,
    /// The claims view.
    ShowClaims,
}

/// A profile without an account, and its sign-in label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct SignInRow {
    pub profile: String,
    pub label: String,
}

/// The decoded header and claims of a profile's access and ID tokens, each
/// with what Tokentray verified of it (and when).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub profile: String,
    pub access_token: TokenView,
    pub id_token: TokenView,
}

/// One token in the claims view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Whether what follows was verified, by what and when, in one sentence.
    pub trust: String,
    /// `true` when Tokentray validated this token.
    pub verified: bool,
    pub claims: TokenClaims,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TokenClaims {
    /// A JWT: its header and claims, and its time claims in words.
    Jwt {
        #[cfg_attr(test, ts(type = "Record<string, unknown>"))]
        header: Map<String, Value>,
        #[cfg_attr(test, ts(type = "Record<string, unknown>"))]
        claims: Map<String, Value>,
        times: Vec<ClaimTime>,
    },
    /// Not a JWT: nothing to decode (`why` says what it is).
    Opaque { why: String },
    /// No such token cached.
    Missing,
}

/// A time claim (`exp`, `iat`, `nbf`, `auth_time`) beside its raw value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ClaimTime {
    pub claim: String,
    /// The raw value, epoch seconds.
    pub value: i64,
    /// The app's local time.
    pub local: String,
    /// "expired 3 min ago", "issued 1 h 2 min ago".
    pub words: String,
}

/// A profile as the editor shows and sends it. Empty optional texts mean
/// "not set"; empty `scopes` mean the preset's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfileForm {
    pub name: String,
    /// A preset's `id`.
    pub provider: String,
    pub tenant: Option<String>,
    pub issuer: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// A login mode; `null`: the preset's default.
    pub login: Option<String>,
    /// Seconds; `null`: the default.
    pub refresh_margin: Option<i64>,
    pub keep_fresh: bool,
    /// Who may take its tokens: `any` program, or those the user allowed
    /// (`confirm`: others are asked about). New profiles: `confirm`.
    pub access: String,
}

/// A provider preset the editor offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct PresetInfo {
    pub id: String,
    pub label: String,
    /// The field this preset needs (`tenant`, `issuer`), if any.
    pub needs: Option<String>,
    pub default_login: String,
    pub default_scopes: Vec<String>,
    /// What to register at the provider, per login mode it allows.
    pub registrations: Vec<Registration>,
}

/// What to register at a provider for one login mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub login: String,
    /// The redirect URIs to register, exactly; empty: none is used.
    pub redirect_uris: Vec<String>,
    /// The steps at the provider's console.
    pub steps: Vec<String>,
}

/// The profiles, with what the editor offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfilesView {
    pub profiles: Vec<ProfileForm>,
    pub presets: Vec<PresetInfo>,
    pub login_modes: Vec<String>,
    /// The refresh margin a new profile starts with (a setting).
    pub default_refresh_margin: i64,
}

/// The settings as the window shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub values: SettingsForm,
    /// Keys an environment variable overrides while the app runs.
    pub overridden: Vec<String>,
    /// The settings file.
    pub file: String,
    /// Why the file was not applied, if it was not.
    pub problem: Option<String>,
}

/// The settings as the window sends them; an error's `field` is the
/// file's key (`clipboard_clear_secs`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct SettingsForm {
    pub clipboard_clear_secs: i64,
    pub reminder_lead_secs: i64,
    pub default_refresh_margin_secs: i64,
    /// Notify when a program takes a token of an `any` profile for the
    /// first time.
    pub notify_new_programs: bool,
    pub start_at_login: bool,
}

/// What an MSAL cache import did (or, dry, would do); no token in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub file: String,
    pub dry_run: bool,
    pub accounts: Vec<ImportedAccount>,
    pub shredded: bool,
    pub plaintext_remains: bool,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ImportedAccount {
    pub account: String,
    pub client_id: String,
    pub environment: String,
    pub profile: Option<String>,
    pub profile_created: bool,
    /// `imported`, `would_import`, `already_present`, `rolled_back` or
    /// `failed` (the CLI's `--json` words).
    pub status: String,
    pub verified: bool,
    pub access_tokens: usize,
    pub reason: Option<String>,
}

/// Which view the accounts window shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "view", rename_all = "camelCase")]
pub enum View {
    Accounts,
    Claims { profile: String },
    Profiles,
    AddProfile,
    EditProfile { name: String },
    Settings,
    Import,
    Activity,
}

/// The question the consent dialog shows: which program asks what of
/// which profile, as the OS and the profile file tell (no token, S20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    /// This question's id (random): the answer must name it.
    pub id: String,
    /// `token` or `sign-out`.
    pub action: String,
    /// The program's name (`python3`, `deploy`).
    pub program: String,
    /// Its executable's full path, when the OS tells.
    pub path: Option<String>,
    /// For an interpreter, the script it runs.
    pub script: Option<String>,
    /// The program's icon where the desktop has one, as a `data:` URL.
    pub icon: Option<String>,
    /// The SSH connection a forwarded request came through.
    pub ssh: Option<String>,
    /// Its parents, nearest first.
    pub parents: Vec<String>,
    pub pid: u32,
    pub profile: String,
    /// The account's label, when one is signed in.
    pub account: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Seconds until nobody answering counts as "Deny".
    pub seconds_left: u64,
    /// Questions of other programs waiting behind this one.
    pub waiting: usize,
}

/// What the user can answer in the consent dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum ConsentChoice {
    Deny,
    Once,
    ForHours,
    Always,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The generated TypeScript: every DTO, then the event names.
    pub fn typescript() -> String {
        let config = ts_rs::Config::new().with_large_int("number");
        let declarations = [
            AppInfo::decl(&config),
            AccountsView::decl(&config),
            AccountRow::decl(&config),
            AccountStatus::decl(&config),
            ActionButton::decl(&config),
            ButtonAction::decl(&config),
            SignInRow::decl(&config),
            crate::menu::AccountAction::decl(&config),
            Claims::decl(&config),
            TokenView::decl(&config),
            TokenClaims::decl(&config),
            ClaimTime::decl(&config),
            ProfileForm::decl(&config),
            PresetInfo::decl(&config),
            Registration::decl(&config),
            ProfilesView::decl(&config),
            SettingsView::decl(&config),
            crate::activity::ActivityView::decl(&config),
            crate::activity::ProfileAccess::decl(&config),
            crate::activity::RuleRow::decl(&config),
            crate::activity::ActivityRow::decl(&config),
            SettingsForm::decl(&config),
            ImportReport::decl(&config),
            ImportedAccount::decl(&config),
            View::decl(&config),
            ConsentView::decl(&config),
            ConsentChoice::decl(&config),
            crate::CommandError::decl(&config),
        ];
        let mut out = String::from(
        "// Generated from src-tauri/src/dto.rs by its test `generated_typescript_is_current`\n\
         // (TOKENTRAY_WRITE_TS=1 cargo test -p tokentray-app generated_typescript). Do not edit.\n\n",
    );
        for declaration in declarations {
            out.push_str("export ");
            out.push_str(&declaration);
            out.push_str("\n\n");
        }
        out.push_str(&format!(
        "export const ACCOUNTS_CHANGED = {ACCOUNTS_CHANGED:?};\nexport const NAVIGATE = {NAVIGATE:?};\n"
    ));
        out
    }

    #[test]
    fn generated_typescript_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated/dto.ts");
        let generated = typescript();
        if std::env::var_os("TOKENTRAY_WRITE_TS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is not what the Rust DTOs generate; run TOKENTRAY_WRITE_TS=1 cargo test -p tokentray-app generated_typescript",
            path.display()
        );
    }

    #[test]
    fn dtos_serialize_as_the_generated_types_say() {
        let view = AccountsView {
            now: 100,
            profiles: vec!["graph".into()],
            accounts: vec![AccountRow {
                profile: "graph".into(),
                user: "alice".into(),
                status: AccountStatus::SignedIn,
                status_text: "expires in 1 min".into(),
                next_change: Some(101),
                actions: vec![ActionButton {
                    action: ButtonAction::Account {
                        action: crate::menu::AccountAction::CopyIdToken,
                    },
                    label: "Copy ID token".into(),
                }],
            }],
            sign_ins: vec![],
            next_change: Some(101),
        };
        assert_eq!(
            serde_json::to_value(view).unwrap(),
            serde_json::json!({"now": 100, "profiles": ["graph"], "accounts": [
                {"profile": "graph", "user": "alice", "status": "signedIn",
                 "statusText": "expires in 1 min", "nextChange": 101,
                 "actions": [{"action": {"kind": "account", "action": "copyIdToken"}, "label": "Copy ID token"}]}
            ], "signIns": [], "nextChange": 101})
        );
        assert_eq!(
            serde_json::to_value(ButtonAction::ShowClaims).unwrap(),
            serde_json::json!({"kind": "showClaims"})
        );
        let error = crate::CommandError {
            kind: "config".into(),
            message: "boom".into(),
            field: None,
        };
        assert_eq!(
            serde_json::to_value(error).unwrap(),
            serde_json::json!({"kind": "config", "message": "boom"})
        );
        let view: View =
            serde_json::from_value(serde_json::json!({"view": "claims", "profile": "p"})).unwrap();
        assert_eq!(
            view,
            View::Claims {
                profile: "p".into()
            }
        );
        assert_eq!(
            serde_json::to_value(TokenClaims::Missing).unwrap(),
            serde_json::json!({"kind": "missing"})
        );
    }
}
