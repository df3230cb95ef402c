//! Who may take which token: the one decision every program's request
//! passes, wherever it arrives (the agent's socket or pipe, an SSH
//! forward, the CLI reading the vault when no agent runs). The tray's own
//! menu is the user's hand and does not pass here.
//!
//! In order:
//! 1. the scopes asked for must be the profile's `scopes` or its
//!    `extra_scopes` ([`Gate::check_scopes`]);
//! 2. a profile with `access = "any"` serves every program of the user,
//!    except a request that came through an SSH forward ([`Gate::open`]);
//! 3. else a rule of the profile must name the requesting program
//!    ([`crate::caller`]: its real executable, its script for an
//!    interpreter, its SHA-256 when the rule has one, the SSH connection
//!    for a forwarded request);
//! 4. else the face asks the user ([`Consent`]): one question per program
//!    at a time (requests of the same program wait for the same answer),
//!    "Deny" after [`consent::TIMEOUT`]; "Allow for 8 hours" and "Always"
//!    become rules in the profile file (with the binary's SHA-256), so a
//!    replaced binary is asked about again. Without a face to ask, the
//!    program is refused with the command that allows it.
//!
//! The server records every [`Verdict`] in the audit trail.

pub mod consent;
mod decision;
pub mod fingerprint;
#[cfg(test)]
mod tests;

pub use consent::{Answer, Consent, NoConsent, Question};
pub use decision::{Action, Ask, Outcome, Refused, Request, Verdict};
pub use fingerprint::Fingerprints;

use crate::audit::Decision;
use crate::caller::{Caller, Process};
use crate::error::Error;
use crate::profile::{Access, Profile, ProfileStore, Rule};
use crate::token::now;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The decision, with what it needs to remember: the hashes of
/// executables, the questions being asked.
pub struct Gate {
    profiles: ProfileStore,
    consent: Arc<dyn Consent>,
    fingerprints: Fingerprints,
    asking: Mutex<HashMap<String, Arc<OnceCell<Answer>>>>,
}

impl Gate {
    /// A gate that writes remembered rules to `profiles` and asks through
    /// `consent`.
    pub fn new(profiles: ProfileStore, consent: Arc<dyn Consent>) -> Self {
        Self {
            profiles,
            consent,
            fingerprints: Fingerprints::new(),
            asking: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `profile` serves the peer without looking at it further:
    /// `access = "any"`, and the request did not come through an SSH
    /// forward.
    pub fn open(profile: &Profile, forwarded: bool) -> bool {
        matches!(profile.access, Access::Any) && !forwarded
    }

    /// Refuses a scope outside the profile's `scopes` and `extra_scopes`
    /// (`openid` and `offline_access`, which open no API, always pass).
    pub fn check_scopes(profile: &Profile, asked: Option<&[String]>) -> Result<(), Refused> {
        let allowed = |scope: &str| {
            matches!(scope, "openid" | "offline_access")
                || profile
                    .scopes
                    .iter()
                    .chain(&profile.extra_scopes)
                    .flat_map(|s| s.split_whitespace())
                    .any(|s| s == scope)
        };
        let Some(outside) = asked
            .into_iter()
            .flatten()
            .flat_map(|s| s.split_whitespace())
            .find(|s| !allowed(s))
        else {
            return Ok(());
        };
        let rule = format!("scope `{outside}` is not one of the profile's");
        Err(Refused {
            error: Error::Denied {
                profile: profile.name.clone(),
                reason: format!(
                    "{rule} (scopes = [{}], extra_scopes = [{}]); add it to `extra_scopes` in the profile to let programs ask for it",
                    quoted(&profile.scopes),
                    quoted(&profile.extra_scopes)
                ),
            },
            verdict: Verdict::new(Decision::ScopeRefused, rule),
        })
    }

    /// The whole decision for one request: the scopes, then the profile's
    /// access for the caller (read by `caller` only when the profile is
    /// not [`Gate::open`] to it; `None` when the OS does not tell).
    pub async fn decide(
        &self,
        request: Request<'_>,
        forwarded: bool,
        caller: impl FnOnce() -> Option<Caller>,
    ) -> Result<Verdict, Refused> {
        let profile = request.profile;
        Gate::check_scopes(profile, request.asked)?;
        if Gate::open(profile, forwarded) {
            return Ok(Verdict::open());
        }
        let Some(caller) = caller() else {
            return Err(Refused {
                verdict: Verdict::new(Decision::Denied, "the requesting program is unknown"),
                error: Error::Denied {
                    profile: profile.name.clone(),
                    reason: "the OS does not say which program is asking, and the profile allows only programs its rules name".into(),
                },
            });
        };
        self.admit(&Ask {
            profile,
            account: request.account,
            caller: &caller,
            action: request.action,
            scopes: request.scopes,
        })
        .await
    }

    /// Decides whether `ask.caller` may have what it asks of a profile
    /// that is not [`Gate::open`] to it, asking the user when no rule says.
    pub async fn admit(&self, ask: &Ask<'_>) -> Result<Verdict, Refused> {
        let program = ask.caller.program();
        let ssh = forwarded(ask.caller);
        let hash = std::sync::OnceLock::new();
        let hash_of = || hash.get_or_init(|| self.fingerprints.of(program)).clone();
        let at = now();
        if let Some(rule) = ask.profile.access.rules().iter().find(|rule| {
            rule.holds_at(at) && matches(rule, program, ssh.as_deref()) && {
                rule.sha256.is_none() || rule.sha256 == hash_of()
            }
        }) {
            return Ok(Verdict::new(
                Decision::AllowedByRule,
                format!("rule: {}", rule.describe()),
            ));
        }
        let question = Question {
            profile: ask.profile.name.clone(),
            account: ask.account.clone(),
            scopes: ask.scopes.to_vec(),
            action: ask.action.as_str(),
            name: crate::caller::requester::program_kind(program),
            path: program.exe.as_ref().map(|p| p.display().to_string()),
            // an ssh client's "script" is its destination, named by `ssh`
            script: script_of(program, ssh.is_some()),
            ssh: ssh.clone(),
            parents: ask.caller.parent_names(),
            pid: program.pid,
        };
        let answer = self.answer(&question, hash_of).await;
        let shown = program.display_name();
        let refused = |decision, rule: &str, reason: String| Refused {
            verdict: Verdict::new(decision, rule),
            error: Error::Denied {
                profile: ask.profile.name.clone(),
                reason,
            },
        };
        match answer {
            Answer::Once => Ok(Verdict::new(
                Decision::AllowedByUser,
                "allowed once by the user",
            )),
            Answer::ForHours => Ok(Verdict::new(
                Decision::AllowedByUser,
                "allowed by the user for 8 hours",
            )),
            Answer::Always => Ok(Verdict::new(
                Decision::AllowedByUser,
                "always allowed by the user",
            )),
            Answer::Deny => Err(refused(
                Decision::Denied,
                "denied by the user",
                format!("the user denied `{shown}` its tokens"),
            )),
            Answer::TimedOut => Err(refused(
                Decision::TimedOut,
                "nobody answered",
                format!(
                    "nobody answered within {} s whether `{shown}` may take its tokens",
                    consent::TIMEOUT.as_secs()
                ),
            )),
            Answer::Unasked => Err(refused(
                Decision::Denied,
                "no rule names this program, and nobody could be asked",
                unknown_program(ask.profile, program, ssh.as_deref()),
            )),
        }
    }

    /// The user's answer to `question`, asked once however many requests
    /// of the same program wait for it; a rule it makes is stored before
    /// anyone is served.
    async fn answer(&self, question: &Question, hash: impl FnOnce() -> Option<String>) -> Answer {
        let key = format!(
            "{}\n{:?}\n{:?}\n{:?}",
            question.profile, question.path, question.script, question.ssh
        );
        let cell = {
            let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(asking.entry(key.clone()).or_default())
        };
        let answer =
            *cell
                .get_or_init(|| async {
                    let answer =
                        match tokio::time::timeout(consent::TIMEOUT, self.consent.ask(question))
                            .await
                        {
                            Ok(answer) => answer,
                            Err(_) => Answer::TimedOut,
                        };
                    self.remember(question, answer, hash())
                })
                .await;
        let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        if asking.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            asking.remove(&key);
        }
        answer
    }

    /// Stores the rule an answer makes; when it cannot be stored (the
    /// program's path is unknown, the profile is `any`, the file refuses),
    /// the answer serves this request only.
    fn remember(&self, question: &Question, answer: Answer, sha256: Option<String>) -> Answer {
        let until = match answer {
            Answer::ForHours => {
                Some(now() + i64::try_from(consent::FOR_HOURS.as_secs()).unwrap_or(0))
            }
            Answer::Always => None,
            other => return other,
        };
        let Some(path) = &question.path else {
            return Answer::Once;
        };
        let rule = Rule {
            program: path.into(),
            sha256,
            script: question.script.as_ref().map(Into::into),
            ssh: question.ssh.clone(),
            until,
        };
        let stored = self
            .profiles
            .change_access(&question.profile, |access| match access {
                Access::Any => Err(Error::InvalidInput("the profile allows any program".into())),
                Access::Confirm(rules) => Ok(Access::Confirm(with_rule(rules, rule))),
            });
        match stored {
            Ok(_) => answer,
            Err(error) => {
                tracing::warn!(profile = %question.profile, %error, "the user's answer serves this request only");
                Answer::Once
            }
        }
    }
}

/// `rules` with `rule` added, replacing one for the same program (and
/// dropping rules that no longer hold).
pub fn with_rule(rules: &[Rule], rule: Rule) -> Vec<Rule> {
    let at = now();
    let mut rules: Vec<Rule> = rules
        .iter()
        .filter(|r| r.holds_at(at))
        .filter(|r| (&r.program, &r.script, &r.ssh) != (&rule.program, &rule.script, &rule.ssh))
        .cloned()
        .collect();
    rules.push(rule);
    rules
}

/// Whether `rule` names `program` (its hash aside).
fn matches(rule: &Rule, program: &Process, ssh: Option<&str>) -> bool {
    let script = script_of(program, ssh.is_some());
    program.exe.as_deref() == Some(rule.program.as_path())
        && rule
            .script
            .as_ref()
            .is_none_or(|wanted| script.as_deref() == Some(wanted.display().to_string().as_str()))
        && rule.ssh.as_deref() == ssh
}

/// The script a program runs; none for an ssh client, whose `script` is
/// the destination it connects to.
fn script_of(program: &Process, forwarded: bool) -> Option<String> {
    (!forwarded)
        .then(|| program.script.as_ref().map(|p| p.display().to_string()))
        .flatten()
}

/// The SSH connection a request came through, when it did.
fn forwarded(caller: &Caller) -> Option<String> {
    caller.forwarded().map(ToString::to_string)
}

/// Why an unknown program is refused, and how to allow it.
fn unknown_program(profile: &Profile, program: &Process, ssh: Option<&str>) -> String {
    let Some(exe) = &program.exe else {
        return format!(
            "the requesting program (pid {}) cannot be identified, and access = \"confirm\" allows only programs its rules name",
            program.pid
        );
    };
    let mut allow = format!(
        "tokentray access allow {} --program {}",
        profile.name,
        exe.display()
    );
    if let Some(script) = script_of(program, ssh.is_some()) {
        allow.push_str(&format!(" --script {script}"));
    }
    if let Some(ssh) = ssh {
        allow.push_str(&format!(" --ssh {ssh}"));
    }
    let first = match (&profile.access, ssh) {
        (Access::Any, Some(_)) => format!(
            "requests through an SSH forward need a rule, even where any local program may take tokens (access = \"any\"). Allow this connection with `tokentray access set {} confirm` and then `{allow}`",
            profile.name
        ),
        _ => format!(
            "the profile allows only the programs its rules name (access = \"confirm\"), and no tray app runs to ask you. Allow it with `{allow}`"
        ),
    };
    format!(
        "`{}` may not take its tokens: {first}, or start the tray app to be asked",
        program.display_name()
    )
}

fn quoted(scopes: &[String]) -> String {
    scopes
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
