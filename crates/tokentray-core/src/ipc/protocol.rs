//! The agent protocol: one JSON object per line, each carrying `"v":1` and
//! a `"type"`, in both directions.
//!
//! ```text
//! → {"v":1,"type":"ping"}
//! ← {"v":1,"type":"pong","version":"0.1.0","pid":4242}
//! → {"v":1,"type":"token","profile":"graph","scopes":["User.Read"],"min_valid":600}
//! ← {"v":1,"type":"token","access_token":"eyJ…","token_type":"Bearer","expires_on":1767225600,"scopes":["User.Read"],"profile":"graph","account":"alice@example.com"}
//! → {"v":1,"type":"status"}
//! ← {"v":1,"type":"status","profiles":[{"name":"graph","provider":"microsoft","login":"embedded",…}]}
//! → {"v":1,"type":"login","profile":"graph","mode":"device"}
//! → {"v":1,"type":"logout","profile":"graph"}
//! ← {"v":1,"type":"ok"}
//! ← {"v":1,"type":"error","kind":"sign_in_required","message":"sign-in required for profile `graph`: invalid_grant"}
//! ```
//!
//! The schema is strict (S27): an unknown field, an unknown type, a missing
//! or different `v` is an error frame, never a guess. A frame is at most
//! [`MAX_FRAME`] bytes including its newline.
//!
//! No response type has a field for a refresh token or an ID token (S28):
//! the agent cannot serve one even by mistake, and the one secret that
//! crosses the socket, the access token of a [`TokenReply`], is an
//! [`AccessTokenSecret`], which no [`RefreshToken`](crate::secret::RefreshToken)
//! can be passed as. It stays wrapped until the frame is encoded, and the
//! encoded frame is wiped once written ([`encode`] returns a [`Zeroizing`]
//! buffer).

use crate::broker::{Served, TokenRequest};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::LoginMode;
use crate::secret::AccessTokenSecret;
use crate::token::{AccessToken, EpochSecs};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// Largest frame, newline included: 64 KiB.
pub const MAX_FRAME: usize = 64 * 1024;

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Is an agent there, and who is it?
    Ping {},
    /// An access token.
    Token(TokenParams),
    /// Every profile and its account's state.
    Status {},
    /// Start an interactive sign-in in the agent's face (the tray app opens
    /// its login window; a headless agent refuses).
    Login {
        /// The profile.
        profile: String,
        /// How, when not the profile's own mode.
        #[serde(default)]
        mode: Option<LoginMode>,
    },
    /// Sign out of a profile's account (revoke, then delete its tokens).
    Logout {
        /// The profile.
        profile: String,
    },
}

/// The parameters of a `token` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenParams {
    /// The profile.
    pub profile: String,
    /// Scopes; absent means the profile's default scopes.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The token must stay valid at least this many seconds.
    #[serde(default)]
    pub min_valid: Option<u64>,
    /// Refresh even when the cached token is fine.
    #[serde(default)]
    pub force_refresh: bool,
}

impl TokenParams {
    /// A request for `profile`'s default scopes.
    pub fn for_profile(profile: &str) -> Self {
        Self {
            profile: profile.to_string(),
            ..Self::default()
        }
    }
}

/// What the agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Response {
    /// Answer to `ping`.
    Pong(Pong),
    /// Answer to `token`.
    Token(TokenReply),
    /// Answer to `status`.
    Status(StatusReply),
    /// Done (`login`, `logout`).
    Ok {},
    /// The request failed.
    Error(ErrorReply),
}

/// Who the agent is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pong {
    /// The agent's Tokentray version.
    pub version: String,
    /// The agent's process id, so that a second agent can name the first.
    pub pid: u32,
}

/// An access token, as served. There is deliberately no refresh-token or
/// ID-token field (S28), and the token field takes an access token only:
///
/// ```
/// use tokentray_core::ipc::protocol::TokenReply;
/// use tokentray_core::AccessTokenSecret;
///
/// let reply = TokenReply {
///     access_token: AccessTokenSecret::new("at"),
///     token_type: "Bearer".into(),
///     expires_on: 1_767_225_600,
///     scopes: vec!["api.read".into()],
///     profile: "graph".into(),
///     account: None,
/// };
/// # let _ = reply;
/// ```
///
/// The same reply with a refresh token does not compile:
///
/// ```compile_fail,E0308
/// use tokentray_core::ipc::protocol::TokenReply;
/// use tokentray_core::RefreshToken;
///
/// let reply = TokenReply {
///     access_token: RefreshToken::new("rt"),
///     token_type: "Bearer".into(),
///     expires_on: 1_767_225_600,
///     scopes: vec!["api.read".into()],
///     profile: "graph".into(),
///     account: None,
/// };
/// # let _ = reply;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenReply {
    /// The token; exposed only while the frame is encoded.
    #[serde(serialize_with = "expose", deserialize_with = "conceal")]
    pub access_token: AccessTokenSecret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// Expiry, in seconds since the Unix epoch (UTC).
    pub expires_on: EpochSecs,
    /// The scopes the token was granted for.
    pub scopes: Vec<String>,
    /// The profile it is for.
    pub profile: String,
    /// The account's label (username, e-mail, …); none for client
    /// credentials.
    pub account: Option<String>,
}

/// The reply for a token the broker handed out: the one conversion every
/// face renders from (the agent's answer, the CLI without an agent).
impl From<Served> for TokenReply {
    fn from(served: Served) -> Self {
        let AccessToken {
            token,
            token_type,
            expires_at,
            scopes,
        } = served.token;
        Self {
            access_token: token,
            token_type,
            expires_on: expires_at,
            scopes,
            profile: served.profile,
            account: served.account.map(|account| account.label),
        }
    }
}

/// What the broker is asked for a `token` request.
impl From<TokenParams> for TokenRequest {
    fn from(params: TokenParams) -> Self {
        Self {
            profile: params.profile,
            scopes: params.scopes,
            min_valid: params.min_valid.map(std::time::Duration::from_secs),
            force_refresh: params.force_refresh,
            force_cooldown: None,
        }
    }
}

// The status types are the core's own (`status`); they cross the socket as
// they are.
pub use crate::account::AccountInfo;
pub use crate::status::{ProfileStatus, SignInState, StatusReply};

/// A failed request: the core's stable error kind ([`Error::kind`]) and its
/// message. Two kinds come from the socket layer itself:
/// [`ErrorKind::InvalidInput`] for a malformed frame, and
/// [`ErrorKind::Busy`] when the agent serves as many connections as it
/// allows (try again). On the wire a kind is its
/// [wire name](ErrorKind::as_str); a name this build does not know reads as
/// [`ErrorKind::Internal`] ([`ErrorKind::from_wire`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReply {
    /// [`Error::kind`] of the failure, or [`ErrorKind::Busy`].
    pub kind: ErrorKind,
    /// What went wrong and how to fix it (never a token).
    pub message: String,
}

impl From<&Error> for ErrorReply {
    fn from(error: &Error) -> Self {
        Self {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}

impl std::fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorReply {}

fn expose<S: Serializer>(
    token: &AccessTokenSecret,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(token.expose())
}

fn conceal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<AccessTokenSecret, D::Error> {
    String::deserialize(deserializer).map(AccessTokenSecret::new)
}

/// A frame on the wire: the version next to the message's own fields.
#[derive(Serialize)]
struct Outgoing<'a, T> {
    v: u32,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Deserialize)]
struct Incoming<T> {
    #[allow(dead_code)]
    v: u32,
    #[serde(flatten)]
    body: T,
}

/// Only the version, read first so that a frame of another version is
/// reported as such rather than as an unknown type.
#[derive(Deserialize)]
struct Head {
    v: Option<serde_json::Value>,
}

/// Encodes a message as one frame, newline included. The buffer is wiped
/// when dropped, since a token reply holds a token in clear.
pub fn encode<T: Serialize>(message: &T) -> Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::with_capacity(1024));
    serde_json::to_writer(
        &mut *line,
        &Outgoing {
            v: VERSION,
            body: message,
        },
    )
    .map_err(|e| Error::internal(format!("cannot encode an agent message: {e}")))?;
    line.push(b'\n');
    if line.len() > MAX_FRAME {
        return Err(Error::InvalidInput(format!(
            "an agent message of {} bytes exceeds the {MAX_FRAME}-byte frame limit",
            line.len()
        )));
    }
    Ok(line)
}

/// Decodes one frame (with or without its newline). Errors are
/// `invalid_input` and say what was wrong with the frame; they quote field
/// and type names, never values.
pub fn decode<T: for<'de> Deserialize<'de>>(frame: &[u8]) -> Result<T> {
    let frame = frame.strip_suffix(b"\n").unwrap_or(frame);
    let frame = frame.strip_suffix(b"\r").unwrap_or(frame);
    let head: Head = serde_json::from_slice(frame).map_err(|e| bad_frame(&e))?;
    match head.v {
        None => {
            return Err(Error::InvalidInput(format!(
                "bad frame: missing field `v` (this agent speaks protocol v{VERSION})"
            )))
        }
        Some(v) if v.as_u64() != Some(u64::from(VERSION)) => {
            return Err(Error::InvalidInput(format!(
                "protocol version {v} is not supported: this agent speaks v{VERSION}; use a `tokentray` of the same version as the agent"
            )))
        }
        Some(_) => {}
    }
    let incoming: Incoming<T> = serde_json::from_slice(frame).map_err(|e| bad_frame(&e))?;
    Ok(incoming.body)
}

fn bad_frame(error: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match error.classify() {
        // serde_json's data errors name fields and types, not values.
        Category::Data => Error::InvalidInput(format!("bad frame: {error}")),
        Category::Syntax | Category::Eof | Category::Io => Error::InvalidInput(format!(
            "bad frame: not a JSON object (at column {})",
            error.column()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Preset;

    fn line<T: Serialize>(message: &T) -> String {
        String::from_utf8(encode(message).unwrap().to_vec()).unwrap()
    }

    fn reply() -> TokenReply {
        TokenReply {
            access_token: AccessTokenSecret::new("AT-canary"),
            token_type: "Bearer".into(),
            expires_on: 1_767_225_600,
            scopes: vec!["api.read".into()],
            profile: "graph".into(),
            account: Some("alice@example".into()),
        }
    }

    #[test]
    fn requests_encode_as_documented() {
        assert_eq!(line(&Request::Ping {}), "{\"v\":1,\"type\":\"ping\"}\n");
        assert_eq!(
            line(&Request::Token(TokenParams {
                profile: "graph".into(),
                scopes: Some(vec!["User.Read".into()]),
                min_valid: Some(600),
                force_refresh: false,
            })),
            "{\"v\":1,\"type\":\"token\",\"profile\":\"graph\",\"scopes\":[\"User.Read\"],\"min_valid\":600,\"force_refresh\":false}\n"
        );
        assert_eq!(
            line(&Request::Login {
                profile: "graph".into(),
                mode: Some(LoginMode::Device)
            }),
            "{\"v\":1,\"type\":\"login\",\"profile\":\"graph\",\"mode\":\"device\"}\n"
        );
        assert_eq!(line(&Response::Ok {}), "{\"v\":1,\"type\":\"ok\"}\n");
    }

    #[test]
    fn every_message_round_trips() {
        let requests = [
            Request::Ping {},
            Request::Status {},
            Request::Token(TokenParams::for_profile("p")),
            Request::Login {
                profile: "p".into(),
                mode: None,
            },
            Request::Logout {
                profile: "p".into(),
            },
        ];
        for request in requests {
            assert_eq!(
                decode::<Request>(&encode(&request).unwrap()).unwrap(),
                request
            );
        }
        let responses = [
            Response::Pong(Pong {
                version: "0.1.0".into(),
                pid: 42,
            }),
            Response::Token(reply()),
            Response::Status(StatusReply {
                profiles: vec![ProfileStatus {
                    name: "p".into(),
                    provider: Preset::Oidc,
                    login: LoginMode::Device,
                    account: Some(AccountInfo {
                        label: "alice".into(),
                        issuer: "https://idp.example".into(),
                        subject: "a1".into(),
                    }),
                    state: SignInState::SignInRequired,
                    reason: Some("invalid_grant".into()),
                    access_expires_on: None,
                    refresh_expires_on: Some(5),
                    needs_interaction: true,
                    refreshing: false,
                    refresh_failed: Some("network".into()),
                }],
            }),
            Response::Ok {},
            Response::Error(ErrorReply {
                kind: ErrorKind::NotFound,
                message: "profile `p` not found".into(),
            }),
        ];
        for response in responses {
            assert_eq!(
                decode::<Response>(&encode(&response).unwrap()).unwrap(),
                response
            );
        }
    }

    // S28: no refresh tokens over the socket
    #[test]
    fn a_token_reply_shows_its_token_only_on_the_wire() {
        let reply = Response::Token(reply());
        assert!(line(&reply).contains("\"access_token\":\"AT-canary\""));
        let shown = format!("{reply:?} {reply:#?}");
        assert!(!shown.contains("canary"), "leaked in Debug: {shown}");
    }

    // S28: no refresh tokens over the socket
    #[test]
    fn a_refresh_token_cannot_be_sent_nor_accepted() {
        let wire = line(&Response::Token(reply()));
        assert!(!wire.contains("refresh"), "{wire}");
        // A (rogue) agent adding one is refused by the client's decoder.
        let rogue = wire.replace("\"profile\"", "\"refresh_token\":\"RT\",\"profile\"");
        let err = decode::<Response>(rogue.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("unknown field `refresh_token`"),
            "{err}"
        );
    }

    // S27: hardened protocol
    #[test]
    fn unknown_fields_types_and_versions_are_refused() {
        let cases = [
            ("{\"v\":1,\"type\":\"ping\",\"x\":1}", "unknown field `x`"),
            (
                "{\"v\":1,\"type\":\"status\",\"all\":true}",
                "unknown field `all`",
            ),
            (
                "{\"v\":1,\"type\":\"token\",\"profile\":\"p\",\"scope\":[]}",
                "unknown field `scope`",
            ),
            ("{\"v\":1,\"type\":\"launch\"}", "unknown variant `launch`"),
            ("{\"type\":\"ping\"}", "missing field `v`"),
            (
                "{\"v\":2,\"type\":\"ping\"}",
                "protocol version 2 is not supported",
            ),
            ("{\"v\":\"1\",\"type\":\"ping\"}", "protocol version \"1\""),
            ("[1,2]", "bad frame"),
            ("\u{1}\u{2}garbage", "not a JSON object"),
            ("", "not a JSON object"),
        ];
        for (frame, expected) in cases {
            let err = decode::<Request>(frame.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{frame}");
            assert!(err.to_string().contains(expected), "{frame}: {err}");
        }
    }

    // S27: hardened protocol
    #[test]
    fn a_frame_over_the_limit_is_not_encoded() {
        let huge = Response::Error(ErrorReply {
            kind: ErrorKind::Internal,
            message: "m".repeat(MAX_FRAME),
        });
        assert!(encode(&huge).is_err());
    }
}
