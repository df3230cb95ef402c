//! The accounts window's profile editor: forms in, the core's profiles
//! out. Every rule is the core's (`Profile::from_fields`); its errors come
//! back with the field they are about, so the window shows them next to
//! it. Profiles are saved through the broker, which announces the change
//! to the menu, the window and the scheduler. A client secret goes from
//! the form straight to the vault (`add_profile`) and never back.

use tokentray_core::broker::{Broker, Grants};
use tokentray_core::profile::{
    Access, AccessField, LoginMode, Preset, Profile, ProfileFields, Provider,
};
use tokentray_core::ClientSecret;

use crate::dto::{PresetInfo, ProfileForm};
use crate::{registration, CommandError};

/// The presets the form offers, with what each needs.
pub fn presets() -> Vec<PresetInfo> {
    Preset::ALL
        .iter()
        .map(|preset| PresetInfo {
            id: preset.as_str().to_owned(),
            label: match preset {
                Preset::Microsoft => "Microsoft Entra ID",
                Preset::Google => "Google",
                Preset::Github => "GitHub",
                Preset::Oidc => "Other OpenID Connect provider (issuer URL)",
            }
            .to_owned(),
            needs: match preset {
                Preset::Microsoft => Some("tenant".to_owned()),
                Preset::Oidc => Some("issuer".to_owned()),
                Preset::Google | Preset::Github => None,
            },
            default_login: preset.default_login().as_str().to_owned(),
            default_scopes: preset
                .default_scopes()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            registrations: registration::for_preset(*preset),
        })
        .collect()
}

/// Every login mode, as the form's choices.
pub fn login_modes() -> Vec<String> {
    LoginMode::ALL
        .iter()
        .map(|mode| mode.as_str().to_owned())
        .collect()
}

/// A profile as the form shows it.
pub fn form(profile: &Profile) -> ProfileForm {
    let (tenant, issuer) = match &profile.provider {
        Provider::Microsoft { tenant } => (Some(tenant.clone()), None),
        Provider::Oidc { issuer } => (None, Some(issuer.clone())),
        Provider::Google | Provider::Github => (None, None),
    };
    ProfileForm {
        name: profile.name.clone(),
        provider: profile.provider.preset().as_str().to_owned(),
        tenant,
        issuer,
        client_id: profile.client_id.clone(),
        scopes: profile.scopes.clone(),
        login: Some(profile.login.as_str().to_owned()),
        refresh_margin: Some(i64::try_from(profile.refresh_margin_secs).unwrap_or(i64::MAX)),
        keep_fresh: profile.keep_fresh,
        access: match profile.access {
            Access::Any => "any",
            Access::Confirm(_) => "confirm",
        }
        .to_owned(),
    }
}

/// Validates a form into a profile; an error names its field.
pub fn profile(form: ProfileForm) -> Result<Profile, CommandError> {
    let provider = form
        .provider
        .parse::<Preset>()
        .map_err(|message| CommandError::for_field("provider", message))?;
    let login = match non_empty(form.login) {
        Some(login) => Some(
            login
                .parse::<LoginMode>()
                .map_err(|message| CommandError::for_field("login", message))?,
        ),
        None => None,
    };
    let scopes: Vec<String> = form
        .scopes
        .into_iter()
        .map(|scope| scope.trim().to_owned())
        .filter(|scope| !scope.is_empty())
        .collect();
    let fields = ProfileFields {
        provider: Some(provider),
        tenant: non_empty(form.tenant),
        issuer: non_empty(form.issuer),
        client_id: Some(form.client_id.trim().to_owned()),
        scopes: (!scopes.is_empty()).then_some(scopes),
        login,
        refresh_margin: form.refresh_margin,
        keep_fresh: Some(form.keep_fresh),
        access: Some(AccessField::Mode(form.access)),
        extra_scopes: None,
        force_refresh_interval: None,
    };
    Profile::from_fields(form.name.trim(), fields)
        .map_err(|error| CommandError::for_field(error.field, error.message))
}

/// Adds a new profile (`original: None`) or replaces the one named
/// `original` (its name cannot change; while it has a signed-in account,
/// neither can its provider nor its client, S6: the account's refresh
/// token must never be sent elsewhere). A client secret, when given, goes
/// to the vault; a `client_credentials` profile cannot be added without
/// one.
pub fn save<G: Grants>(
    broker: &Broker<G>,
    signed_in: bool,
    original: Option<&str>,
    form: ProfileForm,
    client_secret: Option<ClientSecret>,
) -> Result<Profile, CommandError> {
    let mut profile = profile(form)?;
    let client_secret = client_secret.filter(|secret| !secret.expose().is_empty());
    match original {
        None => {
            if profile.login == LoginMode::ClientCredentials && client_secret.is_none() {
                return Err(CommandError::for_field(
                    "client_secret",
                    "login client_credentials needs the client secret",
                ));
            }
            broker.add_profile(&profile, client_secret.as_ref())?;
        }
        Some(original) => {
            if original != profile.name {
                return Err(CommandError::for_field(
                    "name",
                    "a profile cannot be renamed (its accounts are stored under its name); add a new one instead",
                ));
            }
            let stored = broker.profiles().get(original)?;
            // what the form does not show stays as the file says
            if let (Access::Confirm(rules), Access::Confirm(_)) = (&stored.access, &profile.access)
            {
                profile.access = Access::Confirm(rules.clone());
            }
            profile.extra_scopes = stored.extra_scopes.clone();
            profile.force_refresh_interval_secs = stored.force_refresh_interval_secs;
            if signed_in {
                if stored.provider != profile.provider {
                    return Err(CommandError::for_field(
                        provider_field(&profile),
                        "the signed-in account belongs to the current provider: sign out first",
                    ));
                }
                if stored.client_id != profile.client_id {
                    return Err(CommandError::for_field(
                        "client_id",
                        "the signed-in account belongs to the current client: sign out first",
                    ));
                }
            }
            broker.replace_profile(&profile)?;
            if let Some(secret) = &client_secret {
                broker.set_client_secret(&profile.name, secret)?;
            }
        }
    }
    Ok(profile)
}

/// The form field that names `profile`'s provider.
fn provider_field(profile: &Profile) -> &'static str {
    match profile.provider {
        Provider::Microsoft { .. } => "tenant",
        Provider::Oidc { .. } => "issuer",
        Provider::Google | Provider::Github => "provider",
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentray_core::profile::{ProfileStore, FILE_NAME};
    use tokentray_core::vault::{client_secret_key, MemoryVault, Vault};
    use tokentray_core::Secret;

    fn microsoft(name: &str) -> ProfileForm {
        ProfileForm {
            name: name.into(),
            provider: "microsoft".into(),
            tenant: Some("contoso.onmicrosoft.com".into()),
            issuer: Some(" ".into()),
            client_id: " 11111111-2222-3333-4444-555555555555 ".into(),
            scopes: vec![],
            login: None,
            refresh_margin: None,
            keep_fresh: false,
            access: "confirm".into(),
        }
    }

    #[test]
    fn a_form_becomes_the_cores_profile_with_the_presets_defaults() {
        let profile = profile(microsoft("graph")).unwrap();
        assert_eq!(
            profile.provider,
            Provider::Microsoft {
                tenant: "contoso.onmicrosoft.com".into()
            }
        );
        assert_eq!(profile.client_id, "11111111-2222-3333-4444-555555555555");
        assert_eq!(profile.scopes, ["https://graph.microsoft.com/.default"]);
        assert_eq!(profile.login, LoginMode::Embedded);
        assert_eq!(
            form(&profile).tenant.as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(super::profile(form(&profile)).unwrap(), profile);
    }

    #[test]
    fn the_cores_errors_name_their_field() {
        let cases: Vec<(ProfileForm, &str)> = vec![
            (
                ProfileForm {
                    name: "bad name!".into(),
                    ..microsoft("x")
                },
                "name",
            ),
            (
                ProfileForm {
                    provider: "okta".into(),
                    ..microsoft("x")
                },
                "provider",
            ),
            (
                ProfileForm {
                    provider: "oidc".into(),
                    tenant: None,
                    issuer: Some("http://idp.example.com".into()),
                    ..microsoft("x")
                },
                "issuer",
            ),
            (
                ProfileForm {
                    provider: "google".into(),
                    tenant: None,
                    login: Some("embedded".into()),
                    ..microsoft("x")
                },
                "login",
            ),
            (
                ProfileForm {
                    login: Some("telepathy".into()),
                    ..microsoft("x")
                },
                "login",
            ),
            (
                ProfileForm {
                    client_id: "  ".into(),
                    ..microsoft("x")
                },
                "client_id",
            ),
            (
                ProfileForm {
                    refresh_margin: Some(-1),
                    ..microsoft("x")
                },
                "refresh_margin",
            ),
        ];
        for (form, field) in cases {
            let error = profile(form).unwrap_err();
            assert_eq!(error.kind, "invalid_input");
            assert_eq!(error.field.as_deref(), Some(field), "{}", error.message);
        }
    }

    // S6 S9: the client secret goes to the vault, never into the profiles
    // file; a signed-in account's provider and client cannot be edited
    #[test]
    fn add_edit_with_the_secret_in_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        let vault = std::sync::Arc::new(MemoryVault::in_memory());
        let broker = tokentray_core::agent::broker(vault.clone(), store.clone()).unwrap();
        let service = ProfileForm {
            provider: "oidc".into(),
            tenant: None,
            issuer: Some("http://127.0.0.1:9".into()),
            login: Some("client_credentials".into()),
            scopes: vec!["api.read".into()],
            ..microsoft("svc")
        };
        let missing = save(&broker, false, None, service.clone(), None).unwrap_err();
        assert_eq!(missing.field.as_deref(), Some("client_secret"));
        save(
            &broker,
            false,
            None,
            service.clone(),
            Some(ClientSecret::new("secret-canary")),
        )
        .unwrap();
        assert_eq!(
            vault.get(&client_secret_key("svc")).unwrap(),
            Some(Secret::new("secret-canary"))
        );
        assert!(!std::fs::read_to_string(store.path())
            .unwrap()
            .contains("secret-canary"));

        let again = save(
            &broker,
            false,
            None,
            service.clone(),
            Some(ClientSecret::new("x")),
        );
        assert_eq!(again.unwrap_err().kind, "already_exists");
        let edited = ProfileForm {
            keep_fresh: true,
            access: "any".into(),
            ..service.clone()
        };
        save(&broker, false, Some("svc"), edited, None).unwrap();
        assert!(store.get("svc").unwrap().keep_fresh);
        assert_eq!(
            vault.get(&client_secret_key("svc")).unwrap(),
            Some(Secret::new("secret-canary")),
            "an edit without a secret keeps the stored one"
        );
        let renamed = save(&broker, false, Some("other"), service.clone(), None);
        assert_eq!(renamed.unwrap_err().field.as_deref(), Some("name"));

        // S6: while signed in, the account's provider and client stay
        let elsewhere = ProfileForm {
            issuer: Some("http://127.0.0.1:10".into()),
            ..service.clone()
        };
        let moved = save(&broker, true, Some("svc"), elsewhere.clone(), None);
        assert_eq!(moved.unwrap_err().field.as_deref(), Some("issuer"));
        let other_client = ProfileForm {
            client_id: "another".into(),
            ..service.clone()
        };
        let moved = save(&broker, true, Some("svc"), other_client, None);
        assert_eq!(moved.unwrap_err().field.as_deref(), Some("client_id"));
        assert_eq!(
            store.get("svc").unwrap().provider,
            Provider::Oidc {
                issuer: "http://127.0.0.1:9".into()
            }
        );
        let fresher = ProfileForm {
            keep_fresh: false,
            access: "confirm".into(),
            ..service
        };
        save(&broker, true, Some("svc"), fresher, None).unwrap();
        save(&broker, false, Some("svc"), elsewhere, None).unwrap();
    }
}
