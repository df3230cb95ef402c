//! The app's errors: start-up failures, and the `{kind, message}` DTO every
//! command error becomes on its way to the webview.

use serde::Serialize;

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    #[error("cannot open the log file {path}: {source}")]
    LogFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot install the logger: {0}")]
    Logger(String),
    #[error(transparent)]
    Core(#[from] tokentray_core::Error),
}

/// A command's error as the webview sees it; the UI branches on `kind`,
/// and shows it next to `field` when the error is about one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub field: Option<String>,
}

impl CommandError {
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
            field: None,
        }
    }

    /// An `invalid_input` error about one form field (the window shows it
    /// next to that field).
    pub fn for_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new("invalid_input", message)
        }
    }
}

impl From<tokentray_core::Error> for CommandError {
    fn from(error: tokentray_core::Error) -> Self {
        Self::new(error.kind().as_str(), error.to_string())
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for CommandError {}
