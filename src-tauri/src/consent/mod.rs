//! The consent dialog: the app's side of the core's [`Consent`]. When a
//! program asks for a token of an `access = "confirm"` profile and no rule
//! names it, the core's gate asks here; a small window (label `consent`,
//! with a capability of its own that grants its two commands and nothing
//! else) names the program, the profile, the account and the scopes, and
//! offers Deny, Allow once, Allow for 8 hours and Always allow.
//!
//! - The program's icon is shown where the desktop has one ([`icon`]).
//! - One question is shown at a time; questions of other programs wait in
//!   a queue behind it ([`queue`]), each on its own clock (the gate gives
//!   every question [`consent::TIMEOUT`] from when it asked). The gate
//!   already makes the requests of one program share one question.
//! - The window opens without taking the keyboard focus (typing in a
//!   password field elsewhere goes on), stays on top, and follows the
//!   queue ([`window`]): it closes when its question is answered, timed
//!   out or given up (its future dropped), or shows the next one.
//! - Closing it is "Deny"; so is nobody answering.
//!
//! `TOKENTRAY_CONSENT_TIMEOUT_SECS` shortens the wait (tests); it can
//! never be longer than the core's.

pub mod commands;
mod icon;
mod queue;
mod window;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Manager};
use tokentray_core::access::{consent, Answer, Consent, Question};

use queue::Questions;

/// Seconds a question waits for its answer, at most [`consent::TIMEOUT`].
pub const TIMEOUT_ENV: &str = "TOKENTRAY_CONSENT_TIMEOUT_SECS";

/// The dialog, as the core's gate asks it.
struct Dialog {
    questions: Arc<Questions>,
    timeout: Duration,
}

impl Consent for Dialog {
    fn ask<'a>(
        &'a self,
        question: &'a Question,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
        Box::pin(async move {
            let (exe, script) = (question.path.clone(), question.script.clone());
            let icon = tokio::task::spawn_blocking(move || {
                icon::for_program(exe.as_deref(), script.as_deref())
            })
            .await
            .unwrap_or_default();
            self.questions.ask(question, icon, self.timeout).await
        })
    }
}

/// Manages the questions (for the commands), starts the window that
/// follows them; returns the consent the agent asks.
pub fn init(app: &AppHandle) -> Arc<dyn Consent> {
    let questions = Arc::new(Questions::default());
    app.manage(Arc::clone(&questions));
    window::follow(app, &questions);
    Arc::new(Dialog {
        questions,
        timeout: timeout(std::env::var(TIMEOUT_ENV).ok().as_deref()),
    })
}

/// How long a question waits: `value` seconds when it is a number from 1
/// to the core's timeout, else the core's timeout.
fn timeout(value: Option<&str>) -> Duration {
    let Some(value) = value else {
        return consent::TIMEOUT;
    };
    match value.trim().parse::<u64>().map(Duration::from_secs) {
        Ok(timeout) if !timeout.is_zero() && timeout <= consent::TIMEOUT => timeout,
        _ => {
            tracing::warn!(
                "{TIMEOUT_ENV}={value:?} is not a number of seconds from 1 to {}; using {0}",
                consent::TIMEOUT.as_secs()
            );
            consent::TIMEOUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_can_be_shortened_never_lengthened() {
        assert_eq!(timeout(None), consent::TIMEOUT);
        assert_eq!(timeout(Some("8")), Duration::from_secs(8));
        assert_eq!(timeout(Some("60")), consent::TIMEOUT);
        for refused in ["0", "61", "3600", "-1", "soon", ""] {
            assert_eq!(timeout(Some(refused)), consent::TIMEOUT, "{refused}");
        }
    }
}
