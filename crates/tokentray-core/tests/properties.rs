//! Property tests (S36) of the public parsers that read what others wrote:
//! the JWT display decoder, discovery documents and OAuth error bodies, the
//! agent's socket frames, and the profiles file (through its store). Any
//! input: no panic, errors typed and free of the input's values; valid
//! input: a round trip gives back what went in. The parsers that are
//! private to their modules are tested next to them (`src/flow/properties.rs`,
//! `src/profile/properties.rs`).
//!
//! Each property runs 256 cases, so the normal test command stays fast.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use tokentray_core::http::{oauth_error, parse_json};
use tokentray_core::ipc::protocol::{
    decode, encode, ErrorReply, Request, Response, TokenParams, TokenReply,
};
use tokentray_core::profile::{
    AccessField, LoginMode, Preset, Profile, ProfileFields, ProfileStore, RuleFields, FILE_NAME,
};
use tokentray_core::provider::Metadata;
use tokentray_core::{AccessTokenSecret, ErrorKind};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // No regression files written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// JSON values without floats (whose text form need not round-trip).
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop::collection::vec(".{0,8}", 0..4).prop_map(Value::from),
    ]
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(".{0,12}", json_leaf(), 0..8)
        .prop_map(|map| map.into_iter().collect())
}

/// `s` or `s` as several parts, the way an attacker would shape a token.
fn jwt_like() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_=+/-]{0,40}", 0..7).prop_map(|parts| parts.join("."))
}

proptest! {
    #![proptest_config(config())]

    // S36: the JWT display decoder never panics, whatever it is given
    #[test]
    fn jwt_decode_never_panics(text in prop_oneof![any::<String>(), jwt_like()]) {
        let _ = tokentray_core::jwt::decode(&text);
    }

    // S36, S33: a refused JWT is never echoed in the error
    #[test]
    fn jwt_decode_errors_do_not_echo_the_input(text in "[A-Za-z0-9_-]{24,60}(\\.[A-Za-z0-9_-]{1,30}){0,5}") {
        if let Err(error) = tokentray_core::jwt::decode(&text) {
            prop_assert_eq!(error.kind(), ErrorKind::InvalidInput);
            prop_assert!(!error.to_string().contains(&text));
        }
    }

    // Header and claims survive encode → decode, padded or not, with
    // or without `Bearer `
    // S36
    #[test]
    fn jwt_decode_round_trips(
        header in json_object(),
        claims in json_object(),
        signature in "[A-Za-z0-9_-]{0,80}",
        padded in any::<bool>(),
        bearer in any::<bool>(),
    ) {
        let engine = if padded {
            base64::engine::general_purpose::URL_SAFE
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
        };
        let token = format!(
            "{}{}.{}.{signature}",
            if bearer { "Bearer " } else { "" },
            engine.encode(Value::Object(header.clone()).to_string()),
            engine.encode(Value::Object(claims.clone()).to_string()),
        );
        let decoded = tokentray_core::jwt::decode(&token).unwrap();
        prop_assert_eq!(decoded.header, header);
        prop_assert_eq!(decoded.claims, claims);
    }

    // S36: discovery documents of any shape parse or fail cleanly
    #[test]
    fn discovery_parsing_never_panics(body in prop_oneof![
        any::<Vec<u8>>(),
        json_object().prop_map(|o| Value::Object(o).to_string().into_bytes()),
    ]) {
        if let Err(error) = parse_json::<Metadata>(&body, "discovery document") {
            prop_assert_eq!(error.kind(), ErrorKind::Network);
        }
    }

    // S36: a valid discovery document keeps every field we read
    #[test]
    fn discovery_documents_round_trip(
        issuer in ".{1,40}",
        host in "[a-z][a-z0-9-]{0,20}\\.example",
        paths in prop::collection::vec("[a-zA-Z0-9/_.-]{0,20}", 6),
        present in prop::collection::vec(any::<bool>(), 6),
        methods in prop::option::of(prop::collection::vec("[A-Za-z0-9]{1,8}", 0..4)),
        iss_parameter in prop::option::of(any::<bool>()),
    ) {
        let url = |i: usize| format!("https://{host}/{}", paths[i]);
        let mut document = json!({"issuer": issuer, "token_endpoint": url(1)});
        let optional = [
            "authorization_endpoint",
            "jwks_uri",
            "userinfo_endpoint",
            "device_authorization_endpoint",
            "revocation_endpoint",
        ];
        for (i, name) in optional.iter().enumerate() {
            if present[i] {
                document[*name] = json!(url(i + 1));
            }
        }
        if let Some(methods) = &methods {
            document["code_challenge_methods_supported"] = json!(methods);
        }
        if let Some(flag) = iss_parameter {
            document["authorization_response_iss_parameter_supported"] = json!(flag);
        }
        let parsed: Metadata = parse_json(document.to_string().as_bytes(), "discovery").unwrap();
        let expect = |i: usize| present[i].then(|| url::Url::parse(&url(i + 1)).unwrap());
        prop_assert_eq!(&parsed.issuer, &issuer);
        prop_assert_eq!(parsed.token_endpoint, url::Url::parse(&url(1)).unwrap());
        prop_assert_eq!(parsed.authorization_endpoint, expect(0));
        prop_assert_eq!(parsed.jwks_uri, expect(1));
        prop_assert_eq!(parsed.userinfo_endpoint, expect(2));
        prop_assert_eq!(parsed.device_authorization_endpoint, expect(3));
        prop_assert_eq!(parsed.revocation_endpoint, expect(4));
        prop_assert_eq!(parsed.code_challenge_methods_supported, methods);
        prop_assert_eq!(
            parsed.authorization_response_iss_parameter_supported,
            iss_parameter.unwrap_or(false)
        );
    }

    // OAuth error bodies are read without panicking, and what is
    // shown of them is printable and bounded
    // S36, S33
    #[test]
    fn oauth_errors_are_cleaned(
        raw in any::<Vec<u8>>(),
        code in any::<String>(),
        description in prop::option::of(any::<String>()),
    ) {
        let _ = oauth_error(&raw);
        let body = json!({"error": code, "error_description": description}).to_string();
        let (shown, said) = oauth_error(body.as_bytes()).unwrap();
        prop_assert!(shown.chars().count() <= 65);
        prop_assert!(!shown.chars().any(char::is_control));
        if let Some(said) = said {
            prop_assert!(said.chars().count() <= 301);
            prop_assert!(!said.chars().any(char::is_control));
        }
    }

    // Any bytes on the socket decode to a message or to an
    // `invalid_input` error, never a panic
    // S36, S27
    #[test]
    fn frames_of_any_bytes_never_panic(frame in prop_oneof![
        any::<Vec<u8>>(),
        json_object().prop_map(|o| Value::Object(o).to_string().into_bytes()),
        (json_object(), any::<i64>(), "[a-z_]{0,10}").prop_map(|(mut o, v, t)| {
            o.insert("v".into(), json!(v));
            o.insert("type".into(), json!(t));
            Value::Object(o).to_string().into_bytes()
        }),
    ]) {
        if let Err(error) = decode::<Request>(&frame) {
            prop_assert_eq!(error.kind(), ErrorKind::InvalidInput);
        }
        if let Err(error) = decode::<Response>(&frame) {
            prop_assert_eq!(error.kind(), ErrorKind::InvalidInput);
        }
    }

    // Requests survive encode → decode; one unknown field or another
    // version makes the frame invalid
    // S36, S27
    #[test]
    fn requests_round_trip_and_stay_strict(request in request(), extra in "[a-z_]{1,12}") {
        let frame = encode(&request).unwrap();
        prop_assert_eq!(frame.last(), Some(&b'\n'));
        prop_assert_eq!(decode::<Request>(&frame).unwrap(), request);

        let mut value: Value = serde_json::from_slice(&frame).unwrap();
        if !value.as_object().unwrap().contains_key(&extra) {
            value[&extra] = json!(1);
            prop_assert!(decode::<Request>(value.to_string().as_bytes()).is_err());
        }
        let mut other: Value = serde_json::from_slice(&frame).unwrap();
        other["v"] = json!(2);
        prop_assert!(decode::<Request>(other.to_string().as_bytes()).is_err());
    }

    // Replies survive encode → decode, or are refused as over the
    // frame limit
    // S36, S27
    #[test]
    fn replies_round_trip(reply in response()) {
        match encode(&reply) {
            Ok(frame) => {
                prop_assert!(frame.len() <= tokentray_core::ipc::protocol::MAX_FRAME);
                prop_assert_eq!(decode::<Response>(&frame).unwrap(), reply);
            }
            Err(error) => prop_assert_eq!(error.kind(), ErrorKind::InvalidInput),
        }
    }

}

proptest! {
    // Fewer cases: each one writes (and syncs) a file.
    #![proptest_config(ProptestConfig { cases: 64, ..config() })]

    // S36: a profile written by the store is read back equal
    #[test]
    fn profiles_round_trip_through_the_file(profile in profile()) {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        store.add(&profile).unwrap();
        prop_assert_eq!(store.load().unwrap(), vec![profile]);
    }
}

fn request() -> impl Strategy<Value = Request> {
    let text = ".{0,30}";
    prop_oneof![
        Just(Request::Ping {}),
        Just(Request::Status {}),
        (
            text,
            prop::option::of(prop::collection::vec(text, 0..4)),
            prop::option::of(any::<u64>()),
            any::<bool>()
        )
            .prop_map(|(profile, scopes, min_valid, force_refresh)| {
                Request::Token(TokenParams {
                    profile,
                    scopes,
                    min_valid,
                    force_refresh,
                })
            }),
        (
            text,
            prop::option::of(prop::sample::select(LoginMode::ALL.to_vec()))
        )
            .prop_map(|(profile, mode)| Request::Login { profile, mode }),
        text.prop_map(|profile| Request::Logout { profile }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    let text = ".{0,30}";
    prop_oneof![
        Just(Response::Ok {}),
        (prop::sample::select(ErrorKind::ALL.to_vec()), text)
            .prop_map(|(kind, message)| Response::Error(ErrorReply { kind, message })),
        (
            prop_oneof![
                ".{0,200}".boxed(),
                // Near and over the 64 KiB frame limit.
                (60_000usize..70_000, "[A-Za-z0-9._-]")
                    .prop_map(|(n, c)| c.repeat(n))
                    .boxed(),
            ],
            text,
            any::<i64>(),
            prop::collection::vec(text, 0..4),
            text,
            prop::option::of(text)
        )
            .prop_map(
                |(token, token_type, expires_on, scopes, profile, account)| {
                    Response::Token(TokenReply {
                        access_token: AccessTokenSecret::new(token),
                        token_type,
                        expires_on,
                        scopes,
                        profile,
                        account,
                    })
                }
            ),
    ]
}

/// An `access` key: absent, a mode, or rules whose paths need quoting.
fn access() -> impl Strategy<Value = Option<AccessField>> {
    let rule = (
        "/[^\\p{Cc}\"\\\\]{1,30}",
        prop::option::of("[0-9a-f]{64}"),
        prop::option::of("/[a-z ]{1,20}\\.py"),
        prop::option::of(1_700_000_000i64..1_900_000_000),
    )
        .prop_map(|(program, sha256, script, until)| RuleFields {
            program,
            sha256,
            script,
            ssh: None,
            until: until
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0).map(|t| t.to_rfc3339())),
        });
    prop_oneof![
        Just(None),
        Just(Some(AccessField::Mode("any".into()))),
        Just(Some(AccessField::Mode("confirm".into()))),
        prop::collection::vec(rule, 1..3).prop_map(|rules| Some(AccessField::Rules(rules))),
    ]
}

/// Valid profiles of every preset, with names, ids and scopes that need
/// quoting or escaping in TOML.
fn profile() -> impl Strategy<Value = Profile> {
    let name = "[A-Za-z0-9][A-Za-z0-9._-]{0,30}";
    let client_id = "[^\\s\\p{Cc}]{1,40}";
    let scopes = prop::option::of(prop::collection::vec("[^\\s\\p{Cc}\"\\\\]{1,20}", 1..4));
    let provider = prop_oneof![
        "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,10}){0,2}"
            .prop_map(|tenant| (Preset::Microsoft, Some(tenant), None)),
        Just((Preset::Google, None, None)),
        Just((Preset::Github, None, None)),
        "(https://[a-z0-9-]{1,20}\\.example(/[a-zA-Z0-9._~-]{1,10}){0,3}|http://127\\.0\\.0\\.1:[1-9][0-9]{0,4})"
            .prop_map(|issuer| (Preset::Oidc, None, Some(issuer))),
    ];
    (
        name,
        provider,
        client_id,
        scopes,
        prop::sample::select(LoginMode::ALL.to_vec()),
        prop::option::of(0i64..=86_400),
        prop::option::of(any::<bool>()),
        access(),
    )
        .prop_filter_map(
            "rules a preset adds (e.g. google refuses embedded)",
            |(
                name,
                (preset, tenant, issuer),
                client_id,
                scopes,
                login,
                refresh_margin,
                keep_fresh,
                access,
            )| {
                Profile::from_fields(
                    &name,
                    ProfileFields {
                        provider: Some(preset),
                        tenant,
                        issuer,
                        client_id: Some(client_id),
                        scopes,
                        login: Some(login),
                        refresh_margin,
                        keep_fresh,
                        access,
                        ..Default::default()
                    },
                )
                .ok()
            },
        )
}
