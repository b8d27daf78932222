//! The run's date, which activity dates are checked against (a contract column's
//! `not_after_run_days`), and the run dates a reading of a file holds for.
//!
//! The date is today's (UTC) unless `JOINEDUP_TODAY=YYYY-MM-DD` says otherwise (tests,
//! and replaying a past night's run); it is taken once per process, so a run that goes
//! past midnight checks every file against one date.
//!
//! Whether a row is dated after the run depends on the run's date, so a reading of a
//! file (an ingest cache entry, and a saved state) records the run dates it holds for
//! ([`RunDates`]): from the first on which every accepted value is on or before its
//! bound, to the first on which a value refused as in the future would not be. A cached
//! reading is reused only on a run date inside it, and a run with unchanged inputs on a
//! date outside it builds again: a row held back as dated ahead of the run is taken in
//! on the day it falls due.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::ingest::dates::{civil_from_days, days_from_civil};

/// The environment variable that sets the run's date.
pub const ENV: &str = "JOINEDUP_TODAY";

static TODAY: OnceLock<Result<i32, String>> = OnceLock::new();

/// The run's date as days since 1970-01-01, or why `JOINEDUP_TODAY` cannot be read.
pub fn today() -> Result<i32, String> {
    TODAY
        .get_or_init(|| match std::env::var(ENV) {
            Ok(v) if !v.trim().is_empty() => parse_iso(v.trim()).ok_or_else(|| {
                format!(
                    "{ENV}={v:?} is not a date: give the run's date as YYYY-MM-DD, or leave it unset for today"
                )
            }),
            _ => Ok(days_since_epoch(chrono::Utc::now().date_naive())),
        })
        .clone()
}

/// The run's date, today's when `JOINEDUP_TODAY` cannot be read (the run refuses that
/// before reading anything: [`crate::app::run`]).
pub fn today_or_now() -> i32 {
    today().unwrap_or_else(|_| days_since_epoch(chrono::Utc::now().date_naive()))
}

fn days_since_epoch(d: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    days_from_civil(d.year(), d.month(), d.day())
}

/// `YYYY-MM-DD` as days since 1970-01-01.
pub fn parse_iso(text: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(days_since_epoch(d))
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub fn iso(day: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The run's month, `YYYY-MM`.
pub fn this_month() -> String {
    iso(today_or_now())[..7].to_string()
}

/// The run dates (days since 1970-01-01) a reading holds for: `from` the first on which
/// every accepted value is within its bound, `before` the first on which a value refused
/// as in the future is not (`None`: no bound that side). Recorded as ISO dates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDates {
    /// The first run date the reading holds for.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_iso")]
    pub from: Option<i32>,
    /// The first run date it no longer holds for.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_iso")]
    pub before: Option<i32>,
}

impl RunDates {
    /// A value checked against `bound_days` ahead of the run: `accepted` when it was on or
    /// before the run date plus the bound.
    pub fn saw(&mut self, day: i32, bound_days: i32, accepted: bool) {
        let due = day.saturating_sub(bound_days);
        if accepted {
            self.from = Some(self.from.map_or(due, |f| f.max(due)));
        } else {
            self.before = Some(self.before.map_or(due, |b| b.min(due)));
        }
    }

    /// Both readings held (a file read in several ranges; a run's files).
    pub fn and(self, other: RunDates) -> RunDates {
        let pick = |a: Option<i32>, b: Option<i32>, f: fn(i32, i32) -> i32| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        RunDates {
            from: pick(self.from, other.from, i32::max),
            before: pick(self.before, other.before, i32::min),
        }
    }

    /// True when a reading made on another date gives the same rows on `day`.
    pub fn holds(&self, day: i32) -> bool {
        self.from.is_none_or(|f| f <= day) && self.before.is_none_or(|b| day < b)
    }

    /// Why the reading does not hold on `day`, if it does not.
    pub fn why_not(&self, day: i32) -> Option<String> {
        match (self.from, self.before) {
            (Some(f), _) if day < f => Some(format!(
                "the run's date {} is before {}, from which the dates accepted last time are within their bounds",
                iso(day),
                iso(f)
            )),
            (_, Some(b)) if day >= b => Some(format!(
                "a value held back as dated after the run is due from {}, and the run's date is {}",
                iso(b),
                iso(day)
            )),
            _ => None,
        }
    }
}

mod opt_iso {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<i32>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&super::iso(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            super::parse_iso(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("{t:?} is not YYYY-MM-DD")))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_holds_between_its_last_accepted_and_first_refused_due_dates() {
        let d = |s| parse_iso(s).unwrap();
        let mut r = RunDates::default();
        r.saw(d("2026-07-15"), 1, true);
        r.saw(d("2099-07-15"), 1, false);
        assert!(!r.holds(d("2026-07-13")));
        assert!(r.holds(d("2026-07-14")));
        assert!(r.holds(d("2099-07-13")));
        assert!(!r.holds(d("2099-07-14")));
        assert!(r.why_not(d("2099-08-01")).unwrap().contains("2099-07-14"));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"from":"2026-07-14","before":"2099-07-14"}"#);
        assert_eq!(serde_json::from_str::<RunDates>(&json).unwrap(), r);
        assert_eq!(
            serde_json::from_str::<RunDates>("{}").unwrap(),
            RunDates::default()
        );
        let other = RunDates {
            from: Some(d("2026-08-01")),
            before: None,
        };
        assert_eq!(r.and(other).from, Some(d("2026-08-01")));
        assert_eq!(r.and(other).before, r.before);
    }

    #[test]
    fn iso_dates_round_trip() {
        for s in ["1970-01-01", "2026-11-28", "2100-12-31", "1900-02-28"] {
            assert_eq!(iso(parse_iso(s).unwrap()), s);
        }
        assert_eq!(parse_iso("28/11/2026"), None);
    }
}
