//! `tokentray doctor`: checks the setup and says how to fix what fails.
//! Each check prints `NAME: ok (detail)` or `NAME: FAILED: problem`, with
//! the fix inside the problem's message. The `vault` check names the store
//! in use (`--store`) and probes it.

use crate::cli::DoctorArgs;
use crate::exit;
use crate::output::{print_json, print_text};
use crate::store::{memory_needs_agent, Store};
use serde::Serialize;
use std::process::ExitCode;
use tokentray_core::profile::{LoginMode, ProfileStore};
use tokentray_core::vault::{self, StoreKind, Vault};
use tokentray_core::{ErrorKind, Result};

#[derive(Serialize)]
struct Check {
    name: String,
    ok: bool,
    /// What was found, or what is wrong and how to fix it.
    detail: String,
    /// The error kind when the check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<ErrorKind>,
}

impl Check {
    fn from_result(name: impl Into<String>, result: Result<String>) -> Self {
        match result {
            Ok(detail) => Check {
                name: name.into(),
                ok: true,
                detail,
                kind: None,
            },
            Err(error) => Check {
                name: name.into(),
                ok: false,
                detail: error.to_string(),
                kind: Some(error.kind()),
            },
        }
    }
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    /// The store in use: keyring, file or memory.
    store: &'static str,
    checks: Vec<Check>,
}

pub fn run(args: &DoctorArgs, vault: &Store) -> Result<ExitCode> {
    let mut checks = Vec::new();

    let store = ProfileStore::open_default();
    let profiles = store.and_then(|store| store.load().map(|profiles| (store, profiles)));
    let vault_check = Check::from_result("vault", probe(vault));
    // The memory store's secrets are in the agent: nothing to look up here.
    let vault_ok = vault_check.ok && !matches!(vault.kind(), StoreKind::Memory);
    match profiles {
        Ok((store, profiles)) => {
            checks.push(Check::from_result(
                "profiles",
                Ok(format!(
                    "{} profile(s) in {}",
                    profiles.len(),
                    store.path().display()
                )),
            ));
            checks.push(vault_check);
            if vault_ok {
                for p in profiles
                    .iter()
                    .filter(|p| p.login == LoginMode::ClientCredentials)
                {
                    checks.push(Check::from_result(
                        format!("client secret of {}", p.name),
                        client_secret_present(vault, &p.name),
                    ));
                }
            }
        }
        Err(error) => {
            checks.push(Check::from_result("profiles", Err(error)));
            checks.push(vault_check);
        }
    }

    let code = exit_code(&checks);
    let report = Report {
        ok: checks.iter().all(|c| c.ok),
        store: vault.kind().as_str(),
        checks,
    };
    if args.json {
        print_json(&report)?;
    } else {
        let text: String = report
            .checks
            .iter()
            .map(|c| {
                if c.ok {
                    format!("{}: ok ({})\n", c.name, c.detail)
                } else {
                    format!("{}: FAILED: {}\n", c.name, c.detail)
                }
            })
            .collect();
        print_text(&text)?;
    }
    Ok(code)
}

/// Opens the store in use and probes it; the detail names the store.
fn probe(vault: &Store) -> Result<String> {
    const PROBED: &str = "wrote, read back and deleted a test entry";
    match vault.kind() {
        StoreKind::Keyring => {
            vault::probe(vault)?;
            Ok(if cfg!(target_os = "linux") {
                format!("store keyring, the Secret Service: {PROBED}")
            } else {
                format!("store keyring, the OS credential store: {PROBED}")
            })
        }
        StoreKind::File => {
            vault::probe(vault)?;
            Ok(format!(
                "store file, {} (Argon2id, XChaCha20-Poly1305): {PROBED}",
                vault::choice::file_path()?.display()
            ))
        }
        StoreKind::Memory => memory_agent()
            .map(|pid| format!("store memory, in the agent (pid {pid}); its tokens die with it")),
    }
}

fn memory_agent() -> Result<u32> {
    let client = tokentray_core::ipc::client::Client::from_env()?;
    match client.ping() {
        Ok(Some(pong)) => Ok(pong.pid),
        _ => Err(memory_needs_agent()),
    }
}

fn client_secret_present(vault: &dyn Vault, profile: &str) -> Result<String> {
    match vault.get(&vault::client_secret_key(profile))? {
        Some(_) => Ok("stored in the vault".into()),
        None => Err(tokentray_core::Error::NotFound {
            what: format!(
                "client secret (fix: `tokentray profile remove {profile}`, then add it again with --client-secret-stdin); it"
            ),
        }),
    }
}

/// Vault failures outrank configuration failures: 5, then 2, else 0.
fn exit_code(checks: &[Check]) -> ExitCode {
    let vault_failed = checks.iter().any(|c| {
        matches!(
            c.kind,
            Some(ErrorKind::VaultUnavailable | ErrorKind::VaultLocked | ErrorKind::VaultCorrupt)
        )
    });
    if vault_failed {
        ExitCode::from(exit::VAULT)
    } else if checks.iter().any(|c| !c.ok) {
        ExitCode::from(exit::USAGE)
    } else {
        ExitCode::from(exit::OK)
    }
}
