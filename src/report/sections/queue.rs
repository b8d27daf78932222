//! Section 4, the social-care queue: for hospital-discharge requests made in the headline
//! month, days from referral to service start by council and service type — median as a
//! bar, 90th percentile as a whisker (`published/social_care_queue`).

use std::cmp::Ordering;

use super::super::data::{Cell, QueueRow};
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::BLUE;
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, missing, td};
use crate::publish::Dataset;

const ID: &str = "queue";
const TITLE: &str = "Social-care queue";
/// `service_type` of requests whose service had not started.
const NOT_STARTED: &str = "not_started";

fn service_label(s: &str) -> String {
    if s == NOT_STARTED {
        "no service started yet".to_string()
    } else {
        s.to_string()
    }
}

pub fn section(cx: &Context) -> Section {
    let (Some(all), Some(p)) = (&cx.data.queue, cx.period) else {
        return missing(
            ID,
            TITLE,
            "published/social_care_queue",
            cx.data.queue.is_some(),
        );
    };
    let bounds = cx.data.bounds(Dataset::SocialCareQueue);
    let rows: Vec<&QueueRow> = all.iter().filter(|r| r.month == p.month).collect();

    // Bars: services that started, longest median first, suppressed after.
    let mut started: Vec<&QueueRow> = rows
        .iter()
        .copied()
        .filter(|r| r.service_type != NOT_STARTED)
        .collect();
    started.sort_by(|a, b| {
        let key = |r: &QueueRow| r.median_days_to_service.shown();
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(|| a.la_code.cmp(&b.la_code))
        .then_with(|| a.service_type.cmp(&b.service_type))
    });
    let bars: Vec<Bar> = started
        .iter()
        .map(|r| {
            let (value, text) = match r.median_days_to_service {
                Cell::Shown(m) => (
                    BarValue::Value(m),
                    match r.p90_days_to_service {
                        Cell::Shown(p90) => format!(
                            "median {} days · 90th percentile {}",
                            format::num(m),
                            format::num(p90)
                        ),
                        _ => format!("median {} days", format::num(m)),
                    },
                ),
                Cell::Suppressed => (
                    BarValue::Suppressed,
                    format::suppressed(bounds.in_row("median_days_to_service", *r)),
                ),
                Cell::Empty => (BarValue::Empty, "no service started".to_string()),
            };
            Bar {
                label: format!("Council {} · {}", r.la_code, r.service_type),
                value,
                whisker: r.p90_days_to_service.shown(),
                colour: BLUE,
                text,
            }
        })
        .collect();
    let longest = started.iter().find_map(|r| {
        r.median_days_to_service.shown().map(|m| {
            (
                format!("{} from council {}", r.service_type, r.la_code),
                m,
                r.p90_days_to_service,
            )
        })
    });
    let reading = match p.care_gap(p.month) {
        // No rows at all for the month is not "every group suppressed".
        Some(gap) if rows.is_empty() => format!(
            "No waiting times can be shown for referrals made in {}: {gap}.",
            format::month(p.month)
        ),
        _ => text::queue(
            p.month,
            longest,
            started
                .iter()
                .filter(|r| r.median_days_to_service.is_suppressed())
                .count(),
            rows.len(),
        ),
    };

    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| {
        a.la_code
            .cmp(&b.la_code)
            .then_with(|| a.service_type.cmp(&b.service_type))
    });
    let table = Table {
        id: "table-queue".to_string(),
        caption: format!(
            "Hospital-discharge requests made in {} and their waits, by council and service",
            format::month(p.month)
        ),
        head: [
            "Council",
            "Service",
            "Requests",
            "Assessed",
            "Median days to assessment",
            "Service started",
            "Median days to service",
            "90th percentile days to service",
            "Still waiting at month end",
        ]
        .map(String::from)
        .to_vec(),
        rows: sorted
            .iter()
            .map(|r| {
                let h = |c: &str| bounds.in_row(c, *r);
                vec![
                    Td::Head(r.la_code.clone()),
                    Td::Text(service_label(&r.service_type)),
                    td(r.requests, h("requests"), format::int),
                    td(r.assessed, h("assessed"), format::int),
                    td(
                        r.median_days_to_assessment,
                        h("median_days_to_assessment"),
                        format::num,
                    ),
                    td(r.service_started, h("service_started"), format::int),
                    td(
                        r.median_days_to_service,
                        h("median_days_to_service"),
                        format::num,
                    ),
                    td(r.p90_days_to_service, h("p90_days_to_service"), format::num),
                    td(
                        r.still_waiting_at_month_end,
                        h("still_waiting_at_month_end"),
                        format::int,
                    ),
                ]
            })
            .collect(),
    };
    let body = if rows.is_empty() {
        String::new()
    } else if bars.is_empty() {
        html::table(&table)
    } else {
        let svg = svg::bar_chart(&BarChart {
            id: "chart-queue",
            title: &format!(
                "Days from hospital referral to service start, {}",
                format::month(p.month)
            ),
            desc: &format!(
                "Bar chart of the median days from a hospital-discharge request to the start of the service, by council and service type, for requests made in {}; a whisker marks the 90th percentile. {reading}",
                format::month(p.month)
            ),
            unit: "days from referral to service start",
            bars: &bars,
        });
        html::chart(
            &format!(
                "Days from hospital referral to service start, requests made in {}",
                format::month(p.month)
            ),
            &svg,
            &table,
            "Bar: median (half waited this long or more). Whisker: 90th percentile (one in ten waited this long or more). Requests made late in the month may not have a service yet; they count as still waiting.",
        )
    };
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!(
            "hospital-discharge requests made in {}",
            format::month(p.month)
        ),
        reading,
        body,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::report::data::ReportData;
    use crate::report::period::Period;

    fn month(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).unwrap()
    }

    /// A group of 10 requests made in `m` whose service had not started.
    fn not_started(m: NaiveDate, la: &str) -> QueueRow {
        QueueRow {
            month: m,
            la_code: la.to_string(),
            service_type: NOT_STARTED.to_string(),
            requests: Cell::Shown(10),
            assessed: Cell::Shown(10),
            median_days_to_assessment: Cell::Shown(1.0),
            service_started: Cell::Shown(0),
            median_days_to_service: Cell::Empty,
            p90_days_to_service: Cell::Empty,
            still_waiting_at_month_end: Cell::Shown(10),
        }
    }

    fn reading(rows: Vec<QueueRow>, m: NaiveDate) -> Section {
        let data = ReportData {
            queue: Some(rows),
            ..Default::default()
        };
        let cx = Context {
            data: &data,
            period: Some(Period {
                month: m,
                first_month: m,
                last_month: month(4),
                data_end: None,
                daily_end: None,
                data_start: None,
                month_incomplete: false,
                care_end: Some(crate::report::period::month_end(month(4))),
            }),
            icb: None,
        };
        section(&cx)
    }

    /// Regression (review): "No waiting times can be shown for referrals made in March
    /// 2026: every group is too small and is suppressed", above a table of groups of 10
    /// requests, none suppressed, whose service had not started; and the same of a month
    /// with no requests at all.
    #[test]
    fn regression_the_queue_reading_says_no_service_started_or_no_requests() {
        let rows = vec![not_started(month(3), "902"), not_started(month(3), "903")];
        let s = reading(rows.clone(), month(3));
        assert_eq!(
            s.reading,
            "No service had started yet for any request made in March 2026."
        );
        assert!(s.body.contains("no service started yet"), "{}", s.body);
        assert!(!s.body.contains("suppressed"), "{}", s.body);

        // February: no rows, though the social-care data reach April.
        let s = reading(rows, month(2));
        assert_eq!(
            s.reading,
            "No hospital-discharge requests were published for February 2026."
        );
    }

    /// Regression (review): the chart note said the median is where "half waited longer"
    /// while the reading said "half waited 15 days or more".
    #[test]
    fn regression_the_chart_note_and_reading_both_say_or_more() {
        let mut started = not_started(month(3), "902");
        started.service_type = "home_care".to_string();
        started.service_started = Cell::Shown(10);
        started.median_days_to_service = Cell::Shown(15.0);
        started.p90_days_to_service = Cell::Shown(30.0);
        let s = reading(vec![started], month(3));
        assert!(
            s.reading
                .contains("half waited 15 days or more (one in ten waited 30 days or more)"),
            "{}",
            s.reading
        );
        assert!(
            s.body.contains("Bar: median (half waited this long or more). Whisker: 90th percentile (one in ten waited this long or more)."),
            "{}",
            s.body
        );
        assert!(!s.body.contains("waited longer"), "{}", s.body);
    }
}
