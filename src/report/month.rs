//! Report stage: the calendar month a report covers, in the bureau's local
//! time (China Standard Time, UTC+8, which has no daylight saving), and
//! its window in the UTC timestamps the database stores.

use crate::store::MonthWindow;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use std::fmt;
use std::str::FromStr;

/// Beijing time: the offset of every month boundary.
const UTC_PLUS_8: i32 = 8 * 3600;

/// A calendar month, e.g. 2026-11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month: write YYYY-MM, e.g. 2026-11")]
pub struct MonthError(pub String);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (2000..=2999).contains(&year))
            .then_some(Month { year, month })
    }

    /// The month (Beijing time) that `t` falls in.
    pub fn containing(t: DateTime<Utc>) -> Month {
        let local = t.with_timezone(&beijing());
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("months are valid")
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("after year 2000")
    }

    /// `2026年11月`.
    pub fn label_zh(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// From local midnight on the 1st to local midnight on the 1st of the
    /// next month, in UTC.
    pub fn window(self) -> MonthWindow {
        let utc = |m: Month| {
            m.first_day()
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_local_timezone(beijing())
                .single()
                .expect("a fixed offset is never ambiguous")
                .with_timezone(&Utc)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        };
        MonthWindow {
            start: utc(self),
            end: utc(self.next()),
            next_first_day: self.next().first_day().to_string(),
        }
    }
}

/// The date in Beijing at `t`: the day the bureau's staff call "today".
pub fn beijing_today(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&beijing()).date_naive()
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(UTC_PLUS_8).expect("valid offset")
}

impl FromStr for Month {
    type Err = MonthError;

    /// `YYYY-MM` (or `YYYY-M`).
    fn from_str(s: &str) -> Result<Month, MonthError> {
        let bad = || MonthError(s.to_string());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(y, 4..=4) || !digits(m, 1..=2) {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        let m: Month = "2026-11".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2026, 11));
        assert_eq!(" 2026-3 ".parse::<Month>().unwrap().to_string(), "2026-03");
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "26-11",
            "2026/11",
            "2026-11-01",
            "2026-1a",
            "１２３４-11",
            "2026-+1",
        ] {
            let e = bad.parse::<Month>().unwrap_err();
            assert!(e.to_string().contains("YYYY-MM"), "{bad}: {e}");
        }
    }

    #[test]
    fn windows_are_beijing_midnights_in_utc() {
        let w = Month::new(2026, 11).unwrap().window();
        assert_eq!(w.start, "2026-10-31T16:00:00");
        assert_eq!(w.end, "2026-11-30T16:00:00");
        assert_eq!(w.next_first_day, "2026-12-01");
        let dec = Month::new(2026, 12).unwrap();
        assert_eq!(dec.window().end, "2026-12-31T16:00:00");
        assert_eq!(dec.next(), Month::new(2027, 1).unwrap());
        assert_eq!(dec.next().previous(), dec);
        assert_eq!(
            Month::new(2028, 2).unwrap().last_day().to_string(),
            "2028-02-29"
        );
    }

    #[test]
    fn stored_timestamps_compare_with_the_window_as_text() {
        let w = Month::new(2026, 11).unwrap().window();
        let inside = |t: &str| t >= w.start.as_str() && t < w.end.as_str();
        assert!(
            inside("2026-10-31T16:00:00.000Z"),
            "local midnight on the 1st"
        );
        assert!(inside("2026-10-31T16:00:00Z"));
        assert!(!inside("2026-10-31T15:59:59.999Z"));
        assert!(inside("2026-11-30T15:59:59.999Z"));
        assert!(
            !inside("2026-11-30T16:00:00.000Z"),
            "local midnight on 1 December"
        );
        assert!(!inside("2026-11-30T16:00:00Z"));
    }

    #[test]
    fn the_month_of_an_instant_is_taken_in_beijing_time() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            Month::containing(at("2026-11-30T15:59:59Z")).to_string(),
            "2026-11"
        );
        assert_eq!(
            Month::containing(at("2026-11-30T16:00:00Z")).to_string(),
            "2026-12"
        );
        assert_eq!(
            Month::containing(at("2026-12-31T17:00:00Z")).to_string(),
            "2027-01"
        );
    }
}
