//! A `tokentray` process (mostly `tokentray agent`) whose stderr is kept
//! and watched line by line (for the fault-point log lines of the crash
//! tests), and the IdP's refresh count; shared by `crash.rs`,
//! `vault_states.rs` and `soak.rs`.

#![allow(dead_code)]

use super::common::Env;
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running process (SIGKILLed when dropped).
pub struct Watched {
    pub child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Watched {
    /// Starts `tokentray agent` with extra environment and waits until it
    /// answers `ping`.
    pub fn start(env: &Env, vars: &[(&str, &str)]) -> Self {
        Self::start_with(env, |command| {
            command.envs(vars.iter().copied());
        })
    }

    /// Same, with the command's environment set up by `configure`.
    pub fn start_with(env: &Env, configure: impl FnOnce(&mut std::process::Command)) -> Self {
        let mut command = env.command();
        configure(&mut command);
        let agent = Self::spawn(command.arg("agent"));
        let client = tokentray_core::ipc::client::Client::new(env.socket());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(client.ping(), Ok(Some(_))) {
            assert!(
                Instant::now() < deadline,
                "the agent never answered ping: {}",
                agent.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        agent
    }

    /// Runs `command` (stdin and stdout closed) and watches its stderr.
    pub fn spawn(command: &mut std::process::Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) for a stderr line containing every one of
    /// `parts`.
    pub fn wait_for_line(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if parts.iter().all(|p| line.contains(p)) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line with {parts:?} within 60 s; stderr:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The IdP's refresh-token grant count: (succeeded, failed).
pub fn refreshes(idp: &tokentray_testkit::Idp) -> (u64, u64) {
    idp.token_requests("refresh_token").unwrap()
}

/// The account record of the only signed-in account of `env`, as stored
/// (read with `secret-tool`).
pub fn stored_record(env: &Env) -> serde_json::Value {
    env.vault_values()
        .iter()
        .filter_map(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .find(|v| v.get("refresh_token").is_some())
        .expect("an account record in the vault")
}
