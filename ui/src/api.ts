// Typed wrappers over the app's commands; the types are generated from the
// Rust DTOs (src/generated/dto.ts). Tokens never come back from any of them.
import { invoke } from "@tauri-apps/api/core";
import type {
  AccountAction,
  ActivityView,
  AccountsView,
  AppInfo,
  Claims,
  CommandError,
  ConsentChoice,
  ConsentView,
  ImportReport,
  ProfileForm,
  ProfilesView,
  RuleRow,
  SettingsForm,
  SettingsView,
  View,
} from "./generated/dto";

export function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CommandError).kind === "string" &&
    typeof (value as CommandError).message === "string"
  );
}

/** An error as one line for the user. */
export function describe(error: unknown): string {
  return isCommandError(error) ? error.message : String(error);
}

export const appInfo = (): Promise<AppInfo> => invoke<AppInfo>("app_info");
export const takeView = (): Promise<View> => invoke<View>("take_view");
export const listAccounts = (): Promise<AccountsView> => invoke<AccountsView>("list_accounts");
export const accountAction = (profile: string, action: AccountAction): Promise<void> =>
  invoke<void>("account_action", { profile, action });
export const signIn = (profile: string): Promise<void> => invoke<void>("sign_in", { profile });
export const showClaims = (profile: string): Promise<Claims> =>
  invoke<Claims>("show_claims", { profile });
export const listProfiles = (): Promise<ProfilesView> => invoke<ProfilesView>("list_profiles");
/** `clientSecret` goes to the vault; it never comes back. */
export const saveProfile = (
  original: string | null,
  form: ProfileForm,
  clientSecret: string | null,
): Promise<void> => invoke<void>("save_profile", { original, form, clientSecret });
export const removeProfile = (name: string): Promise<void> => invoke<void>("remove_profile", { name });
export const getSettings = (): Promise<SettingsView> => invoke<SettingsView>("get_settings");
export const saveSettings = (form: SettingsForm): Promise<void> => invoke<void>("save_settings", { form });
export const importMsal = (path: string, issuer: string | null, dryRun: boolean, shred: boolean): Promise<ImportReport> =>
  invoke<ImportReport>("import_msal", { path, issuer, dryRun, shred });
export const startDemo = (): Promise<string> => invoke<string>("start_demo");
export const listActivity = (): Promise<ActivityView> => invoke<ActivityView>("list_activity");
export const revokeRule = (profile: string, rule: RuleRow): Promise<void> => invoke<void>("revoke_rule", { profile, rule });
/** The consent dialog's question (`null`: none is asked now). */
export const consentQuestion = (): Promise<ConsentView | null> =>
  invoke<ConsentView | null>("consent_question");
/** Answers the question `id`; refused (`stale_question`) when it is no longer the one asked. */
export const consentAnswer = (id: string, choice: ConsentChoice): Promise<void> =>
  invoke<void>("consent_answer", { id, choice });
