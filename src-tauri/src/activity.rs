//! The accounts window's Activity view: who took which token (the audit
//! trail, newest first) and who may (each profile's access and rules,
//! with a Revoke per rule). Read from the core's files; no token in any
//! of it (S32).

use serde::{Deserialize, Serialize};
#[cfg(test)]
use ts_rs::TS;

use tokentray_core::audit::{self, Entry};
use tokentray_core::clock_words;
use tokentray_core::profile::{Access, ProfileStore, Rule};
use tokentray_core::token::EpochSecs;

/// How many of the trail's entries the view shows.
const SHOWN: usize = 200;

/// The Activity view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    /// Each profile's access.
    pub access: Vec<ProfileAccess>,
    /// The trail's latest entries, newest first.
    pub entries: Vec<ActivityRow>,
    /// The trail's file.
    pub file: String,
}

/// Who may take a profile's tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfileAccess {
    pub profile: String,
    /// "Any program of yours", or "Programs you allowed".
    pub summary: String,
    pub rules: Vec<RuleRow>,
}

/// One rule, and what names it for a revoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct RuleRow {
    pub program: String,
    pub script: Option<String>,
    pub ssh: Option<String>,
    /// `python3 /home/a/sync.py, until …`, the binary's hash abbreviated.
    pub text: String,
    pub expired: bool,
}

/// One decision of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ActivityRow {
    pub time: String,
    pub profile: String,
    pub account: Option<String>,
    /// `token api.read`, `sign-out`.
    pub what: String,
    /// `allowed by rule`, `denied`, …
    pub decision: String,
    pub served: bool,
    /// The program, then its parents: `python3 /home/a/sync.py ← bash`.
    pub program: String,
    pub rule: String,
}

/// The view, from the profiles file and the trail.
pub fn view(
    profiles: &ProfileStore,
    now: EpochSecs,
) -> Result<ActivityView, tokentray_core::Error> {
    let path = audit::default_path()?;
    let mut entries = audit::read(&path)?;
    entries.reverse();
    entries.truncate(SHOWN);
    let access = profiles
        .load()?
        .into_iter()
        .map(|profile| ProfileAccess {
            summary: match &profile.access {
                Access::Any => "Any program of yours".into(),
                Access::Confirm(_) => "Programs you allowed (others are asked about)".into(),
            },
            rules: profile
                .access
                .rules()
                .iter()
                .map(|r| rule_row(r, now))
                .collect(),
            profile: profile.name,
        })
        .collect();
    Ok(ActivityView {
        access,
        entries: entries.into_iter().map(row).collect(),
        file: path.display().to_string(),
    })
}

/// Removes the profile's rule that `rule` names (the same program, script
/// and SSH connection).
pub fn revoke(
    profiles: &ProfileStore,
    profile: &str,
    rule: &RuleRow,
) -> Result<(), tokentray_core::Error> {
    profiles.change_access(profile, |access| {
        let kept = access
            .rules()
            .iter()
            .filter(|r| !names(rule, r))
            .cloned()
            .collect();
        Ok(match access {
            Access::Any => Access::Any,
            Access::Confirm(_) => Access::Confirm(kept),
        })
    })?;
    tracing::info!(%profile, program = %rule.program, "rule revoked from the accounts window");
    Ok(())
}

fn names(row: &RuleRow, rule: &Rule) -> bool {
    row.program == rule.program.display().to_string()
        && row.script == rule.script.as_ref().map(|s| s.display().to_string())
        && row.ssh == rule.ssh
}

fn rule_row(rule: &Rule, now: EpochSecs) -> RuleRow {
    let mut text = rule.describe();
    if let Some(until) = rule.until {
        text = format!("{text} ({})", clock_words::relative(now, until));
    }
    text.push_str(&match &rule.sha256 {
        Some(hash) => format!(" · sha256 {}…", hash.get(..12).unwrap_or(hash)),
        None => " · any version".into(),
    });
    RuleRow {
        program: rule.program.display().to_string(),
        script: rule.script.as_ref().map(|s| s.display().to_string()),
        ssh: rule.ssh.clone(),
        text,
        expired: !rule.holds_at(now),
    }
}

fn row(entry: Entry) -> ActivityRow {
    let what = if entry.scopes.is_empty() {
        entry.action.clone()
    } else {
        format!("{} {}", entry.action, entry.scopes.join(" "))
    };
    let mut program = entry.program;
    for parent in entry.parents.iter().take(4) {
        program.push_str(" ← ");
        program.push_str(parent);
    }
    ActivityRow {
        time: entry.time,
        profile: entry.profile,
        account: entry.account,
        what,
        decision: serde_json::to_value(entry.decision)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default(),
        served: entry.decision.served(),
        program,
        rule: entry.rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentray_core::profile::FILE_NAME;

    #[test]
    fn rules_are_listed_and_revoked_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join(FILE_NAME));
        std::fs::write(
            store.path(),
            "[profiles.corp]\nprovider = \"github\"\nclient_id = \"c\"\naccess = [\n  { program = \"/usr/bin/python3\", script = \"/home/a/sync.py\", sha256 = \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\" },\n  { program = \"/usr/bin/python3\", until = \"2026-01-01T00:00:00Z\" },\n]\n",
        )
        .unwrap();
        let now = 1_790_000_000;
        let rows: Vec<RuleRow> = store
            .get("corp")
            .unwrap()
            .access
            .rules()
            .iter()
            .map(|r| rule_row(r, now))
            .collect();
        assert_eq!(
            rows[0].text,
            "/usr/bin/python3 /home/a/sync.py · sha256 001122334455…"
        );
        assert!(!rows[0].expired);
        assert!(rows[1].expired);
        assert!(rows[1].text.contains("any version"), "{}", rows[1].text);
        revoke(&store, "corp", &rows[0]).unwrap();
        let left = store.get("corp").unwrap().access;
        assert_eq!(left.rules().len(), 1);
        assert_eq!(left.rules()[0].script, None);
    }
}
