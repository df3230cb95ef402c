//! Who may take a profile's tokens, as the profile file says: its `access`
//! key. The decision itself (which rule a caller matches, asking the user)
//! is [`crate::access`]'s; this module owns the configuration, its rules
//! and how it is written back.
//!
//! ```toml
//! access = "any"        # every program of the user (the default for `tokentray profile add`)
//! access = "confirm"    # programs the user allowed; the others are asked about
//! access = [            # these programs, the others asked about as with "confirm"
//!   { program = "/usr/bin/python3", script = "/home/alice/sync.py" },
//!   { program = "/usr/local/bin/deploy", sha256 = "9f86d0…", until = "2026-12-08T02:00:00Z" },
//! ]
//! ```

use super::FieldError;
use crate::token::EpochSecs;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// Who may take a profile's tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Access {
    /// Every program of the user (still recorded in the audit trail);
    /// never a request that came through an SSH forward.
    #[default]
    Any,
    /// The programs these rules allow; any other is asked about (the tray
    /// app) or refused (the headless agent, the CLI without an agent).
    Confirm(Vec<Rule>),
}

impl Access {
    /// The rules, none for `any`.
    pub fn rules(&self) -> &[Rule] {
        match self {
            Access::Any => &[],
            Access::Confirm(rules) => rules,
        }
    }

    /// `any`, `confirm`, or `N rules`.
    pub fn summary(&self) -> String {
        match self {
            Access::Any => "any".into(),
            Access::Confirm(rules) if rules.is_empty() => "confirm".into(),
            Access::Confirm(rules) => format!("confirm, {} rule(s)", rules.len()),
        }
    }
}

/// One program a profile's tokens may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The executable's real path.
    pub program: PathBuf,
    /// The executable's SHA-256 (lowercase hex): a replaced binary no
    /// longer matches.
    pub sha256: Option<String>,
    /// For an interpreter, the script it must run.
    pub script: Option<PathBuf>,
    /// For a request through an SSH forward, the connection it must come
    /// through (`alice@build-box`).
    pub ssh: Option<String>,
    /// Until when the rule holds (epoch seconds); `None` is always.
    pub until: Option<EpochSecs>,
}

impl Rule {
    /// Whether the rule still holds at `now`.
    pub fn holds_at(&self, now: EpochSecs) -> bool {
        self.until.is_none_or(|until| now < until)
    }

    /// `python3 /home/a/sync.py`, `/usr/bin/ssh (ssh alice@box)`, with
    /// its expiry.
    pub fn describe(&self) -> String {
        let mut text = self.program.display().to_string();
        if let Some(script) = &self.script {
            text = format!("{text} {}", script.display());
        }
        if let Some(ssh) = &self.ssh {
            text = format!("{text} (ssh {ssh})");
        }
        if let Some(until) = self.until {
            text = format!("{text}, until {}", rfc3339(until));
        }
        text
    }
}

/// The `access` key as written, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessField {
    /// `"any"` or `"confirm"` (anything else is refused by validation).
    Mode(String),
    /// A list of rules.
    Rules(Vec<RuleFields>),
}

/// One rule as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFields {
    /// Absolute path of the executable.
    pub program: String,
    /// SHA-256 of the executable, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Absolute path of the script, for interpreters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// SSH connection (`user@host`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
    /// RFC 3339 time the rule ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl<'de> Deserialize<'de> for AccessField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Field;
        impl<'de> Visitor<'de> for Field {
            type Value = AccessField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"any\", \"confirm\" or a list of rules")
            }
            fn visit_str<E: de::Error>(self, mode: &str) -> Result<AccessField, E> {
                Ok(AccessField::Mode(mode.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AccessField, A::Error> {
                let mut rules = Vec::new();
                while let Some(rule) = seq.next_element()? {
                    rules.push(rule);
                }
                Ok(AccessField::Rules(rules))
            }
        }
        deserializer.deserialize_any(Field)
    }
}

/// Written as in the file: `"any"`, `"confirm"` or the list of rules.
impl Serialize for Access {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match AccessField::from(self) {
            AccessField::Mode(mode) => serializer.serialize_str(&mode),
            AccessField::Rules(rules) => rules.serialize(serializer),
        }
    }
}

impl From<&Access> for AccessField {
    fn from(access: &Access) -> Self {
        match access {
            Access::Any => AccessField::Mode("any".into()),
            Access::Confirm(rules) if rules.is_empty() => AccessField::Mode("confirm".into()),
            Access::Confirm(rules) => AccessField::Rules(
                rules
                    .iter()
                    .map(|rule| RuleFields {
                        program: rule.program.display().to_string(),
                        sha256: rule.sha256.clone(),
                        script: rule.script.as_ref().map(|s| s.display().to_string()),
                        ssh: rule.ssh.clone(),
                        until: rule.until.map(rfc3339),
                    })
                    .collect(),
            ),
        }
    }
}

impl TryFrom<AccessField> for Access {
    type Error = FieldError;

    /// Checks the `access` key.
    fn try_from(field: AccessField) -> Result<Access, FieldError> {
        check_access(field)
    }
}

fn check_access(field: AccessField) -> Result<Access, FieldError> {
    let bad = |message: String| FieldError::new("access", message);
    match field {
        AccessField::Mode(mode) => match mode.as_str() {
            "any" => Ok(Access::Any),
            "confirm" => Ok(Access::Confirm(Vec::new())),
            other => Err(bad(format!(
                "unknown access {other:?}: use \"any\", \"confirm\" or a list of rules ({{ program = \"/usr/bin/python3\" }})"
            ))),
        },
        AccessField::Rules(rules) => rules
            .into_iter()
            .map(|rule| check_rule(rule).map_err(bad))
            .collect::<Result<_, _>>()
            .map(Access::Confirm),
    }
}

fn check_rule(rule: RuleFields) -> Result<Rule, String> {
    let absolute = |what: &str, path: &str| {
        let path = Path::new(path);
        if path.is_absolute() && !path.as_os_str().is_empty() {
            Ok(path.to_path_buf())
        } else {
            Err(format!(
                "the rule's {what} must be an absolute path, not {:?}",
                path.display().to_string()
            ))
        }
    };
    let program = absolute("program", &rule.program)?;
    let script = rule
        .script
        .as_deref()
        .map(|s| absolute("script", s))
        .transpose()?;
    let sha256 = match rule.sha256 {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(hash.to_ascii_lowercase())
        }
        Some(hash) => {
            return Err(format!(
                "the rule's sha256 must be 64 hex digits (`sha256sum {}`), not {hash:?}",
                program.display()
            ))
        }
        None => None,
    };
    let ssh = match rule.ssh {
        Some(destination)
            if !destination.is_empty()
                && destination
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') =>
        {
            Some(destination)
        }
        Some(destination) => {
            return Err(format!(
                "the rule's ssh must name a connection as user@host, not {destination:?}"
            ))
        }
        None => None,
    };
    let until = rule
        .until
        .map(|until| {
            chrono::DateTime::parse_from_rfc3339(&until)
                .map(|t| t.timestamp())
                .map_err(|e| {
                    format!("the rule's until must be an RFC 3339 time (2026-12-08T02:00:00Z), not {until:?}: {e}")
                })
        })
        .transpose()?;
    Ok(Rule {
        program,
        sha256,
        script,
        ssh,
        until,
    })
}

/// The `access` key as a TOML value; `None` for the default (`any`), which
/// is left out of the file.
pub(super) fn access_item(access: &Access) -> Option<toml_edit::Item> {
    match AccessField::from(access) {
        AccessField::Mode(mode) if mode == "any" => None,
        AccessField::Mode(mode) => Some(toml_edit::value(mode)),
        AccessField::Rules(rules) => {
            let mut array = toml_edit::Array::new();
            for rule in rules {
                let mut table = toml_edit::InlineTable::new();
                table.insert("program", rule.program.into());
                for (key, value) in [
                    ("script", rule.script),
                    ("ssh", rule.ssh),
                    ("sha256", rule.sha256),
                    ("until", rule.until),
                ] {
                    if let Some(value) = value {
                        table.insert(key, value.into());
                    }
                }
                let mut value = toml_edit::Value::InlineTable(table);
                value.decor_mut().set_prefix("\n  ");
                array.push_formatted(value);
            }
            array.set_trailing("\n");
            array.set_trailing_comma(true);
            Some(toml_edit::value(array))
        }
    }
}

fn rfc3339(secs: EpochSecs) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(program: &str) -> RuleFields {
        RuleFields {
            program: program.into(),
            ..Default::default()
        }
    }

    #[test]
    fn modes_and_rules_are_checked() {
        assert_eq!(
            check_access(AccessField::Mode("any".into())),
            Ok(Access::Any)
        );
        assert_eq!(
            check_access(AccessField::Mode("confirm".into())),
            Ok(Access::Confirm(vec![]))
        );
        let error = check_access(AccessField::Mode("ask".into())).unwrap_err();
        assert_eq!(error.field, "access");
        assert!(
            error.message.contains("unknown access \"ask\""),
            "{error:?}"
        );

        let mut full = rule("/usr/bin/python3");
        full.script = Some("/home/a/sync.py".into());
        full.sha256 = Some("AB".repeat(32));
        full.until = Some("2026-12-08T02:00:00Z".into());
        let Access::Confirm(rules) = check_access(AccessField::Rules(vec![full])).unwrap() else {
            panic!("a list is confirm");
        };
        assert_eq!(rules[0].sha256.as_deref(), Some(&*"ab".repeat(32)));
        assert_eq!(rules[0].until, Some(1_796_695_200));
        assert!(rules[0].holds_at(1_796_695_199));
        assert!(!rules[0].holds_at(1_796_695_200));

        for (bad, why) in [
            (rule("python3"), "absolute path"),
            (
                RuleFields {
                    sha256: Some("abc".into()),
                    ..rule("/bin/x")
                },
                "64 hex digits",
            ),
            (
                RuleFields {
                    until: Some("tomorrow".into()),
                    ..rule("/bin/x")
                },
                "RFC 3339",
            ),
            (
                RuleFields {
                    ssh: Some("a b".into()),
                    ..rule("/usr/bin/ssh")
                },
                "user@host",
            ),
        ] {
            let error = check_access(AccessField::Rules(vec![bad])).unwrap_err();
            assert!(error.message.contains(why), "{why}: {error:?}");
        }
    }

    #[test]
    fn access_is_written_as_it_is_read() {
        let access = Access::Confirm(vec![
            Rule {
                program: "/usr/bin/python3".into(),
                sha256: Some("0".repeat(64)),
                script: Some("/home/a/sync.py".into()),
                ssh: None,
                until: Some(1_796_695_200),
            },
            Rule {
                program: "/usr/bin/ssh".into(),
                sha256: None,
                script: None,
                ssh: Some("alice@box".into()),
                until: None,
            },
        ]);
        assert!(access_item(&Access::Any).is_none());
        for access in [Access::Confirm(vec![]), access] {
            let text = format!("access = {}\n", access_item(&access).unwrap());
            #[derive(Deserialize)]
            struct Doc {
                access: AccessField,
            }
            let doc: Doc = toml::from_str(&text).unwrap();
            assert_eq!(check_access(doc.access), Ok(access), "{text}");
        }
    }
}
