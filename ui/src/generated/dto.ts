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
accounts: Array<AccountRow>, };

export type AccountRow = { profile: string, 
/**
 * User name, e-mail or subject.
 */
user: string, status: AccountStatus, };

export type AccountStatus = { "state": "signedIn", 
/**
 * Epoch seconds; `null`: no access token cached yet.
 */
expiresAt: number | null, } | { "state": "refreshing" } | { "state": "refreshFailed", code: string, } | { "state": "signInRequired" };

export type AccountAction = "copyAccessToken" | "copyBearerHeader" | "copyIdToken" | "refreshNow" | "signOut";

export type Claims = { profile: string, 
/**
 * The label shown above every decoded token.
 */
notVerified: string, accessToken: TokenClaims, idToken: TokenClaims, };

export type TokenClaims = { "kind": "jwt", header: Record<string, unknown>, claims: Record<string, unknown>, } | { "kind": "opaque", why: string, } | { "kind": "missing" };

export type View = { "view": "accounts" } | { "view": "claims", profile: string, } | { "view": "profiles" } | { "view": "addProfile" } | { "view": "settings" };

export type CommandError = { kind: string, message: string, field?: string, };

export const ACCOUNTS_CHANGED = "accounts-changed";
export const NAVIGATE = "navigate";
