//! `bottlenecks`: per discharge month, which local authority × awaited service ×
//! provider accounts for how many delayed bed-days, its share of the system total, its
//! rank, and the change against the previous month.

use std::collections::HashMap;

use polars::prelude::*;

use super::discharged_with_ready_date;

/// Month, council, awaited service, provider.
type GroupKey<'a> = (i32, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Ranked delayed bed-days per month. Spells not waiting for a linked service count in
/// the system total under `awaited_service = "none"`. `change_in_delayed_bed_days` is
/// against the same group in the previous calendar month (0 when the group had none
/// then; null in the first month of the data: the first discharge month of
/// `discharge_delays`, a month with discharges even when none was delayed). The previous month's delayed bed-days
/// and discharges are kept as `previous_delayed_bed_days` and
/// `previous_delayed_discharges`, so the disclosure gate can publish the change as the
/// difference of published values (it drops them).
pub fn bottlenecks(journey: LazyFrame) -> PolarsResult<DataFrame> {
    let discharged = discharged_with_ready_date(journey);
    // The first month of the data is `discharge_delays`' first, delayed or not: a group's
    // first delayed month after a month without delays is a change from 0, not unknown.
    let first_month = discharged
        .clone()
        .select([col("month").cast(DataType::Int32).min()])
        .collect()?
        .column("month")?
        .i32()?
        .get(0);
    let delayed = discharged.filter(col("delay_days").gt(lit(0i64)));
    let system = |c: &str| col(c).sum().over([col("month")]);
    let groups = delayed
        .group_by([
            col("month"),
            col("la_code"),
            col("awaited_service"),
            col("provider_code"),
        ])
        .agg([
            len().cast(DataType::Int64).alias("delayed_discharges"),
            col("delay_days")
                .sum()
                .cast(DataType::Int64)
                .alias("delayed_bed_days"),
        ])
        .with_columns([
            system("delayed_discharges")?.alias("system_delayed_discharges"),
            system("delayed_bed_days")?.alias("system_delayed_bed_days"),
        ])
        .with_column(
            (col("delayed_bed_days").cast(DataType::Float64) * lit(100.0)
                / col("system_delayed_bed_days").cast(DataType::Float64))
            .alias("share_of_system_pct"),
        )
        .sort(
            [
                "month",
                "delayed_bed_days",
                "la_code",
                "awaited_service",
                "provider_code",
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, true, false, false, false])
                .with_nulls_last(true),
        )
        .collect()?;

    // Rank within month and change against the previous month (small table: plain Rust).
    let month = groups.column("month")?.cast(&DataType::Int32)?;
    let month = month.i32()?;
    let key = |c: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(groups
            .column(c)?
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.map(String::from))
            .collect())
    };
    let (la, service, provider) = (
        key("la_code")?,
        key("awaited_service")?,
        key("provider_code")?,
    );
    let values = |c: &str| -> PolarsResult<Vec<i64>> {
        Ok(groups
            .column(c)?
            .i64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (bed_days, discharges) = (values("delayed_bed_days")?, values("delayed_discharges")?);
    let months: Vec<i32> = month.iter().map(|m| m.unwrap_or(0)).collect();
    let mut by_key: HashMap<GroupKey, (i64, i64)> = HashMap::new();
    for i in 0..groups.height() {
        by_key.insert(
            (
                months[i],
                la[i].as_deref(),
                service[i].as_deref(),
                provider[i].as_deref(),
            ),
            (bed_days[i], discharges[i]),
        );
    }
    let mut rank = Vec::with_capacity(groups.height());
    let mut change = Vec::with_capacity(groups.height());
    let mut previous_bed_days = Vec::with_capacity(groups.height());
    let mut previous_discharges = Vec::with_capacity(groups.height());
    let (mut current, mut r) = (None, 0i64);
    for i in 0..groups.height() {
        if current != Some(months[i]) {
            current = Some(months[i]);
            r = 0;
        }
        r += 1;
        rank.push(r);
        let prev = previous_month_start(months[i]);
        let before = (Some(months[i]) != first_month).then(|| {
            by_key
                .get(&(
                    prev,
                    la[i].as_deref(),
                    service[i].as_deref(),
                    provider[i].as_deref(),
                ))
                .copied()
                .unwrap_or((0, 0))
        });
        change.push(before.map(|(b, _)| bed_days[i] - b));
        previous_bed_days.push(before.map(|(b, _)| b));
        previous_discharges.push(before.map(|(_, d)| d));
    }
    let mut out = groups;
    out.with_column(Column::new("rank".into(), rank))?;
    out.with_column(Column::new("change_in_delayed_bed_days".into(), change))?;
    out.with_column(Column::new(
        "previous_delayed_bed_days".into(),
        previous_bed_days,
    ))?;
    out.with_column(Column::new(
        "previous_delayed_discharges".into(),
        previous_discharges,
    ))?;
    out.select([
        "month",
        "rank",
        "la_code",
        "awaited_service",
        "provider_code",
        "delayed_discharges",
        "delayed_bed_days",
        "system_delayed_discharges",
        "system_delayed_bed_days",
        "share_of_system_pct",
        "change_in_delayed_bed_days",
        "previous_delayed_bed_days",
        "previous_delayed_discharges",
    ])
}

/// The first day of the month before the month starting on day `month_start` (days since
/// 1970-01-01).
fn previous_month_start(month_start: i32) -> i32 {
    let (y, m) = civil_year_month(month_start);
    let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    crate::ingest::dates::days_from_civil(py, pm, 1)
}

fn civil_year_month(days: i32) -> (i32, u32) {
    let (y, m, _) = crate::ingest::dates::civil_from_days(i64::from(days));
    (y as i32, m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dates::days_from_civil;

    #[test]
    fn previous_month_crosses_years() {
        assert_eq!(
            previous_month_start(days_from_civil(2026, 1, 1)),
            days_from_civil(2025, 12, 1)
        );
        assert_eq!(
            previous_month_start(days_from_civil(2026, 3, 1)),
            days_from_civil(2026, 2, 1)
        );
        assert_eq!(civil_year_month(days_from_civil(2024, 2, 29)), (2024, 2));
    }

    /// Regression (measures review, case `first`): the first month was taken over the
    /// delayed groups only, so a month whose discharges were all on time did not count
    /// and December's delay (after a November without one) had a null change. The first
    /// month of the data is November: December's change is +5 on 0.
    #[test]
    fn regression_the_first_month_is_the_datas_not_the_first_with_a_delay() {
        let day = |y, m, d| days_from_civil(y, m, d);
        let journey = df!(
            "discharge_date" => [day(2026, 11, 3), day(2026, 12, 10)],
            "discharge_ready_date" => [day(2026, 11, 3), day(2026, 12, 5)],
            "delay_days" => [0i64, 5],
            "la_code" => ["901", "901"],
            "awaited_service" => ["none", "none"],
            "provider_code" => ["RX1", "RX1"],
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("discharge_date").cast(DataType::Date),
            col("discharge_ready_date").cast(DataType::Date),
        ]);
        let out = bottlenecks(journey).unwrap();
        assert_eq!(out.height(), 1);
        let int = |c: &str| out.column(c).unwrap().i64().unwrap().get(0);
        assert_eq!(int("delayed_bed_days"), Some(5));
        assert_eq!(int("change_in_delayed_bed_days"), Some(5));
        assert_eq!(int("previous_delayed_bed_days"), Some(0));
        assert_eq!(int("previous_delayed_discharges"), Some(0));
    }
}
