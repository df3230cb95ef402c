//! Where profiles live and how they change: `profiles.toml` in the platform
//! config directory, read whole and validated, edited in place (comments and
//! layout kept) and written atomically (temp file, fsync, rename) under a
//! lock, so two commands never lose each other's change and a crash never
//! leaves half a file.

use super::{file, Access, Profile, Provider};
use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Environment variable that overrides the config directory (tests,
/// portable installs).
pub const CONFIG_DIR_ENV: &str = "TOKENTRAY_CONFIG_DIR";
/// The profiles file's name inside the config directory.
pub const FILE_NAME: &str = "profiles.toml";

const HEADER: &str = "# Tokentray profiles. Edit freely, or use `tokentray profile add/remove`.\n\
# Secrets never go in this file: client secrets and tokens live in the OS vault.\n";

/// The config directory: `$TOKENTRAY_CONFIG_DIR` when set, else the
/// platform's (`~/.config/tokentray` on Linux, `~/Library/Application
/// Support/dev.tokentray.tokentray` on macOS, `%APPDATA%\tokentray` on Windows).
pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "tokentray", "tokentray")
        .map(|dirs| dirs.config_dir().to_path_buf())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "cannot find a home directory for the config; set {CONFIG_DIR_ENV}"
            ))
        })
}

/// The profiles file and the operations on it.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    path: PathBuf,
    /// The last parse, keyed by the file's metadata: a long-running agent
    /// answers `token` without re-parsing an unchanged file.
    parsed: Arc<Mutex<Option<Parsed>>>,
}

/// A parse and the file it came from.
type Parsed = (FileStamp, Vec<Profile>);

/// What tells a changed file from an unchanged one without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl FileStamp {
    fn of(metadata: &fs::Metadata) -> Self {
        Self {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(metadata),
        }
    }
}

impl ProfileStore {
    /// The store in the default config directory.
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(config_dir()?.join(FILE_NAME)))
    }

    /// A store at an explicit file path.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            parsed: Arc::default(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All profiles, in file order. A missing file means no profiles; a
    /// malformed one is an error naming file, line, column and key.
    pub fn load(&self) -> Result<Vec<Profile>> {
        let stamp = match fs::metadata(&self.path) {
            Ok(metadata) => FileStamp::of(&metadata),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read", &self.path, e)),
        };
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, profiles)) = parsed.as_ref() {
            if *seen == stamp {
                return Ok(profiles.clone());
            }
        }
        let profiles = match self.read_text()? {
            Some(text) => file::parse(&self.path, &text)?,
            None => Vec::new(),
        };
        *parsed = Some((stamp, profiles.clone()));
        Ok(profiles)
    }

    /// One profile by name.
    pub fn get(&self, name: &str) -> Result<Profile> {
        self.load()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| not_found(name))
    }

    /// Adds a profile; refuses a name that exists. The rest of the file,
    /// comments included, is kept as it was.
    pub fn add(&self, profile: &Profile) -> Result<()> {
        self.edit(|doc, profiles| {
            if profiles.iter().any(|p| p.name == profile.name) {
                return Err(Error::AlreadyExists {
                    what: format!("profile `{}`", profile.name),
                });
            }
            let table = doc
                .entry("profiles")
                .or_insert_with(|| {
                    let mut t = toml_edit::Table::new();
                    t.set_implicit(true);
                    toml_edit::Item::Table(t)
                })
                .as_table_mut()
                .ok_or_else(|| {
                    Error::InvalidInput("`profiles` in the profiles file is not a table".into())
                })?;
            table.insert(&profile.name, toml_edit::Item::Table(to_table(profile)));
            Ok(())
        })
    }

    /// Replaces the profile of the same name where it stands in the file
    /// (the accounts window's profile editor); the rest of the file,
    /// comments included, is kept as it was.
    pub fn replace(&self, profile: &Profile) -> Result<()> {
        self.edit(|doc, profiles| {
            if !profiles.iter().any(|p| p.name == profile.name) {
                return Err(not_found(&profile.name));
            }
            let table = doc
                .get_mut("profiles")
                .and_then(|t| t.as_table_like_mut())
                .ok_or_else(|| not_found(&profile.name))?;
            table.insert(&profile.name, toml_edit::Item::Table(to_table(profile)));
            Ok(())
        })
    }

    /// Changes who may take a profile's tokens: `change` gets the access
    /// the file says now (read under the file's lock, so two processes
    /// adding rules keep both) and returns the new one, which replaces only
    /// the profile's `access` key. Returns the new access.
    pub fn change_access(
        &self,
        name: &str,
        change: impl FnOnce(&Access) -> Result<Access>,
    ) -> Result<Access> {
        let mut changed = None;
        self.edit(|doc, profiles| {
            let profile = profiles
                .into_iter()
                .find(|p| p.name == name)
                .ok_or_else(|| not_found(name))?;
            let access = change(&profile.access)?;
            let table = doc
                .get_mut("profiles")
                .and_then(|t| t.get_mut(name))
                .and_then(|t| t.as_table_like_mut())
                .ok_or_else(|| not_found(name))?;
            match super::access::access_item(&access) {
                Some(item) => {
                    table.insert("access", item);
                }
                None => {
                    table.remove("access");
                }
            }
            changed = Some(access);
            Ok(())
        })?;
        changed.ok_or_else(|| not_found(name))
    }

    /// Removes a profile and returns it.
    pub fn remove(&self, name: &str) -> Result<Profile> {
        let mut removed = None;
        self.edit(|doc, profiles| {
            let found = profiles
                .into_iter()
                .find(|p| p.name == name)
                .ok_or_else(|| not_found(name))?;
            if let Some(table) = doc.get_mut("profiles").and_then(|t| t.as_table_like_mut()) {
                table.remove(name);
            }
            removed = Some(found);
            Ok(())
        })?;
        removed.ok_or_else(|| not_found(name))
    }

    /// Locks the file, reads and validates it, applies `change` to its
    /// document and writes the result atomically. The new text is parsed
    /// again before it is written, so an edit can never produce a file that
    /// does not load.
    fn edit(
        &self,
        change: impl FnOnce(&mut toml_edit::DocumentMut, Vec<Profile>) -> Result<()>,
    ) -> Result<()> {
        let dir = self.dir();
        create_private_dir(dir)?;
        let _lock = self.lock(dir)?;
        let text = self.read_text()?.unwrap_or_else(|| HEADER.to_string());
        let profiles = file::parse(&self.path, &text)?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::InvalidInput(format!("{}: {}", self.path.display(), e.message()))
        })?;
        change(&mut doc, profiles)?;
        let new_text = doc.to_string();
        file::parse(&self.path, &new_text)?;
        write_atomically(&self.path, new_text.as_bytes())
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn lock(&self, dir: &Path) -> Result<fs::File> {
        let lock_path = dir.join(".profiles.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("cannot open lock file", &lock_path, e))?;
        lock.lock()
            .map_err(|e| Error::io("cannot lock", &lock_path, e))?;
        Ok(lock)
    }

    fn read_text(&self) -> Result<Option<String>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(Error::io("cannot read", &self.path, e)),
        }
    }
}

fn not_found(name: &str) -> Error {
    Error::NotFound {
        what: format!("profile `{name}`"),
    }
}

fn to_table(profile: &Profile) -> toml_edit::Table {
    let mut table = toml_edit::Table::new();
    table.insert(
        "provider",
        toml_edit::value(profile.provider.preset().as_str()),
    );
    match &profile.provider {
        Provider::Microsoft { tenant } => {
            table.insert("tenant", toml_edit::value(tenant.as_str()));
        }
        Provider::Oidc { issuer } => {
            table.insert("issuer", toml_edit::value(issuer.as_str()));
        }
        Provider::Google | Provider::Github => {}
    }
    table.insert("client_id", toml_edit::value(profile.client_id.as_str()));
    let scopes: toml_edit::Array = profile.scopes.iter().map(String::as_str).collect();
    table.insert("scopes", toml_edit::value(scopes));
    table.insert("login", toml_edit::value(profile.login.as_str()));
    let margin = i64::try_from(profile.refresh_margin_secs).unwrap_or(i64::MAX);
    table.insert("refresh_margin", toml_edit::value(margin));
    if profile.keep_fresh {
        table.insert("keep_fresh", toml_edit::value(true));
    }
    if let Some(access) = super::access::access_item(&profile.access) {
        table.insert("access", access);
    }
    if !profile.extra_scopes.is_empty() {
        let extra: toml_edit::Array = profile.extra_scopes.iter().map(String::as_str).collect();
        table.insert("extra_scopes", toml_edit::value(extra));
    }
    if profile.force_refresh_interval_secs != super::DEFAULT_FORCE_REFRESH_INTERVAL_SECS {
        let secs = i64::try_from(profile.force_refresh_interval_secs).unwrap_or(i64::MAX);
        table.insert("force_refresh_interval", toml_edit::value(secs));
    }
    table
}

/// Writes one of Tokentray's config files (the tray app's settings): its
/// directory created private (0700), the file replaced atomically.
pub fn write_config_file(path: &Path, bytes: &[u8]) -> Result<()> {
    create_private_dir(
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )?;
    write_atomically(path, bytes)
}

/// Creates the directory (and parents) readable by the owner only.
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io("cannot create directory", dir, e))
}

/// Writes `bytes` to `path` so that readers see the old file or the new
/// one, never a mix: a temp file in the same directory, fsynced, renamed
/// over the target, then the directory fsynced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".tokentray-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temp file in", dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| Error::io("cannot write", temp.path().to_path_buf(), e))?;
    temp.persist(path)
        .map_err(|e| Error::io("cannot replace", path, e.error))?;
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        // Best effort: makes the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{LoginMode, Preset, ProfileFields};

    fn profile(name: &str) -> Profile {
        Profile::from_fields(
            name,
            ProfileFields {
                provider: Some(Preset::Oidc),
                issuer: Some("http://127.0.0.1:9/".into()),
                client_id: Some("tokentray-public".into()),
                login: Some(LoginMode::Device),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn add_get_remove_round_trip_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("cfg").join(FILE_NAME));
        assert!(store.load().unwrap().is_empty());
        store.add(&profile("one")).unwrap();
        let mut text = fs::read_to_string(store.path()).unwrap();
        text.push_str("\n# my own note\n");
        fs::write(store.path(), text).unwrap();
        store.add(&profile("two")).unwrap();
        assert_eq!(store.get("one").unwrap(), profile("one"));
        assert_eq!(store.load().unwrap().len(), 2);

        let err = store.add(&profile("one")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::AlreadyExists);

        assert_eq!(store.remove("one").unwrap(), profile("one"));
        assert_eq!(
            store.get("one").unwrap_err().kind(),
            crate::ErrorKind::NotFound
        );
        assert_eq!(
            store.remove("one").unwrap_err().kind(),
            crate::ErrorKind::NotFound
        );
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("# my own note"), "{text}");
        assert!(text.contains("[profiles.two]"), "{text}");
        let leftovers: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn replace_keeps_the_place_and_the_comments() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        assert_eq!(
            store.replace(&profile("one")).unwrap_err().kind(),
            crate::ErrorKind::NotFound
        );
        store.add(&profile("one")).unwrap();
        store.add(&profile("two")).unwrap();
        let mut text = fs::read_to_string(store.path()).unwrap();
        text.push_str("# my own note\n");
        fs::write(store.path(), text).unwrap();
        let mut changed = profile("one");
        changed.client_id = "other-client".into();
        changed.keep_fresh = true;
        store.replace(&changed).unwrap();
        let names: Vec<String> = store.load().unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(store.get("one").unwrap(), changed);
        assert!(fs::read_to_string(store.path())
            .unwrap()
            .contains("# my own note"));
    }

    #[cfg(unix)]
    #[test]
    fn config_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("new").join(FILE_NAME));
        store.add(&profile("one")).unwrap();
        let mode = fs::metadata(dir.path().join("new"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn an_edited_file_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        store.add(&profile("one")).unwrap();
        assert_eq!(store.load().unwrap().len(), 1);
        let other = ProfileStore::at(store.path());
        other.add(&profile("two")).unwrap();
        assert_eq!(
            store.load().unwrap().len(),
            2,
            "a change by another process is seen"
        );
        fs::write(store.path(), "[profiles.x]\n").unwrap();
        assert_eq!(store.load().unwrap_err().kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn a_broken_file_is_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        let broken = "[profiles.a\nprovider = \"oidc\"\n";
        fs::write(store.path(), broken).unwrap();
        assert_eq!(
            store.add(&profile("b")).unwrap_err().kind(),
            crate::ErrorKind::Config
        );
        assert_eq!(fs::read_to_string(store.path()).unwrap(), broken);
    }
}
