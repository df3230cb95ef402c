//! `tokentray audit`: the agent's trail, filtered and printed (a table for
//! people, a JSON array with `--json`).

use crate::cli::AuditArgs;
use crate::output::{print_json, print_text};
use std::process::ExitCode;
use tokentray_core::audit::{self, Decision, Entry};
use tokentray_core::Result;

pub fn run(args: &AuditArgs) -> Result<ExitCode> {
    let path = audit::default_path()?;
    // an age beyond what a date can hold keeps everything
    let oldest = args.since.and_then(|age| {
        let age = chrono::TimeDelta::try_seconds(i64::try_from(age).ok()?)?;
        chrono::Utc::now().checked_sub_signed(age)
    });
    let entries: Vec<Entry> = audit::read(&path)?
        .into_iter()
        .filter(|e| args.profile.as_ref().is_none_or(|p| &e.profile == p))
        .filter(|e| oldest.is_none_or(|oldest| at(e).is_some_and(|t| t >= oldest)))
        .collect();
    if args.json {
        print_json(&entries)?;
    } else if entries.is_empty() {
        eprintln!("nothing in the audit trail ({})", path.display());
    } else {
        print_text(&entries.iter().map(line).collect::<String>())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn at(entry: &Entry) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(&entry.time)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// `2026-12-07T12:51:07Z  corp (alice)  token api.read  allowed by rule  by python3 sync.py ← bash  pid 42  [rule: /usr/bin/python3 /home/a/sync.py]`
fn line(entry: &Entry) -> String {
    let who = match &entry.account {
        Some(account) => format!("{} ({account})", entry.profile),
        None => entry.profile.clone(),
    };
    let action = match entry.decision {
        Decision::SignedOut => "sign-out",
        _ => entry.action.as_str(),
    };
    let what = if entry.scopes.is_empty() {
        action.to_string()
    } else {
        format!("{action} {}", entry.scopes.join(" "))
    };
    let decided = serde_json::to_value(entry.decision)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default();
    let mut program = entry.program.clone();
    for parent in entry.parents.iter().take(4) {
        program.push_str(" ← ");
        program.push_str(parent);
    }
    format!(
        "{}  {who}  {what}  {decided}  by {program}  pid {}  [{}]\n",
        entry.time, entry.pid, entry.rule
    )
}
