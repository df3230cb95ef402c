//! `tokentray profile add|list|show|remove`.

use crate::cli::{AddArgs, ProfileCommand};
use crate::output::{print_json, print_text};
use crate::store::Store;
use std::io::Read;
use std::process::ExitCode;
use tokentray_core::profile::{self, Preset, Profile, ProfileFields, ProfileStore, Provider};
use tokentray_core::vault::StoreKind;
use tokentray_core::{ClientSecret, Error, Result};

pub fn run(command: ProfileCommand, vault: &Store) -> Result<ExitCode> {
    let store = ProfileStore::open_default()?;
    match command {
        ProfileCommand::Add(args) => add(&store, args, vault),
        ProfileCommand::List { json } => list(&store, json),
        ProfileCommand::Show { name, json } => show(&store, &name, json),
        ProfileCommand::Remove { name } => {
            let removed = profile::remove_profile(&store, vault, &name)?;
            eprintln!("removed profile `{}`", removed.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(store: &ProfileStore, args: AddArgs, vault: &Store) -> Result<ExitCode> {
    let preset = match (args.preset, &args.issuer) {
        (Some(preset), _) => preset,
        (None, Some(_)) => Preset::Oidc,
        (None, None) => {
            return Err(Error::InvalidInput(
                "give --preset microsoft|google|github|oidc, or --issuer URL for a generic OpenID Connect provider"
                    .into(),
            ))
        }
    };
    let fields = ProfileFields {
        provider: Some(preset),
        tenant: args.tenant,
        issuer: args.issuer,
        client_id: Some(args.client_id),
        scopes: (!args.scopes.is_empty()).then_some(args.scopes),
        login: args.login,
        refresh_margin: args.refresh_margin,
        keep_fresh: args.keep_fresh.then_some(true),
        access: Some(tokentray_core::profile::AccessField::Mode(
            args.access.as_str().into(),
        )),
        extra_scopes: (!args.extra_scopes.is_empty()).then_some(args.extra_scopes),
        force_refresh_interval: args.force_refresh_interval,
    };
    let profile = Profile::from_fields(&args.name, fields).map_err(|e| {
        Error::InvalidInput(format!("--{}: {}", e.field.replace('_', "-"), e.message))
    })?;
    let secret = if args.client_secret_stdin {
        Some(read_secret_from_stdin()?)
    } else if profile.login == profile::LoginMode::ClientCredentials {
        return Err(Error::InvalidInput(
            "login client_credentials needs the client secret: pipe it to --client-secret-stdin"
                .into(),
        ));
    } else {
        None
    };
    // The store opens only if there is a secret to put in it.
    profile::add_profile(store, vault, &profile, secret.as_ref())?;
    let stored = match (secret.is_some(), vault.kind()) {
        (false, _) => "",
        (true, StoreKind::Keyring) => " (client secret stored in the OS vault)",
        (true, StoreKind::File) => " (client secret stored in the encrypted file store)",
        (true, StoreKind::Memory) => " (client secret held by the memory agent)",
    };
    eprintln!(
        "added profile `{}` to {}{stored}",
        profile.name,
        store.path().display(),
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads the whole of stdin as the secret, without its trailing newline.
fn read_secret_from_stdin() -> Result<ClientSecret> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::io("cannot read the client secret from", "<stdin>", e))?;
    let trimmed_len = text.trim_end_matches(['\r', '\n']).len();
    text.truncate(trimmed_len);
    let secret = ClientSecret::new(text);
    if secret.expose().is_empty() {
        return Err(Error::InvalidInput(
            "--client-secret-stdin: stdin was empty".into(),
        ));
    }
    Ok(secret)
}

fn list(store: &ProfileStore, json: bool) -> Result<ExitCode> {
    let profiles = store.load()?;
    if json {
        print_json(&profiles)?;
    } else if profiles.is_empty() {
        eprintln!(
            "no profiles in {}; add one with `tokentray profile add`",
            store.path().display()
        );
    } else {
        let mut text = format!(
            "{:<20} {:<10} {:<18} {}\n",
            "NAME", "PROVIDER", "LOGIN", "CLIENT ID"
        );
        for p in &profiles {
            text.push_str(&format!(
                "{:<20} {:<10} {:<18} {}\n",
                p.name,
                p.provider.preset().as_str(),
                p.login.as_str(),
                p.client_id
            ));
        }
        print_text(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(store: &ProfileStore, name: &str, json: bool) -> Result<ExitCode> {
    let p = store.get(name)?;
    if json {
        print_json(&p)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!(
        "name:           {}\nprovider:       {}\n",
        p.name,
        p.provider.preset().as_str()
    );
    match &p.provider {
        Provider::Microsoft { tenant } => text.push_str(&format!("tenant:         {tenant}\n")),
        Provider::Oidc { issuer } => text.push_str(&format!("issuer:         {issuer}\n")),
        Provider::Google | Provider::Github => {}
    }
    text.push_str(&format!(
        "client id:      {}\nscopes:         {}\nlogin:          {}\nrefresh margin: {} s\nkeep fresh:     {}\n",
        p.client_id,
        p.scopes.join(" "),
        p.login.as_str(),
        p.refresh_margin_secs,
        if p.keep_fresh { "yes" } else { "no" }
    ));
    print_text(&text)?;
    Ok(ExitCode::SUCCESS)
}
