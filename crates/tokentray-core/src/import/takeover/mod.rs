//! Taking the accounts of a plaintext MSAL cache over: each account gets
//! a profile (an existing one of the same client and authority, or a new
//! one) and its tokens go to the vault; each is proven with one refresh;
//! all or nothing unless `partial`; `shred` destroys the file only after
//! every account was imported and verified. The CLI (`tokentray import
//! msal`) and the tray app's Import view run this same code.
//!
//! No token is ever put into a report or an error: reports name accounts,
//! clients and profiles. `plan` picks each account's profile and token
//! set; `report` holds what the run tells its caller.

mod plan;
mod report;

use std::collections::BTreeSet;
use std::path::Path;

use super::msal::{self, Import};
use super::shred::shred_file;
use crate::account::{Account, CachedToken};
use crate::broker::{Broker, TokenRequest};
use crate::error::{Error, Result};
use crate::flow::OAuth;
use crate::profile::{Preset, Profile, ProfileFields};
use crate::token::{now, ScopeSet, TokenSet};
use plan::{plan, Target};
use report::fail;
pub use report::{AccountReport, Report, Status};

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Prefix of the names of new profiles.
    pub profile_prefix: String,
    /// Issuer URL for accounts of a non-Microsoft provider.
    pub issuer: Option<String>,
    /// Change nothing; say what would be done.
    pub dry_run: bool,
    /// Do not prove each account with a refresh.
    pub no_verify: bool,
    /// Keep the accounts that worked when others fail.
    pub partial: bool,
    /// Overwrite and delete the file after every account was imported and
    /// verified.
    pub shred: bool,
}

/// Imports the accounts of the MSAL cache at `path` through `broker`
/// (which takes each profile's lock around its writes and announces the
/// new accounts and profiles, so the scheduler plans them).
pub async fn import_msal(broker: &Broker<OAuth>, path: &Path, args: &Options) -> Result<Report> {
    if args.shred && (args.dry_run || args.no_verify) {
        return Err(Error::InvalidInput(format!(
            "--shred refused: the file is only shredded after every account was imported and verified, and {} skips that",
            if args.dry_run { "--dry-run" } else { "--no-verify" }
        )));
    }
    if let Some(issuer) = &args.issuer {
        // Same rules as a profile's issuer, checked before anything else.
        Profile::from_fields(
            "import-check",
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some(issuer.clone()),
                client_id: Some("x".into()),
                ..ProfileFields::default()
            },
        )
        .map_err(|e| Error::InvalidInput(format!("--issuer: {}", e.message)))?;
    }
    let imports = msal::read_cache(path, now())?;
    if imports.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} holds no account: nothing to import",
            path.display()
        )));
    }

    let mut reports = Vec::new();
    let mut stored: Vec<(usize, Account)> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    let mut taken: BTreeSet<String> = broker
        .profiles()
        .load()?
        .into_iter()
        .map(|p| p.name)
        .collect();

    for import in &imports {
        let mut report = AccountReport {
            account: import.label(),
            client_id: import.client_id.clone(),
            environment: import.environment.clone(),
            profile: None,
            profile_created: false,
            status: Status::Failed,
            verified: false,
            access_tokens: import.access_tokens.len(),
            reason: None,
            kind: None,
        };
        match plan(broker, import, args, &mut taken) {
            Err(error) => fail(&mut report, &error),
            Ok((target, tokens, present)) => {
                report.profile = Some(target.profile.name.clone());
                report.profile_created = target.create;
                if present {
                    report.status = Status::AlreadyPresent;
                    report.reason = Some(
                        "this account is already in the vault under the profile; left as it is"
                            .into(),
                    );
                } else if args.dry_run {
                    report.status = Status::WouldImport;
                } else {
                    match store(broker, &target, import, &tokens).await {
                        Ok(account) => {
                            if target.create {
                                created.push(target.profile.name.clone());
                            }
                            stored.push((reports.len(), account));
                            report.status = Status::Imported;
                        }
                        Err(error) => {
                            if target.create {
                                // `store` created it before failing.
                                let _ = broker.remove_profile(&target.profile.name, false).await;
                            }
                            fail(&mut report, &error);
                        }
                    }
                }
            }
        }
        reports.push(report);
    }

    // Prove each account with one refresh: the stored ones, and the ones
    // already present (so --shred never relies on an unproven copy).
    if !args.dry_run && !args.no_verify {
        for report in reports
            .iter_mut()
            .filter(|r| matches!(r.status, Status::Imported | Status::AlreadyPresent))
        {
            let Some(profile) = report.profile.clone() else {
                continue;
            };
            let request = TokenRequest {
                force_refresh: true,
                ..TokenRequest::for_profile(&profile)
            };
            match broker.token(&request).await {
                Ok(_) => report.verified = true,
                Err(error) => {
                    fail(report, &error);
                    report.reason = Some(format!("the verifying refresh failed: {error}"));
                }
            }
        }
    }

    // Undo: the failed ones always; everything unless --partial.
    let any_failed = reports.iter().any(|r| r.status == Status::Failed);
    for (index, account) in &stored {
        let failed = reports[*index].status == Status::Failed;
        if failed || (any_failed && !args.partial) {
            broker.discard(account).await?;
            if created.contains(&account.profile) {
                broker.remove_profile(&account.profile, false).await?;
            }
            if !failed {
                let report = &mut reports[*index];
                report.status = Status::RolledBack;
                report.verified = false;
                report.reason = Some(
                    "removed again: another account failed (all or nothing; --partial keeps the ones that work)"
                        .into(),
                );
            }
        }
    }

    let all_good = reports
        .iter()
        .all(|r| matches!(r.status, Status::Imported | Status::AlreadyPresent));
    let all_verified = reports.iter().all(|r| r.verified);
    let mut shredded = false;
    let mut shred_refusal = None;
    if args.shred {
        if !all_good {
            shred_refusal = Some("--shred refused: not every account was imported".to_string());
        } else if !all_verified {
            shred_refusal = Some("--shred refused: not every account was verified".to_string());
        } else {
            shred_file(path)?;
            shredded = true;
        }
    }
    let shown = msal::display_path(path);
    let note = if shredded {
        format!(
            "{} was overwritten and deleted: the tokens are only in Tokentray's store now",
            path.display()
        )
    } else {
        let mut note = format!(
            "the plaintext file {} still holds these tokens: delete it (or run again with --shred) once you no longer use it with MSAL",
            shown.display()
        );
        if let Some(refusal) = &shred_refusal {
            note = format!("{refusal}; {note}");
        }
        note
    };
    Ok(Report {
        file: shown.display().to_string(),
        dry_run: args.dry_run,
        accounts: reports,
        shredded,
        plaintext_remains: !shredded,
        note,
        shred_refused: shred_refusal.is_some(),
    })
}

/// Creates the profile when needed, then stores the account with its
/// refresh token, ID token and every still-valid access token.
async fn store(
    broker: &Broker<OAuth>,
    target: &Target,
    import: &Import,
    tokens: &TokenSet,
) -> Result<Account> {
    if target.create {
        broker.add_profile(&target.profile, None)?;
    }
    let at = now();
    let access_tokens = import
        .access_tokens
        .iter()
        .filter(|t| t.expires_at > at)
        .map(|t| CachedToken {
            scopes: ScopeSet::new(&t.scopes),
            token: t.token.clone(),
            token_type: t.token_type.clone(),
            issued_at: t.cached_at.unwrap_or(at).min(at),
            expires_at: t.expires_at,
        })
        .collect();
    broker
        .import_account(&target.profile, tokens, access_tokens)
        .await
}
