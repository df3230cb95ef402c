//! Property tests (S36) of the profiles file parser: any text, including
//! near-TOML and multi-byte text, is parsed or refused with a location
//! inside the file, never a panic. The write → parse round trip goes
//! through the public store (`tests/properties.rs`).

use std::path::Path;

use proptest::prelude::*;

use super::file::parse;
use crate::error::Error;

/// Lines that look like a profiles file, to get past the TOML syntax check
/// often enough to reach the profile rules.
fn near_toml() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "\\[profiles\\.[a-zé0-9\"._-]{0,8}\\]",
        Just("[profiles]".to_owned()),
        "provider = \"(oidc|microsoft|google|github|other|)\"",
        "issuer = \"[a-z:/.0-9é]{0,30}\"",
        "tenant = \"[a-z.é-]{0,12}\"",
        "client_id = \"[^\"\\\\\\p{Cc}]{0,12}\"",
        "scopes = \\[(\"[a-z. é]{0,6}\", ?){0,3}\\]",
        "login = \"(embedded|browser|device|client_credentials|x)\"",
        "refresh_margin = -?[0-9]{1,8}",
        "keep_fresh = (true|false|1)",
        "[a-z_]{1,10} = .{0,10}",
        ".{0,20}",
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // S36: the profiles parser takes any text; an error points inside it
    #[test]
    fn any_text_parses_or_is_located(text in prop_oneof![any::<String>(), near_toml()]) {
        match parse(Path::new("/c/profiles.toml"), &text) {
            Ok(profiles) => {
                for profile in profiles {
                    prop_assert!(!profile.name.is_empty());
                }
            }
            Err(Error::Config { location, .. }) => {
                let lines = text.split('\n').count();
                prop_assert!(location.line.is_some_and(|line| (1..=lines).contains(&line)));
                prop_assert!(location.column.is_some_and(|column| column >= 1));
            }
            Err(other) => prop_assert!(false, "not a config error: {other}"),
        }
    }
}
