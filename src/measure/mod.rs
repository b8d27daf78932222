//! Stage 5, measure: system bottleneck aggregates from the linked journeys.
//!
//! Every measure is computed unrounded from restricted data; disclosure control is applied
//! when it is published ([`crate::publish::disclosure`]). Definitions are documented
//! field by field in `schemas/shared/<dataset>.toml` and in ARCHITECTURE.md.

mod bottlenecks;
pub mod daily_population;
mod discharge_delays;
mod flow_daily;
mod group_people;
pub mod histogram_quantiles;
pub mod largest_patients;
mod linkage_quality;
mod people_tally;
mod social_care_queue;
pub mod uk_clock;

pub use bottlenecks::{
    LARGEST as BOTTLENECKS_LARGEST, PEOPLE as BOTTLENECKS_PEOPLE,
    PREVIOUS_LARGEST as BOTTLENECKS_PREVIOUS_LARGEST,
    PREVIOUS_PEOPLE as BOTTLENECKS_PREVIOUS_PEOPLE, SYSTEM_LARGEST as BOTTLENECKS_SYSTEM_LARGEST,
    bottlenecks,
};
pub use discharge_delays::{
    LARGEST as DISCHARGE_DELAYS_LARGEST, PEOPLE as DISCHARGE_DELAYS_PEOPLE, discharge_delays,
};
pub use flow_daily::{
    NAMES as FLOW_DAILY_COUNTS, SMALL_POPULATIONS, add_ae_daily, ae_daily,
    counts_of as flow_daily_counts_of, flow_daily,
};
pub use linkage_quality::{PEOPLE as LINKAGE_QUALITY_PEOPLE, ae_counts, linkage_quality};
pub use social_care_queue::{
    PEOPLE as SOCIAL_CARE_QUEUE_PEOPLE, READS as SOCIAL_CARE_QUEUE_READS, social_care_queue,
};

use polars::prelude::*;

pub(crate) use group_people::people_by_group;

/// Days since 1970-01-01 of a date column, as Int32, for arithmetic.
pub(crate) fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// The 90th percentile as published: the lower of the two values around position
/// `(n - 1) × 0.9` (no interpolation, so it is one of the values, and its fraction
/// cannot tell how many there are: [`crate::publish::disclosure`]).
pub(crate) fn p90(e: Expr) -> Expr {
    quantile(e, 0.9)
}

/// The median as published: the lower middle value of an even count (see [`p90`]).
pub(crate) fn median(e: Expr) -> Expr {
    quantile(e, 0.5)
}

/// The `q` quantile as an order statistic (polars' `Lower` method), as `Float64`.
fn quantile(e: Expr, q: f64) -> Expr {
    e.cast(DataType::Float64)
        .quantile(lit(q), QuantileMethod::Lower)
}

/// The fewest people a group's rows can stand for, as `Int64`: their distinct `person`
/// values, and rows without one (no NHS number) may be any of those people, or one
/// more person when there are none. The base a count of records is gated on
/// ([`crate::publish::disclosure`]): a count of nine events of one client rests on one
/// person.
pub(crate) fn people(person: Expr) -> Expr {
    let known = person.clone().drop_nulls().n_unique().cast(DataType::Int64);
    let unknown = person.is_null().any(true).cast(DataType::Int64);
    when(known.clone().gt(lit(0i64)))
        .then(known)
        .otherwise(unknown)
}

/// Finished spells with a ready date: the population of the delay measures.
pub(crate) fn discharged_with_ready_date(journey: LazyFrame) -> LazyFrame {
    journey
        .filter(
            col("discharge_date")
                .is_not_null()
                .and(col("discharge_ready_date").is_not_null()),
        )
        .with_column(col("discharge_date").dt().month_start().alias("month"))
}

/// Test helpers shared by the measures' tests.
#[cfg(test)]
pub(crate) mod test_frames {
    use polars::prelude::*;

    /// A journey frame for the delay measures: `df` with its discharge and ready dates
    /// (days since 1970) as dates.
    pub fn spells_with_dates(df: DataFrame) -> LazyFrame {
        df.lazy().with_columns([
            col("discharge_date").cast(DataType::Date),
            col("discharge_ready_date").cast(DataType::Date),
        ])
    }

    /// An `Int64` column's values.
    pub fn ints(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
        df.column(c).unwrap().i64().unwrap().iter().collect()
    }
}
