//! What a request asks of the access policy ([`Request`], [`Ask`]) and
//! what was decided ([`Verdict`], [`Refused`], [`Outcome`], the audit
//! trail's line).

use crate::audit::{Decision, Entry};
use crate::caller::Caller;
use crate::error::Error;
use crate::profile::Profile;

/// What a program asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A token.
    Token,
    /// Signing the profile's account out.
    SignOut,
}

impl Action {
    /// `token` or `sign-out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Token => "token",
            Action::SignOut => "sign-out",
        }
    }
}

/// What decided a request, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// The rule or answer behind it, in words.
    pub rule: String,
}

impl Verdict {
    /// `access = any` allowed it.
    pub fn open() -> Self {
        Self::new(Decision::Allowed, "access = any")
    }

    pub(super) fn new(decision: Decision, rule: impl Into<String>) -> Self {
        Self {
            decision,
            rule: rule.into(),
        }
    }
}

/// A request decided, for the audit trail.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The profile.
    pub profile: String,
    /// The account's label.
    pub account: Option<String>,
    /// The scopes of the token handed out, or asked for.
    pub scopes: Vec<String>,
    /// What was asked.
    pub action: Action,
    /// What decided it.
    pub verdict: Verdict,
}

impl Outcome {
    /// The audit trail's line for it, about `caller`; `transport`, when
    /// given, names how it came instead of this platform's agent endpoint.
    pub fn entry(self, caller: &Caller, transport: Option<&str>) -> Entry {
        let decision = match (self.action, self.verdict.decision) {
            (Action::SignOut, Decision::Allowed) => Decision::SignedOut,
            (_, decision) => decision,
        };
        let mut entry = Entry::new(caller, &self.profile, decision);
        entry.account = self.account;
        entry.scopes = self.scopes;
        entry.action = self.action.as_str().into();
        entry.rule = self.verdict.rule;
        if let Some(transport) = transport {
            entry.transport = transport.into();
        }
        entry
    }
}

impl Verdict {
    /// The verdict of a forced refresh asked within the profile's
    /// `force_refresh_interval`, which got the last refresh's token.
    pub fn rate_limited(self, profile: &Profile) -> Verdict {
        Verdict {
            decision: Decision::RateLimited,
            rule: format!(
                "{}; force_refresh_interval = {} s: served the last refresh's token",
                self.rule, profile.force_refresh_interval_secs
            ),
        }
    }
}

/// A refused request: the verdict to record and the error to answer.
#[derive(Debug)]
pub struct Refused {
    /// What to record.
    pub verdict: Verdict,
    /// What the caller is told.
    pub error: Error,
}

/// One request, as [`Gate::decide`] sees it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// What for.
    pub action: Action,
    /// The scopes the request named, if it named any.
    pub asked: Option<&'a [String]>,
    /// The scopes it gets (the profile's when it named none).
    pub scopes: &'a [String],
    /// The account's label, when one is signed in.
    pub account: Option<String>,
}

/// What one request asks, for the decision.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The account's label, when one is signed in.
    pub account: Option<String>,
    /// Who asks.
    pub caller: &'a Caller,
    /// What for.
    pub action: Action,
    /// The scopes asked for (the profile's when the request named none).
    pub scopes: &'a [String],
}
