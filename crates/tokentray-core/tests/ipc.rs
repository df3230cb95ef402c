//! The agent socket end to end: the real blocking client against the real
//! server on real Unix sockets in temp directories, over a broker with an
//! in-memory vault and the core's scripted grants (`testing::FakeGrants`). These tests prove the round trips,
//! single flight through the socket (S14), that no refresh token is ever
//! served (S28), the socket's permissions and directory checks (S25), the
//! peer uid checks in both directions (S26), and that floods and malformed
//! frames never stop the agent answering `ping` (S27).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test helper should panic

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use tokentray_core::broker::Broker;
use tokentray_core::ipc::client::{Client, ClientError};
use tokentray_core::ipc::protocol::{SignInState, TokenParams};
use tokentray_core::ipc::server::{bind, run_with, Faces, ServerConfig, SocketLock};
use tokentray_core::profile::{LoginMode, Preset, Profile, ProfileFields, ProfileStore, FILE_NAME};
use tokentray_core::testing::{age_access_tokens, FakeGrants};
use tokentray_core::token::{now, Identity, TokenSet};
use tokentray_core::vault::MemoryVault;
use tokentray_core::{AccessTokenSecret, IdToken, RefreshToken};

const REFRESH_CANARY: &str = "RT-canary-9d2e";

/// The sign-in the tests start from: an ID token and a refresh token that
/// must never cross the socket.
fn token_set(n: usize, lifetime: i64) -> TokenSet {
    TokenSet {
        access_token: AccessTokenSecret::new(format!("access-{n}")),
        token_type: "Bearer".into(),
        expires_at: now() + lifetime,
        scopes: vec!["api.read".into()],
        refresh_token: Some(RefreshToken::new(format!("{REFRESH_CANARY}-{n}"))),
        refresh_expires_at: None,
        id_token: Some(IdToken::new("id-token-canary")),
        id_token_validated_at: Some(now()),
        identity: Some(Identity {
            issuer: "https://idp.example".into(),
            subject: "alice-sub".into(),
            name: None,
            username: Some("alice".into()),
            email: None,
            tenant: None,
        }),
    }
}

fn profile(name: &str) -> Profile {
    Profile::from_fields(
        name,
        ProfileFields {
            provider: Some(Preset::Oidc),
            issuer: Some("https://idp.example".into()),
            client_id: Some("c".into()),
            scopes: Some(vec!["api.read".into()]),
            login: Some(LoginMode::Device),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A broker with profiles `p` (signed in with an hour-long access token
/// that has `lifetime` seconds left) and `q` (signed out).
fn broker(dir: &Path, lifetime: i64) -> (Broker<FakeGrants>, FakeGrants) {
    let profiles = ProfileStore::at(dir.join(FILE_NAME));
    profiles.add(&profile("p")).unwrap();
    profiles.add(&profile("q")).unwrap();
    let grants = FakeGrants::default();
    // each refresh takes 50 ms, so concurrent callers overlap it
    grants.set_slow(Duration::from_millis(30));
    let vault = Arc::new(MemoryVault::in_memory());
    let accounts = tokentray_core::account::AccountStore::new(vault.clone());
    let asked = tokentray_core::token::ScopeSet::new(&profile("p").scopes);
    let account = accounts
        .save_sign_in("p", &token_set(0, lifetime), &asked)
        .unwrap();
    age_access_tokens(&accounts, &account);
    (Broker::new(grants.clone(), vault, profiles), grants)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A running agent on a socket in a temp directory.
struct Agent {
    path: PathBuf,
    grants: FakeGrants,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _lock: Option<SocketLock>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(config: ServerConfig, lifetime: i64) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/agent.sock");
        let rt = runtime();
        let (listener, lock) = {
            let _entered = rt.enter();
            bind(&path).unwrap()
        };
        Self::serve(dir, path, rt, listener, Some(lock), config, lifetime)
    }

    fn serve(
        dir: tempfile::TempDir,
        path: PathBuf,
        rt: tokio::runtime::Runtime,
        listener: tokio::net::UnixListener,
        lock: Option<SocketLock>,
        config: ServerConfig,
        lifetime: i64,
    ) -> Agent {
        let (broker, grants) = broker(dir.path(), lifetime);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let faces = Faces::headless(broker.profiles().clone());
        let server = rt.spawn(run_with(
            listener,
            broker,
            faces,
            async move {
                let _ = stopped.await;
            },
            config,
        ));
        Agent {
            path,
            grants,
            stop: Some(stop),
            server: Some(server),
            _lock: lock,
            rt,
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.path).timeout(Duration::from_secs(10))
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            self.rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await })
                .expect("the server stops within 10 s")
                .unwrap();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.stop();
        }
    }
}

/// Sends raw bytes on a fresh connection and reads one answer line.
fn raw_exchange(path: &Path, frame: &[u8]) -> String {
    let stream = UnixStream::connect(path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    (&stream).write_all(frame).unwrap();
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    line
}

/// Pings and checks the answer came within a second.
fn assert_pings_within_a_second(path: &Path) {
    let started = Instant::now();
    let pong = Client::new(path)
        .timeout(Duration::from_secs(1))
        .ping()
        .unwrap()
        .expect("an agent answers");
    let took = started.elapsed();
    assert_eq!(pong.pid, std::process::id());
    assert!(took < Duration::from_secs(1), "ping took {took:?}");
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn ping_token_status_login_logout_round_trip() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    let client = agent.client();

    let pong = client.ping().unwrap().unwrap();
    assert_eq!(pong.pid, std::process::id());
    assert_eq!(pong.version, env!("CARGO_PKG_VERSION"));

    let token = client
        .token(TokenParams::for_profile("p"))
        .unwrap()
        .unwrap();
    assert_eq!(token.access_token.expose(), "access-0");
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.profile, "p");
    assert_eq!(token.account.as_deref(), Some("alice"));
    assert_eq!(token.scopes, vec!["api.read"]);
    assert!(token.expires_on > now() + 3000);
    assert!(!format!("{token:?}").contains("access-0"), "Debug redacts");

    // The whole frame as it crosses the socket: the token, nothing more.
    let wire = raw_exchange(
        &agent.path,
        b"{\"v\":1,\"type\":\"token\",\"profile\":\"p\"}\n",
    );
    assert!(wire.contains("\"access_token\":\"access-0\""), "{wire}");
    assert!(!wire.contains(REFRESH_CANARY), "S28: {wire}");
    assert!(!wire.contains("refresh"), "S28: {wire}");
    assert!(!wire.contains("id-token-canary"), "{wire}");
    assert_eq!(agent.grants.refreshes(), 0);

    let status = client.status().unwrap().unwrap();
    let names: Vec<_> = status.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["p", "q"]);
    let p = &status.profiles[0];
    assert_eq!(p.state, SignInState::SignedIn);
    assert_eq!(p.provider, Preset::Oidc);
    assert_eq!(p.login, LoginMode::Device);
    let account = p.account.as_ref().unwrap();
    assert_eq!(
        (
            account.label.as_str(),
            account.issuer.as_str(),
            account.subject.as_str()
        ),
        ("alice", "https://idp.example", "alice-sub")
    );
    assert_eq!(p.access_expires_on, Some(token.expires_on));
    assert!(!p.needs_interaction);
    let q = &status.profiles[1];
    assert_eq!(q.state, SignInState::SignedOut);
    assert!(q.account.is_none() && q.needs_interaction);
    let wire = raw_exchange(&agent.path, b"{\"v\":1,\"type\":\"status\"}\n");
    assert!(
        !wire.contains("canary") && !wire.contains("access-0"),
        "{wire}"
    );

    // A headless agent cannot show a login window; it says what to do.
    let err = client.login("p", None).unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::SignInRequired);
    assert!(
        err.to_string()
            .contains("run `tokentray login p` in a terminal"),
        "{err}"
    );

    assert_eq!(client.logout("p").unwrap(), Some(()));
    let status = client.status().unwrap().unwrap();
    assert_eq!(status.profiles[0].state, SignInState::SignedOut);
    assert!(status.profiles[0].needs_interaction);
    let err = client.token(TokenParams::for_profile("p")).unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::SignInRequired);
    assert!(matches!(err, ClientError::Agent(_)));
    let err = client.token(TokenParams::for_profile("nope")).unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::NotFound);
}

#[test]
fn no_agent_is_none_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(dir.path().join("agent.sock"));
    assert!(client.ping().unwrap().is_none());
    // A stale socket file with nobody listening: also no agent.
    drop(std::os::unix::net::UnixListener::bind(client.path()).unwrap());
    assert!(client
        .token(TokenParams::for_profile("p"))
        .unwrap()
        .is_none());
}

// S14: single-flight refresh
#[test]
fn two_hundred_concurrent_clients_share_one_refresh() {
    // Inside the 300 s margin: every caller wants a refresh.
    let agent = Agent::start(ServerConfig::default(), 10);
    let barrier = Arc::new(Barrier::new(200));
    let callers: Vec<_> = (0..200)
        .map(|_| {
            let client = agent.client();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                client
                    .token(TokenParams::for_profile("p"))
                    .unwrap()
                    .unwrap()
                    .access_token
                    .expose()
                    .to_string()
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), "access-1");
    }
    assert_eq!(agent.grants.refreshes(), 1, "S14: exactly one refresh");
}

// S25: socket location and modes
#[test]
fn the_socket_dir_is_0700_and_the_socket_0600() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    assert_eq!(mode(agent.path.parent().unwrap()), 0o700);
    assert_eq!(mode(&agent.path), 0o600);
    assert_eq!(mode(&agent.path.with_file_name("agent.sock.lock")), 0o600);
    assert_pings_within_a_second(&agent.path);
}

// S25: socket location and modes
#[test]
fn a_symlinked_open_or_foreign_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime();
    let _entered = rt.enter();
    let refused = |dir: &Path| {
        let error = bind(&dir.join("agent.sock")).unwrap_err();
        assert!(!dir.join("agent.sock").exists());
        error.to_string()
    };

    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let message = refused(&link);
    assert!(message.contains("symbolic link"), "{message}");

    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o770)).unwrap();
    let message = refused(&open);
    assert!(
        message.contains("0770") && message.contains("chmod 700"),
        "{message}"
    );

    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
    let message = refused(&foreign);
    assert!(message.contains("belongs to uid 65534"), "{message}");

    // The same checks pass on a private directory of ours.
    let (_listener, _lock) = bind(&real.join("agent.sock")).unwrap();
}

/// Runs Python as uid 65534 (nobody) with `setpriv`.
fn as_nobody(script: &str, arg: &Path) -> std::process::Child {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
        ])
        .arg(script)
        .arg(arg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("setpriv and /usr/bin/python3 are installed")
}

const PY_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"v":1,"type":"ping"}\n')
except OSError as e:
    print("send-error", type(e).__name__)
try:
    print("answer", repr(s.recv(65536)))
except OSError as e:
    print("recv-error", type(e).__name__)
"#;

// S26: peer check
#[test]
fn a_client_of_another_uid_is_refused() {
    // A directory nobody can reach, so that the server's own check is what
    // refuses (the 0700 directory of `bind` would stop it earlier).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("agent.sock");
    let rt = runtime();
    let listener = {
        let _entered = rt.enter();
        tokio::net::UnixListener::bind(&path).unwrap()
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let agent = Agent::serve(
        tempfile::tempdir().unwrap(),
        path.clone(),
        rt,
        listener,
        None,
        ServerConfig::default(),
        3600,
    );

    let out = as_nobody(PY_CLIENT, &path).wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("pong"), "S26: served another uid: {said}");
    assert!(
        !said.contains("timeout"),
        "closed at once, not left hanging: {said}"
    );
    assert!(
        said.contains("answer b''") || said.contains("recv-error"),
        "{said}"
    );

    // The same script as us is answered, and the agent goes on serving.
    let out = Command::new("/usr/bin/python3")
        .args(["-c", PY_CLIENT])
        .arg(&path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"type\":\"pong\""));
    assert_pings_within_a_second(&agent.path);
}

const PY_SERVER: &str = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(3)
try:
    data = c.recv(65536)
except OSError:
    data = b"timeout"
print("received", len(data), flush=True)
"#;

// S26: peer check
#[test]
fn the_client_refuses_a_server_of_another_uid_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.path().join("agent.sock");
    let mut server = as_nobody(PY_SERVER, &path);
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "ready");

    let err = Client::new(&path)
        .timeout(Duration::from_secs(5))
        .token(TokenParams::for_profile("p"))
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("uid 65534"), "{message}");
    let mut received = String::new();
    stdout.read_line(&mut received).unwrap();
    assert_eq!(
        received.trim(),
        "received 0",
        "S26: nothing sent before the check"
    );
    server.wait().unwrap();
}

// S27: hardened protocol
#[test]
fn a_10_mb_frame_is_refused_and_the_agent_goes_on() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    let stream = UnixStream::connect(&agent.path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..10 {
            if writer.write_all(&chunk).is_err() {
                return false; // the server closed the connection
            }
        }
        true
    });
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    assert!(line.contains("\"kind\":\"invalid_input\""), "{line}");
    assert!(line.contains("longer than 65536 bytes"), "{line}");
    assert!(
        !flood.join().unwrap(),
        "the connection is closed, not read on"
    );
    assert_pings_within_a_second(&agent.path);
}

// S27: hardened protocol
#[test]
fn garbage_gets_error_frames_and_the_agent_goes_on() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    let stream = UnixStream::connect(&agent.path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let garbage = std::thread::spawn(move || {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let bytes: Vec<u8> = (0..256 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        writer.write_all(&bytes).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
        lines
    });
    let mut answers = String::new();
    BufReader::new(&stream)
        .read_to_string(&mut answers)
        .unwrap();
    let lines = garbage.join().unwrap();
    let frames: Vec<_> = answers.lines().collect();
    // One error frame per line, and one for the tail without a newline.
    assert!(
        frames.len() >= lines,
        "{} answers for {lines} lines",
        frames.len()
    );
    assert!(frames
        .iter()
        .all(|f| f.starts_with("{\"v\":1,\"type\":\"error\",\"kind\":\"invalid_input\"")));
    assert_pings_within_a_second(&agent.path);
}

// S27: hardened protocol
#[test]
fn five_hundred_idle_connections_do_not_starve_ping() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    let idle: Vec<_> = (0..500)
        .map(|_| UnixStream::connect(&agent.path).unwrap())
        .collect();
    // Half-sent frames count as idle too.
    for stream in idle.iter().take(100) {
        (&*stream).write_all(b"{\"v\":1,\"ty").unwrap();
    }
    assert_pings_within_a_second(&agent.path);
    let token = agent.client().token(TokenParams::for_profile("p")).unwrap();
    assert!(token.is_some());
    drop(idle);
    assert_pings_within_a_second(&agent.path);
}

// S27: hardened protocol
#[test]
fn a_full_agent_says_busy_and_frees_idle_slots() {
    let config = ServerConfig {
        max_connections: 2,
        idle_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let agent = Agent::start(config, 3600);
    let _idle: Vec<_> = (0..2)
        .map(|_| UnixStream::connect(&agent.path).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let err = agent.client().ping().unwrap_err();
    assert_eq!(err.kind(), tokentray_core::ErrorKind::Busy, "{err}");
    // The idle connections time out and free their slots.
    std::thread::sleep(Duration::from_millis(400));
    assert_pings_within_a_second(&agent.path);
}

// S27: hardened protocol
#[test]
fn unknown_fields_and_wrong_versions_get_error_frames() {
    let agent = Agent::start(ServerConfig::default(), 3600);
    let stream = UnixStream::connect(&agent.path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(&stream);
    let mut ask = |frame: &str| {
        (&stream).write_all(frame.as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        line
    };
    let cases = [
        (
            "{\"v\":1,\"type\":\"ping\",\"extra\":true}\n",
            "unknown field `extra`",
        ),
        (
            "{\"v\":1,\"type\":\"token\",\"profile\":\"p\",\"refresh_token\":\"x\"}\n",
            "unknown field `refresh_token`",
        ),
        (
            "{\"v\":2,\"type\":\"ping\"}\n",
            "protocol version 2 is not supported",
        ),
        ("{\"type\":\"ping\"}\n", "missing field `v`"),
        ("{\"v\":1,\"type\":\"shell\"}\n", "unknown variant `shell`"),
        ("\n", "not a JSON object"),
    ];
    for (frame, expected) in cases {
        let answer = ask(frame);
        assert!(
            answer.starts_with("{\"v\":1,\"type\":\"error\",\"kind\":\"invalid_input\""),
            "{frame}: {answer}"
        );
        assert!(answer.contains(expected), "{frame}: {answer}");
    }
    // Same connection, still served.
    assert!(ask("{\"v\":1,\"type\":\"ping\"}\n").contains("\"type\":\"pong\""));
}

#[test]
fn a_second_agent_is_refused_and_a_stale_socket_replaced() {
    let mut agent = Agent::start(ServerConfig::default(), 3600);
    {
        let _entered = agent.rt.enter();
        let err = bind(&agent.path).unwrap_err();
        assert_eq!(err.kind(), tokentray_core::ErrorKind::AlreadyExists);
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "another Tokentray agent (pid {}",
                std::process::id()
            )),
            "{message}"
        );
        assert!(
            message.contains(&agent.path.display().to_string()),
            "{message}"
        );
    }
    assert_pings_within_a_second(&agent.path);
    // Shutdown removes the socket file, and does not wait for idle
    // connections to time out.
    let idle = UnixStream::connect(&agent.path).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    agent.stop();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(!agent.path.exists());
    drop(idle);

    // A socket file left by a dead agent is replaced.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/agent.sock");
    std::fs::create_dir(path.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        path.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let rt = runtime();
    let (listener, lock) = {
        let _entered = rt.enter();
        bind(&path).unwrap()
    };
    let agent = Agent::serve(
        dir,
        path,
        rt,
        listener,
        Some(lock),
        ServerConfig::default(),
        3600,
    );
    assert_pings_within_a_second(&agent.path);
}

/// The `NewProgram` events a server over `audit` announces while this
/// test process takes three tokens of `p` from it.
fn new_programs_announced(dir: &Path, audit: &Path) -> Vec<(String, String)> {
    let path = dir.join("run/agent.sock");
    let rt = runtime();
    let (listener, _lock) = {
        let _entered = rt.enter();
        bind(&path).unwrap()
    };
    let (broker, _grants) = broker(dir, 3600);
    let mut events = broker.subscribe();
    let mut faces = Faces::headless(broker.profiles().clone());
    faces.audit = Some(tokentray_core::audit::AuditLog::at(audit));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(run_with(
        listener,
        broker,
        faces,
        async move {
            let _ = stopped.await;
        },
        ServerConfig::default(),
    ));
    let client = Client::new(&path).timeout(Duration::from_secs(10));
    for _ in 0..3 {
        client
            .token(TokenParams::for_profile("p"))
            .unwrap()
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = stop.send(());
    rt.block_on(server).unwrap();
    let mut announced = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let tokentray_core::broker::Event::NewProgram { profile, program } = event {
            announced.push((profile, program));
        }
    }
    announced
}

#[test]
fn a_program_new_to_the_audit_trail_is_announced_once() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("state/audit.jsonl");
    let first = new_programs_announced(&dir.path().join("one"), &audit);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].0, "p");
    let me = std::env::current_exe().unwrap();
    let me = std::fs::canonicalize(me).unwrap();
    assert!(
        first[0].1.starts_with(&me.display().to_string()),
        "{first:?}"
    );
    assert_eq!(
        tokentray_core::audit::read(&audit).unwrap().len(),
        3,
        "every token is in the trail"
    );
    // another agent over the same trail: the program is not new
    assert!(new_programs_announced(&dir.path().join("two"), &audit).is_empty());
}
