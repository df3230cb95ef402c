//! What the server does with each request: the profile's access policy
//! first ([`crate::access`]), then the broker, and the audit trail's line
//! once the answer is sent.

use super::{Shared, MAX_SEEN};
use crate::access::{Action, Outcome, Request as Asked, Verdict};
use crate::audit::{Decision, Entry};
use crate::broker::{Event, Grants, TokenRequest};
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::ipc::protocol::{self, ErrorReply, Request, Response, TokenParams};
use crate::profile::Profile;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The process at the other end of a connection, for the log: its own
/// entry read when its first token or sign-out request arrives (it is
/// alive then, waiting), its parents and the log line after it has its
/// answer, off the hot path.
pub(super) struct Peer {
    pid: Option<u32>,
    read: Option<crate::caller::PeerProcess>,
    caller: Option<Caller>,
    /// What to record once the answer is sent.
    served: Option<Outcome>,
}

impl Peer {
    pub(super) fn new(pid: Option<u32>) -> Self {
        Self {
            pid,
            read: None,
            caller: None,
            served: None,
        }
    }

    /// Whether the peer is an ssh client carrying a forwarded request.
    fn is_forward(&self) -> bool {
        self.read.as_ref().is_some_and(|p| p.is_forward())
            || self
                .caller
                .as_ref()
                .is_some_and(|c| c.forwarded().is_some())
    }

    /// Reads the peer's own process, once.
    fn note_peer(&mut self) {
        if self.read.is_none() && self.caller.is_none() {
            self.read = self.pid.map(crate::caller::PeerProcess::read);
        }
    }

    /// Who the peer is (see [`crate::caller`]), read once; `None` when
    /// the OS did not give its pid.
    fn caller(&mut self) -> Option<&Caller> {
        if let Some(peer) = self.read.take() {
            self.caller = Some(Caller::above(peer));
        }
        self.caller.as_ref()
    }
}

impl<G: Grants> Shared<G> {
    pub(super) async fn handle(&self, request: Request, peer: &mut Peer) -> Response {
        let outcome = match request {
            Request::Ping {} => Ok(Response::Pong(protocol::Pong {
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
            })),
            Request::Token(params) => {
                peer.note_peer();
                self.token(params, peer).await
            }
            Request::Status {} => crate::status::collect(&self.broker).map(Response::Status),
            Request::Login { profile, mode } => tokio::select! {
                done = self.login.login(&profile, mode) => done.map(|()| Response::Ok {}),
                _ = self.stop.cancelled() => Err(Error::Cancelled {
                    reason: "the agent is shutting down".into(),
                }),
            },
            Request::Logout { profile } => {
                peer.note_peer();
                self.sign_out(profile, peer).await
            }
        };
        outcome.unwrap_or_else(|error| Response::Error(ErrorReply::from(&error)))
    }

    /// A token for a program, when the profile's policy allows it.
    async fn token(&self, params: TokenParams, peer: &mut Peer) -> Result<Response> {
        let profile = self.broker.profiles().get(&params.profile)?;
        let request = TokenRequest::from(params).for_program(&profile);
        let scopes = request.scopes_of(&profile);
        let verdict = self
            .decide(
                &profile,
                Action::Token,
                request.scopes.as_deref(),
                &scopes,
                peer,
            )
            .await?;
        let what = format!("the token request for profile `{}`", profile.name);
        let slot = self.slot(&profile.name)?;
        let broker = self.broker.clone();
        let served = self
            .detached(what, async move {
                let _slot = slot;
                broker.token(&request).await
            })
            .await?;
        let verdict = if served.rate_limited {
            verdict.rate_limited(&profile)
        } else {
            verdict
        };
        peer.served = Some(Outcome {
            profile: served.profile.clone(),
            account: served.account.as_ref().map(|a| a.label.clone()),
            scopes: served.token.scopes.clone(),
            action: Action::Token,
            verdict,
        });
        Ok(Response::Token(served.into()))
    }

    /// Signs a profile's account out, when the profile's policy allows the
    /// program to.
    async fn sign_out(&self, name: String, peer: &mut Peer) -> Result<Response> {
        let profile = self.broker.profiles().get(&name)?;
        let verdict = self
            .decide(&profile, Action::SignOut, None, &[], peer)
            .await?;
        if let Some(caller) = peer.caller() {
            tracing::info!(profile = %name, %caller, "agent: signing out, as asked");
        }
        let broker = self.broker.clone();
        let what = format!("signing out of profile `{name}`");
        let account = self.account_label(&name);
        self.detached(what, async move { broker.sign_out(&name).await })
            .await?;
        peer.served = Some(Outcome {
            profile: profile.name,
            account,
            scopes: Vec::new(),
            action: Action::SignOut,
            verdict,
        });
        Ok(Response::Ok {})
    }

    /// The profile's policy for this peer ([`crate::access`]); a refusal is
    /// recorded at once.
    async fn decide(
        &self,
        profile: &Profile,
        action: Action,
        asked: Option<&[String]>,
        scopes: &[String],
        peer: &mut Peer,
    ) -> Result<Verdict> {
        let request = Asked {
            profile,
            action,
            asked,
            scopes,
            account: self.account_label(&profile.name),
        };
        let forwarded = peer.is_forward();
        let refused = match self
            .gate
            .decide(request, forwarded, || peer.caller().cloned())
            .await
        {
            Ok(verdict) => return Ok(verdict),
            Err(refused) => refused,
        };
        if let Some(caller) = peer.caller() {
            tracing::info!(profile = %profile.name, %caller, rule = %refused.verdict.rule, "agent: refused");
            let outcome = Outcome {
                profile: profile.name.clone(),
                account: self.account_label(&profile.name),
                scopes: scopes.to_vec(),
                action,
                verdict: refused.verdict,
            };
            self.audit(&outcome.entry(caller, None));
        }
        Err(refused.error)
    }

    /// The label of the profile's account, when one is signed in.
    fn account_label(&self, profile: &str) -> Option<String> {
        self.broker.account_label(profile)
    }

    /// Records what the peer was served, once its answer is sent.
    pub(super) fn after_answer(&self, peer: &mut Peer) {
        if let Some(record) = peer.served.take() {
            if let Some(caller) = peer.caller() {
                self.log_served(caller, record);
            }
        }
    }

    /// Logs who took a token: at `info` the first time a program takes
    /// one of a profile while this agent runs, at `debug` afterwards (so a
    /// script asking every second does not grow the log); records it in
    /// the audit trail.
    fn log_served(&self, caller: &Caller, record: Outcome) {
        let first = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let program = caller.program().display_name();
            seen.len() < MAX_SEEN && seen.insert((record.profile.clone(), program))
        };
        if first {
            tracing::info!(profile = %record.profile, %caller, "agent: a program took its first token of this profile");
            if record.action == Action::Token && record.verdict.decision == Decision::Allowed {
                self.broker.announce(Event::NewProgram {
                    profile: record.profile.clone(),
                    program: caller.to_string(),
                });
            }
        } else {
            tracing::debug!(profile = %record.profile, %caller, "agent: served a token");
        }
        self.audit(&record.entry(caller, None));
    }

    /// Appends to the audit trail, when this server keeps one.
    fn audit(&self, entry: &Entry) {
        if let Some(audit) = &self.audit {
            audit.append(entry);
        }
    }

    /// Runs `work` in a task of its own, so that it finishes (a refresh
    /// stores the rotated token) even when the client goes away or the
    /// deadline passes; the answer waits at most the request deadline.
    async fn detached<T: Send + 'static>(
        &self,
        what: String,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let deadline = self.config.request_deadline;
        match tokio::time::timeout(deadline, tokio::spawn(work)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => Err(Error::internal(format!(
                "{what} failed inside the agent ({join})"
            ))),
            Err(_) => Err(Error::DeadlineExceeded {
                what,
                secs: deadline.as_secs(),
            }),
        }
    }

    /// A place among the profile's requests in progress, or "busy" when a
    /// stuck profile already has [`ServerConfig::per_profile`] of them (so
    /// it never fills the agent's connection slots).
    fn slot(&self, profile: &str) -> Result<OwnedSemaphorePermit> {
        let limit = self.config.per_profile.max(1);
        let semaphore = {
            let mut map = self.per_profile.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                map.entry(profile.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(limit))),
            )
        };
        semaphore
            .try_acquire_owned()
            .map_err(|_| Error::DeadlineExceeded {
                what: format!("profile `{profile}` has {limit} requests waiting already; this one"),
                secs: 0,
            })
    }
}
