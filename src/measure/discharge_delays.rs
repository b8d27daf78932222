//! `discharge_delays`: per discharge month × provider × local authority × pathway ×
//! awaited service, over finished spells with a discharge ready date.

use polars::prelude::*;

use super::{discharged_with_ready_date, p90};

/// Discharges, delayed discharges (`delay_days > 0`), delayed bed-days (sum of
/// `delay_days`), and the median and 90th-percentile delay over delayed discharges.
/// `la_code` is null for spells with no linked social-care event.
pub fn discharge_delays(journey: LazyFrame) -> LazyFrame {
    let delayed = col("delay_days").gt(lit(0i64));
    discharged_with_ready_date(journey)
        .group_by([
            col("month"),
            col("provider_code"),
            col("la_code"),
            col("discharge_pathway"),
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
                .filter(delayed.clone())
                .cast(DataType::Float64)
                .median()
                .alias("median_delay_days"),
            p90(col("delay_days").filter(delayed)).alias("p90_delay_days"),
        ])
        .rename(["discharge_pathway"], ["pathway"], true)
        .sort(
            [
                "month",
                "provider_code",
                "la_code",
                "pathway",
                "awaited_service",
            ],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}
