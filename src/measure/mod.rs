//! Stage 5, measure: system bottleneck aggregates from the linked journeys.
//!
//! Measures are computed unrounded here; disclosure control is applied when they are
//! published ([`crate::publish::disclosure`]).

use polars::prelude::*;

/// `discharge_delays`: per discharge month × provider × local authority × awaited
/// service, over finished spells with a discharge ready date:
/// - `discharges`: spells discharged;
/// - `delayed_discharges`: of those, discharged after their ready date (`delay_days > 0`);
/// - `delayed_bed_days`: total days between ready date and discharge;
/// - `median_delay_days`: median `delay_days` over the delayed discharges.
///
/// `la_code` is null for spells with no linked social-care event.
pub fn discharge_delays(journey: LazyFrame) -> LazyFrame {
    let delayed = col("delay_days").gt(lit(0i64));
    journey
        .filter(
            col("discharge_date")
                .is_not_null()
                .and(col("discharge_ready_date").is_not_null()),
        )
        .with_column(col("discharge_date").dt().month_start().alias("month"))
        .group_by([
            col("month"),
            col("provider_code"),
            col("la_code"),
            col("awaited_service"),
        ])
        .agg([
            len().cast(DataType::Int64).alias("discharges"),
            delayed
                .clone()
                .cast(DataType::Int64)
                .sum()
                .alias("delayed_discharges"),
            col("delay_days")
                .filter(delayed.clone())
                .sum()
                .alias("delayed_bed_days"),
            col("delay_days")
                .filter(delayed)
                .median()
                .alias("median_delay_days"),
        ])
        .sort(
            ["month", "provider_code", "la_code", "awaited_service"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}
