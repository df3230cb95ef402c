//! The commands the accounts window may call (each one granted explicitly in
//! `capabilities/`). Thin: one call into the core, DTOs out, no secrets.

use serde::Serialize;
use tauri::{AppHandle, Runtime};

use crate::CommandError;

/// What the accounts window shows about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub config_dir: String,
}

#[tauri::command]
pub async fn app_info<R: Runtime>(app: AppHandle<R>) -> Result<AppInfo, CommandError> {
    let config_dir = tokentray_core::profile::config_dir()?;
    Ok(AppInfo {
        version: app.package_info().version.to_string(),
        config_dir: config_dir.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // S20: the accounts window never receives refresh tokens
    #[test]
    fn dtos_serialize_as_the_ui_expects() {
        let info = AppInfo {
            version: "1.2.3".into(),
            config_dir: "/c".into(),
        };
        assert_eq!(
            serde_json::to_value(info).unwrap(),
            serde_json::json!({"version": "1.2.3", "configDir": "/c"})
        );
        let error = CommandError {
            kind: "config".into(),
            message: "boom".into(),
        };
        assert_eq!(
            serde_json::to_value(error).unwrap(),
            serde_json::json!({"kind": "config", "message": "boom"})
        );
    }
}
