// Typed wrappers over the app's Tauri commands.
// Mirrors the Rust DTOs in src-tauri/src/commands.rs.
import { invoke } from "@tauri-apps/api/core";

export interface AppInfo {
  version: string;
  configDir: string;
}

/** The `{kind, message}` shape every command error has. */
export interface CommandError {
  kind: string;
  message: string;
}

export function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CommandError).kind === "string" &&
    typeof (value as CommandError).message === "string"
  );
}

export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}
