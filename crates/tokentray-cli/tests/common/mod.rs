//! Runs the real `tokentray` binary in a throwaway config directory, with a
//! keyring service name of its own, inside the headless session.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Env {
    pub config: tempfile::TempDir,
    pub service: String,
}

impl Env {
    /// A fresh setup; fails loudly outside the headless session, since the
    /// CLI's vault is the real Secret Service.
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        assert_eq!(
            std::env::var("TOKENTRAY_HEADLESS_SESSION").as_deref(),
            Ok("1"),
            "CLI tests use the real Secret Service: run them under scripts/headless-session (see README)"
        );
        Self {
            config: tempfile::tempdir().unwrap(),
            service: format!(
                "dev.tokentray.clitest.{}.{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
        }
    }

    /// `tokentray` with this setup's environment.
    pub fn tokentray(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("tokentray").unwrap();
        cmd.env("TOKENTRAY_CONFIG_DIR", self.config.path())
            .env("TOKENTRAY_VAULT_SERVICE", &self.service)
            .env_remove("RUST_LOG");
        cmd
    }

    pub fn profiles_file(&self) -> PathBuf {
        self.config.path().join("profiles.toml")
    }

    /// Values stored under this setup's service, read with `secret-tool`
    /// (which prints values on stdout and attributes on stderr).
    pub fn vault_values(&self) -> Vec<String> {
        let out = std::process::Command::new("secret-tool")
            .args(["search", "--all", "service", &self.service])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("secret = ").map(str::to_string))
            .collect()
    }
}

/// stdout of a finished command, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
