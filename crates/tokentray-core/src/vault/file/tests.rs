//! Unit tests of the file store on real files in a temporary directory,
//! with cheap Argon2 costs (the costs are in the header; the code paths are
//! the same as with the default ones).

// links and modes are made with Unix calls
#![cfg(unix)]

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

struct Setup {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokentray").join("vault.bin");
    Setup { _dir: dir, path }
}

fn unlock(path: &Path, passphrase: &str) -> Result<FileVault> {
    FileVault::unlock_with(path, &Secret::new(passphrase), FAST)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

// S24: the file store round-trips values, sees another instance's writes
// and keeps both instances' entries
#[test]
fn values_round_trip_and_two_instances_share_the_file() {
    let s = setup();
    let one = unlock(&s.path, "correct horse").unwrap();
    assert!(one.get("a/b").unwrap().is_none());
    one.put("a/b", &Secret::new("first")).unwrap();
    let big = "🔑".repeat(5000);
    one.put("big", &Secret::new(big.as_str())).unwrap();

    let two = unlock(&s.path, "correct horse").unwrap();
    assert_eq!(two.get("a/b").unwrap().unwrap().expose(), "first");
    assert_eq!(two.get("big").unwrap().unwrap().expose(), big);
    two.put("c", &Secret::new("from two")).unwrap();
    one.put("a/b", &Secret::new("second")).unwrap();

    for vault in [&one, &two] {
        assert_eq!(vault.get("a/b").unwrap().unwrap().expose(), "second");
        assert_eq!(vault.get("c").unwrap().unwrap().expose(), "from two");
    }
    assert!(two.delete("c").unwrap());
    assert!(!one.delete("c").unwrap());
    assert!(one.get("c").unwrap().is_none());
    assert_eq!(
        one.get("k k").unwrap_err().kind(),
        crate::ErrorKind::InvalidInput
    );
}

// S21, S24: no stored value appears in the file's bytes, and no temporary
// file is left next to it
#[test]
fn the_file_holds_no_plaintext_and_nothing_stray_is_left() {
    let s = setup();
    let vault = unlock(&s.path, "pw").unwrap();
    let canary = "canary-refresh-token-4f9a1c";
    vault.put("account/p/1", &Secret::new(canary)).unwrap();
    vault
        .put("account/p/2", &Secret::new(canary.repeat(50)))
        .unwrap();
    let bytes = std::fs::read(&s.path).unwrap();
    assert!(!contains(&bytes, canary));
    assert!(!contains(&bytes, "account/p"), "entry names are sealed too");
    let mut names: Vec<String> = std::fs::read_dir(s.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["vault.bin", "vault.bin.lock"]);
}

// S24: dir 0700, file 0600 (and the lock file 0600)
#[test]
fn the_directory_and_the_file_are_private() {
    let s = setup();
    let vault = unlock(&s.path, "pw").unwrap();
    vault.put("k", &Secret::new("v")).unwrap();
    assert_eq!(mode(s.path.parent().unwrap()), 0o700);
    assert_eq!(mode(&s.path), 0o600);
    assert_eq!(mode(&s.path.with_file_name("vault.bin.lock")), 0o600);
}

// S24: a file or directory open to others is refused, not used
#[test]
fn a_file_or_directory_open_to_others_is_refused() {
    let s = setup();
    unlock(&s.path, "pw").unwrap();
    std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = unlock(&s.path, "pw").unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::VaultUnavailable);
    assert!(err.to_string().contains("chmod 600"), "{err}");
    std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let dir = s.path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = unlock(&s.path, "pw").unwrap_err();
    assert!(err.to_string().contains("chmod 700"), "{err}");
}

// S24: a wrong passphrase is a clear error and never touches the file
#[test]
fn a_wrong_passphrase_is_refused_and_the_file_is_unchanged() {
    let s = setup();
    let vault = unlock(&s.path, "right").unwrap();
    vault.put("k", &Secret::new("v")).unwrap();
    let before = std::fs::read(&s.path).unwrap();
    let err = unlock(&s.path, "wrong").unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::VaultLocked);
    assert!(
        err.to_string().contains(&format!(
            "wrong passphrase for {} (or the file was damaged)",
            s.path.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&s.path).unwrap(), before);
    assert_eq!(vault.get("k").unwrap().unwrap().expose(), "v");
}

// S24: a flipped byte or a truncated file is reported as damage with the
// path, and never overwritten, neither at unlock nor by a running store
#[test]
fn a_damaged_file_is_reported_and_never_overwritten() {
    let s = setup();
    let vault = unlock(&s.path, "pw").unwrap();
    vault.put("k", &Secret::new("v".repeat(100))).unwrap();
    let good = std::fs::read(&s.path).unwrap();
    let mut flipped = good.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 0x40;
    let truncated = good[..good.len() - 30].to_vec();
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    for (what, bytes) in [
        ("flipped", flipped),
        ("truncated", truncated),
        ("bad magic", bad_magic),
    ] {
        std::fs::write(&s.path, &bytes).unwrap();
        let err = unlock(&s.path, "pw").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VaultCorrupt, "{what}: {err}");
        assert!(err.to_string().contains(&s.path.display().to_string()));
        for outcome in [
            vault.get("k").map(|_| ()),
            vault.put("k", &Secret::new("new")),
            vault.delete("k").map(|_| ()),
        ] {
            assert_eq!(
                outcome.unwrap_err().kind(),
                crate::ErrorKind::VaultCorrupt,
                "{what}"
            );
        }
        assert_eq!(std::fs::read(&s.path).unwrap(), bytes, "{what}");
    }
}

// S24: symbolic links are refused, for the file and for its directory
#[test]
fn symlinked_file_and_directory_are_refused() {
    let s = setup();
    let real = unlock(&s.path, "pw").unwrap();
    real.put("k", &Secret::new("v")).unwrap();
    let root = s.path.parent().unwrap().parent().unwrap();

    let link_file = s.path.with_file_name("link.bin");
    std::os::unix::fs::symlink(&s.path, &link_file).unwrap();
    let err = unlock(&link_file, "pw").unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::VaultUnavailable);
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(exists(&link_file).is_err());

    let link_dir = root.join("linked-dir");
    std::os::unix::fs::symlink(s.path.parent().unwrap(), &link_dir).unwrap();
    let err = unlock(&link_dir.join("vault.bin"), "pw").unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");

    // A store already open notices a file swapped for a link.
    std::fs::rename(&s.path, root.join("moved.bin")).unwrap();
    std::os::unix::fs::symlink(root.join("moved.bin"), &s.path).unwrap();
    assert!(real
        .get("k")
        .unwrap_err()
        .to_string()
        .contains("symbolic link"));
}

// S24: the key is derived once per store, however many writes follow
#[test]
fn many_writes_cost_one_key_derivation() {
    let s = setup();
    let vault = unlock(&s.path, "pw").unwrap();
    for i in 0..50 {
        vault
            .put(&format!("k{}", i % 5), &Secret::new(format!("v{i}")))
            .unwrap();
        vault.get("k0").unwrap();
    }
    assert_eq!(vault.key_derivations(), 1);
    let other = unlock(&s.path, "pw").unwrap();
    other.put("k9", &Secret::new("x")).unwrap();
    assert_eq!(vault.get("k9").unwrap().unwrap().expose(), "x");
    assert_eq!(vault.key_derivations(), 1, "re-reading costs no derivation");
    assert_eq!(other.key_derivations(), 1);
}

// S24: a file re-created with another passphrase is refused by a running
// store, not overwritten with the old key
#[test]
fn a_file_recreated_under_another_salt_is_refused() {
    let s = setup();
    let vault = unlock(&s.path, "pw").unwrap();
    std::fs::remove_file(&s.path).unwrap();
    unlock(&s.path, "other").unwrap();
    let replaced = std::fs::read(&s.path).unwrap();
    let err = vault.put("k", &Secret::new("v")).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::VaultLocked);
    assert!(err.to_string().contains("re-created"), "{err}");
    assert_eq!(std::fs::read(&s.path).unwrap(), replaced);
}
