//! `social_care_queue`: requests to councils from hospital discharge, and how long they
//! wait, per request month × local authority × service type.
//!
//! For each request with route `discharge_route`: the first assessment and the first
//! service of the same council person starting on or after the request and at most
//! `window_days` after it. `service_type` is that service's type, or `not_started`.
//! `still_waiting_at_month_end` counts requests whose service had not started by the last
//! day of the request's month, less those the council closed by then with no further
//! action (an outcome of [`NO_FURTHER_ACTION`]'s group in `cld_event_outcome`: support
//! declined, moved away, died, …): they are not waiting. Medians and 90th percentiles
//! are in days.

use polars::prelude::*;

use super::{days, median, p90, people};

/// The `cld_event_outcome` group of the outcomes that close an event with no further
/// action.
pub const NO_FURTHER_ACTION: &str = "no_further_action";

/// The people behind `requests`, `assessed`, `service_started` and
/// `still_waiting_at_month_end` (council persons: a client with two requests is one):
/// helper columns the disclosure gate rests those counts on, and drops.
pub const PEOPLE: [&str; 4] = [
    "people_requesting",
    "people_assessed",
    "people_started",
    "people_waiting",
];

/// The columns of `social_care_event` the queue reads.
pub const READS: [&str; 8] = [
    "la_code",
    "la_person_id",
    "event_type",
    "event_start",
    "event_end",
    "event_outcome_group",
    "route_of_access",
    "service_type",
];

/// The queue from resolved `social_care_event` rows.
pub fn social_care_queue(care: LazyFrame, discharge_route: &str, window_days: i64) -> LazyFrame {
    let person = [col("la_code"), col("la_person_id")];
    let requests = care
        .clone()
        .filter(
            col("event_type")
                .eq(lit("Request"))
                .and(col("route_of_access").eq(lit(discharge_route.to_string()))),
        )
        .select([
            col("la_code"),
            col("la_person_id"),
            col("event_start").alias("request_date"),
            col("event_end").alias("request_end"),
            col("event_outcome_group")
                .cast(DataType::String)
                .eq(lit(NO_FURTHER_ACTION))
                .fill_null(lit(false))
                .alias("closed_without_action"),
        ])
        .with_row_index("request_id", None);
    let within = |c: &str| {
        days(c)
            .gt_eq(days("request_date"))
            .and(days(c).lt_eq(days("request_date") + lit(window_days as i32)))
    };
    let first_by = |c: &str, by: &[&str]| {
        col(c)
            .sort_by(
                by.iter().map(|b| col(*b)).collect::<Vec<_>>(),
                SortMultipleOptions::default().with_nulls_last(true),
            )
            .first()
    };
    let inner = JoinArgs::new(JoinType::Inner);
    let assessments = requests
        .clone()
        .join(
            care.clone()
                .filter(col("event_type").eq(lit("Assessment")))
                .select([
                    col("la_code"),
                    col("la_person_id"),
                    col("event_start").alias("assessment_date"),
                ]),
            person.clone(),
            person.clone(),
            inner.clone(),
        )
        .filter(within("assessment_date"))
        .group_by([col("request_id")])
        .agg([col("assessment_date").min()]);
    let services = requests
        .clone()
        .join(
            care.filter(col("event_type").eq(lit("Service"))).select([
                col("la_code"),
                col("la_person_id"),
                col("event_start").alias("service_start"),
                col("service_type"),
            ]),
            person.clone(),
            person,
            inner,
        )
        .filter(within("service_start"))
        .group_by([col("request_id")])
        .agg([
            first_by("service_start", &["service_start", "service_type"]),
            first_by("service_type", &["service_start", "service_type"]),
        ]);
    let left = JoinArgs::new(JoinType::Left);
    let month = col("request_date").dt().month_start();
    // Last day of the month: the first of the next month, less one day.
    let next_month = (month.clone().cast(DataType::Int32) + lit(31i32))
        .cast(DataType::Date)
        .dt()
        .month_start();
    let month_end = next_month.cast(DataType::Int32) - lit(1i32);
    requests
        .join(
            assessments,
            [col("request_id")],
            [col("request_id")],
            left.clone(),
        )
        .join(services, [col("request_id")], [col("request_id")], left)
        .with_columns([
            month.alias("month"),
            (days("assessment_date") - days("request_date")).alias("days_to_assessment"),
            (days("service_start") - days("request_date")).alias("days_to_service"),
            col("service_start")
                .is_null()
                .or(days("service_start").gt(month_end.clone()))
                .and(
                    col("closed_without_action")
                        .and(days("request_end").lt_eq(month_end))
                        .fill_null(lit(false))
                        .not(),
                )
                .alias("waiting_at_month_end"),
            col("service_type").fill_null(lit("not_started")),
        ])
        .group_by([col("month"), col("la_code"), col("service_type")])
        .agg([
            len().cast(DataType::Int64).alias("requests"),
            col("days_to_assessment")
                .count()
                .cast(DataType::Int64)
                .alias("assessed"),
            median(col("days_to_assessment")).alias("median_days_to_assessment"),
            p90(col("days_to_assessment")).alias("p90_days_to_assessment"),
            col("days_to_service")
                .count()
                .cast(DataType::Int64)
                .alias("service_started"),
            median(col("days_to_service")).alias("median_days_to_service"),
            p90(col("days_to_service")).alias("p90_days_to_service"),
            col("waiting_at_month_end")
                .cast(DataType::Int64)
                .sum()
                .alias("still_waiting_at_month_end"),
            // The people behind each count of requests (helpers the gate drops).
            people(col("la_person_id")).alias(PEOPLE[0]),
            people(col("la_person_id").filter(col("days_to_assessment").is_not_null()))
                .alias(PEOPLE[1]),
            people(col("la_person_id").filter(col("days_to_service").is_not_null()))
                .alias(PEOPLE[2]),
            people(col("la_person_id").filter(col("waiting_at_month_end"))).alias(PEOPLE[3]),
        ])
        .sort(
            ["month", "la_code", "service_type"],
            SortMultipleOptions::default(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days since 1970 of a November 2026 day.
    fn nov(day: i32) -> i32 {
        20_758 + day - 1 // 2026-11-01
    }

    /// Regression (review): a hospital-discharge request the council closed as "NFA –
    /// Support declined" was counted as still waiting at month end (the outcome was
    /// never read). Closed with no further action by month end: not waiting; closed
    /// after it, open, or closed by progressing: waiting.
    #[test]
    fn regression_a_request_closed_with_no_further_action_is_not_still_waiting() {
        let date = |v: Vec<Option<i32>>| {
            Series::new("d".into(), v)
                .cast(&DataType::Date)
                .unwrap()
                .into_column()
        };
        let text = |name: &str, v: Vec<Option<&str>>| Column::new(name.into(), v);
        let n = 4;
        let care = DataFrame::new(
            n,
            vec![
                text("la_code", vec![Some("901"); n]),
                text(
                    "la_person_id",
                    vec![Some("A"), Some("B"), Some("C"), Some("D")],
                ),
                text("event_type", vec![Some("Request"); n]),
                text("route_of_access", vec![Some("Discharge from Hospital"); n]),
                date(vec![Some(nov(3)), Some(nov(5)), Some(nov(6)), Some(nov(7))])
                    .with_name("event_start".into()),
                date(vec![Some(nov(10)), Some(nov(40)), None, Some(nov(8))])
                    .with_name("event_end".into()),
                text(
                    "event_outcome_group",
                    vec![
                        Some(NO_FURTHER_ACTION),
                        Some(NO_FURTHER_ACTION),
                        None,
                        Some("progressed"),
                    ],
                ),
                text("service_type", vec![None::<&str>; n]),
            ],
        )
        .unwrap();
        let q = social_care_queue(care.lazy(), "Discharge from Hospital", 90)
            .collect()
            .unwrap();
        assert_eq!(q.height(), 1, "{q}");
        let int = |c: &str| q.column(c).unwrap().i64().unwrap().get(0);
        assert_eq!(int("requests"), Some(4));
        assert_eq!(int("service_started"), Some(0));
        assert_eq!(int("still_waiting_at_month_end"), Some(3));
    }
}
