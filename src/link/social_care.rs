//! NHS England's CLD processing rules (reference/nhs-data.md §5.3), applied to
//! `social_care_event` before linkage.
//!
//! 1. **Person key.** A council person (`la_code`, `la_person_id`) with a valid NHS number
//!    on any row gets that pseudonym on all their rows (the national rule drops the
//!    LA-id-only rows of NHS-numbered people; keeping them under the NHS key loses
//!    nothing). People never recorded with an NHS number keep `person_id` null: they are
//!    counted by their council key but cannot link to NHS records. Events carry the
//!    person number [`PERSON`] in place of the pseudonym; numbers order as pseudonyms do,
//!    so the smallest number is the smallest pseudonym.
//! 2. **Event identity.** `Event Reference` is not reliable. An event is identified by
//!    council, council person, client type, event type and start date, plus the route of
//!    access for requests and service type, component and delivery mechanism for
//!    services (assessments and reviews: the common columns only).
//! 3. **Latest submission wins.** Submissions append, and a later file can close an event
//!    an earlier one left open. Files are ordered by reporting period end, then start,
//!    then file name; for each event the row of the latest submission is kept.

use polars::prelude::*;

use super::person_index::PERSON;

/// The resolved events and what resolution did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resolution {
    /// Events before resolution.
    pub events_in: u64,
    /// Events superseded by the same event in a later (or the same) submission.
    pub superseded: u64,
    /// Kept events that had no NHS number but got one from another row of the same person.
    pub person_key_backfilled: u64,
    /// Events left without an NHS-number key (cannot link to NHS records).
    pub without_nhs_key: u64,
}

/// The identity of an event, as one string column `event_key`.
fn event_key() -> Expr {
    let s = |c: &str| col(c).cast(DataType::String).fill_null(lit(""));
    let extra = when(col("event_type").eq(lit("Request")))
        .then(s("route_of_access"))
        .when(col("event_type").eq(lit("Service")))
        .then(concat_str(
            [
                s("service_type"),
                s("service_component"),
                s("delivery_mechanism"),
            ],
            "|",
            false,
        ))
        .otherwise(lit(""));
    concat_str(
        [
            s("la_code"),
            s("la_person_id"),
            s("client_type"),
            s("event_type"),
            s("event_start"),
            extra,
        ],
        "|",
        false,
    )
    .alias("event_key")
}

/// Applies the CLD rules to a collected `social_care_event` frame (with [`PERSON`]).
pub fn resolve(events: DataFrame) -> PolarsResult<(DataFrame, Resolution)> {
    let columns: Vec<PlSmallStr> = events.get_column_names().into_iter().cloned().collect();
    let events_in = events.height() as u64;

    let keys = events
        .clone()
        .lazy()
        .filter(col(PERSON).is_not_null())
        .group_by([col("la_code"), col("la_person_id")])
        .agg([col(PERSON).min().alias("person_key")]);
    let order = SortMultipleOptions::default()
        .with_maintain_order(true)
        .with_nulls_last(false);
    let resolved = events
        .lazy()
        .join(
            keys,
            [col("la_code"), col("la_person_id")],
            [col("la_code"), col("la_person_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            col(PERSON)
                .is_null()
                .and(col("person_key").is_not_null())
                .alias("_backfilled"),
        )
        .with_columns([col(PERSON).fill_null(col("person_key")), event_key()])
        .sort(
            [
                "reporting_period_end",
                "reporting_period_start",
                "source_file",
            ],
            order,
        )
        .unique_stable(Some(cols(["event_key"])), UniqueKeepStrategy::Last)
        .sort(
            ["la_code", "la_person_id", "event_start", "event_type"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let person_key_backfilled = resolved.column("_backfilled")?.bool()?.sum().unwrap_or(0) as u64;
    let resolved = resolved.select(columns)?;
    let without_nhs_key = resolved.column(PERSON)?.null_count() as u64;
    let superseded = events_in - resolved.height() as u64;
    Ok((
        resolved,
        Resolution {
            events_in,
            superseded,
            person_key_backfilled,
            without_nhs_key,
        },
    ))
}
