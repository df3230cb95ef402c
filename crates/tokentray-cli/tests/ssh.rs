//! `tokentray ssh` against a real OpenSSH server: an `sshd` of Debian's
//! openssh-server started here as the current user on 127.0.0.1 (a
//! throwaway host key and user key, its own config and known-hosts file),
//! a real `tokentray agent` with a profile signed in at the local IdP.
//! The remote command is `tokentray token` in a session that has none of
//! this setup's settings (sshd starts it with a clean environment, no
//! `TOKENTRAY_SOCKET`, and the test gives it an empty runtime directory and
//! config directory): it can only get the token through the socket
//! `tokentray ssh` forwarded. The test checks that socket while the
//! session holds it (ours, `0600`, live, the path the remote CLI says it
//! used), that the remote side printed the agent's token, that the agent's
//! log and `tokentray audit` name the ssh connection and its pid, and that
//! `tokentray ssh` exits with ssh's code.
//!
//! Without sshd the test is skipped with a notice, except in CI
//! (`CI=true`), where it fails (`scripts/install-deps test` installs it).
//! As root, sshd wants its privilege-separation directory `/run/sshd`
//! (which the ssh service would make): the test makes it when missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use crate::common::{idp, stderr, stdout, Env};
use crate::watched::Watched;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokentray_core::ipc::path::{our_uid, probe, Probe, FORWARD_PREFIX, FORWARD_SUFFIX};

const SSHD: &str = "/usr/sbin/sshd";
const FIRST: &str = "agent: a program took its first token of this profile";

/// A throwaway sshd on 127.0.0.1, killed when dropped.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Sshd {
    /// Starts one, or `None` (with a notice) where sshd is not installed
    /// and this is not CI.
    fn start() -> Option<Sshd> {
        let missing: Vec<&str> = [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"]
            .into_iter()
            .filter(|tool| !Path::new(tool).exists())
            .collect();
        if !missing.is_empty() {
            let why = format!(
                "{} missing: install openssh-server and openssh-client (scripts/install-deps test)",
                missing.join(", ")
            );
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "the SSH forwarding test cannot run: {why}"
            );
            eprintln!("notice: skipping the SSH forwarding test: {why}");
            return None;
        }
        if our_uid() == 0 && !Path::new("/run/sshd").exists() {
            eprintln!("notice: creating /run/sshd, sshd's privilege-separation directory");
            std::fs::create_dir_all("/run/sshd").unwrap();
            std::fs::set_permissions("/run/sshd", std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        for key in ["host_key", "user_key"] {
            let made = Command::new("ssh-keygen")
                .args([
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "tokentray-test",
                    "-f",
                ])
                .arg(dir.path().join(key))
                .status()
                .unwrap();
            assert!(made.success(), "ssh-keygen failed");
        }
        // a free port may be taken between the probe and sshd's bind: retry
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            if let Some(child) = Self::spawn(dir.path(), port) {
                let known = std::fs::read_to_string(dir.path().join("host_key.pub")).unwrap();
                std::fs::write(
                    dir.path().join("known_hosts"),
                    format!("[127.0.0.1]:{port} {known}"),
                )
                .unwrap();
                return Some(Sshd { dir, port, child });
            }
        }
        panic!("sshd never started: {}", Self::log_of(&dir));
    }

    /// `sshd -D -e -f CONFIG` listening on `port`, once it accepts
    /// connections; `None` when it exits first.
    fn spawn(dir: &Path, port: u16) -> Option<Child> {
        let config = dir.join("sshd_config");
        let key = |name: &str| dir.join(name).display().to_string();
        std::fs::write(
            &config,
            format!(
                "Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {}\n\
                 PidFile {}\n\
                 AuthorizedKeysFile {}\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 PrintMotd no\n\
                 LogLevel VERBOSE\n",
                key("host_key"),
                key("sshd.pid"),
                key("user_key.pub"),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(child);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    fn log_of(dir: &tempfile::TempDir) -> String {
        std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default()
    }

    fn log(&self) -> String {
        Self::log_of(&self.dir)
    }

    /// `tokentray ssh DESTINATION …` with this server's port, user key and
    /// known host, no ssh config of the user's, then `-- REMOTE_COMMAND`.
    fn tokentray_ssh(&self, env: &Env, destination: &str, remote: &str) -> Command {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        let mut command = env.command();
        command
            .args(["ssh", destination, "-p", &self.port.to_string()])
            .args(["-F", "/dev/null", "-i", &path("user_key")])
            .args(["-o", &format!("UserKnownHostsFile={}", path("known_hosts"))])
            .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
            .args(["-o", "IdentitiesOnly=yes", "-o", "ExitOnForwardFailure=yes"])
            .args(["-o", "LogLevel=ERROR", "--", remote])
            .env("RUST_LOG", "tokentray=info");
        command
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who we are, as ssh's `user@` takes it.
fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The remote path of the `-R REMOTE:LOCAL` on a live ssh's command line.
fn forwarded_path(ssh_pid: u32) -> PathBuf {
    let raw = std::fs::read(format!("/proc/{ssh_pid}/cmdline")).unwrap();
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert!(
        args[0].ends_with("ssh"),
        "tokentray ssh became ssh: {args:?}"
    );
    assert_eq!(args[1], "-R", "{args:?}");
    let (remote, _local) = args[2].split_once(':').unwrap();
    PathBuf::from(remote)
}

/// The `remote=` path `tokentray ssh` logged.
fn remote_in(log: &str) -> PathBuf {
    let at = log
        .find("remote=")
        .unwrap_or_else(|| panic!("no remote= in {log}"));
    let path = log[at + "remote=".len()..]
        .split_whitespace()
        .next()
        .unwrap();
    PathBuf::from(path)
}

/// `env … tokentray token corp` as the remote shell runs it: an empty
/// runtime and config directory, no socket override, the discovery logged.
fn remote_token_command(runtime: &Path, config: &Path) -> String {
    format!(
        "env -u TOKENTRAY_SOCKET XDG_RUNTIME_DIR={} TOKENTRAY_CONFIG_DIR={} RUST_LOG=tokentray_core::ipc=debug {} token corp",
        runtime.display(),
        config.display(),
        assert_cmd::cargo::cargo_bin("tokentray").display()
    )
}

// the agent forwarded over SSH names the connection in its log and trail
// S42: a forwarded request needs a rule naming the connection, never `any`
#[test]
fn the_remote_cli_gets_the_agents_token_through_the_forwarded_socket() {
    let Some(sshd) = Sshd::start() else { return };
    let idp = idp(300);
    let env = Env::new();
    env.add_profile(&idp, "corp", &[]);
    env.login_device(&idp, "corp", "alice");
    let agent = Watched::start(&env, &[("RUST_LOG", "tokentray_core=info")]);

    let user = user_name();
    let remote_runtime = tempfile::tempdir().unwrap();
    let remote_config = tempfile::tempdir().unwrap();
    let shown = format!("ssh {user}@127.0.0.1:{}", sshd.port);

    // a forwarded request needs a rule, even for an `access = "any"`
    // profile: refused, with the way to allow it (exit 7 through ssh)
    let refused = sshd
        .tokentray_ssh(
            &env,
            &format!("{user}@127.0.0.1"),
            &remote_token_command(remote_runtime.path(), remote_config.path()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(7), "{}", stderr(&refused));
    assert!(stdout(&refused).is_empty());
    let ssh = std::fs::canonicalize("/usr/bin/ssh").unwrap();
    let allow = format!(
        "tokentray access allow corp --program {} --ssh {user}@127.0.0.1:{}",
        ssh.display(),
        sshd.port
    );
    assert!(stderr(&refused).contains(&allow), "{}", stderr(&refused));
    env.tokentray()
        .args(["access", "set", "corp", "confirm"])
        .assert()
        .success();
    env.tokentray()
        .args(["access", "allow", "corp", "--program"])
        .arg(&ssh)
        .args(["--ssh", &format!("{user}@127.0.0.1:{}", sshd.port)])
        .assert()
        .success();
    // and this test, which asks the agent here for the same token
    env.tokentray()
        .args(["access", "allow", "corp", "--program"])
        .arg(std::env::current_exe().unwrap())
        .assert()
        .success();
    // the session stays until the test has looked at the forwarded socket
    let remote = format!(
        "{} && read done",
        remote_token_command(remote_runtime.path(), remote_config.path())
    );
    let mut session = sshd
        .tokentray_ssh(&env, &format!("{user}@127.0.0.1"), &remote)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ssh_pid = session.id();
    let mut err_pipe = session.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        err_pipe.read_to_string(&mut text).unwrap();
        text
    });
    let mut out = BufReader::new(session.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let remote_token = line.trim().to_string();

    // while the session lives: the socket sshd bound for it is ours,
    // private and answers
    let ok = !remote_token.is_empty();
    let forwarded = ok.then(|| forwarded_path(ssh_pid));
    if let Some(path) = &forwarded {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            path.starts_with("/tmp")
                && name.starts_with(FORWARD_PREFIX)
                && name.ends_with(FORWARD_SUFFIX),
            "{}",
            path.display()
        );
        let meta = std::fs::symlink_metadata(path).unwrap();
        assert!(meta.file_type().is_socket(), "{}", path.display());
        assert_eq!(meta.uid(), our_uid());
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "sshd's default mask"
        );
        assert_eq!(probe(path), Probe::Answers);
    }
    let _ = session.stdin.take().unwrap().write_all(b"done\n");
    let status = session.wait().unwrap();
    let errors = errors.join().unwrap();
    assert!(
        ok && status.success(),
        "tokentray ssh failed ({status}): {errors}\nsshd: {}",
        sshd.log()
    );
    let forwarded = forwarded.unwrap();
    eprintln!("the session said: {errors}");
    assert!(
        errors.contains("tokentray ssh: forwarding the agent"),
        "{errors}"
    );
    assert_eq!(remote_in(&errors), forwarded);
    // the remote CLI found that socket by itself
    let used: Vec<&str> = errors
        .lines()
        .filter(|l| l.contains("agent socket: using the one forwarded over SSH"))
        .collect();
    assert_eq!(used.len(), 1, "{errors}");
    assert!(
        used[0].contains(&format!("path={}", forwarded.display())),
        "{}",
        used[0]
    );

    // the token the agent serves here
    let here = env.tokentray().args(["token", "corp"]).output().unwrap();
    assert!(here.status.success(), "{}", stderr(&here));
    assert_eq!(
        remote_token,
        stdout(&here).trim(),
        "the remote side got the agent's token"
    );

    // the agent names the connection: ssh and its destination, from the OS
    let named = agent.wait_for_line(&[FIRST, &shown]);
    eprintln!("the agent logged: {named}");
    let trail = env
        .tokentray()
        .args(["audit", "--json", "--since", "1h"])
        .output()
        .unwrap();
    assert!(trail.status.success(), "{}", stderr(&trail));
    let entries: serde_json::Value = serde_json::from_str(&stdout(&trail)).unwrap();
    let through_ssh: Vec<&serde_json::Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["program"] == shown.as_str())
        .collect();
    assert_eq!(through_ssh.len(), 2, "{entries:#}");
    assert_eq!(through_ssh[0]["decision"], "denied");
    let entry = through_ssh[1];
    assert_eq!(
        entry["pid"], ssh_pid,
        "the peer was the ssh `tokentray ssh` became"
    );
    assert_eq!(entry["profile"], "corp");
    assert_eq!(entry["account"], "alice");
    assert_eq!(entry["decision"], "allowed_by_rule");
    assert_eq!(entry["transport"], "unix socket, ssh forward");
    let file = std::fs::read_to_string(env.state.path().join("tokentray/audit.jsonl")).unwrap();
    assert!(!file.contains(&remote_token), "no token in the trail");

    // a second connection: a fresh socket (sshd left the first one's file
    // behind), an ssh:// destination, and ssh's exit code passed on
    let again = format!(
        "{} >/dev/null && exit 7",
        remote_token_command(remote_runtime.path(), remote_config.path())
    );
    let out = sshd
        .tokentray_ssh(
            &env,
            &format!("ssh://{user}@127.0.0.1:{}", sshd.port),
            &again,
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let second = remote_in(&stderr(&out));
    assert_ne!(second, forwarded, "each connection has its own socket");
    let trail = env.tokentray().args(["audit", "--json"]).output().unwrap();
    let entries: serde_json::Value = serde_json::from_str(&stdout(&trail)).unwrap();
    let count = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["program"] == shown.as_str() && e["decision"] == "allowed_by_rule")
        .count();
    assert_eq!(count, 2, "{entries:#}");

    // what sshd left behind is dead; remove it
    for path in [forwarded, second] {
        if path.exists() {
            assert_eq!(probe(&path), Probe::Dead, "{}", path.display());
            std::fs::remove_file(&path).unwrap();
        }
    }
    drop(agent);
}

#[test]
fn without_an_agent_it_says_so_in_one_line_and_runs_no_ssh() {
    let env = Env::new();
    let out = env
        .tokentray()
        .args(["ssh", "127.0.0.1", "-p", "1", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no Tokentray agent runs here")
            && err.contains(&env.socket().display().to_string())
            && err.contains("`tokentray agent`"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}
