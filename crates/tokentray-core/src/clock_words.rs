//! The one wording of time every face shows: "expires in 42 min",
//! "expired 3 min ago", "in 2 days", and the instant that wording changes
//! next (so a menu or a window redraws exactly when its text changes, not
//! on a tick).
//!
//! One rounding rule: whole units, rounded toward zero. A countdown never
//! promises more time than is left ("4 min" from 4 min 59 s down to 4 min),
//! and "3 min ago" holds until four full minutes have passed. The units:
//! under a minute "less than a minute"; minutes up to an hour ("42 min");
//! hours and minutes up to two days ("1 h 5 min", "3 h"); then whole days
//! ("2 days").

use crate::token::EpochSecs;

const MINUTE: EpochSecs = 60;
const HOUR: EpochSecs = 60 * MINUTE;
const DAY: EpochSecs = 24 * HOUR;
/// From this long on, a span is counted in whole days.
const DAYS_FROM: EpochSecs = 2 * DAY;

/// A span of `secs` (its sign ignored) in words: "less than a minute",
/// "42 min", "1 h 5 min", "3 h", "2 days".
pub fn span(secs: EpochSecs) -> String {
    let secs = secs.saturating_abs();
    if secs >= DAYS_FROM {
        return format!("{} days", secs / DAY);
    }
    let minutes = secs / MINUTE;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "less than a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// `at` seen from `now`: "in 42 min", or "3 min ago" once `at` is reached.
pub fn relative(now: EpochSecs, at: EpochSecs) -> String {
    if at > now {
        format!("in {}", span(at.saturating_sub(now)))
    } else {
        format!("{} ago", span(now.saturating_sub(at)))
    }
}

/// An expiry at `at` seen from `now`: "expires in 42 min", or "expired 3 min
/// ago" once `at` is reached.
pub fn expiry(now: EpochSecs, at: EpochSecs) -> String {
    if at > now {
        format!("expires {}", relative(now, at))
    } else {
        format!("expired {}", relative(now, at))
    }
}

/// The first instant after `now` at which [`relative`] and [`expiry`] of
/// `at` read differently; `None` only when no later instant exists.
pub fn next_change(now: EpochSecs, at: EpochSecs) -> Option<EpochSecs> {
    let unit = |span: EpochSecs| if span >= DAYS_FROM { DAY } else { MINUTE };
    if at > now {
        // counting down: the text holds while `at - t` stays in its unit
        // (`n` whole units), and changes one second after `at - n·unit`
        let left = at.checked_sub(now)?;
        if left < MINUTE {
            return Some(at);
        }
        let unit = unit(left);
        at.checked_sub((left / unit) * unit)?.checked_add(1)
    } else {
        // counting up: it changes when `t - at` reaches the next whole unit
        let past = now.checked_sub(at)?;
        let unit = unit(past);
        at.checked_add((past / unit + 1) * unit)
    }
}

/// An instant as the local date and time, e.g. `2026-01-01 14:05:09 +01:00`
/// (the raw epoch when it is out of range).
pub fn local_time(at: EpochSecs) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EpochSecs = 1_800_000_000;

    #[test]
    fn spans_round_toward_zero() {
        assert_eq!(span(0), "less than a minute");
        assert_eq!(span(59), "less than a minute");
        assert_eq!(span(60), "1 min");
        assert_eq!(span(5 * 60 - 1), "4 min");
        assert_eq!(span(5 * 60), "5 min");
        assert_eq!(span(42 * 60 + 59), "42 min");
        assert_eq!(span(HOUR), "1 h");
        assert_eq!(span(HOUR + 5 * 60 + 59), "1 h 5 min");
        assert_eq!(span(DAYS_FROM - 1), "47 h 59 min");
        assert_eq!(span(DAYS_FROM), "2 days");
        assert_eq!(span(366 * DAY + 5), "366 days");
        assert_eq!(span(-3 * 60), "3 min");
        assert_eq!(span(EpochSecs::MIN), span(EpochSecs::MAX));
    }

    #[test]
    fn both_directions() {
        assert_eq!(expiry(NOW, NOW + 42 * 60), "expires in 42 min");
        assert_eq!(expiry(NOW, NOW + 2 * DAY), "expires in 2 days");
        assert_eq!(expiry(NOW, NOW + 1), "expires in less than a minute");
        assert_eq!(expiry(NOW, NOW), "expired less than a minute ago");
        assert_eq!(expiry(NOW, NOW - 3 * 60 - 59), "expired 3 min ago");
        assert_eq!(relative(NOW, NOW + 90), "in 1 min");
        assert_eq!(relative(NOW, NOW - 3 * HOUR), "3 h ago");
    }

    /// The text holds until `next_change` and changes right there, on both
    /// sides of `at` and across every unit boundary.
    #[test]
    fn next_change_is_exactly_where_the_text_changes() {
        let at = NOW;
        let check = |now: EpochSecs| {
            let next = next_change(now, at).unwrap();
            assert!(next > now, "now {now}");
            assert_eq!(expiry(now, at), expiry(next - 1, at), "now {now}");
            assert_ne!(expiry(now, at), expiry(next, at), "now {now}");
        };
        for now in (at - 2 * HOUR)..(at + 2 * HOUR) {
            check(now);
        }
        for boundary in [at - DAYS_FROM, at + DAYS_FROM, at - 366 * DAY] {
            for now in (boundary - 200)..(boundary + 200) {
                check(now);
            }
        }
        assert_eq!(next_change(at - 61, at), Some(at - 59));
        assert_eq!(next_change(at - 59, at), Some(at));
        assert_eq!(next_change(at, at), Some(at + 60));
        assert_eq!(next_change(at - 366 * DAY, at), Some(at - 366 * DAY + 1));
        assert_eq!(next_change(EpochSecs::MAX, EpochSecs::MIN), None);
    }

    #[test]
    fn local_time_has_date_time_and_offset() {
        let text = local_time(NOW);
        assert_eq!(text.len(), "2027-01-15 08:00:00 +00:00".len(), "{text}");
        assert_eq!(local_time(EpochSecs::MAX), EpochSecs::MAX.to_string());
    }
}
