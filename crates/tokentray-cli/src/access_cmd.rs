//! `tokentray access list|allow|revoke|set`: the rules of the profiles'
//! access policy ([`tokentray_core::access`]), kept in each profile's
//! `access` key in profiles.toml (changed under the file's lock, the rest
//! of the file kept as it was).

use crate::cli::{AccessCommand, AccessMode, AllowArgs, RevokeArgs};
use crate::output::{print_json, print_text};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokentray_core::access::{fingerprint, with_rule};
use tokentray_core::profile::{Access, ProfileStore, Rule};
use tokentray_core::token::now;
use tokentray_core::{Error, Result};

pub fn run(command: AccessCommand) -> Result<ExitCode> {
    let store = ProfileStore::open_default()?;
    match command {
        AccessCommand::List { profile, json } => list(&store, profile.as_deref(), json),
        AccessCommand::Allow(args) => allow(&store, args),
        AccessCommand::Revoke(args) => revoke(&store, args),
        AccessCommand::Set { profile, mode } => set(&store, &profile, mode),
    }
}

fn list(store: &ProfileStore, only: Option<&str>, json: bool) -> Result<ExitCode> {
    let profiles: Vec<_> = match only {
        Some(name) => vec![store.get(name)?],
        None => store.load()?,
    };
    if json {
        let listed: Vec<_> = profiles
            .iter()
            .map(|p| serde_json::json!({ "profile": p.name, "access": p.access }))
            .collect();
        print_json(&listed)?;
        return Ok(ExitCode::SUCCESS);
    }
    let at = now();
    let mut text = String::new();
    for profile in &profiles {
        text.push_str(&format!("{}  {}\n", profile.name, profile.access.summary()));
        for rule in profile.access.rules() {
            let state = if rule.holds_at(at) { "" } else { "  (expired)" };
            let hash = rule.sha256.as_deref().map_or_else(
                || "  any version".to_string(),
                |h| format!("  sha256 {}…", &h[..12]),
            );
            text.push_str(&format!("  {}{hash}{state}\n", rule.describe()));
        }
    }
    if text.is_empty() {
        eprintln!("no profiles in {}", store.path().display());
    }
    print_text(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn allow(store: &ProfileStore, args: AllowArgs) -> Result<ExitCode> {
    let program = real_path(&args.program, "program")?;
    let sha256 = if args.any_version {
        None
    } else {
        Some(
            fingerprint::of_file(&program)
                .map_err(|e| Error::io("cannot read the program", &program, e))?,
        )
    };
    let script = args
        .script
        .as_deref()
        .map(|s| real_path(s, "script"))
        .transpose()?;
    let until = args
        .duration
        .map(|secs| now().saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)));
    let rule = Rule {
        program,
        sha256,
        script,
        ssh: args.ssh,
        until,
    };
    let described = rule.describe();
    let name = args.profile;
    store.change_access(&name, |access| match access {
        Access::Any => Err(Error::InvalidInput(format!(
            "profile `{name}` lets any program of yours take its tokens (access = \"any\"); to allow only some, first run `tokentray access set {name} confirm`"
        ))),
        Access::Confirm(rules) => Ok(Access::Confirm(with_rule(rules, rule))),
    })?;
    eprintln!("profile `{name}`: allowed {described}");
    Ok(ExitCode::SUCCESS)
}

fn revoke(store: &ProfileStore, args: RevokeArgs) -> Result<ExitCode> {
    let name = args.profile;
    let program = args.program.map(|p| real_path(&p, "program").unwrap_or(p));
    let mut removed = 0;
    store.change_access(&name, |access| {
        let Access::Confirm(rules) = access else {
            return Err(Error::InvalidInput(format!(
                "profile `{name}` has no rules: it lets any program take its tokens (access = \"any\")"
            )));
        };
        let kept: Vec<Rule> = rules
            .iter()
            .filter(|rule| program.as_ref().is_some_and(|p| &rule.program != p))
            .cloned()
            .collect();
        removed = rules.len() - kept.len();
        if removed == 0 && program.is_some() {
            return Err(Error::NotFound {
                what: format!(
                    "a rule of profile `{name}` for {}",
                    program.as_deref().map_or("any program".into(), |p| p.display().to_string())
                ),
            });
        }
        Ok(Access::Confirm(kept))
    })?;
    eprintln!("profile `{name}`: {removed} rule(s) revoked");
    Ok(ExitCode::SUCCESS)
}

fn set(store: &ProfileStore, name: &str, mode: AccessMode) -> Result<ExitCode> {
    let access = store.change_access(name, |access| {
        Ok(match (mode, access) {
            (AccessMode::Any, _) => Access::Any,
            (AccessMode::Confirm, Access::Confirm(rules)) => Access::Confirm(rules.clone()),
            (AccessMode::Confirm, Access::Any) => Access::Confirm(Vec::new()),
        })
    })?;
    eprintln!("profile `{name}`: access = {}", access.summary());
    Ok(ExitCode::SUCCESS)
}

/// The real path of an existing file, as the OS reports a running
/// program's executable (symbolic links resolved).
fn real_path(path: &Path, what: &str) -> Result<PathBuf> {
    let real = std::fs::canonicalize(path)
        .map_err(|e| Error::InvalidInput(format!("--{what} {}: {e}", path.display())))?;
    if !real.is_file() {
        return Err(Error::InvalidInput(format!(
            "--{what} {}: not a file",
            path.display()
        )));
    }
    Ok(real)
}
