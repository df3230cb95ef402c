//! The accounts window's Import view: an MSAL token cache taken over by
//! the core's import (the same steps as `tokentray import msal`), through
//! the app's own broker so the tray sees the accounts at once. A dry run
//! first; then the import, every account proven by a refresh; the file
//! shredded only when asked and when everything worked.

use std::path::Path;

use tokentray_core::broker::Broker;
use tokentray_core::flow::OAuth;
use tokentray_core::import::takeover::{self, Options, Report};

use crate::dto::{ImportReport, ImportedAccount};
use crate::CommandError;

/// New profiles are named like the CLI names them.
const PROFILE_PREFIX: &str = "msal-";

/// Runs the import (blocking: call it off the async workers).
pub fn run(
    broker: &Broker<OAuth>,
    path: &Path,
    issuer: Option<String>,
    dry_run: bool,
    shred: bool,
) -> Result<ImportReport, CommandError> {
    let options = Options {
        profile_prefix: PROFILE_PREFIX.to_owned(),
        issuer: issuer.filter(|issuer| !issuer.trim().is_empty()),
        dry_run,
        no_verify: false,
        partial: false,
        shred,
    };
    let report = tauri::async_runtime::block_on(takeover::import_msal(broker, path, &options))?;
    Ok(dto(report))
}

fn dto(report: Report) -> ImportReport {
    ImportReport {
        file: report.file,
        dry_run: report.dry_run,
        accounts: report
            .accounts
            .into_iter()
            .map(|account| ImportedAccount {
                status: serde_json::to_value(account.status)
                    .ok()
                    .and_then(|status| status.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                account: account.account,
                client_id: account.client_id,
                environment: account.environment,
                profile: account.profile,
                profile_created: account.profile_created,
                verified: account.verified,
                access_tokens: account.access_tokens,
                reason: account.reason,
            })
            .collect(),
        shredded: report.shredded,
        plaintext_remains: report.plaintext_remains,
        note: report.note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentray_core::import::takeover::{AccountReport, Status};

    #[test]
    fn the_report_keeps_the_clis_status_words() {
        let report = Report {
            file: "cache.json".into(),
            dry_run: true,
            accounts: vec![AccountReport {
                account: "alice@contoso".into(),
                client_id: "c".into(),
                environment: "login.microsoftonline.com".into(),
                profile: Some("msal-alice-contoso".into()),
                profile_created: true,
                status: Status::WouldImport,
                verified: false,
                access_tokens: 2,
                reason: None,
                kind: None,
            }],
            shredded: false,
            plaintext_remains: true,
            note: "the plaintext file cache.json still holds these tokens".into(),
            shred_refused: false,
        };
        let dto = dto(report);
        assert_eq!(dto.accounts[0].status, "would_import");
        assert_eq!(dto.accounts[0].access_tokens, 2);
        assert!(dto.plaintext_remains);
    }
}
