//! Where "now" comes from. Everything that stamps or compares times takes a
//! [`Clock`]: the system clock in the program, a fixed or shifted one in
//! tests, so that no test depends on the date it runs on.
//!
//! Times are stored in UTC and shown in Beijing time ([`beijing_time`],
//! [`beijing_minutes`], [`beijing_datetime`] for spreadsheet cells): every
//! timestamp an officer or a platform reads (letters, notice lists, pages,
//! exports) goes through them.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock as a shared handle, the default everywhere.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// China Standard Time (UTC+8, no daylight saving).
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A stored RFC 3339 timestamp as Beijing time, `YYYY-MM-DD HH:MM:SS`;
/// text that is not a timestamp is returned as it is.
pub fn beijing_time(rfc3339: &str) -> String {
    beijing_format(rfc3339, "%Y-%m-%d %H:%M:%S")
}

/// [`beijing_time`] to the minute, `YYYY-MM-DD HH:MM` (lists and pages).
pub fn beijing_minutes(rfc3339: &str) -> String {
    beijing_format(rfc3339, "%Y-%m-%d %H:%M")
}

fn beijing_format(rfc3339: &str, format: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339.trim()) {
        Ok(t) => t.with_timezone(&beijing()).format(format).to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that runs at the speed of the system clock from a chosen start:
/// dates are fixed (a test's "today" is the same whenever it runs) while
/// time still moves forward, so the order of stamps stays real. `set` moves
/// it to another moment, from which it runs on.
pub struct ShiftedClock(Mutex<(DateTime<Utc>, Instant)>);

impl ShiftedClock {
    pub fn starting_at(at: DateTime<Utc>) -> ShiftedClock {
        ShiftedClock(Mutex::new((at, Instant::now())))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = (at, Instant::now());
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        let (at, since) = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
    }
}

/// A stored timestamp (RFC 3339) as Beijing wall-clock time; `None` when
/// the text is not a timestamp.
pub fn beijing_datetime(rfc3339: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(rfc3339.trim())
        .ok()
        .map(|t| t.with_timezone(&beijing()).naive_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_cells_get_beijing_wall_clock_time() {
        let t = beijing_datetime("2026-11-28T20:00:00+00:00").unwrap();
        assert_eq!(
            t.to_string(),
            "2026-11-29 04:00:00",
            "the day changes at 16:00 UTC"
        );
        assert_eq!(beijing_datetime(""), None);
    }

    #[test]
    fn shifted_clock_keeps_its_date_and_moves_forward() {
        let start: DateTime<Utc> = "2026-11-20T02:00:00Z".parse().unwrap();
        let c = ShiftedClock::starting_at(start);
        let a = c.now();
        let b = c.now();
        assert!(a >= start && b >= a);
        assert!(b - start < chrono::Duration::seconds(5));
        let later: DateTime<Utc> = "2026-11-28T02:00:00Z".parse().unwrap();
        c.set(later);
        assert!(c.now() >= later && c.now() - later < chrono::Duration::seconds(5));
    }

    #[test]
    fn stored_times_read_as_beijing_time() {
        assert_eq!(beijing_time("2026-11-28T01:32:10Z"), "2026-11-28 09:32:10");
        assert_eq!(
            beijing_time("2026-11-28T20:00:00.123+00:00"),
            "2026-11-29 04:00:00",
            "past midnight in Beijing is the next day"
        );
        assert_eq!(
            beijing_minutes("2026-11-29T01:02:03.000Z"),
            "2026-11-29 09:02"
        );
        assert_eq!(beijing_time("not a time"), "not a time");
        assert_eq!(beijing_time(""), "");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: DateTime<Utc> = "2026-11-20T02:00:00Z".parse().unwrap();
        let c = ManualClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(chrono::Duration::hours(1));
        assert_eq!(c.now(), start + chrono::Duration::hours(1));
    }
}
