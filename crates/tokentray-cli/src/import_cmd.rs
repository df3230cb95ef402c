//! `tokentray import msal PATH`: takes the accounts of a plaintext MSAL
//! token cache over into profiles and the OS vault, proves each with one
//! refresh, and (with `--shred`) destroys the plaintext file. The steps are
//! the core's ([`tokentray_core::import::takeover`], which the tray app's
//! Import view runs too); this face prints the report and picks the exit
//! code. No token is ever printed.

use crate::cli::ImportMsalArgs;
use crate::direct;
use crate::exit;
use crate::output::{print_json, print_text, Failure};
use crate::store::Store;
use std::process::ExitCode;
use tokentray_core::import::takeover::{self, Options, Report, Status};

pub fn msal(args: &ImportMsalArgs, vault: &Store) -> Result<ExitCode, Failure> {
    let options = Options {
        profile_prefix: args.profile_prefix.clone(),
        issuer: args.issuer.clone(),
        dry_run: args.dry_run,
        no_verify: args.no_verify,
        partial: args.partial,
        shred: args.shred,
    };
    let broker = direct::broker(vault)?;
    let report =
        direct::runtime()?.block_on(takeover::import_msal(&broker, &args.path, &options))?;
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&text(&report))?;
    }
    let all_good = report
        .accounts
        .iter()
        .all(|r| matches!(r.status, Status::Imported | Status::AlreadyPresent));
    let code = report
        .accounts
        .iter()
        .find_map(|r| r.kind.map(exit::code_for_kind))
        .or_else(|| (!all_good && !args.dry_run).then_some(exit::FAILURE))
        .or_else(|| report.shred_refused.then_some(exit::FAILURE))
        .unwrap_or(exit::OK);
    Ok(ExitCode::from(code))
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("Dry run: nothing was changed.\n");
    }
    for r in &report.accounts {
        let profile = r.profile.as_deref().unwrap_or("-");
        let what = match r.status {
            Status::Imported if r.verified => format!(
                "imported into profile `{profile}`{}, verified by a refresh",
                if r.profile_created { " (new)" } else { "" }
            ),
            Status::Imported => format!(
                "imported into profile `{profile}`{} (not verified)",
                if r.profile_created { " (new)" } else { "" }
            ),
            Status::WouldImport => format!(
                "would be imported into profile `{profile}`{}",
                if r.profile_created { " (new)" } else { "" }
            ),
            Status::AlreadyPresent => format!(
                "already present in profile `{profile}`{}",
                if r.verified {
                    ", verified by a refresh"
                } else {
                    ""
                }
            ),
            Status::RolledBack => "not imported".into(),
            Status::Failed => "failed".into(),
        };
        out.push_str(&format!(
            "{} (client {}, {}): {what}",
            r.account, r.client_id, r.environment
        ));
        if let Some(reason) = &r.reason {
            out.push_str(&format!(": {reason}"));
        }
        out.push('\n');
    }
    out.push_str(&format!("Note: {}\n", report.note));
    out
}
