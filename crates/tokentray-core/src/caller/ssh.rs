//! A request that came through an SSH forward: the agent's peer is the
//! local OpenSSH client (`ssh -R REMOTE_SOCKET:AGENT_SOCKET …`, as
//! `tokentray ssh` runs it, or by hand), which connects to the agent on
//! behalf of whatever runs on the remote machine. The agent cannot see
//! that remote program; what it can tell, from the OS, is which
//! connection it came through: the destination on the `ssh` process's own
//! command line (`/proc/PID/cmdline`), never what a client says.
//!
//! [`destination`] reads it the way OpenSSH's `ssh.c` does: options (those
//! that take a value: [`WITH_VALUE`]) until the first non-option, which is
//! the destination (`[user@]host` or `ssh://[user@]host[:port]`); ssh then
//! reads options again after it, up to the remote command or `--`. The
//! first value given wins, as in ssh: `-l` or `-o User=` before the
//! destination beats its `user@`, which beats a `-l` after it; the same
//! for `-p`/`-o Port=` and a URI's port. The host is the destination as
//! typed (an alias of `~/.ssh/config` stays an alias), and the remote user
//! is only known when the command line names it. Nothing else of the
//! command line is kept: not the remote command, not the options.

use std::fmt;

/// ssh's options that take a value (`ssh.c`'s getopt string, OpenSSH 9.x;
/// `-P tag` since 9.4).
pub const WITH_VALUE: &str = "BDEFIJLOPQRSWbceilmopw";

/// The program name of OpenSSH's client.
pub const SSH_CLIENT: &str = "ssh";

/// Longest user or host name kept.
const MAX_NAME: usize = 255;

/// Where an SSH-forwarded request came from: the destination of the `ssh`
/// client that carried it, as far as its command line tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forward {
    /// The remote user, when the command line names one (`-l`, `user@`,
    /// `-o User=`); else ssh takes it from its config or the local user.
    pub user: Option<String>,
    /// The destination host as typed; `None` when the command line could
    /// not be read.
    pub host: Option<String>,
    /// The port, when the command line names one.
    pub port: Option<u16>,
}

impl Forward {
    /// Reads the shown form back (`alice@build-box:2222`,
    /// `[::1]:2222`): what [`super::Process::script`] holds for an ssh
    /// client. `None` stays an unknown destination.
    pub fn from_shown(shown: Option<&str>) -> Forward {
        let Some(shown) = shown.filter(|s| !s.is_empty()) else {
            return Forward::default();
        };
        let (user, rest) = match shown.rsplit_once('@') {
            Some((user, rest)) => (Some(user.to_string()), rest),
            None => (None, shown),
        };
        let (host, port) = split_port(rest);
        Forward {
            user,
            host: Some(host.to_string()),
            port,
        }
    }
}

/// `alice@build-box`, `build-box:2222`, `alice@[::1]:2222`, or `an
/// unknown destination`.
impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(host) = &self.host else {
            return f.write_str("an unknown destination");
        };
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if host.contains(':') {
            write!(f, "[{host}]")?;
        } else {
            f.write_str(host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// The destination on an ssh client's command line (`args[0]` is the
/// program); `None` when there is none (`ssh -V`, a broken line).
pub fn destination(args: &[String]) -> Option<Forward> {
    let mut user: Option<String> = None;
    let mut port: Option<u16> = None;
    let mut host: Option<String> = None;
    let mut next = 1;
    loop {
        let (stop, terminated) = options(args, next, &mut user, &mut port);
        next = stop;
        if host.is_some() {
            break;
        }
        let typed = args.get(next)?;
        next += 1;
        let (typed_user, typed_host, typed_port) = parse_destination(typed)?;
        if user.is_none() {
            user = typed_user;
        }
        if port.is_none() {
            port = typed_port;
        }
        host = Some(typed_host);
        // ssh reads options after the destination too, unless `--` came
        // before it
        if terminated {
            break;
        }
    }
    Some(Forward {
        user: user.map(|u| clean(&u)),
        host: host.map(|h| clean(&h)),
        port,
    })
}

/// Reads options from `args[start..]` like getopt (clusters `-vp22`,
/// values attached `-p22` or apart `-p 22`), keeping the first user and
/// port. Returns where the options end and whether `--` ended them.
fn options(
    args: &[String],
    start: usize,
    user: &mut Option<String>,
    port: &mut Option<u16>,
) -> (usize, bool) {
    let mut index = start;
    while let Some(arg) = args.get(index) {
        if arg == "--" {
            return (index + 1, true);
        }
        let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty()) else {
            return (index, false);
        };
        for (at, letter) in letters.char_indices() {
            if !WITH_VALUE.contains(letter) {
                continue;
            }
            let attached = &letters[at + letter.len_utf8()..];
            let value = if attached.is_empty() {
                index += 1;
                args.get(index).map(String::as_str)
            } else {
                Some(attached)
            };
            if let Some(value) = value {
                apply(letter, value, user, port);
            }
            break;
        }
        index += 1;
    }
    (index, false)
}

/// Keeps what `-l`, `-p` and `-o User=`/`-o Port=` say, first value wins.
fn apply(letter: char, value: &str, user: &mut Option<String>, port: &mut Option<u16>) {
    match letter {
        'l' => {
            user.get_or_insert_with(|| value.to_string());
        }
        'p' if port.is_none() => {
            *port = value.parse().ok();
        }
        'o' => {
            let Some((key, value)) = config_line(value) else {
                return;
            };
            if key.eq_ignore_ascii_case("user") {
                user.get_or_insert(value);
            } else if key.eq_ignore_ascii_case("port") && port.is_none() {
                *port = value.parse().ok();
            }
        }
        _ => {}
    }
}

/// `Key=Value`, `Key Value` or `Key = "Value"` (ssh_config's syntax).
fn config_line(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    let split = line.find(|c: char| c == '=' || c.is_whitespace())?;
    let (key, rest) = line.split_at(split);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    let value = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(rest);
    Some((key, value.to_string()))
}

/// `(user, host, port)` of `ssh://[user@]host[:port][/]` or `[user@]host`
/// (the last `@` ends the user, as in ssh); `None` for what ssh refuses.
fn parse_destination(typed: &str) -> Option<(Option<String>, String, Option<u16>)> {
    if let Some(uri) = typed.strip_prefix("ssh://") {
        let authority = uri.strip_suffix('/').unwrap_or(uri);
        if authority.contains('/') {
            return None;
        }
        let (user, rest) = match authority.rsplit_once('@') {
            Some((user, rest)) => (Some(percent_decoded(user)), rest),
            None => (None, authority),
        };
        let (host, port) = split_port(rest);
        return (!host.is_empty()).then(|| (user, host.to_string(), port));
    }
    match typed.rsplit_once('@') {
        Some(("", _)) => None,
        Some((user, host)) => {
            (!host.is_empty()).then(|| (Some(user.to_string()), host.to_string(), None))
        }
        None => (!typed.is_empty()).then(|| (None, typed.to_string(), None)),
    }
}

/// `host[:port]` or `[v6 address][:port]`.
fn split_port(text: &str) -> (&str, Option<u16>) {
    if let Some(bracketed) = text.strip_prefix('[') {
        if let Some((host, rest)) = bracketed.split_once(']') {
            return (host, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (text, None),
        },
        _ => (text, None),
    }
}

/// `%40` and friends in a URI's user part.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// No control or bidi characters, and a bounded length: the name ends up
/// in logs, the audit trail and a consent dialog.
fn clean(name: &str) -> String {
    crate::http::clean(name, MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The destination of `ssh ARGS…`, shown.
    fn of(line: &str) -> Option<String> {
        let args: Vec<String> = std::iter::once("ssh")
            .chain(line.split_whitespace())
            .map(str::to_string)
            .collect();
        destination(&args).map(|f| f.to_string())
    }

    #[test]
    fn user_at_host_and_plain_hosts() {
        assert_eq!(of("alice@build-box").as_deref(), Some("alice@build-box"));
        assert_eq!(of("build-box").as_deref(), Some("build-box"));
        assert_eq!(of("build-box uname -a").as_deref(), Some("build-box"));
        // the last @ ends the user (directory accounts)
        assert_eq!(
            of("alice@corp.example@bastion").as_deref(),
            Some("alice@corp.example@bastion")
        );
        assert_eq!(of("@build-box"), None);
        assert_eq!(of(""), None);
        assert_eq!(of("-V"), None);
    }

    #[test]
    fn options_that_take_a_value_are_skipped_with_it() {
        // what `tokentray ssh` runs: its -R first, then the user's line
        assert_eq!(
            of("-R /tmp/tokentray-ssh-ab.sock:/run/user/1000/tokentray/agent.sock alice@build-box -- tokentray token graph").as_deref(),
            Some("alice@build-box")
        );
        assert_eq!(
            of("-i /home/a/.ssh/id_ed25519 -o UserKnownHostsFile=/dev/null -F /dev/null -J jump -E log -c aes128-ctr -L 8080:localhost:80 -D 1080 -W h:1 -b 10.0.0.1 -B eth0 -e none -m hmac -O check -Q cipher -S /tmp/ctl -w 0:1 -I pkcs -P tag build-box").as_deref(),
            Some("build-box")
        );
        // flags, clustered flags, and a value attached or clustered
        assert_eq!(
            of("-4 -A -vvv -tt -NfT -Cq build-box").as_deref(),
            Some("build-box")
        );
        assert_eq!(of("-vp2222 build-box").as_deref(), Some("build-box:2222"));
        assert_eq!(of("-vp 2222 build-box").as_deref(), Some("build-box:2222"));
        assert_eq!(of("-ialice build-box").as_deref(), Some("build-box"));
    }

    #[test]
    fn the_user_comes_from_l_user_at_or_o_user_first_given_wins() {
        assert_eq!(of("-l alice build-box").as_deref(), Some("alice@build-box"));
        assert_eq!(of("-lalice build-box").as_deref(), Some("alice@build-box"));
        // -l before the destination beats its user@
        assert_eq!(
            of("-l alice bob@build-box").as_deref(),
            Some("alice@build-box")
        );
        // user@ beats a -l after it
        assert_eq!(
            of("bob@build-box -l alice").as_deref(),
            Some("bob@build-box")
        );
        // options after the destination count
        assert_eq!(
            of("build-box -l alice -p 2200 ls -l").as_deref(),
            Some("alice@build-box:2200")
        );
        assert_eq!(
            of("-o User=carol build-box").as_deref(),
            Some("carol@build-box")
        );
        assert_eq!(
            of("-oUser=carol -l alice build-box").as_deref(),
            Some("carol@build-box")
        );
        let args = ["ssh", "-o", "user \"dave\"", "build-box"].map(String::from);
        assert_eq!(
            destination(&args).map(|f| f.to_string()).as_deref(),
            Some("dave@build-box")
        );
    }

    #[test]
    fn ports_from_p_o_port_and_uris() {
        assert_eq!(
            of("-p 2222 alice@build-box").as_deref(),
            Some("alice@build-box:2222")
        );
        assert_eq!(
            of("-o Port=2200 -p 2222 build-box").as_deref(),
            Some("build-box:2200")
        );
        assert_eq!(
            of("ssh://alice@build-box:2222").as_deref(),
            Some("alice@build-box:2222")
        );
        assert_eq!(
            of("ssh://build-box/").as_deref(),
            Some("build-box"),
            "a trailing slash is allowed"
        );
        assert_eq!(of("ssh://build-box/path"), None, "ssh refuses a path");
        // -p before the URI wins over its port; its user yields to -l
        assert_eq!(
            of("-p 22 -l bob ssh://alice@build-box:2222").as_deref(),
            Some("bob@build-box:22")
        );
        assert_eq!(
            of("ssh://al%40corp@[fe80::1]:2222").as_deref(),
            Some("al@corp@[fe80::1]:2222")
        );
        assert_eq!(of("-p 2222 ::1").as_deref(), Some("[::1]:2222"));
        assert_eq!(of("-p notaport build-box").as_deref(), Some("build-box"));
    }

    #[test]
    fn a_double_dash_ends_the_options_and_the_command_is_never_kept() {
        // after `--` the rest is the remote command, even if it looks like
        // options
        assert_eq!(
            of("-- build-box -l alice -p 2222").as_deref(),
            Some("build-box")
        );
        let args: Vec<String> = [
            "ssh",
            "build-box",
            "curl",
            "-H",
            "Authorization: Bearer s3cret",
        ]
        .map(String::from)
        .to_vec();
        let forward = destination(&args).unwrap();
        assert_eq!(forward.to_string(), "build-box");
        assert!(!format!("{forward:?}").contains("s3cret"));
        // a dangling value-taking option: nothing to connect to
        assert_eq!(of("-p"), None);
    }

    #[test]
    fn odd_characters_never_reach_the_log() {
        let args = ["ssh", "ev\u{1b}[31mil@host\u{202e}x"].map(String::from);
        let shown = destination(&args).unwrap().to_string();
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{202e}'));
        assert_eq!(shown, "ev[31mil@hostx");
    }

    #[test]
    fn the_shown_form_reads_back() {
        for shown in [
            "alice@build-box",
            "build-box:2222",
            "alice@corp@[fe80::1]:22",
            "[::1]",
            "h",
        ] {
            assert_eq!(Forward::from_shown(Some(shown)).to_string(), shown);
        }
        let unknown = Forward::from_shown(None);
        assert_eq!(unknown, Forward::default());
        assert_eq!(unknown.to_string(), "an unknown destination");
    }
}
