//! `linkage_quality`: how well the sources link, per source × local authority × month,
//! so match rates are seen, not assumed.
//!
//! - `records`: accepted rows (for social care: events after resolution).
//! - `with_valid_nhs_number`: rows with a pseudonymised NHS number (hospital and A&E rows
//!   always have one: invalid numbers are quarantined; council rows may not).
//! - `linked_to_other_source`: rows whose person appears in at least one other source.
//! - `delayed_spells`, `delayed_spells_linked_to_social_care`: hospital spells discharged
//!   after their ready date, and those with a linked social-care service.
//! - `linked_pct`, `delayed_linked_to_social_care_pct`: the two rates, in percent.
//!
//! `la_code` is the council of the event for social care, the council of the linked
//! service or request for hospital spells, and null for A&E attendances and unlinked
//! spells. The month is the admission, arrival or event start month.

use polars::prelude::*;

use crate::link::person_index::PERSON;

/// Persons present in a frame, flagged `linked = true`, for a left join.
fn persons(frames: Vec<LazyFrame>) -> LazyFrame {
    let all: Vec<LazyFrame> = frames
        .into_iter()
        .map(|f| f.select([col(PERSON)]))
        .collect();
    concat(all, UnionArgs::default())
        .unwrap_or_default()
        .filter(col(PERSON).is_not_null())
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("linked"))
}

fn with_linked(lf: LazyFrame, others: Vec<LazyFrame>) -> LazyFrame {
    lf.join(
        persons(others),
        [col(PERSON)],
        [col(PERSON)],
        JoinArgs::new(JoinType::Left),
    )
    .with_column(col("linked").fill_null(lit(false)))
}

/// Match rates from the journeys, A&E attendances and resolved social-care events.
pub fn linkage_quality(
    journey: LazyFrame,
    spells: LazyFrame,
    ed: LazyFrame,
    care: LazyFrame,
) -> LazyFrame {
    let hospital = with_linked(
        journey.join(
            spells.clone().select([col("spell_id"), col("source")]),
            [col("spell_id")],
            [col("spell_id")],
            JoinArgs::new(JoinType::Left),
        ),
        vec![ed.clone(), care.clone()],
    )
    .select([
        col("source"),
        col("la_code"),
        col("admission_date").dt().month_start().alias("month"),
        col("person_id").is_not_null().alias("valid"),
        col("linked"),
        col("delay_days")
            .gt(lit(0i64))
            .fill_null(lit(false))
            .alias("delayed"),
        col("delay_days")
            .gt(lit(0i64))
            .fill_null(lit(false))
            .and(col("awaited_service").neq(lit("none")))
            .alias("delayed_linked"),
    ]);
    let attendances = with_linked(ed.clone(), vec![spells.clone(), care.clone()]).select([
        col("source"),
        lit(NULL).cast(DataType::String).alias("la_code"),
        col("arrival").dt().date().dt().month_start().alias("month"),
        col("person_id").is_not_null().alias("valid"),
        col("linked"),
        lit(false).alias("delayed"),
        lit(false).alias("delayed_linked"),
    ]);
    let council = with_linked(care, vec![spells, ed]).select([
        col("source"),
        col("la_code"),
        col("event_start").dt().month_start().alias("month"),
        col("person_id").is_not_null().alias("valid"),
        col("linked"),
        lit(false).alias("delayed"),
        lit(false).alias("delayed_linked"),
    ]);
    let count = |c: &str| col(c).cast(DataType::Int64).sum();
    concat([hospital, attendances, council], UnionArgs::default())
        .unwrap_or_default()
        .group_by([col("source"), col("la_code"), col("month")])
        .agg([
            len().cast(DataType::Int64).alias("records"),
            count("valid").alias("with_valid_nhs_number"),
            count("linked").alias("linked_to_other_source"),
            count("delayed").alias("delayed_spells"),
            count("delayed_linked").alias("delayed_spells_linked_to_social_care"),
        ])
        .with_columns([
            (col("linked_to_other_source").cast(DataType::Float64) * lit(100.0)
                / col("records").cast(DataType::Float64))
            .alias("linked_pct"),
            when(col("delayed_spells").gt(lit(0i64)))
                .then(
                    col("delayed_spells_linked_to_social_care").cast(DataType::Float64)
                        * lit(100.0)
                        / col("delayed_spells").cast(DataType::Float64),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("delayed_linked_to_social_care_pct"),
        ])
        .select([
            col("source"),
            col("la_code"),
            col("month"),
            col("records"),
            col("with_valid_nhs_number"),
            col("linked_to_other_source"),
            col("linked_pct"),
            col("delayed_spells"),
            col("delayed_spells_linked_to_social_care"),
            col("delayed_linked_to_social_care_pct"),
        ])
        .sort(
            ["source", "la_code", "month"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}
