// Generated from src-tauri/src/dto.rs by its test `generated_typescript_is_current`
// (TOKENTRAY_WRITE_TS=1 cargo test -p tokentray-app generated_typescript). Do not edit.

export type AppInfo = { version: string, configDir: string, };

export type AccountsView = { 
/**
 * The app's clock (epoch seconds) when this was read.
 */
now: number, 
/**
 * Profile names, in file order.
 */
profiles: Array<string>, 
/**
 * One account per signed-in profile, in the profiles' order.
 */
accounts: Array<AccountRow>, 
/**
 * "Sign in to PROFILE…" for each profile without an account.
 */
signIns: Array<SignInRow>, 
/**
 * The earliest `nextChange` of the accounts: when to ask again.
 */
nextChange: number | null, };

export type AccountRow = { profile: string, 
/**
 * User name, e-mail or subject.
 */
user: string, status: AccountStatus, 
/**
 * The status as the tray menu words it: "expires in 42 min",
 * "refreshing…", "refresh failed (CODE)", …
 */
statusText: string, 
/**
 * When `statusText` reads differently next (epoch seconds on the
 * app's clock); `null`: not until the account changes.
 */
nextChange: number | null, 
/**
 * The account's actions, labelled and ordered as its tray submenu.
 */
actions: Array<ActionButton>, };

export type AccountStatus = "signedIn" | "refreshing" | "refreshFailed" | "signInRequired";

export type ActionButton = { action: ButtonAction, label: string, };

export type ButtonAction = { "kind": "account", action: AccountAction, } | { "kind": "signIn" } | { "kind": "showClaims" };

export type SignInRow = { profile: string, label: string, };

export type AccountAction = "copyAccessToken" | "copyBearerHeader" | "copyIdToken" | "refreshNow" | "signOut";

export type Claims = { profile: string, accessToken: TokenView, idToken: TokenView, };

export type TokenView = { 
/**
 * Whether what follows was verified, by what and when, in one sentence.
 */
trust: string, 
/**
 * `true` when Tokentray validated this token.
 */
verified: boolean, claims: TokenClaims, };

export type TokenClaims = { "kind": "jwt", header: Record<string, unknown>, claims: Record<string, unknown>, times: Array<ClaimTime>, } | { "kind": "opaque", why: string, } | { "kind": "missing" };

export type ClaimTime = { claim: string, 
/**
 * The raw value, epoch seconds.
 */
value: number, 
/**
 * The app's local time.
 */
local: string, 
/**
 * "expired 3 min ago", "issued 1 h 2 min ago".
 */
words: string, };

export type ProfileForm = { name: string, 
/**
 * A preset's `id`.
 */
provider: string, tenant: string | null, issuer: string | null, clientId: string, scopes: Array<string>, 
/**
 * A login mode; `null`: the preset's default.
 */
login: string | null, 
/**
 * Seconds; `null`: the default.
 */
refreshMargin: number | null, keepFresh: boolean, 
/**
 * Who may take its tokens: `any` program, or those the user allowed
 * (`confirm`: others are asked about). New profiles: `confirm`.
 */
access: string, };

export type PresetInfo = { id: string, label: string, 
/**
 * The field this preset needs (`tenant`, `issuer`), if any.
 */
needs: string | null, defaultLogin: string, defaultScopes: Array<string>, 
/**
 * What to register at the provider, per login mode it allows.
 */
registrations: Array<Registration>, };

export type Registration = { login: string, 
/**
 * The redirect URIs to register, exactly; empty: none is used.
 */
redirectUris: Array<string>, 
/**
 * The steps at the provider's console.
 */
steps: Array<string>, };

export type ProfilesView = { profiles: Array<ProfileForm>, presets: Array<PresetInfo>, loginModes: Array<string>, 
/**
 * The refresh margin a new profile starts with (a setting).
 */
defaultRefreshMargin: number, };

export type SettingsView = { values: SettingsForm, 
/**
 * Keys an environment variable overrides while the app runs.
 */
overridden: Array<string>, 
/**
 * The settings file.
 */
file: string, 
/**
 * Why the file was not applied, if it was not.
 */
problem: string | null, };

export type ActivityView = { 
/**
 * Each profile's access.
 */
access: Array<ProfileAccess>, 
/**
 * The trail's latest entries, newest first.
 */
entries: Array<ActivityRow>, 
/**
 * The trail's file.
 */
file: string, };

export type ProfileAccess = { profile: string, 
/**
 * "Any program of yours", or "Programs you allowed".
 */
summary: string, rules: Array<RuleRow>, };

export type RuleRow = { program: string, script: string | null, ssh: string | null, 
/**
 * `python3 /home/a/sync.py, until …`, the binary's hash abbreviated.
 */
text: string, expired: boolean, };

export type ActivityRow = { time: string, profile: string, account: string | null, 
/**
 * `token api.read`, `sign-out`.
 */
what: string, 
/**
 * `allowed by rule`, `denied`, …
 */
decision: string, served: boolean, 
/**
 * The program, then its parents: `python3 /home/a/sync.py ← bash`.
 */
program: string, rule: string, };

export type SettingsForm = { clipboardClearSecs: number, reminderLeadSecs: number, defaultRefreshMarginSecs: number, 
/**
 * Notify when a program takes a token of an `any` profile for the
 * first time.
 */
notifyNewPrograms: boolean, startAtLogin: boolean, };

export type ImportReport = { file: string, dryRun: boolean, accounts: Array<ImportedAccount>, shredded: boolean, plaintextRemains: boolean, note: string, };

export type ImportedAccount = { account: string, clientId: string, environment: string, profile: string | null, profileCreated: boolean, 
/**
 * `imported`, `would_import`, `already_present`, `rolled_back` or
 * `failed` (the CLI's `--json` words).
 */
status: string, verified: boolean, accessTokens: number, reason: string | null, };

export type View = { "view": "accounts" } | { "view": "claims", profile: string, } | { "view": "profiles" } | { "view": "addProfile" } | { "view": "editProfile", name: string, } | { "view": "settings" } | { "view": "import" } | { "view": "activity" };

export type ConsentView = { 
/**
 * This question's id (random): the answer must name it.
 */
id: string, 
/**
 * `token` or `sign-out`.
 */
action: string, 
/**
 * The program's name (`python3`, `deploy`).
 */
program: string, 
/**
 * Its executable's full path, when the OS tells.
 */
path: string | null, 
/**
 * For an interpreter, the script it runs.
 */
script: string | null, 
/**
 * The program's icon where the desktop has one, as a `data:` URL.
 */
icon: string | null, 
/**
 * The SSH connection a forwarded request came through.
 */
ssh: string | null, 
/**
 * Its parents, nearest first.
 */
parents: Array<string>, pid: number, profile: string, 
/**
 * The account's label, when one is signed in.
 */
account: string | null, 
/**
 * The scopes asked for.
 */
scopes: Array<string>, 
/**
 * Seconds until nobody answering counts as "Deny".
 */
secondsLeft: number, 
/**
 * Questions of other programs waiting behind this one.
 */
waiting: number, };

export type ConsentChoice = "deny" | "once" | "forHours" | "always";

export type CommandError = { kind: string, message: string, field?: string, };

export const ACCOUNTS_CHANGED = "accounts-changed";
export const NAVIGATE = "navigate";
