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

use crate::token::EpochSecs;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
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
/// (pausable) clock in tests.
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

/// A wall clock that advances with tokio's clock (so a paused test clock
/// moves it), starting at `start`.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: EpochSecs,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: EpochSecs) -> Self {
        Self {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> EpochSecs {
        let elapsed = tokio::time::Instant::now()
            .duration_since(self.origin)
            .as_secs();
        self.start + i64::try_from(elapsed).unwrap_or(i64::MAX)
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
