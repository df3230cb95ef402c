//! The project's `SECURITY.md` maps every requirement S1–S43 to the tests
//! that check it. This test keeps that map true in both directions:
//! - every id has a section with at least one test;
//! - every test named exists, and carries the id in a `// S…` comment
//!   right above it (among its attributes and doc comments);
//! - every test tagged with an id in the code is listed under that id.
//!
//! It also checks the supply-chain half of S37 that lives in the
//! repository: `Cargo.lock` is committed and the test command builds with
//! `--locked` and runs the advisory check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Requirement ids run from S1 to this one (`../shared/SECURITY.md`).
const LAST_ID: u32 = 43;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A test as `SECURITY.md` names it: `path::function`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TestRef {
    path: String,
    name: String,
}

impl std::fmt::Display for TestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.path, self.name)
    }
}

/// The map in `SECURITY.md`: `### S<n> …` headings, each followed by
/// backticked `path::function` references.
fn read_map() -> BTreeMap<u32, Vec<TestRef>> {
    let text = std::fs::read_to_string(root().join("SECURITY.md")).unwrap();
    let mut map: BTreeMap<u32, Vec<TestRef>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("### S") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let id = digits.parse().unwrap();
            assert!(!map.contains_key(&id), "S{id} has two sections");
            map.insert(id, Vec::new());
            current = Some(id);
            continue;
        }
        if line.starts_with("## ") {
            current = None;
        }
        let Some(id) = current else { continue };
        for quoted in line.split('`').skip(1).step_by(2) {
            if let Some((path, name)) = quoted.rsplit_once("::") {
                if path.ends_with(".rs") {
                    map.get_mut(&id).unwrap().push(TestRef {
                        path: path.to_owned(),
                        name: name.to_owned(),
                    });
                }
            }
        }
    }
    map
}

/// The ids named in `// S…` comments directly above `fn name` in `source`
/// (over attributes, doc comments and other comments); `None` when there
/// is no such function.
fn tags_above(source: &str, name: &str) -> Option<BTreeSet<u32>> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines.iter().position(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("async ").unwrap_or(line);
        line.strip_prefix("fn ")
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with('(') || rest.starts_with('<'))
    })?;
    let mut ids = BTreeSet::new();
    for line in lines[..at].iter().rev() {
        let line = line.trim();
        if line.starts_with("#[") || line.starts_with("///") {
            continue;
        }
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        ids.extend(ids_in_tag(comment));
    }
    Some(ids)
}

/// `S14 S15: …` or `S3, S4: …` → {14, 15} / {3, 4}: the ids before the
/// first `:` of a comment that starts with one.
fn ids_in_tag(comment: &str) -> BTreeSet<u32> {
    let comment = comment.trim();
    if !comment.starts_with('S') {
        return BTreeSet::new();
    }
    let head = comment.split(':').next().unwrap_or_default();
    head.split([' ', ','])
        .filter_map(|word| word.strip_prefix('S')?.parse().ok())
        .collect()
}

/// Every test function tagged in the workspace's Rust files: (ref, ids).
fn tagged_tests() -> Vec<(TestRef, BTreeSet<u32>)> {
    let root = root();
    let mut found = Vec::new();
    for dir in ["crates", "src-tauri/src", "src-tauri/tests"] {
        for path in rust_files(&root.join(dir)) {
            let source = std::fs::read_to_string(&path).unwrap();
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let lines: Vec<&str> = source.lines().collect();
            for (index, line) in lines.iter().enumerate() {
                let trimmed = line.trim_start();
                let Some(rest) = trimmed
                    .strip_prefix("fn ")
                    .or_else(|| trimmed.strip_prefix("async fn "))
                else {
                    continue;
                };
                let is_test = lines[..index]
                    .iter()
                    .rev()
                    .take_while(|l| {
                        let l = l.trim();
                        l.starts_with("#[") || l.starts_with("//")
                    })
                    .any(|l| l.trim().starts_with("#[") && l.contains("test"));
                if !is_test {
                    continue;
                }
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let ids = tags_above(&source, &name).unwrap_or_default();
                if !ids.is_empty() {
                    found.push((
                        TestRef {
                            path: relative.clone(),
                            name,
                        },
                        ids,
                    ));
                }
            }
        }
    }
    found
}

/// The workspace's Rust files but this one (its fixtures look like tags).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "gen")
            {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with(file!()) {
                files.push(path);
            }
        }
    }
    files
}

// S37: the map itself is checked, both ways
#[test]
fn every_requirement_has_a_test_and_every_tagged_test_is_listed() {
    let map = read_map();
    let mut problems = Vec::new();
    for id in 1..=LAST_ID {
        match map.get(&id) {
            None => problems.push(format!("S{id}: no `### S{id}` section in SECURITY.md")),
            Some(tests) if tests.is_empty() => {
                problems.push(format!("S{id}: no test listed"));
            }
            Some(tests) => {
                for test in tests {
                    let source = std::fs::read_to_string(root().join(&test.path));
                    let Ok(source) = source else {
                        problems.push(format!("S{id}: {test}: no such file"));
                        continue;
                    };
                    match tags_above(&source, &test.name) {
                        None => problems.push(format!("S{id}: {test}: no such function")),
                        Some(ids) if !ids.contains(&id) => problems
                            .push(format!("S{id}: {test}: no `// S{id}: …` comment above it")),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    if let Some(extra) = map.keys().find(|id| **id > LAST_ID || **id == 0) {
        problems.push(format!("S{extra}: not a requirement"));
    }
    for (test, ids) in tagged_tests() {
        for id in ids {
            let listed = map.get(&id).is_some_and(|tests| tests.contains(&test));
            if !listed {
                problems.push(format!(
                    "S{id}: {test} is tagged but not listed in SECURITY.md"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "SECURITY.md:\n{}", problems.join("\n"));
}

// S37: Cargo.lock is committed, builds use it, advisories are checked
#[test]
fn the_lock_file_is_committed_and_used_and_advisories_are_checked() {
    let root = root();
    // a source tree without git (a release tarball) has no history to check
    if root.join(".git").exists() {
        let tracked = std::process::Command::new("git")
            .args(["ls-files", "--error-unmatch", "Cargo.lock"])
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(tracked.status.success(), "Cargo.lock is not committed");
    }
    let test = std::fs::read_to_string(root.join("scripts/test")).unwrap();
    assert!(
        test.contains("cargo test --workspace --locked"),
        "scripts/test runs the tests with --locked"
    );
    assert!(
        test.contains("scripts/audit"),
        "scripts/test runs the advisory check"
    );
}

#[test]
fn tags_are_read_from_the_comments_above_a_test() {
    let source = "\
// S3 S4: state and PKCE
/// doc
#[test]
fn a() {}

// not a tag: S5
#[test]
fn b() {}

// S7, S8: transport
// S9: secrets
#[tokio::test]
async fn c() {}
";
    assert_eq!(tags_above(source, "a"), Some(BTreeSet::from([3, 4])));
    assert_eq!(tags_above(source, "b"), Some(BTreeSet::new()));
    assert_eq!(tags_above(source, "c"), Some(BTreeSet::from([7, 8, 9])));
    assert_eq!(tags_above(source, "d"), None);
}
