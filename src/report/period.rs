//! Which period the report covers: the headline month (the latest month the data covers
//! completely), the months shown beside it, and calendar arithmetic on months.
//!
//! A month is incomplete at either end of the hospital data: after they end (or may end),
//! and the first month of them, which cannot hold the patients admitted before the
//! extract begins (the sample's July: occupied beds climb from 1–7 on 1 July).

use chrono::{Datelike, NaiveDate};

use super::data::{Cell, FlowDay, ReportData};

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
    /// The last day the daily hospital data (`flow_daily`) cover completely: the earlier
    /// of the last day with an admission and the last day with a discharge (see
    /// [`hospital_ends`]), when there is daily data. After it, days hold only some of
    /// the activity (the sample's October: discharges of patients admitted by 30
    /// September, no admissions).
    pub data_end: Option<NaiveDate>,
    /// The last day of any daily data (may be after `data_end`).
    pub daily_end: Option<NaiveDate>,
    /// The first day of the hospital data: with daily data, the first day with an
    /// admission, a discharge or an occupied bed; without, the first day of the first
    /// month of delayed discharges. Its month, and any before it, are incomplete: the
    /// extract cannot see patients admitted before it begins, so their beds and delays
    /// are missing (regression: a comparison with such a month read "190 more than in
    /// August 2026" where the full extract had September fall).
    pub data_start: Option<NaiveDate>,
    /// The headline month is not known to be covered to its last day (no complete month
    /// exists).
    pub month_incomplete: bool,
    /// The last day the social-care data (the CLD submissions) cover, as the run
    /// manifest records it (their latest reporting period end): after it, a delay cannot
    /// be seen to be waiting for a care service. Not known (`None`) without a manifest
    /// that records it; the last month of `social_care_queue` is no measure of it (with
    /// few people it can be months before the files end).
    pub care_end: Option<NaiveDate>,
}

/// Whether a day of `flow_daily` has an admission (shown above zero, or suppressed: a
/// suppressed count is at least 1).
fn has_admission(r: &FlowDay) -> bool {
    [
        r.admissions_elective,
        r.admissions_emergency,
        r.admissions_other,
    ]
    .iter()
    .any(|c| some(*c))
}

/// Whether a count is at least 1: shown above zero, or suppressed.
fn some(c: Cell<i64>) -> bool {
    c.is_suppressed() || c.shown().is_some_and(|v| v > 0)
}

/// The first day of `flow_daily` with any hospital activity: an admission, a discharge, an
/// occupied bed or a patient ready to leave (A&E alone is not the hospital data).
pub fn hospital_start(rows: &[FlowDay]) -> Option<NaiveDate> {
    rows.iter()
        .filter(|r| {
            has_admission(r)
                || some(r.discharges)
                || some(r.occupied_beds_midnight)
                || some(r.ready_to_leave_in_hospital)
        })
        .map(|r| r.date)
        .min()
}

/// The last day of `flow_daily` with an admission, and the last with a discharge. The
/// daily rows run to the last day with any activity, so a hospital extract of spells
/// admitted to 30 September gives days to late October holding only the discharges of
/// patients admitted by then: no admissions, and beds falling for want of them.
pub fn hospital_ends(rows: &[FlowDay]) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let last = |f: &dyn Fn(&FlowDay) -> bool| rows.iter().filter(|r| f(r)).map(|r| r.date).max();
    (last(&has_admission), last(&|r| some(r.discharges)))
}

/// `m`, or when it is after the run's month the latest of `months` that is not (the
/// earliest month when none is).
fn latest_by_run_with(months: &[NaiveDate], m: NaiveDate, ran: Option<NaiveDate>) -> NaiveDate {
    match ran.map(month_start) {
        Some(r) if m > r => months
            .iter()
            .rev()
            .find(|x| **x <= r)
            .copied()
            .unwrap_or(months[0]),
        _ => m,
    }
}

impl Period {
    /// One month shown on its own (tests): headline, first and last month `m`, no daily
    /// data, complete, social-care data to `care_end`.
    #[cfg(test)]
    pub(crate) fn one_month(m: NaiveDate, care_end: Option<NaiveDate>) -> Period {
        Period {
            month: m,
            first_month: m,
            last_month: m,
            data_end: None,
            daily_end: None,
            data_start: None,
            month_incomplete: false,
            care_end,
        }
    }

    /// Chooses the headline month: the latest month the data are known to cover to its
    /// last day. With daily data, that is the latest month the daily hospital data cover
    /// completely (to `data_end`). Without, coverage is not known: the latest month of
    /// delayed discharges may hold only part of its days (an extract to 27 October), so
    /// only the months before it count as complete — the data reach past their end. The
    /// first month of the hospital data is never complete (see [`Period::data_start`]).
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
        // Nothing after the run's date has happened: a month after its month is never the
        // headline, nor is the data's end after it (regression, review F5: one discharge
        // typed 2099 made the headline "June 2099 · data complete to 1 July 2099").
        let ran = data.manifest.as_ref().and_then(|m| m.run_day());
        let after_run = |m: &NaiveDate| ran.is_some_and(|r| *m > month_start(r));
        let latest_by_run = |months: &[NaiveDate], m| latest_by_run_with(months, m, ran);
        let last_month = *months.last()?;
        // Days after the run's date are left out of how far the data reach.
        let flow: Option<Vec<FlowDay>> = data.flow.as_ref().map(|f| {
            f.iter()
                .filter(|r| ran.is_none_or(|x| r.date <= x))
                .cloned()
                .collect()
        });
        let daily_end = flow.as_ref().and_then(|f| f.iter().map(|r| r.date).max());
        let data_end = flow.as_ref().and_then(|f| match hospital_ends(f) {
            (Some(a), Some(d)) => Some(a.min(d)),
            (Some(a), None) => Some(a),
            // Discharges but no admissions (the tail of an extract, say): not known to be
            // complete anywhere (regression, review: October's discharges alone read
            // "data to 27 October 2026", admissions as real zeros).
            (None, Some(_)) => None,
            // No hospital activity at all (A&E only): the daily data's own end.
            (None, None) => daily_end,
        });
        // Without daily data, the months the headline is chosen among: those of delayed
        // discharges (its subject), else every month.
        let basis_last = data
            .bottlenecks
            .as_ref()
            .and_then(|b| b.iter().map(|r| r.month).filter(|m| !after_run(m)).max())
            .unwrap_or(last_month);
        let data_start = match &flow {
            Some(f) => hospital_start(f),
            None => data
                .bottlenecks
                .as_ref()
                .and_then(|b| b.iter().map(|r| r.month).min()),
        };
        let starts_after = |m: &NaiveDate| data_start.is_some_and(|s| *m <= month_start(s));
        let complete = |m: &NaiveDate| {
            !starts_after(m)
                && !after_run(m)
                && ran.is_none_or(|r| month_end(*m) < r)
                && match data_end {
                    Some(end) => month_end(*m) <= end,
                    None => *m < basis_last,
                }
        };
        let (month, month_incomplete) = match months.iter().rev().find(|m| complete(m)) {
            Some(m) => (*m, false),
            None if data_end.is_some() => (latest_by_run(&months, last_month), true),
            None => (latest_by_run(&months, basis_last), true),
        };
        let first_month = add_months(month, -(MONTHS_BEFORE as i32)).max(months[0]);
        // Shown months end with the run's month: those after it are not drawn.
        let last_month = latest_by_run(&months, last_month).max(month);
        let care_end = data
            .manifest
            .as_ref()
            .and_then(|m| m.social_care_resolution.as_ref())
            .and_then(|r| r.reporting_period_end);
        Some(Period {
            month,
            first_month,
            last_month,
            data_end,
            daily_end,
            data_start,
            month_incomplete,
            care_end,
        })
    }

    /// Whether month `m` is the first month of the hospital data, or before it: the
    /// extract cannot see patients admitted before it begins.
    pub fn before_start(&self, m: NaiveDate) -> bool {
        self.data_start.is_some_and(|s| m <= month_start(s))
    }

    /// Why month `m` is not complete, to follow "{month} is incomplete: " (or "may
    /// be"), or `None` when it is: `the hospital data start on 1 August 2026`, `the
    /// hospital data are complete only to 30 September 2026`, `it is the first month of
    /// the data`, or [`Period::unknown_why`].
    pub fn partial_why(&self, m: NaiveDate) -> Option<String> {
        use super::format::day;
        if !self.is_partial(m) {
            return None;
        }
        Some(match (self.data_end, self.data_start) {
            (Some(_), Some(s)) if self.before_start(m) => {
                format!("the hospital data start on {}", day(s))
            }
            (Some(end), _) => format!("the hospital data are complete only to {}", day(end)),
            (None, _) if self.before_start(m) && m < self.month => {
                "it is the first month of the data".to_string()
            }
            (None, _) => self.unknown_why().to_string(),
        })
    }

    /// Why coverage is not known, when there is no complete daily data (`data_end` is
    /// `None`): `no daily data to tell`, or, with discharges only, `the daily data hold
    /// no admissions`.
    pub fn unknown_why(&self) -> &'static str {
        if self.no_admissions() {
            "the daily data hold no admissions"
        } else {
            "no daily data to tell"
        }
    }

    /// Whether the daily data hold discharges but no admissions, so are not known to be
    /// complete on any day.
    pub fn no_admissions(&self) -> bool {
        self.data_end.is_none() && self.daily_end.is_some()
    }

    /// "August 2026 is incomplete: the hospital data start on 1 August 2026" (or "may be
    /// incomplete" without daily data to tell), when month `m` is not complete.
    pub fn incomplete_note(&self, m: NaiveDate) -> Option<String> {
        let why = self.partial_why(m)?;
        Some(format!(
            "{} {}: {why}",
            super::format::month(m),
            if self.data_end.is_some() {
                "is incomplete"
            } else {
                "may be incomplete"
            }
        ))
    }

    /// Whether social-care data cover month `m` to its end (unknown coverage counts as
    /// covering).
    pub fn care_covers(&self, m: NaiveDate) -> bool {
        self.care_end.is_none_or(|end| month_end(m) <= end)
    }

    /// "social-care data end in November 2025" (or "on 15 November 2025", when they end
    /// within a month), when they do not cover month `m`.
    pub fn care_gap(&self, m: NaiveDate) -> Option<String> {
        let end = self.care_end.filter(|_| !self.care_covers(m))?;
        Some(if end == month_end(end) {
            format!("social-care data end in {}", super::format::month(end))
        } else {
            format!("social-care data end on {}", super::format::day(end))
        })
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

    /// Whether the data stop, or may stop, before the end of month `m`, or begin in it or
    /// after it ([`Period::before_start`]): with daily data, when they end before; without,
    /// every month after the headline month, and the headline month itself when it is the
    /// only one (coverage is not known).
    pub fn is_partial(&self, m: NaiveDate) -> bool {
        if self.before_start(m) {
            return true;
        }
        match self.data_end {
            Some(end) => month_end(m) > end,
            None => m > self.month || (m == self.month && self.month_incomplete),
        }
    }

    /// Month `m` named by `name` (long or short), said to be incomplete when the data do
    /// not cover it to its last day: `September 2026 (to 14 Sep)` when the complete
    /// daily data end within it, `October 2026 (incomplete: data to 30 Sep)` when they
    /// end before it, `July 2026 (incomplete: data from 1 Jul)` when the hospital data
    /// begin in it, `October 2026 (may be incomplete)` when there is no daily data to
    /// tell. Charts and tables name a month alike, so a part month never reads as a
    /// whole one.
    pub fn month_label(&self, m: NaiveDate, name: fn(NaiveDate) -> String) -> String {
        use super::format::day_short;
        if !self.is_partial(m) {
            return name(m);
        }
        match (self.data_end, self.data_start) {
            (Some(end), Some(s)) if self.before_start(m) => {
                if end < month_end(m) && m == month_start(s) {
                    format!(
                        "{} (incomplete: data {}–{})",
                        name(m),
                        s.format("%-d"),
                        day_short(end)
                    )
                } else {
                    format!("{} (incomplete: data from {})", name(m), day_short(s))
                }
            }
            _ => self.end_label(m, name),
        }
    }

    /// [`Period::month_label`] of a month the data end in, after, or may end in.
    fn end_label(&self, m: NaiveDate, name: fn(NaiveDate) -> String) -> String {
        match self.data_end {
            // A month starting after the complete data end has only part of its activity,
            // or none (regression: it read "November 2026 (to 27 Oct)").
            Some(end) if m > end => format!(
                "{} (incomplete: data to {})",
                name(m),
                super::format::day_short(end)
            ),
            Some(end) => format!("{} (to {})", name(m), super::format::day_short(end)),
            None => format!("{} (may be incomplete)", name(m)),
        }
    }

    /// What the page's subtitle says of the data's end: ` · data to 27 October 2026`,
    /// ` · data complete to 30 September 2026 (partial to 27 October 2026)`, or, without
    /// daily data, that the months after the headline month may be incomplete.
    pub fn data_end_note(&self) -> String {
        use super::format::{day, month};
        match (self.data_end, self.daily_end) {
            (Some(end), Some(last)) if last > end => format!(
                " · data complete to {} (partial to {})",
                day(end),
                day(last)
            ),
            (Some(end), _) => format!(" · data to {}", day(end)),
            (None, _) => {
                let why = if self.no_admissions() {
                    "the daily data hold no admissions"
                } else {
                    "no daily data"
                };
                if self.month_incomplete {
                    format!(" · {why}, so whether this month is complete is not known")
                } else if self.last_month == add_months(self.month, 1) {
                    format!(" · {why}, so {} may be incomplete", month(self.last_month))
                } else if self.last_month > self.month {
                    format!(
                        " · {why}, so the months after {} may be incomplete",
                        month(self.month)
                    )
                } else {
                    String::new()
                }
            }
        }
    }
}

/// Month `m` named by `name`, with the days `from`..=`to` some data cover when they are
/// not the whole month: `September 2026 (to 15 Sep)`, `July 2026 (from 10 Jul)`, `July
/// 2026 (10–15 Jul)`.
pub fn covered_label(
    m: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    name: fn(NaiveDate) -> String,
) -> String {
    use super::format::day_short;
    match (from > month_start(m), to < month_end(m)) {
        (false, false) => name(m),
        (false, true) => format!("{} (to {})", name(m), day_short(to)),
        (true, false) => format!("{} (from {})", name(m), day_short(from)),
        (true, true) if from == to => format!("{} ({} only)", name(m), day_short(from)),
        (true, true) => format!("{} ({}–{})", name(m), from.format("%-d"), day_short(to)),
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
            flow,
            ..Default::default()
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
        assert_eq!(p.daily_end, Some(d(2026, 10, 27)));
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
            "November 2026 (incomplete: data to 27 Oct)"
        );
        assert_eq!(p.data_end_note(), " · data to 27 October 2026");

        // Only part of one month: that month, flagged incomplete.
        let p = Period::choose(&data(Some(vec![day("RX1", d(2026, 7, 3))]))).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 7, 1), true));

        assert_eq!(Period::choose(&data(None)), None);
    }

    /// Regression (review F5): one spell typed as admitted 1 July 2099 and discharged
    /// 15 July 2099 made the headline "June 2099 · data complete to 1 July 2099". Nothing
    /// after the run's date (the manifest's `run_date`) is the headline or the data's
    /// end, nor a month shown.
    #[test]
    fn regression_no_month_after_the_run_is_the_headline() {
        let busy = |date| FlowDay {
            admissions_elective: Cell::Shown(3),
            discharges: Cell::Shown(3),
            ..day("RX1", date)
        };
        let mut days = Vec::new();
        let mut x = d(2026, 7, 1);
        while x <= d(2026, 10, 27) {
            days.push(busy(x));
            x = x.succ_opt().unwrap();
        }
        days.extend([busy(d(2099, 7, 1)), busy(d(2099, 7, 15))]);
        let mut data = data(Some(days));
        data.manifest = Some(
            serde_json::from_str(
                r#"{"run_id": "r", "status": "ok", "pipeline": {"name": "p"},
                "finished_at": "2026-11-28T02:00:00Z", "run_date": "2026-11-28"}"#,
            )
            .unwrap(),
        );
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 9, 1), false));
        assert_eq!(p.data_end, Some(d(2026, 10, 27)));
        assert_eq!(p.last_month, d(2026, 10, 1));
        // A month that has not ended by the run's date is not complete either.
        let m = data.manifest.as_mut().unwrap();
        m.run_date = "2026-09-30".into();
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.month, p.last_month), (d(2026, 8, 1), d(2026, 9, 1)));
    }

    /// Regression (review): the sample's hospital extract holds spells admitted to 30
    /// September, and its daily rows run to 27 October with discharges only; the page
    /// said "data to 27 October 2026" and October's days read as real zeros of
    /// admissions. The daily data are complete only to the last day with an admission.
    #[test]
    fn regression_the_daily_data_end_with_the_last_admission_not_the_last_row() {
        let mut days = Vec::new();
        let mut x = d(2026, 7, 1);
        while x <= d(2026, 10, 27) {
            let mut r = day("RX1", x);
            if x <= d(2026, 9, 30) {
                r.admissions_emergency = Cell::Suppressed;
            }
            r.discharges = Cell::Shown(10);
            days.push(r);
            x = x.succ_opt().unwrap();
        }
        assert_eq!(
            hospital_ends(&days),
            (Some(d(2026, 9, 30)), Some(d(2026, 10, 27)))
        );
        let p = Period::choose(&data(Some(days.clone()))).unwrap();
        assert_eq!(p.month, d(2026, 9, 1));
        assert_eq!(p.data_end, Some(d(2026, 9, 30)));
        assert_eq!(p.daily_end, Some(d(2026, 10, 27)));
        assert_eq!(
            p.data_end_note(),
            " · data complete to 30 September 2026 (partial to 27 October 2026)"
        );
        assert_eq!(
            p.month_label(d(2026, 10, 1), crate::report::format::month),
            "October 2026 (incomplete: data to 30 Sep)"
        );

        // Discharges ending first (an extract of spells discharged to 14 September):
        // complete to then, so August leads.
        for r in &mut days {
            if r.date > d(2026, 9, 14) {
                r.discharges = Cell::Shown(0);
            }
        }
        let p = Period::choose(&data(Some(days))).unwrap();
        assert_eq!((p.month, p.data_end), (d(2026, 8, 1), Some(d(2026, 9, 14))));
        assert_eq!(
            p.month_label(d(2026, 9, 1), crate::report::format::month),
            "September 2026 (to 14 Sep)"
        );
    }

    /// Regression (review): an extract of spells admitted from 1 August made August the
    /// comparison month, and the page read "190 more than in August 2026" where, with
    /// the full extract, September fell: August's delays of patients admitted before 1
    /// August were missing. The first month of the hospital data is incomplete.
    #[test]
    fn regression_the_first_month_of_the_hospital_data_is_incomplete() {
        let mut days = Vec::new();
        let mut x = d(2026, 7, 1);
        while x <= d(2026, 10, 27) {
            let mut r = day("RX1", x);
            // A&E from 1 July; the hospital from 1 August.
            r.ae_arrivals = Cell::Shown(100);
            if x >= d(2026, 8, 1) {
                r.occupied_beds_midnight = Cell::Suppressed;
                r.discharges = Cell::Shown(10);
            }
            if (d(2026, 8, 1)..=d(2026, 9, 30)).contains(&x) {
                r.admissions_emergency = Cell::Shown(10);
            }
            days.push(r);
            x = x.succ_opt().unwrap();
        }
        assert_eq!(hospital_start(&days), Some(d(2026, 8, 1)));
        let p = Period::choose(&data(Some(days.clone()))).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 9, 1), false));
        assert_eq!(p.data_start, Some(d(2026, 8, 1)));
        assert!(p.is_partial(d(2026, 8, 1)) && p.is_partial(d(2026, 7, 1)));
        assert!(!p.is_partial(d(2026, 9, 1)));
        let name = crate::report::format::month;
        assert_eq!(
            p.month_label(d(2026, 8, 1), name),
            "August 2026 (incomplete: data from 1 Aug)"
        );
        assert_eq!(
            p.month_label(d(2026, 7, 1), name),
            "July 2026 (incomplete: data from 1 Aug)"
        );
        assert_eq!(
            p.incomplete_note(d(2026, 8, 1)).as_deref(),
            Some("August 2026 is incomplete: the hospital data start on 1 August 2026")
        );
        assert_eq!(p.incomplete_note(d(2026, 9, 1)), None);

        // Hospital data from 1 August to 30 August only: August is the only month, and
        // incomplete at both ends.
        let p = Period::choose(&data(Some(
            days.into_iter()
                .filter(|r| r.date <= d(2026, 8, 30))
                .collect(),
        )))
        .unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 8, 1), true));
        assert_eq!(
            p.month_label(d(2026, 8, 1), name),
            "August 2026 (incomplete: data 1–30 Aug)"
        );

        // Without daily data, the first month of delayed discharges may be incomplete.
        let mut data = data(None);
        data.bottlenecks = Some(
            [d(2026, 8, 1), d(2026, 9, 1), d(2026, 10, 1)]
                .iter()
                .map(|m| bottleneck(*m))
                .collect(),
        );
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 9, 1), false));
        assert_eq!(
            p.month_label(d(2026, 8, 1), name),
            "August 2026 (may be incomplete)"
        );
        assert_eq!(
            p.incomplete_note(d(2026, 8, 1)).as_deref(),
            Some("August 2026 may be incomplete: it is the first month of the data")
        );
    }

    /// Regression (review): the sample's October alone (discharges to 27 October, no
    /// admissions) read "data to 27 October 2026", its admissions as real zeros. Without
    /// admissions the daily data are not known to be complete.
    #[test]
    fn regression_discharges_without_admissions_are_not_taken_as_complete() {
        let mut days = Vec::new();
        let mut x = d(2026, 10, 1);
        while x <= d(2026, 10, 27) {
            let mut r = day("RX1", x);
            r.discharges = Cell::Shown(10);
            days.push(r);
            x = x.succ_opt().unwrap();
        }
        let mut data = data(Some(days));
        data.bottlenecks = Some(vec![bottleneck(d(2026, 10, 1))]);
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 10, 1), true));
        assert_eq!((p.data_end, p.daily_end), (None, Some(d(2026, 10, 27))));
        assert!(p.no_admissions());
        assert_eq!(
            p.data_end_note(),
            " · the daily data hold no admissions, so whether this month is complete is not known"
        );
        assert_eq!(
            p.month_label(d(2026, 10, 1), crate::report::format::month),
            "October 2026 (may be incomplete)"
        );
        assert_eq!(p.unknown_why(), "the daily data hold no admissions");
    }

    fn bottleneck(month: NaiveDate) -> crate::report::data::Bottleneck {
        crate::report::data::Bottleneck {
            month,
            rank: Some(1),
            la_code: None,
            awaited_service: "none".to_string(),
            provider_code: "RX1".to_string(),
            delayed_discharges: Cell::Shown(10),
            delayed_bed_days: Cell::Shown(100),
            system_delayed_discharges: Cell::Shown(10),
            system_delayed_bed_days: Cell::Shown(100),
            share_of_system_pct: Cell::Empty,
            change_in_delayed_bed_days: Cell::Empty,
        }
    }

    /// Regression (review): without `flow_daily`, coverage was taken as complete, so
    /// October, holding discharges only to 27 October, was the headline month, "205
    /// days …, 275 fewer than in September 2026 (−57%)": a false improvement. Without
    /// daily data only the months before the last are known to be complete.
    #[test]
    fn regression_without_daily_data_the_latest_month_is_not_taken_as_complete() {
        let months = [d(2026, 7, 1), d(2026, 8, 1), d(2026, 9, 1), d(2026, 10, 1)];
        let mut data = data(None);
        data.bottlenecks = Some(months.iter().map(|m| bottleneck(*m)).collect());
        let p = Period::choose(&data).unwrap();
        assert_eq!(p.month, d(2026, 9, 1));
        assert!(!p.month_incomplete);
        assert_eq!((p.data_end, p.daily_end), (None, None));
        assert_eq!(p.last_month, d(2026, 10, 1));
        assert!(p.is_partial(d(2026, 10, 1)) && !p.is_partial(d(2026, 9, 1)));
        assert_eq!(
            p.month_label(d(2026, 10, 1), crate::report::format::month),
            "October 2026 (may be incomplete)"
        );
        assert_eq!(
            p.data_end_note(),
            " · no daily data, so October 2026 may be incomplete"
        );

        // Only one month: that month, not known to be complete.
        data.bottlenecks = Some(vec![bottleneck(d(2026, 9, 1))]);
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.month, p.month_incomplete), (d(2026, 9, 1), true));
        assert!(p.is_partial(d(2026, 9, 1)));
        assert_eq!(
            p.data_end_note(),
            " · no daily data, so whether this month is complete is not known"
        );
    }

    /// Regression (review): A&E data ending on 15 September labelled the month
    /// "September 2026", as if whole.
    #[test]
    fn a_month_covered_in_part_says_which_days() {
        let name = crate::report::format::month;
        let sep = d(2026, 9, 1);
        assert_eq!(
            covered_label(sep, d(2026, 9, 1), d(2026, 9, 15), name),
            "September 2026 (to 15 Sep)"
        );
        assert_eq!(
            covered_label(sep, d(2026, 9, 1), d(2026, 9, 30), name),
            "September 2026"
        );
        assert_eq!(
            covered_label(sep, d(2026, 9, 10), d(2026, 9, 30), name),
            "September 2026 (from 10 Sep)"
        );
        assert_eq!(
            covered_label(sep, d(2026, 9, 10), d(2026, 9, 15), name),
            "September 2026 (10–15 Sep)"
        );
        assert_eq!(
            covered_label(sep, d(2026, 9, 10), d(2026, 9, 10), name),
            "September 2026 (10 Sep only)"
        );
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
            daily_end: None,
            data_start: None,
            month_incomplete: false,
            care_end: Some(d(2025, 11, 30)),
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
        // Ending within a month: that month is not covered, and the day is named.
        let mid = Period {
            care_end: Some(d(2025, 11, 15)),
            ..p
        };
        assert!(mid.care_covers(d(2025, 10, 1)) && !mid.care_covers(d(2025, 11, 1)));
        assert_eq!(
            mid.care_gap(d(2025, 11, 1)).as_deref(),
            Some("social-care data end on 15 November 2025")
        );
    }

    fn queue_row(month: NaiveDate) -> crate::report::data::QueueRow {
        crate::report::data::QueueRow {
            month,
            la_code: "902".to_string(),
            service_type: "home_care".to_string(),
            requests: Cell::Shown(10),
            assessed: Cell::Shown(10),
            median_days_to_assessment: Cell::Shown(2.0),
            service_started: Cell::Shown(10),
            median_days_to_service: Cell::Shown(5.0),
            p90_days_to_service: Cell::Shown(9.0),
            still_waiting_at_month_end: Cell::Shown(0),
        }
    }

    /// Regression (review, synth 300/2/7): with few people the last month of requests
    /// was September 2025, and the page said "social-care data end in September 2025"
    /// of CLD files running to March 2026. Where the social-care data end comes from the
    /// manifest's latest reporting period end, never from the last month of requests.
    #[test]
    fn regression_social_care_data_end_where_the_cld_files_end_not_with_the_last_request() {
        let manifest = |end: Option<&str>| -> crate::report::data::RunManifest {
            let end = end.map_or("null".to_string(), |e| format!("\"{e}\""));
            serde_json::from_str(&format!(
                r#"{{"run_id": "r", "status": "ok", "pipeline": {{"name": "p"}}, "finished_at": "t",
                "social_care_resolution": {{"events_in": 1, "superseded_by_later_submission": 0,
                "person_key_backfilled": 0, "without_nhs_key": 0, "reporting_period_end": {end}}}}}"#
            ))
            .unwrap()
        };
        let mut data = data(None);
        data.bottlenecks = Some(
            (0..7)
                .map(|i| bottleneck(add_months(d(2025, 9, 1), i)))
                .collect(),
        );
        data.queue = Some(vec![queue_row(d(2025, 9, 1))]);
        data.manifest = Some(manifest(Some("2026-03-31")));
        let p = Period::choose(&data).unwrap();
        assert_eq!(p.care_end, Some(d(2026, 3, 31)));
        assert_eq!(p.care_gap(p.month), None);
        assert!(p.care_covers(d(2026, 3, 1)));
        // Not recorded (a manifest of an earlier version): not known, so not claimed.
        data.manifest = Some(manifest(None));
        let p = Period::choose(&data).unwrap();
        assert_eq!((p.care_end, p.care_gap(p.month)), (None, None));
        // A manifest whose date is not one is no manifest to read.
        let bad: Result<crate::report::data::RunManifest, _> = serde_json::from_str(
            r#"{"run_id": "r", "status": "ok", "pipeline": {"name": "p"}, "finished_at": "t",
            "social_care_resolution": {"events_in": 1, "superseded_by_later_submission": 0,
            "person_key_backfilled": 0, "without_nhs_key": 0, "reporting_period_end": "March"}}"#,
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("\"March\" is not a date")
        );
    }
}
