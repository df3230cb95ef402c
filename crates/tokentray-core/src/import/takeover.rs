//! Taking the accounts of a plaintext MSAL cache over: each account gets
//! a profile (an existing one of the same client and authority, or a new
//! one) and its tokens go to the vault; each is proven with one refresh;
//! all or nothing unless `partial`; `shred` destroys the file only after
//! every account was imported and verified. The CLI (`tokentray import
//! msal`) and the tray app's Import view run this same code.
//!
//! No token is ever put into a report or an error: reports name accounts,
//! clients and profiles.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use super::msal::{self, Authority, Import};
use super::shred::shred_file;
use crate::account::{Account, CachedToken};
use crate::broker::{Broker, TokenRequest};
use crate::error::{Error, Result};
use crate::flow::OAuth;
use crate::profile::{LoginMode, Preset, Profile, ProfileFields, Provider, MAX_NAME_LEN};
use crate::secret::AccessTokenSecret;
use crate::token::{now, ScopeSet, TokenSet};

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

/// A profile to use for an account: an existing one, or one to create.
struct Target {
    profile: Profile,
    create: bool,
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

fn fail(report: &mut AccountReport, error: &Error) {
    report.status = Status::Failed;
    report.verified = false;
    report.reason = Some(error.to_string());
    report.kind = Some(error.kind());
}

/// The profile an account goes to, its token set, and whether the vault
/// holds it already.
fn plan(
    broker: &Broker<OAuth>,
    import: &Import,
    args: &Options,
    taken: &mut BTreeSet<String>,
) -> Result<(Target, TokenSet, bool)> {
    let refresh = import.refresh_token.clone().ok_or_else(|| {
        Error::InvalidInput(
            "the cache holds no refresh token for this account and client (nor its family): sign in with `tokentray login` instead"
                .into(),
        )
    })?;
    let identity = import.claimed_identity().ok_or_else(|| {
        Error::InvalidInput(
            "the cache holds no usable ID token for this account and client, so the account cannot be identified"
                .into(),
        )
    })?;
    let provider = match import.authority() {
        Authority::Microsoft { tenant } => Provider::Microsoft { tenant },
        Authority::Other { host } => {
            let issuer = args.issuer.clone().ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the account signed in at `{host}`, which is not Microsoft, and MSAL keeps only the host: give the issuer URL with --issuer https://{host}/..."
                ))
            })?;
            if url_host(&issuer).as_deref() != Some(host.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "the account signed in at `{host}`, but --issuer {issuer} is another host"
                )));
            }
            if identity.issuer != issuer {
                return Err(Error::InvalidInput(format!(
                    "the account's ID token was issued by {}, not by --issuer {issuer}",
                    identity.issuer
                )));
            }
            Provider::Oidc { issuer }
        }
    };
    let scopes = import.scopes();
    let (preset, tenant, issuer, scopes) = match &provider {
        Provider::Microsoft { tenant } => (
            Preset::Microsoft,
            Some(tenant.clone()),
            None,
            (!scopes.is_empty()).then_some(scopes),
        ),
        Provider::Oidc { issuer } => {
            let mut all: Vec<String> = ["openid", "profile", "offline_access"]
                .map(String::from)
                .to_vec();
            for scope in scopes {
                if !all.contains(&scope) {
                    all.push(scope);
                }
            }
            (Preset::Oidc, None, Some(issuer.clone()), Some(all))
        }
        _ => return Err(Error::InvalidInput("unexpected provider".into())),
    };

    // An existing profile of the same client and authority: the one that
    // holds this identity, else one with no account.
    let accounts = broker.accounts().list()?;
    let same_client: Vec<Profile> = broker
        .profiles()
        .load()?
        .into_iter()
        .filter(|p| p.client_id == import.client_id && same_provider(&p.provider, &provider))
        .collect();
    let holds = |p: &Profile| {
        let id = Account::id_for(&p.name, &identity);
        accounts.iter().any(|a| a.profile == p.name && a.id == id)
    };
    let empty = |p: &Profile| !accounts.iter().any(|a| a.profile == p.name);
    let existing = same_client
        .iter()
        .find(|p| holds(p))
        .or_else(|| same_client.iter().find(|p| empty(p)));
    let (target, present) = match existing {
        Some(profile) => (
            Target {
                profile: profile.clone(),
                create: false,
            },
            holds(profile),
        ),
        None => {
            let name = new_name(&args.profile_prefix, import, taken)?;
            let fields = ProfileFields {
                provider: Some(preset),
                tenant,
                issuer,
                client_id: Some(import.client_id.clone()),
                scopes,
                login: Some(LoginMode::Device),
                ..ProfileFields::default()
            };
            let profile = Profile::from_fields(&name, fields).map_err(|e| {
                Error::InvalidInput(format!(
                    "cannot make a profile for it: {}: {}",
                    e.field, e.message
                ))
            })?;
            taken.insert(name);
            (
                Target {
                    profile,
                    create: true,
                },
                false,
            )
        }
    };

    // The token set: the longest-valid access token (a placeholder that is
    // dropped again when none is valid), the refresh and ID tokens.
    let first = import.access_tokens.iter().max_by_key(|t| t.expires_at);
    let tokens = TokenSet {
        access_token: first.map_or_else(|| AccessTokenSecret::new(""), |t| t.token.clone()),
        token_type: first.map_or_else(|| "Bearer".into(), |t| t.token_type.clone()),
        expires_at: first.map_or(0, |t| t.expires_at),
        scopes: first.map(|t| t.scopes.clone()).unwrap_or_default(),
        refresh_token: Some(refresh),
        refresh_expires_at: None,
        id_token: import.id_token.clone(),
        // another tool's ID token: not validated here
        id_token_validated_at: None,
        identity: Some(identity),
    };
    Ok((target, tokens, present))
}

/// The host of an `https://HOST[:PORT]/...` URL, lowercased.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

fn same_provider(a: &Provider, b: &Provider) -> bool {
    match (a, b) {
        (Provider::Microsoft { tenant: x }, Provider::Microsoft { tenant: y }) => {
            x.eq_ignore_ascii_case(y)
        }
        (Provider::Oidc { issuer: x }, Provider::Oidc { issuer: y }) => {
            x.trim_end_matches('/') == y.trim_end_matches('/')
        }
        _ => false,
    }
}

/// `PREFIX` + the account's username made name-safe, unique among `taken`.
fn new_name(prefix: &str, import: &Import, taken: &BTreeSet<String>) -> Result<String> {
    let user: String = import
        .label()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base: String = format!("{prefix}{user}")
        .chars()
        .take(MAX_NAME_LEN - 4)
        .collect();
    let base = base.trim_end_matches(['-', '.', '_']).to_string();
    (1..1000)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken.contains(name))
        .ok_or_else(|| Error::InvalidInput("no free profile name".into()))
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
