//! `patient_journey`: one row per hospital spell, joined to the person's A&E attendance,
//! social-care request, assessment and service, with pathway and readmission.
//!
//! - The A&E attendance that led to the admission: same person, arrival at or before the
//!   admission datetime and at most `ed_window_hours` before it; the latest such wins.
//! - The social-care request from hospital: the first request with route
//!   `discharge_route`, same person, starting between admission and the window end
//!   (ready date, else discharge date, else admission date, + `care_window_days`); the
//!   first assessment in the same interval.
//! - The awaited service: the first social-care service, same person, starting on or
//!   after the discharge ready date and at most `care_window_days` after it. Its group
//!   (reablement, home_care, short_term_bed, care_home, other) is the awaited service and
//!   its council the spell's local authority (else the request's council). `none` when no
//!   service links.
//! - Discharge pathway: P1 when the awaited service is reablement or home care, P2 for a
//!   short-term bed, P3 for a care home; otherwise from the destination: a care home or
//!   council accommodation is P3 (new placement) unless the patient was admitted from one
//!   (P0, returning home), the usual or a temporary residence is P0, anything else
//!   `other`; null while in hospital or when the patient died.
//! - Emergency readmission: another spell of the same person, admitted as an emergency
//!   between the discharge date and `readmission_window_days` after it (null while the
//!   spell is open).

use polars::prelude::*;

use super::person_index::PERSON;
use crate::config::LinkPlan;

/// Days since 1970-01-01 of a date column, as Int32, for arithmetic.
fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// The spell's source, carried for the measures and dropped before the journey is
/// written (`spell_id` is unique only within a provider, so it cannot be joined back).
pub const SOURCE: &str = "_source";

/// The spell's row number in `spells`: grouping and joining on it is much cheaper than on
/// the text `spell_id`.
const SPELL: &str = "_spell";

/// A left join on [`SPELL`] that keeps the left frame's row order.
fn left_on_spell(lf: LazyFrame, other: LazyFrame) -> LazyFrame {
    let args = JoinArgs {
        maintain_order: MaintainOrderJoin::Left,
        ..JoinArgs::new(JoinType::Left)
    };
    lf.join(other, [col(SPELL)], [col(SPELL)], args)
}

/// First row per spell by `order`.
fn first_per_spell(lf: LazyFrame, order: &[&str], keep: &[&str], descending: bool) -> LazyFrame {
    let by: Vec<Expr> = order.iter().map(|c| col(*c)).collect();
    let opts = SortMultipleOptions::default()
        .with_order_descending(descending)
        .with_nulls_last(true);
    let aggs: Vec<Expr> = keep
        .iter()
        .map(|c| col(*c).sort_by(by.clone(), opts.clone()).first())
        .collect();
    lf.group_by([col(SPELL)]).agg(aggs)
}

/// The as-of key column: a copy of the right frame's first order column, so the original
/// survives the join whatever polars does with join keys.
const ASOF_KEY: &str = "_asof_key";

/// For each row of `left` (which has [`PERSON`] and `left_on`), the same person's row of
/// `right` chosen by an as-of join on `left_on` against `order[0]`: `forward` takes the
/// first right row at or after the left value, otherwise the last at or before it, with
/// right rows in `order` (later columns break ties). Rows without a person or a value on
/// either side take part in nothing; a left row with no match is dropped.
///
/// This replaces "join every pair of the person's rows, filter, take the first per spell":
/// a person with many attendances no longer multiplies rows before the filter.
fn asof_by_person(
    left: LazyFrame,
    left_on: &str,
    right: LazyFrame,
    order: &[&str],
    forward: bool,
) -> LazyFrame {
    let options = AsOfOptions {
        strategy: if forward {
            AsofStrategy::Forward
        } else {
            AsofStrategy::Backward
        },
        tolerance: None,
        tolerance_str: None,
        left_by: Some(vec![PERSON.into()]),
        right_by: Some(vec![PERSON.into()]),
        allow_eq: true,
        // Sorted globally by the key, so sorted within every person.
        check_sortedness: false,
    };
    let right = right
        .filter(col(PERSON).is_not_null().and(col(order[0]).is_not_null()))
        .sort(
            order.to_vec(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_column(col(order[0]).alias(ASOF_KEY));
    left.filter(col(PERSON).is_not_null().and(col(left_on).is_not_null()))
        .sort(
            [left_on],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .join(
            right,
            [col(left_on)],
            [col(ASOF_KEY)],
            JoinArgs::new(JoinType::AsOf(Box::new(options))),
        )
        .filter(col(order[0]).is_not_null())
}

/// See [`asof_by_person`]: the person's last `right` row at or before `left_on`.
fn latest_at_or_before(
    left: LazyFrame,
    left_on: &str,
    right: LazyFrame,
    order: &[&str],
) -> LazyFrame {
    asof_by_person(left, left_on, right, order, false)
}

/// See [`asof_by_person`]: the person's first `right` row at or after `left_on`.
fn first_on_or_after(
    left: LazyFrame,
    left_on: &str,
    right: LazyFrame,
    order: &[&str],
) -> LazyFrame {
    asof_by_person(left, left_on, right, order, true)
}

/// Admission sources that mean the patient lived in a care home or council accommodation.
const FROM_CARE_HOME: [&str; 4] = ["54", "65", "66", "85"];

/// One row per hospital spell with its A&E attendance, social-care links, pathway and
/// readmission, in the order of `spells`. `care` must already be resolved
/// ([`super::social_care::resolve`]); all three frames carry [`PERSON`]
/// ([`super::person_index`]), and so does the result, in `person_id`'s place (restored
/// when written), with the spell's source as [`SOURCE`].
pub fn patient_journey(
    spells: LazyFrame,
    ed: LazyFrame,
    care: LazyFrame,
    link: &LinkPlan,
) -> LazyFrame {
    let spells = spells.with_row_index(SPELL, None);
    let keys = spells.clone().select([
        col(SPELL),
        col(PERSON),
        col("admission_datetime"),
        col("admission_date"),
        col("discharge_date"),
        col("discharge_ready_date"),
    ]);
    let inner = || JoinArgs::new(JoinType::Inner);
    let by_person =
        |lf: LazyFrame, other: LazyFrame| lf.join(other, [col(PERSON)], [col(PERSON)], inner());

    // A&E attendance that led to the admission: the person's latest arrival at or before
    // the admission (ties: the greatest attendance id), kept when within the window.
    let window =
        lit(link.ed_window_hours * 3_600_000).cast(DataType::Duration(TimeUnit::Milliseconds));
    let ed_link = latest_at_or_before(
        keys.clone()
            .select([col(SPELL), col(PERSON), col("admission_datetime")]),
        "admission_datetime",
        ed.select([
            col(PERSON),
            col("attendance_id").alias("ed_attendance_id"),
            col("arrival").alias("ed_arrival"),
            col("departure").alias("ed_departure"),
        ]),
        &["ed_arrival", "ed_attendance_id"],
    )
    .filter(col("ed_arrival").gt_eq(col("admission_datetime") - window))
    .select([
        col(SPELL),
        col("ed_attendance_id"),
        col("ed_arrival"),
        col("ed_departure"),
    ]);

    // Social-care request and assessment: the first on or after admission (ties: the
    // smallest council code), kept when on or before the window end (ready date, else
    // discharge date, else admission date, + care_window_days).
    let with_person = care.filter(col(PERSON).is_not_null());
    let window_end = coalesce(&[
        days("discharge_ready_date"),
        days("discharge_date"),
        days("admission_date"),
    ]) + lit(link.care_window_days as i32);
    let stay = || {
        keys.clone().select([
            col(SPELL),
            col(PERSON),
            col("admission_date"),
            window_end.clone().alias("_window_end"),
        ])
    };
    let request_link = first_on_or_after(
        stay(),
        "admission_date",
        with_person
            .clone()
            .filter(
                col("event_type")
                    .eq(lit("Request"))
                    .and(col("route_of_access").eq(lit(link.discharge_route.clone()))),
            )
            .select([
                col(PERSON),
                col("event_start").alias("care_request_date"),
                col("la_code").alias("request_la_code"),
            ]),
        &["care_request_date", "request_la_code"],
    )
    .filter(days("care_request_date").lt_eq(col("_window_end")))
    .select([col(SPELL), col("care_request_date"), col("request_la_code")]);
    let assessment_link = first_on_or_after(
        stay(),
        "admission_date",
        with_person
            .clone()
            .filter(col("event_type").eq(lit("Assessment")))
            .select([
                col(PERSON),
                col("event_start").alias("care_assessment_date"),
            ]),
        &["care_assessment_date"],
    )
    .filter(days("care_assessment_date").lt_eq(col("_window_end")))
    .select([col(SPELL), col("care_assessment_date")]);

    // The service awaited: the first service starting on or after the ready date (ties:
    // by service group, then council), kept when within care_window_days of it.
    let service_link = first_on_or_after(
        keys.clone()
            .select([col(SPELL), col(PERSON), col("discharge_ready_date")]),
        "discharge_ready_date",
        with_person
            .filter(col("event_type").eq(lit("Service")))
            .select([
                col(PERSON),
                col("event_start").alias("care_service_start"),
                col("service_group")
                    .fill_null(lit("other"))
                    .alias("awaited_service"),
                col("la_code").alias("service_la_code"),
            ]),
        &["care_service_start", "awaited_service", "service_la_code"],
    )
    .filter(
        days("care_service_start")
            .lt_eq(days("discharge_ready_date") + lit(link.care_window_days as i32)),
    )
    .select([
        col(SPELL),
        col("care_service_start"),
        col("awaited_service"),
        col("service_la_code"),
    ]);

    // Emergency readmission after discharge.
    let readmission_pairs = by_person(
        keys.select([col(SPELL), col(PERSON), col("discharge_date")]),
        spells
            .clone()
            .filter(col("admission_type").eq(lit("emergency")))
            .select([
                col(PERSON),
                col(SPELL).alias("_readmission_spell"),
                col("spell_id").alias("readmission_spell_id"),
                col("admission_date").alias("readmission_date"),
            ]),
    )
    .filter(
        col("_readmission_spell").neq(col(SPELL)).and(
            days("readmission_date").gt_eq(days("discharge_date")).and(
                days("readmission_date")
                    .lt_eq(days("discharge_date") + lit(link.readmission_window_days as i32)),
            ),
        ),
    );
    let readmission_link = first_per_spell(
        readmission_pairs,
        &["readmission_date", "readmission_spell_id"],
        &["readmission_spell_id"],
        false,
    );

    let awaited = |names: &[&str]| {
        col("awaited_service").is_in(
            lit(Series::new("s".into(), names.to_vec())).implode(false),
            false,
        )
    };
    let pathway = when(
        col("discharge_date")
            .is_null()
            .or(col("discharge_destination_group").eq(lit("died"))),
    )
    .then(lit(NULL).cast(DataType::String))
    .when(awaited(&["reablement", "home_care"]))
    .then(lit("P1"))
    .when(col("awaited_service").eq(lit("short_term_bed")))
    .then(lit("P2"))
    .when(col("awaited_service").eq(lit("care_home")))
    .then(lit("P3"))
    .when(col("discharge_destination_group").is_in(
        lit(Series::new("g".into(), ["care_home", "la_care"])).implode(false),
        false,
    ))
    .then(
        when(col("admission_source").is_in(
            lit(Series::new("a".into(), FROM_CARE_HOME)).implode(false),
            false,
        ))
        .then(lit("P0"))
        .otherwise(lit("P3")),
    )
    .when(col("discharge_destination_group").eq(lit("returned_home")))
    .then(lit("P0"))
    .otherwise(lit("other"));

    let linked = [
        ed_link,
        request_link,
        assessment_link,
        service_link,
        readmission_link,
    ]
    .into_iter()
    .fold(spells, left_on_spell);
    linked
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
            when(col("discharge_date").is_null())
                .then(lit(NULL).cast(DataType::Boolean))
                .otherwise(col("readmission_spell_id").is_not_null())
                .alias("emergency_readmission_30d"),
        ])
        .with_column(pathway.alias("discharge_pathway"))
        .select([
            col("spell_id"),
            col(PERSON),
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
            col("care_assessment_date"),
            col("care_service_start"),
            col("awaited_service"),
            col("la_code"),
            col("days_ready_to_service"),
            col("discharge_pathway"),
            col("emergency_readmission_30d"),
            col("readmission_spell_id"),
            col("source").alias(SOURCE),
        ])
}

#[cfg(test)]
#[path = "journey_tests.rs"]
mod tests;
