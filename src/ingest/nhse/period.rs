//! Dates and months as NHS England writes them in headers and titles.
//!
//! Never inferred from a file name: a day header is an Excel date or text holding
//! `dd/mm/yyyy` or `yyyy-mm-dd` (`w/c 27/05/2022 (daily snapshot)`); a month is a month
//! name and a four-digit year (`June 2022 - Total number …`, `MSitAE-MARCH-2026`).

use crate::ingest::dates::MONTHS;
use chrono::{Datelike, NaiveDate};

use super::workbook::Value;

/// What a period header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One day (a day header or a week commencing).
    Day(NaiveDate),
    /// A calendar month (its first day).
    Month(NaiveDate),
}

impl Period {
    /// The first day it covers.
    pub fn start(self) -> NaiveDate {
        match self {
            Period::Day(d) | Period::Month(d) => d,
        }
    }
}

/// The period a header cell names, if it names one.
pub fn period_of(v: &Value<'_>) -> Option<Period> {
    match v {
        Value::Date(d) => Some(Period::Day(*d)),
        Value::Text(t) => date_in_text(t)
            .map(Period::Day)
            .or_else(|| month_in_text(t).map(Period::Month)),
        _ => None,
    }
}

/// The first `dd/mm/yyyy` or `yyyy-mm-dd` date inside a text.
pub fn date_in_text(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let boundary = |i: usize| i == 0 || !b[i - 1].is_ascii_digit();
    for i in 0..b.len() {
        if !boundary(i) {
            continue;
        }
        // yyyy-mm-dd
        if let (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) = (
            digits(i, 4),
            b.get(i + 4),
            digits(i + 5, 2),
            b.get(i + 7),
            digits(i + 8, 2),
        ) && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
        {
            return Some(date);
        }
        // dd/mm/yyyy (one- or two-digit day and month)
        for dl in [2, 1] {
            let Some(d) = digits(i, dl) else { continue };
            if b.get(i + dl) != Some(&b'/') {
                continue;
            }
            for ml in [2, 1] {
                let j = i + dl + 1;
                let Some(m) = digits(j, ml) else { continue };
                if b.get(j + ml) != Some(&b'/') {
                    continue;
                }
                if let Some(y) = digits(j + ml + 1, 4)
                    && let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d)
                {
                    return Some(date);
                }
            }
        }
    }
    None
}

/// The first day of the month a text names by month name (full or three letters) and a
/// four-digit year after it: `June 2022 - …`, `MSitAE-MARCH-2026`, `Sep-2024`.
pub fn month_in_text(s: &str) -> Option<NaiveDate> {
    let lower = s.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let month = MONTHS
            .iter()
            .position(|m| *w == *m || (w.len() == 3 && m.starts_with(*w)));
        let (Some(month), Some(next)) = (month, words.get(i + 1)) else {
            continue;
        };
        if next.len() == 4
            && let Ok(year) = next.parse::<i32>()
        {
            return NaiveDate::from_ymd_opt(year, month as u32 + 1, 1);
        }
    }
    None
}

/// The first day of a month written as numbers or by a spreadsheet: `2016-04` (ISO),
/// `Apr-16` (Excel's month format when a CSV is opened and saved; years 2000–2099).
pub fn numeric_month(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Some((y, m)) = s.split_once('-')
        && y.len() == 4
        && (1..=2).contains(&m.len())
        && let (Ok(year), Ok(month)) = (y.parse::<i32>(), m.parse::<u32>())
    {
        return NaiveDate::from_ymd_opt(year, month, 1);
    }
    let (m, y) = s.split_once(['-', ' '])?;
    let month = MONTHS
        .iter()
        .position(|full| m.len() == 3 && full.starts_with(&m.to_lowercase()))?;
    let year: i32 = y.parse().ok().filter(|_| y.len() == 2)?;
    NaiveDate::from_ymd_opt(2000 + year, month as u32 + 1, 1)
}

/// The first day of `d`'s month.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s month.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_inside_text() {
        assert_eq!(
            date_in_text("w/c 27/05/2022 (daily snapshot)"),
            Some(d(2022, 5, 27))
        );
        assert_eq!(date_in_text("24/10/2022*"), Some(d(2022, 10, 24)));
        assert_eq!(date_in_text("1/6/2023"), Some(d(2023, 6, 1)));
        assert_eq!(date_in_text("2016-04-01"), Some(d(2016, 4, 1)));
        assert_eq!(date_in_text("31/02/2023"), None);
        assert_eq!(
            date_in_text("P2 - Care Home (short term 24hr support)"),
            None
        );
        assert_eq!(date_in_text("DIS002_TOTAL"), None);
    }

    #[test]
    fn months_inside_text() {
        assert_eq!(
            month_in_text("June 2022 - Total number of patients discharged"),
            Some(d(2022, 6, 1))
        );
        assert_eq!(month_in_text("MSitAE-MARCH-2026"), Some(d(2026, 3, 1)));
        assert_eq!(month_in_text("Sep-2024"), Some(d(2024, 9, 1)));
        assert_eq!(month_in_text("Total number of patients discharged"), None);
        assert_eq!(month_in_text("may be 12 patients"), None);
    }

    #[test]
    fn regression_months_written_as_numbers_or_by_a_spreadsheet() {
        // "2016-04" and "Apr-16" periods made every row of an A&E file skipped, and the
        // file counted as loaded with 0 rows.
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        assert_eq!(numeric_month("2016-04"), d(2016, 4));
        assert_eq!(numeric_month(" 2024-12 "), d(2024, 12));
        assert_eq!(numeric_month("Apr-16"), d(2016, 4));
        assert_eq!(numeric_month("sep 24"), d(2024, 9));
        assert_eq!(numeric_month("2016-13"), None);
        assert_eq!(numeric_month("April-2016"), None);
        assert_eq!(numeric_month("TOTAL"), None);
    }

    #[test]
    fn month_bounds() {
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2023, 12, 31)), d(2023, 12, 31));
        assert_eq!(month_start(d(2023, 12, 31)), d(2023, 12, 1));
    }
}
