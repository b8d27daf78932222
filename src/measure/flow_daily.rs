//! `flow_daily`: per provider × day, from the first to the last day with any activity.
//!
//! - `admissions_elective|emergency|other`: spells admitted that day, by admission type
//!   (maternity counts as other).
//! - `discharges`: spells discharged that day.
//! - `occupied_beds_midnight`: spells admitted on or before the day and not discharged
//!   by its end (day cases do not occupy a bed at midnight).
//! - `ready_to_leave_in_hospital`: of those, patients whose discharge ready date has
//!   passed (ready date on or before the day).
//! - `delayed_bed_days`: bed-days lost that day, which for a single day equals
//!   `ready_to_leave_in_hospital`; summed over days it equals `patient_journey.delay_days`.
//! - `ae_arrivals`, `ae_over_4h`, `ae_over_12h`: A&E attendances arriving that day, and
//!   those whose arrival-to-departure time exceeded 4 and 12 hours.
//! - `admissions_via_ae`: spells admitted that day with a linked A&E attendance.
//! - `social_care_starts_from_hospital`: linked social-care services starting that day
//!   for patients of the provider.
//!
//! Occupancy is computed with difference arrays (one pass over spells, one over days),
//! not by expanding each spell into days.

use std::collections::BTreeMap;

use polars::prelude::*;

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Default, Clone, Copy)]
struct Day {
    elective: i64,
    emergency: i64,
    other: i64,
    discharges: i64,
    occupancy_change: i64,
    ready_change: i64,
    ae_arrivals: i64,
    ae_over_4h: i64,
    ae_over_12h: i64,
    via_ae: i64,
    care_starts: i64,
}

/// Per provider, one counter set per day from `first`.
struct Grid<'a> {
    first: i32,
    n: usize,
    by_provider: BTreeMap<&'a str, Vec<Day>>,
}

impl<'a> Grid<'a> {
    fn at(&mut self, provider: &'a str, day: i32) -> &mut Day {
        let n = self.n;
        let days = self
            .by_provider
            .entry(provider)
            .or_insert_with(|| vec![Day::default(); n]);
        &mut days[(day - self.first) as usize]
    }
}

fn dates(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .collect())
}

/// A text column's values, borrowed (no allocation per row).
fn strings<'a>(df: &'a DataFrame, c: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(text(df.column(c)?)?.collect())
}

/// The values of a string or categorical column, borrowed.
fn text(c: &Column) -> PolarsResult<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match c.dtype() {
        DataType::Categorical(..) | DataType::Enum(..) => Box::new(c.cat32()?.iter_str()),
        _ => Box::new(c.str()?.iter()),
    })
}

/// Daily flow per provider from `patient_journey` and `ed_attendance` frames.
pub fn flow_daily(journey: &DataFrame, ed: &DataFrame) -> PolarsResult<DataFrame> {
    let provider = strings(journey, "provider_code")?;
    let admitted = dates(journey, "admission_date")?;
    let discharged = dates(journey, "discharge_date")?;
    let ready = dates(journey, "discharge_ready_date")?;
    let kind = strings(journey, "admission_type")?;
    let via_ae: Vec<bool> = journey
        .column("ed_attendance_id")?
        .is_not_null()
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let care = dates(journey, "care_service_start")?;
    // A&E rows are the most numerous: read them in place, never copied into vectors.
    let ed_provider = text(ed.column("provider_code")?)?;
    let arrival = ed.column("arrival")?.cast(&DataType::Int64)?;
    let arrival = arrival.i64()?;
    let departure = ed.column("departure")?.cast(&DataType::Int64)?;
    let departure = departure.i64()?;

    let all_days = admitted
        .iter()
        .chain(&discharged)
        .chain(&care)
        .flatten()
        .copied()
        .chain(
            [arrival.min(), arrival.max()]
                .into_iter()
                .flatten()
                .map(|ms| ms.div_euclid(MS_PER_DAY) as i32),
        );
    let (Some(first), Some(last)) = (all_days.clone().min(), all_days.max()) else {
        return empty();
    };
    let mut grid = Grid {
        first,
        n: (last - first + 1) as usize,
        by_provider: BTreeMap::new(),
    };
    for i in 0..provider.len() {
        let (Some(p), Some(adm)) = (provider[i], admitted[i]) else {
            continue;
        };
        let today = grid.at(p, adm);
        match kind[i] {
            Some("elective") => today.elective += 1,
            Some("emergency") => today.emergency += 1,
            _ => today.other += 1,
        }
        today.occupancy_change += 1;
        if via_ae[i] {
            today.via_ae += 1;
        }
        if let Some(dis) = discharged[i] {
            let out = grid.at(p, dis);
            out.discharges += 1;
            out.occupancy_change -= 1;
        }
        if let Some(r) = ready[i]
            && discharged[i].is_none_or(|dis| r < dis)
        {
            grid.at(p, r).ready_change += 1;
            if let Some(dis) = discharged[i] {
                grid.at(p, dis).ready_change -= 1;
            }
        }
        if let Some(c) = care[i] {
            grid.at(p, c).care_starts += 1;
        }
    }
    for ((p, a), dep) in ed_provider.zip(arrival.iter()).zip(departure.iter()) {
        let (Some(p), Some(a)) = (p, a) else {
            continue;
        };
        let minutes = dep.map(|dep| (dep - a) / 60_000);
        let today = grid.at(p, a.div_euclid(MS_PER_DAY) as i32);
        today.ae_arrivals += 1;
        if minutes.is_some_and(|m| m > 4 * 60) {
            today.ae_over_4h += 1;
        }
        if minutes.is_some_and(|m| m > 12 * 60) {
            today.ae_over_12h += 1;
        }
    }
    let Grid { n, by_provider, .. } = grid;

    let rows = by_provider.len() * n;
    let mut cols: Vec<Vec<i64>> = (0..NAMES.len()).map(|_| Vec::with_capacity(rows)).collect();
    let (mut providers, mut day_col) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for (p, days) in &by_provider {
        let (mut occupied, mut ready_now) = (0i64, 0i64);
        for (d, x) in days.iter().enumerate() {
            occupied += x.occupancy_change;
            ready_now += x.ready_change;
            providers.push(*p);
            day_col.push(first + d as i32);
            let values = [
                x.elective,
                x.emergency,
                x.other,
                x.discharges,
                occupied,
                ready_now,
                ready_now,
                x.ae_arrivals,
                x.ae_over_4h,
                x.ae_over_12h,
                x.via_ae,
                x.care_starts,
            ];
            for (c, v) in cols.iter_mut().zip(values) {
                c.push(v);
            }
        }
    }
    let mut columns = vec![
        Column::new("provider_code".into(), providers),
        Column::new("date".into(), day_col).cast(&DataType::Date)?,
    ];
    for (name, values) in NAMES.iter().zip(cols) {
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new(rows, columns)
}

/// The count columns, in output order (all counts of people).
pub const NAMES: [&str; 12] = [
    "admissions_elective",
    "admissions_emergency",
    "admissions_other",
    "discharges",
    "occupied_beds_midnight",
    "ready_to_leave_in_hospital",
    "delayed_bed_days",
    "ae_arrivals",
    "ae_over_4h",
    "ae_over_12h",
    "admissions_via_ae",
    "social_care_starts_from_hospital",
];

fn empty() -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new_empty("provider_code".into(), &DataType::String),
        Column::new_empty("date".into(), &DataType::Date),
    ];
    for name in NAMES {
        columns.push(Column::new_empty(name.into(), &DataType::Int64));
    }
    DataFrame::new(0, columns)
}
