//! `discharge_delays`: per discharge month × provider × local authority × pathway ×
//! awaited service, over finished spells with a discharge ready date.

use polars::prelude::*;

use super::discharged_with_ready_date;
use super::histogram_quantiles::quantile_columns;

/// Discharges, delayed discharges (`delay_days > 0`), delayed bed-days (sum of
/// `delay_days`), and the median and 90th-percentile delay over delayed discharges.
/// `la_code` is null for spells with no linked social-care event.
///
/// Computed from a histogram of `delay_days` per group (a `len()` group-by), not by
/// gathering every group's rows: see [`super::histogram_quantiles`].
pub fn discharge_delays(journey: LazyFrame) -> PolarsResult<DataFrame> {
    const KEYS: [&str; 5] = [
        "month",
        "provider_code",
        "la_code",
        "discharge_pathway",
        "awaited_service",
    ];
    let keys = || KEYS.iter().map(|k| col(*k)).collect::<Vec<_>>();
    let delayed = col("delay_days").gt(lit(0i64));
    let count = col("n").cast(DataType::Int64);
    let histogram = discharged_with_ready_date(journey)
        .group_by(
            keys()
                .into_iter()
                .chain([col("delay_days")])
                .collect::<Vec<_>>(),
        )
        .agg([len().alias("n")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let groups = histogram
        .lazy()
        .sort(["delay_days"], SortMultipleOptions::default())
        .group_by(keys())
        .agg([
            count.clone().sum().alias("discharges"),
            count
                .clone()
                .filter(delayed.clone())
                .sum()
                .alias("delayed_discharges"),
            (col("delay_days") * count.clone())
                .filter(delayed.clone())
                .sum()
                .alias("delayed_bed_days"),
            col("delay_days").filter(delayed.clone()).alias("values"),
            col("n").filter(delayed).alias("counts"),
        ])
        .collect()?;
    quantile_columns(
        groups,
        "values",
        "counts",
        &[("median_delay_days", 0.5), ("p90_delay_days", 0.9)],
    )?
    .lazy()
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
    .collect()
}
