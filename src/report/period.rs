//! Which period the report covers: the headline month (the latest month the data covers
//! completely), the months shown beside it, and calendar arithmetic on months.

use chrono::{Datelike, NaiveDate};

use super::data::ReportData;

/// Months shown before the headline month in trends and daily charts.
pub const MONTHS_BEFORE: u32 = 2;

/// The report's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day of the headline month.
    pub month: NaiveDate,
    /// First day of the first month shown in trends.
    pub first_month: NaiveDate,
    /// First day of the last month with any data (may be after `month` and incomplete).
    pub last_month: NaiveDate,
    /// The last day of daily data (`flow_daily`), when there is any.
    pub data_end: Option<NaiveDate>,
    /// The headline month is not covered to its last day (no complete month exists).
    pub month_incomplete: bool,
    /// First day of the last month of social-care data (`social_care_queue`), when it is
    /// published: after it, a delay cannot be seen to be waiting for a care service.
    pub care_end: Option<NaiveDate>,
}

impl Period {
    /// Chooses the headline month: the latest month of monthly data that the daily data
    /// covers to its last day; without daily data, the latest month.
    pub fn choose(data: &ReportData) -> Option<Period> {
        let mut months: Vec<NaiveDate> = Vec::new();
        if let Some(b) = &data.bottlenecks {
            months.extend(b.iter().map(|r| r.month));
        }
        if let Some(q) = &data.queue {
            months.extend(q.iter().map(|r| r.month));
        }
        if let Some(f) = &data.flow {
            months.extend(f.iter().map(|r| month_start(r.date)));
        }
        months.sort();
        months.dedup();
        let last_month = *months.last()?;
        let data_end = data
            .flow
            .as_ref()
            .and_then(|f| f.iter().map(|r| r.date).max());
        let complete = |m: &NaiveDate| data_end.is_none_or(|end| month_end(*m) <= end);
        let (month, month_incomplete) = match months.iter().rev().find(|m| complete(m)) {
            Some(m) => (*m, false),
            None => (last_month, true),
        };
        let first_month = add_months(month, -(MONTHS_BEFORE as i32)).max(months[0]);
        let care_end = data
            .queue
            .as_ref()
            .and_then(|q| q.iter().map(|r| r.month).max());
        Some(Period {
            month,
            first_month,
            last_month,
            data_end,
            month_incomplete,
            care_end,
        })
    }

    /// Whether social-care data reach month `m` (unknown coverage counts as reaching).
    pub fn care_covers(&self, m: NaiveDate) -> bool {
        self.care_end.is_none_or(|end| m <= end)
    }

    /// "social-care data end in November 2025", when month `m` is after them.
    pub fn care_gap(&self, m: NaiveDate) -> Option<String> {
        let end = self.care_end.filter(|_| !self.care_covers(m))?;
        Some(format!(
            "social-care data end in {}",
            super::format::month(end)
        ))
    }

    /// The month before the headline month.
    pub fn previous_month(&self) -> NaiveDate {
        add_months(self.month, -1)
    }

    /// Months from `first_month` to `last_month`, in order.
    pub fn months(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut m = self.first_month;
        while m <= self.last_month {
            out.push(m);
            m = add_months(m, 1);
        }
        out
    }

    /// Whether the data stops before the end of month `m`.
    pub fn is_partial(&self, m: NaiveDate) -> bool {
        self.data_end.is_some_and(|end| month_end(m) > end)
    }

    /// Month `m` named by `name` (long or short), with the day its data stops when it
    /// stops before the month ends: `September 2026 (to 14 Sep)`. Charts and tables name
    /// a month alike, so a part month never reads as a whole one.
    pub fn month_label(&self, m: NaiveDate, name: fn(NaiveDate) -> String) -> String {
        match self.data_end.filter(|_| self.is_partial(m)) {
            // A month starting after the daily data end has none of it.
            Some(end) if m > end => format!(
                "{} (daily data end {})",
                name(m),
                super::format::day_short(end)
            ),
            Some(end) => format!("{} (to {})", name(m), super::format::day_short(end)),
            None => name(m),
        }
    }
}

/// The first day of `d`'s month.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s month.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    add_months(month_start(d), 1)
        .pred_opt()
        .unwrap_or(month_start(d))
}

/// The first day of the month `n` months after `d`'s (negative: before).
pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + n;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::{Cell, FlowDay};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(add_months(d(2026, 1, 15), -1), d(2025, 12, 1));
        assert_eq!(add_months(d(2026, 11, 1), 2), d(2027, 1, 1));
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2026, 12, 31)), d(2026, 12, 31));
        assert_eq!(month_start(d(2026, 9, 30)), d(2026, 9, 1));
    }

    fn day(provider: &str, date: NaiveDate) -> FlowDay {
        let c = Cell::Shown(0);
        FlowDay {
            provider_code: provider.to_string(),
            date,
            admissions_elective: c,
            admissions_emergency: c,
            admissions_other: c,
            discharges: c,
            occupied_beds_midnight: c,
            ready_to_leave_in_hospital: c,
            ae_arrivals: c,
            ae_over_4h: c,
            ae_over_12h: c,
        }
    }

    fn data(flow: Option<Vec<FlowDay>>) -> ReportData {
        ReportData {
            manifest: None,
            bottlenecks: None,
            flow,
            queue: None,
            linkage: None,
            sitrep: None,
            other_pipelines: Default::default(),
        }
    }

    #[test]
    fn the_headline_month_is_the_latest_the_daily_data_covers_to_its_end() {
        // Daily data from 1 July to 27 October: October is incomplete, so September leads.
        let mut days = Vec::new();
        let mut x = d(2026, 7, 1);
        while x <= d(2026, 10, 27) {
            days.push(day("RX1", x));
            x = x.succ_opt().unwrap();
        }
        let p = Period::choose(&data(Some(days))).unwrap();
        assert_eq!(p.month, d(2026, 9, 1));
        assert!(!p.month_incomplete);
        assert_eq!(p.first_month, d(2026, 7, 1));
        assert_eq!(p.last_month, d(2026, 10, 1));
        assert_eq!(p.data_end, Some(d(2026, 10, 27)));
        assert_eq!(p.previous_month(), d(2026, 8, 1));
        assert_eq!(p.months().len(), 4);
        assert!(p.is_partial(d(2026, 10, 1)) && !p.is_partial(d(2026, 9, 1)));
        // Regression: the A&E table named the part month as if whole (its chart did not).
        assert_eq!(
            p.month_label(d(2026, 10, 1), crate::report::format::month),
            "October 2026 (to 27 Oct)"
        );
        assert_eq!(
            p.month_label(d(2026, 9, 1), crate::report::format::month),
            "September 2026"
        );
        // Regression (review): a month of monthly data after the daily data end read
        // "November 2026 (to 27 Oct)".
        assert_eq!(
            p.month_label(d(2026, 11, 1), crate::report::format::month),
            "November 2026 (daily data end 27 Oct)"
        );

        // Only part of one month: that month, flagged incomplete.
        let p = Period::choose(&data(Some(vec![day("RX1", d(2026, 7, 3))]))).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 7, 1), true));

        assert_eq!(Period::choose(&data(None)), None);
    }

    /// Regression: months after the social-care data ended read "about 0% waiting for
    /// social care"; such months now say the data end instead.
    #[test]
    fn months_after_the_social_care_data_are_not_covered() {
        let p = Period {
            month: d(2026, 3, 1),
            first_month: d(2026, 1, 1),
            last_month: d(2026, 3, 1),
            data_end: None,
            month_incomplete: false,
            care_end: Some(d(2025, 11, 1)),
        };
        assert!(p.care_covers(d(2025, 11, 1)) && !p.care_covers(d(2025, 12, 1)));
        assert_eq!(
            p.care_gap(d(2026, 3, 1)).as_deref(),
            Some("social-care data end in November 2025")
        );
        assert_eq!(p.care_gap(d(2025, 10, 1)), None);
        let unknown = Period {
            care_end: None,
            ..p
        };
        assert!(unknown.care_covers(d(2026, 3, 1)));
    }
}
