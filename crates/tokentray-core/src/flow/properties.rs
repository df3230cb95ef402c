//! Property tests (S36) of what the flows parse from a provider or a
//! browser: token responses, device authorization responses, user
//! endpoints, the redirect's query and the loopback listener's request
//! judge. No panic on any input; round trips where they apply.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::browser::{judge, Verdict};
use super::code::{callback_params, param, state_matches};
use super::device::DeviceResponse;
use super::response::{seconds, token_response};
use super::userinfo::oauth2_user;
use crate::http::{parse_json, Reply};
use crate::provider::{github, ProviderInfo};
use crate::secret::CsrfState;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn info() -> ProviderInfo {
    github().unwrap()
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        body: zeroize::Zeroizing::new(body.to_vec()),
    }
}

/// Bodies a provider might send: bytes, or JSON objects whose values are
/// of any type.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    let name = prop_oneof![
        Just("access_token".to_owned()),
        Just("token_type".to_owned()),
        Just("expires_in".to_owned()),
        Just("refresh_token".to_owned()),
        Just("id_token".to_owned()),
        Just("error".to_owned()),
        Just("device_code".to_owned()),
        Just("user_code".to_owned()),
        Just("verification_uri".to_owned()),
        Just("interval".to_owned()),
        Just("id".to_owned()),
        ".{0,10}",
    ];
    prop_oneof![
        any::<Vec<u8>>(),
        prop::collection::btree_map(name, value, 0..8).prop_map(|map| Value::Object(
            map.into_iter().collect()
        )
        .to_string()
        .into_bytes()),
    ]
}

/// A query parameter name or value, anything a browser could carry.
fn query_text() -> impl Strategy<Value = String> {
    ".{0,20}"
}

proptest! {
    #![proptest_config(config())]

    // S36: token, device and user responses of any shape never panic
    #[test]
    fn provider_answers_never_panic(status in 100u16..600, body in body()) {
        let info = info();
        if let Ok(raw) = token_response(&info, reply(status, &body)) {
            prop_assert!(!raw.access_token.is_empty());
            prop_assert!(raw
                .token_type
                .as_deref()
                .is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("bearer")));
            let _ = raw.expires_in.as_ref().and_then(seconds);
        }
        let _ = parse_json::<DeviceResponse>(&body, "device authorization response");
        let _ = oauth2_user("https://github.com", &body);
    }

    // A token response keeps what it carried; `expires_in` is read
    // as a number or a string of digits
    // S36, S12
    #[test]
    fn token_responses_round_trip(
        access_token in "[^\\p{Cc}]{1,60}",
        token_type in prop_oneof![Just(None), Just(Some("Bearer")), Just(Some("bearer")), Just(Some("BEARER"))],
        expires_in in prop::option::of(0u64..=u64::from(u32::MAX)),
        as_string in any::<bool>(),
        refresh_token in prop::option::of(".{0,40}"),
        scope in prop::option::of(".{0,40}"),
        id_token in prop::option::of(".{0,40}"),
    ) {
        let mut body = json!({"access_token": access_token});
        if let Some(kind) = token_type {
            body["token_type"] = json!(kind);
        }
        if let Some(secs) = expires_in {
            body["expires_in"] = if as_string { json!(secs.to_string()) } else { json!(secs) };
        }
        for (name, value) in [("refresh_token", &refresh_token), ("scope", &scope), ("id_token", &id_token)] {
            if let Some(value) = value {
                body[name] = json!(value);
            }
        }
        let raw = token_response(&info(), reply(200, body.to_string().as_bytes())).unwrap();
        prop_assert_eq!(&raw.access_token, &access_token);
        prop_assert_eq!(raw.expires_in.as_ref().and_then(seconds), expires_in);
        prop_assert_eq!(raw.refresh_token, refresh_token);
        prop_assert_eq!(raw.scope, scope);
        prop_assert_eq!(raw.id_token, id_token);
    }

    // Any other token type is refused, without the token in the
    // message
    // S36, S12
    #[test]
    fn other_token_types_are_refused(
        kind in ".{1,40}".prop_filter("not bearer", |k| !k.eq_ignore_ascii_case("bearer")),
        access_token in "canary-[a-z0-9]{10}",
    ) {
        let body = json!({"access_token": access_token, "token_type": kind, "expires_in": 60});
        let Err(error) = token_response(&info(), reply(200, body.to_string().as_bytes())) else {
            return Err(TestCaseError::fail(format!("token_type {kind:?} was accepted")));
        };
        prop_assert_eq!(error.kind(), crate::ErrorKind::Rejected);
        prop_assert!(!error.to_string().contains(&access_token));
    }

    // Any query parses or is refused, never a panic; distinct
    // parameters survive form encoding
    // S36, S3
    #[test]
    fn callback_queries_round_trip(
        raw in any::<String>(),
        pairs in prop::collection::btree_map(query_text(), query_text(), 0..8),
    ) {
        let _ = callback_params(&raw);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let params = callback_params(&query).unwrap();
        prop_assert_eq!(params.len(), pairs.len());
        for (key, value) in &pairs {
            prop_assert_eq!(param(&params, key), Some(value.as_str()));
        }
    }

    // S36, S3: a security parameter given twice makes the callback invalid
    #[test]
    fn repeated_security_parameters_are_refused(
        name in prop::sample::select(vec!["state", "code", "iss", "error"]),
        first in query_text(),
        second in query_text(),
    ) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(name, &first)
            .append_pair("other", "x")
            .append_pair(name, &second)
            .finish();
        prop_assert!(callback_params(&query).is_err());
    }

    // The loopback listener judges any request head without
    // panicking, and accepts the callback only with the exact state
    // S36, S3
    #[test]
    fn the_listener_judges_any_request(
        head in any::<String>(),
        state in "[A-Za-z0-9_-]{1,43}",
        sent in "[A-Za-z0-9_-]{0,43}",
        code in query_text(),
    ) {
        let expected = CsrfState::new(state.clone());
        let _ = judge(&head, &expected);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", &sent)
            .finish();
        let request = format!("GET /callback?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        match judge(&request, &expected) {
            Verdict::Callback(params) => {
                prop_assert_eq!(&sent, &state);
                prop_assert!(state_matches(&params, &expected));
                prop_assert_eq!(param(&params, "code"), Some(code.as_str()));
            }
            Verdict::Bad => prop_assert_ne!(&sent, &state),
            Verdict::NotFound => prop_assert!(false, "the path is /callback"),
        }
    }
}
