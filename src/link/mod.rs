//! Stage 4, link: person-level joins across sources, keyed by pseudonymised NHS number.
//!
//! [`patient_journey`] builds one row per hospital spell:
//! - the A&E attendance that led to it: same person, arrival at or before the admission
//!   datetime and at most `ed_window_hours` before it; the latest such arrival wins;
//! - the social-care request from hospital: the first request with route
//!   `discharge_route`, same person, starting between admission and
//!   (ready date, else discharge date, else admission date) + `care_window_days`;
//! - the awaited service: the first social-care service, same person, starting on or
//!   after the discharge ready date and at most `care_window_days` after it; its group
//!   (reablement, home_care, short_term_bed, care_home, other) is the awaited service and
//!   its council the spell's local authority (else the request's council).
//!
//! Spells with no linked service have `awaited_service = "none"`.

use polars::prelude::*;

use crate::config::LinkPlan;
use crate::schema::ValueType::{self, Date, DateTime, String as Str};

/// The entity fields this stage reads, checked against `schemas/shared/` at config time.
pub const REQUIRED_FIELDS: &[(&str, &[(&str, ValueType)])] = &[
    (
        "hospital_spell",
        &[
            ("spell_id", Str),
            ("person_id", Str),
            ("provider_code", Str),
            ("admission_date", Date),
            ("admission_datetime", DateTime),
            ("admission_type", Str),
            ("discharge_date", Date),
            ("discharge_destination", Str),
            ("discharge_ready_date", Date),
        ],
    ),
    (
        "ed_attendance",
        &[
            ("attendance_id", Str),
            ("person_id", Str),
            ("arrival", DateTime),
            ("departure", DateTime),
        ],
    ),
    (
        "social_care_event",
        &[
            ("la_code", Str),
            ("person_id", Str),
            ("event_type", Str),
            ("event_start", Date),
            ("route_of_access", Str),
            ("service_group", Str),
        ],
    ),
];

/// Days since 1970-01-01 of a date column, as Int32, for arithmetic.
fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// First row per spell by `order` (ties broken by the remaining columns' order).
fn first_per_spell(lf: LazyFrame, order: &[&str], keep: &[&str], descending: bool) -> LazyFrame {
    let by: Vec<Expr> = order.iter().map(|c| col(*c)).collect();
    let opts = SortMultipleOptions::default()
        .with_order_descending(descending)
        .with_nulls_last(true);
    let aggs: Vec<Expr> = keep
        .iter()
        .map(|c| col(*c).sort_by(by.clone(), opts.clone()).first())
        .collect();
    lf.group_by([col("spell_id")]).agg(aggs)
}

/// One row per hospital spell with its A&E attendance and social-care link.
pub fn patient_journey(
    spells: LazyFrame,
    ed: LazyFrame,
    care: LazyFrame,
    link: &LinkPlan,
) -> LazyFrame {
    let keys = spells.clone().select([
        col("spell_id"),
        col("person_id"),
        col("admission_datetime"),
        col("admission_date"),
        col("discharge_date"),
        col("discharge_ready_date"),
    ]);
    let inner = || JoinArgs::new(JoinType::Inner);
    let left = || JoinArgs::new(JoinType::Left);

    // A&E attendance that led to the admission.
    let window_ms = link.ed_window_hours * 3_600_000;
    let ed_pairs =
        keys.clone()
            .join(
                ed.select([
                    col("person_id"),
                    col("attendance_id").alias("ed_attendance_id"),
                    col("arrival").alias("ed_arrival"),
                    col("departure").alias("ed_departure"),
                ]),
                [col("person_id")],
                [col("person_id")],
                inner(),
            )
            .filter(col("ed_arrival").lt_eq(col("admission_datetime")).and(
                col("ed_arrival").gt_eq(
                    col("admission_datetime")
                        - lit(window_ms).cast(DataType::Duration(TimeUnit::Milliseconds)),
                ),
            ));
    let ed_link = first_per_spell(
        ed_pairs,
        &["ed_arrival", "ed_attendance_id"],
        &["ed_attendance_id", "ed_arrival", "ed_departure"],
        true,
    );

    // Social-care request from hospital.
    let with_person = care.filter(col("person_id").is_not_null());
    let request_pairs = keys
        .clone()
        .join(
            with_person
                .clone()
                .filter(
                    col("event_type")
                        .eq(lit("Request"))
                        .and(col("route_of_access").eq(lit(link.discharge_route.clone()))),
                )
                .select([
                    col("person_id"),
                    col("event_start").alias("care_request_date"),
                    col("la_code").alias("request_la_code"),
                ]),
            [col("person_id")],
            [col("person_id")],
            inner(),
        )
        .filter(days("care_request_date").gt_eq(days("admission_date")).and(
            days("care_request_date").lt_eq(
                coalesce(&[
                    days("discharge_ready_date"),
                    days("discharge_date"),
                    days("admission_date"),
                ]) + lit(link.care_window_days as i32),
            ),
        ));
    let request_link = first_per_spell(
        request_pairs,
        &["care_request_date", "request_la_code"],
        &["care_request_date", "request_la_code"],
        false,
    );

    // The service awaited: first service starting within the window after the ready date.
    let service_pairs = keys
        .clone()
        .join(
            with_person
                .filter(col("event_type").eq(lit("Service")))
                .select([
                    col("person_id"),
                    col("event_start").alias("care_service_start"),
                    col("service_group")
                        .fill_null(lit("other"))
                        .alias("awaited_service"),
                    col("la_code").alias("service_la_code"),
                ]),
            [col("person_id")],
            [col("person_id")],
            inner(),
        )
        .filter(
            days("care_service_start")
                .gt_eq(days("discharge_ready_date"))
                .and(
                    days("care_service_start")
                        .lt_eq(days("discharge_ready_date") + lit(link.care_window_days as i32)),
                ),
        );
    let service_link = first_per_spell(
        service_pairs,
        &["care_service_start", "awaited_service", "service_la_code"],
        &["care_service_start", "awaited_service", "service_la_code"],
        false,
    );

    spells
        .join(ed_link, [col("spell_id")], [col("spell_id")], left())
        .join(request_link, [col("spell_id")], [col("spell_id")], left())
        .join(service_link, [col("spell_id")], [col("spell_id")], left())
        .with_columns([
            (days("discharge_date") - days("admission_date"))
                .cast(DataType::Int64)
                .alias("length_of_stay_days"),
            (days("discharge_date") - days("discharge_ready_date"))
                .cast(DataType::Int64)
                .alias("delay_days"),
            ((col("ed_departure") - col("ed_arrival"))
                .dt()
                .total_minutes(false))
            .cast(DataType::Int64)
            .alias("ed_duration_minutes"),
            col("awaited_service").fill_null(lit("none")),
            coalesce(&[col("service_la_code"), col("request_la_code")]).alias("la_code"),
            (days("care_service_start") - days("discharge_ready_date"))
                .cast(DataType::Int64)
                .alias("days_ready_to_service"),
        ])
        .select([
            col("spell_id"),
            col("person_id"),
            col("provider_code"),
            col("admission_date"),
            col("admission_datetime"),
            col("admission_type"),
            col("discharge_date"),
            col("discharge_destination"),
            col("discharge_ready_date"),
            col("length_of_stay_days"),
            col("delay_days"),
            col("ed_attendance_id"),
            col("ed_arrival"),
            col("ed_duration_minutes"),
            col("care_request_date"),
            col("care_service_start"),
            col("awaited_service"),
            col("la_code"),
            col("days_ready_to_service"),
        ])
        .sort(["spell_id"], SortMultipleOptions::default())
}
