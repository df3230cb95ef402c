//! Time: one task that sleeps until the next deadline and hands each due
//! job to the caller (mini-redis's purge task, grown a little).
//!
//! Jobs: proactive refresh of an account kept fresh, "the token you copied
//! expires in N min" reminders, refresh-token end of life. Deadlines are
//! wall-clock instants (epoch seconds): the task never sleeps longer than
//! [`MAX_SLEEP`] before re-reading the wall clock, because a monotonic
//! timer stops while the machine is suspended and a reminder must not be
//! late by the length of a lunch break. Between deadlines nothing runs;
//! adding or cancelling a job wakes the task through a `Notify`.

use crate::broker::{Broker, Event, Grants};
use crate::token::{EpochSecs, ScopeSet};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

/// Longest sleep before the wall clock is read again.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Something to do at a given instant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    /// Refresh the profile's token before it expires.
    Refresh {
        /// The profile.
        profile: String,
    },
    /// Remind that a copied token expires at `expires_at`.
    CopiedTokenExpiring {
        /// The profile.
        profile: String,
        /// When the copied token expires.
        expires_at: EpochSecs,
    },
    /// The refresh token itself is about to end: a sign-in will be needed.
    RefreshTokenExpiring {
        /// The profile.
        profile: String,
        /// When it ends.
        expires_at: EpochSecs,
    },
}

/// Where time comes from: the system clock in production, tokio's
/// (pausable) clock in tests (`testing::TokioClock`).
pub trait Clock: Send + Sync + 'static {
    /// Now, in epoch seconds.
    fn now(&self) -> EpochSecs;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> EpochSecs {
        crate::token::now()
    }
}

/// The set of pending jobs, shared between the faces that add jobs and the
/// task that runs them. Cheap to clone.
#[derive(Clone, Default)]
pub struct Schedule {
    jobs: Arc<Mutex<BTreeMap<Job, EpochSecs>>>,
    changed: Arc<Notify>,
}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `job` at `when` (replacing the same job's earlier deadline).
    pub fn at(&self, when: EpochSecs, job: Job) {
        self.lock().insert(job, when);
        self.changed.notify_one();
    }

    /// Cancels `job`; `false` when it was not scheduled.
    pub fn cancel(&self, job: &Job) -> bool {
        let removed = self.lock().remove(job).is_some();
        self.changed.notify_one();
        removed
    }

    /// Cancels every job of `profile` (e.g. on sign-out).
    pub fn cancel_profile(&self, profile: &str) {
        self.lock().retain(|job, _| job_profile(job) != profile);
        self.changed.notify_one();
    }

    /// The pending jobs with their deadlines, earliest first.
    pub fn pending(&self) -> Vec<(EpochSecs, Job)> {
        let mut jobs: Vec<_> = self
            .lock()
            .iter()
            .map(|(job, when)| (*when, job.clone()))
            .collect();
        jobs.sort();
        jobs
    }

    /// Removes and returns the jobs due at `now`, and the next deadline.
    fn take_due(&self, now: EpochSecs) -> (Vec<Job>, Option<EpochSecs>) {
        let mut jobs = self.lock();
        let due: Vec<Job> = jobs
            .iter()
            .filter(|(_, when)| **when <= now)
            .map(|(job, _)| job.clone())
            .collect();
        for job in &due {
            jobs.remove(job);
        }
        (due, jobs.values().min().copied())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Job, EpochSecs>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The profile a job is about.
pub fn job_profile(job: &Job) -> &str {
    match job {
        Job::Refresh { profile }
        | Job::CopiedTokenExpiring { profile, .. }
        | Job::RefreshTokenExpiring { profile, .. } => profile,
    }
}

/// Runs the schedule until `shutdown`: sleeps until the next deadline (at
/// most [`MAX_SLEEP`]) or a change, and calls `on_due` with each job that
/// is due. `on_due` must be quick; spawn anything slow.
pub async fn run(
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
    mut on_due: impl FnMut(Job),
) {
    loop {
        let (due, next) = schedule.take_due(clock.now());
        for job in due {
            tracing::debug!(profile = job_profile(&job), "job due");
            on_due(job);
        }
        let sleep = match next {
            Some(when) => {
                let secs = u64::try_from(when - clock.now()).unwrap_or(0);
                Duration::from_secs(secs).min(MAX_SLEEP)
            }
            None => MAX_SLEEP,
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = schedule.changed.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// How long before a refresh token ends the user is told.
pub const REFRESH_TOKEN_LEAD_SECS: EpochSecs = 24 * 3600;
/// Shortest gap between two proactive refreshes of one profile, so a
/// provider that issues tokens shorter-lived than the margin cannot make
/// Tokentray refresh in a loop.
pub const MIN_REFRESH_GAP_SECS: EpochSecs = 5;

/// When to refresh a token that expires at `expires_at`: `margin` seconds
/// before, but never sooner than halfway through what is left (nor within
/// [`MIN_REFRESH_GAP_SECS`]).
pub fn refresh_deadline(now: EpochSecs, expires_at: EpochSecs, margin: EpochSecs) -> EpochSecs {
    let halfway = now + (expires_at - now) / 2;
    (expires_at - margin)
        .max(halfway)
        .max(now + MIN_REFRESH_GAP_SECS)
}

/// Asks for a reminder `lead` seconds before a copied token expires.
pub fn remind_before_expiry(
    schedule: &Schedule,
    profile: &str,
    expires_at: EpochSecs,
    lead: EpochSecs,
) {
    schedule.at(
        expires_at - lead,
        Job::CopiedTokenExpiring {
            profile: profile.to_string(),
            expires_at,
        },
    );
}

/// Keeps `keep_fresh` profiles refreshed and reminders firing until
/// `shutdown`: schedules each keep-fresh account's next refresh from what
/// the vault holds, re-schedules after every refresh the broker announces,
/// forgets a profile's jobs when it signs out or needs a sign-in, and turns
/// due reminders into broker events.
pub async fn drive<G: Grants>(
    broker: Broker<G>,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let mut events = broker.subscribe();
    if let Err(error) = plan_all(&broker, &schedule, clock.now()) {
        tracing::warn!(kind = %error.kind(), "cannot plan refreshes: {error}");
    }
    let runner = {
        let broker = broker.clone();
        let job_clock = Arc::clone(&clock);
        run(
            schedule.clone(),
            Arc::clone(&clock),
            shutdown.clone(),
            move |job| on_due(&broker, job, job_clock.now()),
        )
    };
    tokio::pin!(runner);
    loop {
        tokio::select! {
            () = &mut runner => return,
            event = events.recv() => match event {
                Ok(Event::Refreshed { profile, .. }) => {
                    if let Err(error) = plan_profile(&broker, &schedule, &profile, clock.now()) {
                        tracing::warn!(%profile, kind = %error.kind(), "cannot plan the next refresh");
                    }
                }
                Ok(Event::SignInRequired { profile, .. }) => schedule.cancel_profile(&profile),
                Ok(Event::AccountsChanged | Event::ProfilesChanged)
                | Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Err(error) = plan_all(&broker, &schedule, clock.now()) {
                        tracing::warn!(kind = %error.kind(), "cannot plan refreshes: {error}");
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Runs a job that is due at `now` (the scheduler's clock).
fn on_due<G: Grants>(broker: &Broker<G>, job: Job, now: EpochSecs) {
    match job {
        Job::Refresh { profile } => {
            let broker = broker.clone();
            tokio::spawn(async move {
                // Not forced: a caller that refreshed at the same deadline
                // (its event not yet seen here) has done the job already.
                // Failures are announced by the broker itself.
                if let Err(error) = broker.refresh_due(&profile, now).await {
                    tracing::info!(%profile, kind = %error.kind(), "proactive refresh failed");
                }
            });
        }
        Job::CopiedTokenExpiring {
            profile,
            expires_at,
        } => broker.announce(Event::ExpiringSoon {
            profile,
            expires_at,
        }),
        Job::RefreshTokenExpiring {
            profile,
            expires_at,
        } => broker.announce(Event::RefreshTokenExpiring {
            profile,
            expires_at,
        }),
    }
}

/// Plans every profile; a profile with no account loses its jobs. One
/// profile that cannot be planned (a damaged vault record) does not keep
/// the others from being planned.
fn plan_all<G: Grants>(
    broker: &Broker<G>,
    schedule: &Schedule,
    now: EpochSecs,
) -> crate::Result<()> {
    for profile in broker.profiles().load()? {
        if let Err(error) = plan_profile(broker, schedule, &profile.name, now) {
            tracing::warn!(profile = %profile.name, kind = %error.kind(), "cannot plan the profile's refreshes: {error}");
        }
    }
    Ok(())
}

/// Schedules the next refresh of a keep-fresh profile (from its cached
/// token's expiry) and the refresh token's end-of-life warning.
fn plan_profile<G: Grants>(
    broker: &Broker<G>,
    schedule: &Schedule,
    name: &str,
    now: EpochSecs,
) -> crate::Result<()> {
    let profile = broker.profiles().get(name)?;
    let account = match broker.accounts().for_profile(name)? {
        Some(account) if account.sign_in_required.is_none() => account,
        _ => {
            schedule.cancel_profile(name);
            return Ok(());
        }
    };
    let record = broker.accounts().record(&account)?.unwrap_or_default();
    if profile.keep_fresh {
        let margin = i64::try_from(profile.refresh_margin_secs).unwrap_or(i64::MAX);
        let when = match record.access_token(&ScopeSet::new(&profile.scopes)) {
            Some(token) => refresh_deadline(now, token.expires_at, margin),
            None => now,
        };
        schedule.at(
            when,
            Job::Refresh {
                profile: name.to_string(),
            },
        );
    }
    if let Some(expires_at) = record.refresh_expires_at {
        schedule.at(
            expires_at - REFRESH_TOKEN_LEAD_SECS,
            Job::RefreshTokenExpiring {
                profile: name.to_string(),
                expires_at,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TokioClock;
    use tokio::sync::mpsc;

    const T0: EpochSecs = 1_800_000_000;

    fn start(
        schedule: &Schedule,
    ) -> (mpsc::UnboundedReceiver<(EpochSecs, Job)>, CancellationToken) {
        let clock = Arc::new(TokioClock::starting_at(T0));
        let (tx, rx) = mpsc::unbounded_channel();
        let shutdown = CancellationToken::new();
        let seen = Arc::clone(&clock);
        tokio::spawn(run(schedule.clone(), clock, shutdown.clone(), move |job| {
            let _ = tx.send((seen.now(), job));
        }));
        (rx, shutdown)
    }

    fn refresh(p: &str) -> Job {
        Job::Refresh { profile: p.into() }
    }

    #[tokio::test(start_paused = true)]
    async fn jobs_fire_once_at_their_deadline_in_order() {
        let schedule = Schedule::new();
        let (mut rx, shutdown) = start(&schedule);
        let reminder = Job::CopiedTokenExpiring {
            profile: "b".into(),
            expires_at: T0 + 3600,
        };
        schedule.at(T0 + 3300, reminder.clone());
        schedule.at(T0 + 90, refresh("a"));
        assert_eq!(rx.recv().await.unwrap(), (T0 + 90, refresh("a")));
        assert_eq!(rx.recv().await.unwrap(), (T0 + 3300, reminder));
        tokio::time::sleep(Duration::from_secs(7200)).await;
        assert!(rx.try_recv().is_err(), "each job fires once");
        assert!(schedule.pending().is_empty());
        shutdown.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn rescheduling_and_cancelling_take_effect_at_once() {
        let schedule = Schedule::new();
        let (mut rx, shutdown) = start(&schedule);
        schedule.at(T0 + 1000, refresh("a"));
        schedule.at(T0 + 500, refresh("b"));
        tokio::time::sleep(Duration::from_secs(10)).await;
        schedule.at(T0 + 20, refresh("a")); // earlier than the task's current sleep
        assert!(schedule.cancel(&refresh("b")));
        assert_eq!(rx.recv().await.unwrap(), (T0 + 20, refresh("a")));
        tokio::time::sleep(Duration::from_secs(2000)).await;
        assert!(rx.try_recv().is_err(), "b was cancelled, a fired once");
        shutdown.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_in_the_past_fires_immediately_and_cancel_profile_clears() {
        let schedule = Schedule::new();
        schedule.at(T0 + 100, refresh("x"));
        schedule.at(
            T0 + 100,
            Job::RefreshTokenExpiring {
                profile: "x".into(),
                expires_at: T0 + 200,
            },
        );
        schedule.cancel_profile("x");
        assert!(schedule.pending().is_empty());
        let (mut rx, shutdown) = start(&schedule);
        schedule.at(T0 - 5, refresh("late"));
        assert_eq!(rx.recv().await.unwrap(), (T0, refresh("late")));
        shutdown.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_sleeps_between_deadlines() {
        let schedule = Schedule::new();
        let wakeups = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let clock = Arc::new(TokioClock::starting_at(T0));
        let shutdown = CancellationToken::new();
        let counter = Arc::clone(&wakeups);
        schedule.at(T0 + 3600, refresh("a"));
        tokio::spawn(run(schedule.clone(), clock, shutdown.clone(), move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
        tokio::time::sleep(Duration::from_secs(3599)).await;
        assert_eq!(wakeups.load(std::sync::atomic::Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(wakeups.load(std::sync::atomic::Ordering::SeqCst), 1);
        shutdown.cancel();
    }

    #[test]
    fn refresh_deadlines() {
        // An hour-long token with a 5-minute margin: 5 minutes before.
        assert_eq!(refresh_deadline(T0, T0 + 3600, 300), T0 + 3300);
        // A token shorter-lived than the margin: halfway, not at once.
        assert_eq!(refresh_deadline(T0, T0 + 60, 300), T0 + 30);
        // Already expired: soon, but not in a loop.
        assert_eq!(
            refresh_deadline(T0, T0 - 10, 300),
            T0 + MIN_REFRESH_GAP_SECS
        );
    }

    mod driving {
        use super::*;
        use crate::broker::testing::{setup, sign_in};
        use crate::profile::LoginMode;

        fn start_drive(s: &crate::broker::testing::Setup) -> (Schedule, CancellationToken) {
            let schedule = Schedule::new();
            let shutdown = CancellationToken::new();
            let clock = Arc::new(TokioClock::starting_at(crate::token::now()));
            tokio::spawn(drive(
                s.broker.clone(),
                schedule.clone(),
                clock,
                shutdown.clone(),
            ));
            (schedule, shutdown)
        }

        #[tokio::test(start_paused = true)]
        async fn keep_fresh_accounts_are_refreshed_before_expiry_without_a_caller() {
            let s = setup(LoginMode::Device, true);
            sign_in(&s, 3600);
            let (schedule, shutdown) = start_drive(&s);
            tokio::time::sleep(Duration::from_secs(3290)).await;
            assert_eq!(s.grants.refreshes(), 0, "nothing before the margin");
            tokio::time::sleep(Duration::from_secs(20)).await;
            assert_eq!(s.grants.refreshes(), 1, "refreshed 5 minutes before expiry");
            assert!(
                schedule
                    .pending()
                    .iter()
                    .any(|(_, job)| matches!(job, Job::Refresh { .. })),
                "the next refresh is planned"
            );
            shutdown.cancel();
        }

        #[tokio::test(start_paused = true)]
        async fn other_accounts_are_left_alone_and_sign_in_required_cancels() {
            let s = setup(LoginMode::Device, false);
            sign_in(&s, 3600);
            let (schedule, shutdown) = start_drive(&s);
            tokio::time::sleep(Duration::from_secs(7200)).await;
            assert_eq!(s.grants.refreshes(), 0);
            assert!(schedule.pending().is_empty());
            shutdown.cancel();

            let s = setup(LoginMode::Device, true);
            sign_in(&s, 3600);
            s.grants.set_failure(Some("invalid_grant"));
            let (schedule, shutdown) = start_drive(&s);
            tokio::time::sleep(Duration::from_secs(3400)).await;
            assert_eq!(s.grants.refreshes(), 1);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            assert_eq!(s.grants.refreshes(), 1, "no retry loop after invalid_grant");
            assert!(schedule.pending().is_empty());
            shutdown.cancel();
        }

        #[tokio::test(start_paused = true)]
        async fn a_copied_token_reminder_fires_once_at_the_right_time() {
            let s = setup(LoginMode::Device, false);
            sign_in(&s, 3600);
            let mut events = s.broker.subscribe();
            let (schedule, shutdown) = start_drive(&s);
            let expires_at = crate::token::now() + 3600;
            remind_before_expiry(&schedule, "p", expires_at, 300);
            tokio::time::sleep(Duration::from_secs(3290)).await;
            assert!(events.try_recv().is_err(), "not yet");
            tokio::time::sleep(Duration::from_secs(20)).await;
            assert_eq!(
                events.try_recv().unwrap(),
                Event::ExpiringSoon {
                    profile: "p".into(),
                    expires_at
                }
            );
            tokio::time::sleep(Duration::from_secs(3600)).await;
            assert!(events.try_recv().is_err(), "once");
            shutdown.cancel();
        }
    }
}
