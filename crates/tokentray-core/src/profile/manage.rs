//! Adding and removing profiles together with what they own in the vault
//! (the client secret), so that a profile and its secret appear and
//! disappear together and a failure leaves neither half-done.

use super::{Profile, ProfileStore};
use crate::error::{Error, Result};
use crate::secret::ClientSecret;
use crate::vault::{client_secret_key, Vault};

/// Adds `profile`, storing `client_secret` in the vault first when given.
/// If the profile cannot be written, the secret written for it is removed
/// again.
pub fn add_profile(
    store: &ProfileStore,
    vault: &dyn Vault,
    profile: &Profile,
    client_secret: Option<&ClientSecret>,
) -> Result<()> {
    if store.load()?.iter().any(|p| p.name == profile.name) {
        return Err(Error::AlreadyExists {
            what: format!("profile `{}`", profile.name),
        });
    }
    let Some(secret) = client_secret else {
        return store.add(profile);
    };
    store_client_secret(vault, &profile.name, secret)?;
    let key = client_secret_key(&profile.name);
    store.add(profile).inspect_err(|_| {
        if let Err(cleanup) = vault.delete(&key) {
            tracing::warn!(profile = %profile.name, error = %cleanup, "could not remove the client secret of a profile that was not added");
        }
    })
}

/// Stores `secret` as the client secret of the profile named `name`, in
/// the vault (S9), replacing any stored before.
pub fn store_client_secret(vault: &dyn Vault, name: &str, secret: &ClientSecret) -> Result<()> {
    if secret.expose().is_empty() {
        return Err(Error::InvalidInput("the client secret is empty".into()));
    }
    vault.put(&client_secret_key(name), secret.as_secret())
}

/// Removes the profile named `name` and its vault entries. The vault is
/// cleaned first: when it cannot be reached, the profile stays, so no
/// secret is ever left behind without a profile pointing at it.
pub fn remove_profile(store: &ProfileStore, vault: &dyn Vault, name: &str) -> Result<Profile> {
    let profile = store.get(name)?;
    vault.delete(&client_secret_key(name))?;
    store.remove(name)?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{LoginMode, Preset, ProfileFields, FILE_NAME};
    use crate::vault::MemoryVault;

    fn confidential(name: &str) -> Profile {
        Profile::from_fields(
            name,
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some("http://127.0.0.1:9".into()),
                client_id: Some("svc".into()),
                login: Some(LoginMode::ClientCredentials),
                ..Default::default()
            },
        )
        .unwrap()
    }

    // S9: client secrets in the vault
    #[test]
    fn secret_and_profile_come_and_go_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        let vault = MemoryVault::in_memory();
        let secret = ClientSecret::new("s3cret");
        add_profile(&store, &vault, &confidential("svc"), Some(&secret)).unwrap();
        assert_eq!(
            vault.get(&client_secret_key("svc")).unwrap(),
            Some(secret.clone().into_secret())
        );
        assert!(!std::fs::read_to_string(store.path())
            .unwrap()
            .contains("s3cret"));

        let err = add_profile(
            &store,
            &vault,
            &confidential("svc"),
            Some(&ClientSecret::new("other")),
        )
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::AlreadyExists);
        assert_eq!(
            vault.get(&client_secret_key("svc")).unwrap(),
            Some(secret.into_secret()),
            "untouched"
        );

        remove_profile(&store, &vault, "svc").unwrap();
        assert!(vault.get(&client_secret_key("svc")).unwrap().is_none());
        assert!(store.load().unwrap().is_empty());
    }

    #[test]
    fn a_vault_failure_leaves_the_profile_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        let vault = MemoryVault::in_memory();
        vault.entries().fail_writes_after(0);
        let err = add_profile(
            &store,
            &vault,
            &confidential("svc"),
            Some(&ClientSecret::new("x")),
        )
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultUnavailable);
        assert!(
            store.load().unwrap().is_empty(),
            "no profile without its secret"
        );
    }
}
