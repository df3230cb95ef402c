//! Fault points in the refresh path, for the crash tests (S15): compiled in
//! only with the `failpoints` feature (test builds turn it on; release
//! builds never contain them), a no-op expansion otherwise.
//!
//! The points, in the order a refresh reaches them:
//! - `refresh-before-request`: the account's locks are held, the refresh
//!   token is read, nothing is sent yet;
//! - `refresh-before-store`: the provider answered (a rotated refresh token
//!   is in hand), nothing is written yet;
//! - `record-before-readback`: the record is written, not yet read back
//!   (every record write passes here: sign-in, refresh, import);
//! - `refresh-after-handout`: stored, read back, in memory and announced,
//!   as the broker returns the new token.
//!
//! They are armed by the `FAILPOINTS` environment variable of the `fail`
//! crate, read when the first point is reached, e.g.
//! `FAILPOINTS='refresh-before-store=sleep(60000)'` to hold a refresh there
//! while a test kills the process, or `FAILPOINTS='refresh-after-handout=1*panic'`
//! for one panic in the refresh path. Each point reached is logged at debug
//! level under the target `tokentray::fault` (the point's name only).

/// Evaluates the named fault point (nothing at all without the feature).
macro_rules! fault_point {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        {
            $crate::fault::arm_from_env();
            tracing::debug!(target: "tokentray::fault", point = $name, "fault point reached");
            fail::fail_point!($name);
        }
    };
}
pub(crate) use fault_point;

/// The environment variable that arms the points (the `fail` crate's).
#[cfg(feature = "failpoints")]
pub(crate) const FAILPOINTS_ENV: &str = "FAILPOINTS";

/// Arms the points named in `FAILPOINTS` (`name=actions;name=actions`), once
/// per process. A malformed entry is reported on stderr and ignored.
#[cfg(feature = "failpoints")]
pub(crate) fn arm_from_env() {
    static ARMED: std::sync::Once = std::sync::Once::new();
    ARMED.call_once(|| {
        let Ok(setting) = std::env::var(FAILPOINTS_ENV) else {
            return;
        };
        for entry in setting.split(';').filter(|e| !e.trim().is_empty()) {
            let armed = match entry.split_once('=') {
                Some((name, actions)) => fail::cfg(name.trim(), actions.trim()),
                None => Err("expected NAME=ACTIONS".to_string()),
            };
            if let Err(why) = armed {
                eprintln!("tokentray: ignoring {FAILPOINTS_ENV} entry {entry:?}: {why}");
            }
        }
    });
}
