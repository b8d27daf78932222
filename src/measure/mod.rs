//! Stage 5, measure: system bottleneck aggregates from the linked journeys.
//!
//! Every measure is computed unrounded from restricted data; disclosure control is applied
//! when it is published ([`crate::publish::disclosure`]). Definitions are documented
//! field by field in `schemas/shared/<dataset>.toml` and in ARCHITECTURE.md.

mod bottlenecks;
mod discharge_delays;
mod flow_daily;
pub mod histogram_quantiles;
mod linkage_quality;
mod social_care_queue;
pub mod uk_clock;

pub use bottlenecks::bottlenecks;
pub use discharge_delays::discharge_delays;
pub use flow_daily::{NAMES as FLOW_DAILY_COUNTS, add_ae_daily, ae_daily, flow_daily};
pub use linkage_quality::{ae_counts, linkage_quality};
pub use social_care_queue::social_care_queue;

use polars::prelude::*;

/// Days since 1970-01-01 of a date column, as Int32, for arithmetic.
pub(crate) fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// The 90th percentile by linear interpolation (R type 7, NumPy's default).
pub(crate) fn p90(e: Expr) -> Expr {
    e.cast(DataType::Float64)
        .quantile(lit(0.9), QuantileMethod::Linear)
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
