//! What an import tells its caller: per account what became of it and
//! why, and for the whole run whether the plaintext file is gone. No
//! token in any of it.

use serde::Serialize;

use crate::error::Error;

/// What became of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored (and verified, unless `--no-verify`).
    Imported,
    /// `--dry-run`: would be stored.
    WouldImport,
    /// The vault already holds this account under the profile.
    AlreadyPresent,
    /// Stored, then removed again because another account failed.
    RolledBack,
    /// Not imported.
    Failed,
}

/// What the run did with one account (no token in it).
#[derive(Debug, Serialize)]
pub struct AccountReport {
    pub account: String,
    pub client_id: String,
    pub environment: String,
    pub profile: Option<String>,
    pub profile_created: bool,
    pub status: Status,
    pub verified: bool,
    pub access_tokens: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failure's error kind (for exit codes).
    #[serde(skip)]
    pub kind: Option<crate::ErrorKind>,
}

/// The whole run's report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub dry_run: bool,
    pub accounts: Vec<AccountReport>,
    pub shredded: bool,
    pub plaintext_remains: bool,
    pub note: String,
    /// `shred` was asked but refused (not every account imported and verified).
    #[serde(skip)]
    pub shred_refused: bool,
}

/// Marks `report` failed with `error`'s message and kind.
pub(super) fn fail(report: &mut AccountReport, error: &Error) {
    report.status = Status::Failed;
    report.verified = false;
    report.reason = Some(error.to_string());
    report.kind = Some(error.kind());
}
