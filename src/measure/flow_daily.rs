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
//!   `ready_to_leave_in_hospital`; summed over the days of discharged spells it equals
//!   `patient_journey.delay_days` (spells still in hospital count too).
//! - `ae_arrivals`, `ae_over_4h`, `ae_over_12h`: A&E attendances arriving that day, and
//!   those whose arrival-to-departure time exceeded 4 and 12 hours (time elapsed, over
//!   any clock change: [`super::uk_clock`]).
//! - `admissions_via_ae`: spells admitted that day with a linked A&E attendance.
//! - `social_care_starts_from_hospital`: linked social-care services starting that day
//!   for patients of the provider; a service linked to two spells of one person (a
//!   readmission before it started) counts once, at the spell admitted last.
//!
//! Occupancy is computed with difference arrays (one pass over spells, one over days),
//! not by expanding each spell into days.
//!
//! Each row also says whether its provider-month had fewer patients than its days may be
//! published for, once for its inpatients (spells and their social-care starts) and once
//! for its A&E ([`SMALL_POPULATIONS`], [`super::daily_population`]): helpers the
//! disclosure gate suppresses each group of counts by, and drops. Counted apart, so 49
//! A&E patients do not make one inpatient's days publishable, nor the other way round.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::daily_population::{Population, month_of_day};

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
    Ok(days(df, c)?.collect())
}

/// A date column's days, read in place (no vector per spell: at 3.7 M spells each
/// would be 15-60 MB, and held together they made the run's memory peak).
fn days<'a>(
    df: &'a DataFrame,
    c: &str,
) -> PolarsResult<Box<dyn Iterator<Item = Option<i32>> + 'a>> {
    Ok(Box::new(df.column(c)?.date()?.physical().iter()))
}

/// The first and last day of a date column.
fn day_range(df: &DataFrame, c: &str) -> PolarsResult<(Option<i32>, Option<i32>)> {
    let d = df.column(c)?.date()?.physical();
    Ok((d.min(), d.max()))
}

/// For each spell, whether its linked service start counts: a service (person, council,
/// service, start day) linked to several spells counts at the one admitted last.
fn services_once(
    journey: &DataFrame,
    persons: &[Option<u32>],
    care: &[Option<i32>],
    admitted: &[Option<i32>],
) -> PolarsResult<Vec<bool>> {
    use std::collections::hash_map::Entry;
    let (la, service) = (
        crate::link::by_person::text_iter(journey.column("la_code")?)?,
        crate::link::by_person::text_iter(journey.column("awaited_service")?)?,
    );
    let mut chosen: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for (i, ((start, la), service)) in care.iter().zip(la).zip(service).enumerate() {
        let Some(start) = start else { continue };
        let key = (persons[i], la, service, *start);
        match chosen.entry(key) {
            Entry::Vacant(v) => {
                v.insert(i);
            }
            Entry::Occupied(mut o) => {
                if admitted[i] > admitted[*o.get()] {
                    o.insert(i);
                }
            }
        }
    }
    let mut counted = vec![false; care.len()];
    for i in chosen.into_values() {
        counted[i] = true;
    }
    Ok(counted)
}

/// A text column's values, borrowed (no allocation per row).
fn strings<'a>(df: &'a DataFrame, c: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(crate::link::by_person::text_iter(df.column(c)?)?.collect())
}

/// A&E attendances per provider × arrival day: `provider_code` (text), `day` (Date),
/// `ae_arrivals`, `ae_over_4h` and `ae_over_12h` (arrival to departure more than 4 and
/// 12 hours, to the millisecond: 4 h 0 min 30 s is over). Attendances can be counted a
/// part at a time: the counts of the parts add up ([`add_ae_daily`]).
pub fn ae_daily(ed: &DataFrame) -> PolarsResult<DataFrame> {
    let stay = stay_ms(ed)?;
    // More than 240 (720) minutes. (Counting whole minutes missed times recorded to the
    // second: 4 h 0 min 30 s was not a breach.)
    let over = |minutes: i64| {
        col(STAY)
            .gt(lit(minutes * 60_000))
            .cast(DataType::Int64)
            .sum()
    };
    ed.select(["provider_code", "arrival"])?
        .with_column(stay)?
        .clone()
        .lazy()
        .filter(
            col("provider_code")
                .is_not_null()
                .and(col("arrival").is_not_null()),
        )
        // Grouped on the categorical's ids; only the groups' codes are cast to text.
        .group_by([
            col("provider_code"),
            col("arrival").cast(DataType::Date).alias("day"),
        ])
        .agg([
            len().cast(DataType::Int64).alias("ae_arrivals"),
            over(240).alias("ae_over_4h"),
            over(720).alias("ae_over_12h"),
        ])
        .with_column(col("provider_code").cast(DataType::String))
        .collect()
}

const STAY: &str = "stay_ms";

/// Each attendance's time from arrival to departure in milliseconds, over any clock
/// change between them ([`super::uk_clock`]); null without both times.
fn stay_ms(ed: &DataFrame) -> PolarsResult<Column> {
    let times = |c: &str| -> PolarsResult<Int64Chunked> {
        Ok(ed
            .column(c)?
            .as_materialized_series()
            .to_physical_repr()
            .cast(&DataType::Int64)?
            .i64()?
            .clone())
    };
    let (arrival, departure) = (times("arrival")?, times("departure")?);
    let stay: Int64Chunked = arrival
        .iter()
        .zip(departure.iter())
        .map(|(a, d)| Some(super::uk_clock::elapsed_ms(a?, d?)))
        .collect();
    Ok(stay.with_name(STAY.into()).into_column())
}

/// The sum of several [`ae_daily`] counts, per provider × day.
pub fn add_ae_daily(parts: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let parts: Vec<LazyFrame> = parts.into_iter().map(DataFrame::lazy).collect();
    if parts.is_empty() {
        let mut columns = vec![
            Column::new_empty("provider_code".into(), &DataType::String),
            Column::new_empty("day".into(), &DataType::Date),
        ];
        for name in ["ae_arrivals", "ae_over_4h", "ae_over_12h"] {
            columns.push(Column::new_empty(name.into(), &DataType::Int64));
        }
        return DataFrame::new(0, columns);
    }
    concat(parts, UnionArgs::default())?
        .group_by([col("provider_code"), col("day")])
        .agg([
            col("ae_arrivals").sum(),
            col("ae_over_4h").sum(),
            col("ae_over_12h").sum(),
        ])
        .collect()
}

/// The A&E counts of [`NAMES`]; the others count spells (inpatients and day cases) and
/// their social-care starts.
pub const AE_NAMES: [&str; 3] = ["ae_arrivals", "ae_over_4h", "ae_over_12h"];

/// The helper columns saying a row's provider-month has too few patients to publish its
/// days ([`super::daily_population`]): of spells, then of A&E, each with the counts it
/// suppresses.
pub const SMALL_POPULATIONS: [&str; 2] = ["small_inpatient_population", "small_ae_population"];

/// The counts each of [`SMALL_POPULATIONS`] suppresses: the spells' and the A&E's.
pub fn counts_of(helper: &str) -> Vec<&'static str> {
    NAMES
        .iter()
        .copied()
        .filter(|c| AE_NAMES.contains(c) == (helper == SMALL_POPULATIONS[1]))
        .collect()
}

/// Daily flow per provider from `patient_journey`, the A&E counts of [`ae_daily`] and the
/// A&E patients per provider-month (`ae_patients`).
pub fn flow_daily(
    journey: &DataFrame,
    ae: &DataFrame,
    ae_patients: &Population,
) -> PolarsResult<DataFrame> {
    // Which linked service starts count needs the starts and admissions by row; the rest
    // is read in place, a spell at a time.
    let persons = person_numbers(journey)?;
    let care_counted = services_once(
        journey,
        &persons,
        &dates(journey, "care_service_start")?,
        &dates(journey, "admission_date")?,
    )?;
    let ae_provider = strings(ae, "provider_code")?;
    let ae_day = dates(ae, "day")?;
    let count = |c: &str| -> PolarsResult<Vec<i64>> {
        Ok(ae
            .column(c)?
            .i64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (arrivals, over_4h, over_12h) = (
        count("ae_arrivals")?,
        count("ae_over_4h")?,
        count("ae_over_12h")?,
    );

    let ae_days = ae_day.iter().flatten().copied();
    let mut ends: Vec<i32> = ae_days
        .clone()
        .min()
        .into_iter()
        .chain(ae_days.max())
        .collect();
    for c in ["admission_date", "discharge_date", "care_service_start"] {
        let (lo, hi) = day_range(journey, c)?;
        ends.extend(lo.into_iter().chain(hi));
    }
    let (Some(&first), Some(&last)) = (ends.iter().min(), ends.iter().max()) else {
        return empty();
    };
    let mut grid = Grid {
        first,
        n: (last - first + 1) as usize,
        by_provider: BTreeMap::new(),
    };
    let via_ae = journey.column("ed_attendance_id")?.is_not_null();
    let mut inpatients = Population::new(ae_patients.minimum());
    let spells = crate::link::by_person::text_iter(journey.column("provider_code")?)?
        .zip(days(journey, "admission_date")?)
        .zip(days(journey, "discharge_date")?)
        .zip(days(journey, "discharge_ready_date")?)
        .zip(crate::link::by_person::text_iter(
            journey.column("admission_type")?,
        )?)
        .zip(via_ae.iter())
        .zip(days(journey, "care_service_start")?)
        .zip(&care_counted)
        .zip(&persons);
    for (
        (((((((provider, admitted), discharged), ready), kind), via_ae), care), &counted),
        &person,
    ) in spells
    {
        let (Some(p), Some(adm)) = (provider, admitted) else {
            continue;
        };
        // In a bed (or a day case) from admission to discharge, or to the last day.
        inpatients.add_days(p, adm, discharged.unwrap_or(last), person);
        if let (Some(c), true) = (care, counted) {
            inpatients.add_days(p, c, c, person);
        }
        let today = grid.at(p, adm);
        match kind {
            Some("elective") => today.elective += 1,
            Some("emergency") => today.emergency += 1,
            _ => today.other += 1,
        }
        today.occupancy_change += 1;
        if via_ae == Some(true) {
            today.via_ae += 1;
        }
        if let Some(dis) = discharged {
            let out = grid.at(p, dis);
            out.discharges += 1;
            out.occupancy_change -= 1;
        }
        // Ready from the admission at the earliest (a contract need not order the dates);
        // a ready date after the last day of any activity (a patient still in hospital,
        // expected ready later) is outside the days counted and changes none of them.
        if let Some(r) = ready.map(|r| r.max(adm))
            && discharged.is_none_or(|dis| r < dis)
            && r <= last
        {
            grid.at(p, r).ready_change += 1;
            if let Some(dis) = discharged {
                grid.at(p, dis).ready_change -= 1;
            }
        }
        if let (Some(c), true) = (care, counted) {
            grid.at(p, c).care_starts += 1;
        }
    }
    for i in 0..ae_provider.len() {
        let (Some(p), Some(day)) = (ae_provider[i], ae_day[i]) else {
            continue;
        };
        let today = grid.at(p, day);
        today.ae_arrivals += arrivals[i];
        today.ae_over_4h += over_4h[i];
        today.ae_over_12h += over_12h[i];
    }
    let Grid { n, by_provider, .. } = grid;

    let rows = by_provider.len() * n;
    let mut cols: Vec<Vec<i64>> = (0..NAMES.len()).map(|_| Vec::with_capacity(rows)).collect();
    let (mut providers, mut day_col) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let (mut small, mut small_ae) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for (p, days) in &by_provider {
        let (mut occupied, mut ready_now) = (0i64, 0i64);
        let mut month = None;
        for (d, x) in days.iter().enumerate() {
            occupied += x.occupancy_change;
            ready_now += x.ready_change;
            providers.push(*p);
            let day = first + d as i32;
            day_col.push(day);
            let m = month_of_day(day);
            if month.is_none_or(|(known, _, _)| known != m) {
                month = Some((m, inpatients.is_small(p, m), ae_patients.is_small(p, m)));
            }
            small.push(month.is_some_and(|(_, is, _)| is));
            small_ae.push(month.is_some_and(|(_, _, is)| is));
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
    columns.push(Column::new(SMALL_POPULATIONS[0].into(), small));
    columns.push(Column::new(SMALL_POPULATIONS[1].into(), small_ae));
    DataFrame::new(rows, columns)
}

/// Each spell's person: its number ([`crate::link::person_index::PERSON`]) in a run, or,
/// in a frame built without one, its `person_id` numbered here; `None` without one.
fn person_numbers(journey: &DataFrame) -> PolarsResult<Vec<Option<u32>>> {
    if let Ok(numbers) = journey.column(crate::link::person_index::PERSON) {
        return Ok(numbers.u32()?.iter().collect());
    }
    let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    Ok(strings(journey, crate::link::person_index::PERSON_ID)?
        .into_iter()
        .map(|id| {
            let next = ids.len() as u32;
            id.map(|id| *ids.entry(id).or_insert(next))
        })
        .collect())
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
    for helper in SMALL_POPULATIONS {
        columns.push(Column::new_empty(helper.into(), &DataType::Boolean));
    }
    DataFrame::new(0, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds since 1970 of 2024-06-05 at `h:m:s`.
    fn at(h: i64, m: i64, s: i64) -> i64 {
        let day = i64::from(crate::ingest::dates::days_from_civil(2024, 6, 5));
        ((day * 24 + h) * 60 + m) * 60_000 + s * 1000
    }

    #[test]
    fn regression_a_wait_recorded_to_the_second_just_over_4_or_12_hours_is_a_breach() {
        // 4 h 0 min 30 s and 12 h 0 min 59 s were not breaches (whole minutes counted);
        // exactly 4 hours is none.
        let arrival = [at(8, 0, 0), at(8, 0, 0), at(8, 0, 0)];
        let departure = [at(12, 0, 30), at(20, 0, 59), at(12, 0, 0)];
        let ms = |v: &[i64]| {
            Series::new("x".into(), v)
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .unwrap()
        };
        let ed = DataFrame::new(
            3,
            vec![
                Column::new("provider_code".into(), ["RX1", "RX1", "RX1"]),
                ms(&arrival).with_name("arrival".into()).into(),
                ms(&departure).with_name("departure".into()).into(),
            ],
        )
        .unwrap();
        let daily = ae_daily(&ed).unwrap();
        let count = |c: &str| daily.column(c).unwrap().i64().unwrap().get(0);
        assert_eq!(
            (
                count("ae_arrivals"),
                count("ae_over_4h"),
                count("ae_over_12h")
            ),
            (Some(3), Some(2), Some(1))
        );
    }

    #[test]
    fn regression_a_wait_over_the_october_clock_change_is_an_hour_longer_than_its_times() {
        // 23:00 BST to 02:30 GMT lasted 4 h 30 min (a 4-hour breach); its clock times are
        // 3 h 30 min apart, and it was not counted. 23:00 GMT to 03:30 BST over the March
        // change lasted 3 h 30 min, and was counted.
        let at = |m: u32, d: u32, h: i64, min: i64| {
            (i64::from(crate::ingest::dates::days_from_civil(2024, m, d)) * 24 + h) * 3_600_000
                + min * 60_000
        };
        let ms = |v: [i64; 2]| {
            Series::new("x".into(), v)
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .unwrap()
        };
        let ed = DataFrame::new(
            2,
            vec![
                Column::new("provider_code".into(), ["RX1", "RX2"]),
                ms([at(10, 26, 23, 0), at(3, 30, 23, 0)])
                    .with_name("arrival".into())
                    .into(),
                ms([at(10, 27, 2, 30), at(3, 31, 3, 30)])
                    .with_name("departure".into())
                    .into(),
            ],
        )
        .unwrap();
        let daily = ae_daily(&ed)
            .unwrap()
            .sort(["provider_code"], Default::default())
            .unwrap();
        let over = daily.column("ae_over_4h").unwrap().i64().unwrap();
        assert_eq!(over.iter().collect::<Vec<_>>(), [Some(1), Some(0)]);
    }

    #[test]
    fn regression_a_ready_date_after_the_last_day_of_activity_is_not_counted() {
        // A patient still in hospital, ready on day 9, after every admission, discharge
        // and service start (day 8): `Grid::at` indexed past the last day and the run
        // panicked. A ready date before the admission counts from the admission.
        let day = |d: u32| crate::ingest::dates::days_from_civil(2024, 6, d);
        let dates = |name: &str, v: [Option<i32>; 2]| {
            Column::new(name.into(), v).cast(&DataType::Date).unwrap()
        };
        let journey = DataFrame::new(
            2,
            vec![
                Column::new("provider_code".into(), ["RX1", "RX1"]),
                Column::new("person_id".into(), ["P", "Q"]),
                dates("admission_date", [Some(day(1)), Some(day(3))]),
                dates("discharge_date", [None, Some(day(8))]),
                dates("discharge_ready_date", [Some(day(9)), Some(day(2))]),
                Column::new("admission_type".into(), ["emergency", "emergency"]),
                Column::new("ed_attendance_id".into(), [None::<&str>, None]),
                dates("care_service_start", [None, None]),
                Column::new("la_code".into(), [None::<&str>, None]),
                Column::new("awaited_service".into(), ["none", "none"]),
            ],
        )
        .unwrap();
        let flow = flow_daily(
            &journey,
            &add_ae_daily(Vec::new()).unwrap(),
            &Population::default(),
        )
        .unwrap();
        let ints = |c: &str| -> Vec<i64> {
            flow.column(c)
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .flatten()
                .collect()
        };
        assert_eq!(flow.height(), 8, "days 1 to 8");
        assert_eq!(ints("occupied_beds_midnight"), [1, 1, 2, 2, 2, 2, 2, 1]);
        assert_eq!(ints("ready_to_leave_in_hospital"), [0, 0, 1, 1, 1, 1, 1, 0]);
        assert_eq!(ints("delayed_bed_days").iter().sum::<i64>(), 5);
    }

    #[test]
    fn regression_a_service_linked_to_two_spells_starts_once() {
        // One person, two spells (the second a readmission) both linked to the home-care
        // service starting on day 14: it was counted twice.
        let day = |d: u32| crate::ingest::dates::days_from_civil(2024, 6, d);
        let dates = |name: &str, v: [Option<i32>; 2]| {
            Column::new(name.into(), v).cast(&DataType::Date).unwrap()
        };
        let journey = DataFrame::new(
            2,
            vec![
                Column::new("provider_code".into(), ["RX1", "RX1"]),
                Column::new("person_id".into(), ["P", "P"]),
                dates("admission_date", [Some(day(1)), Some(day(10))]),
                dates("discharge_date", [Some(day(3)), Some(day(14))]),
                dates("discharge_ready_date", [Some(day(1)), Some(day(12))]),
                Column::new("admission_type".into(), ["emergency", "emergency"]),
                Column::new("ed_attendance_id".into(), [None::<&str>, None]),
                dates("care_service_start", [Some(day(14)), Some(day(14))]),
                Column::new("la_code".into(), ["902", "902"]),
                Column::new("awaited_service".into(), ["home_care", "home_care"]),
            ],
        )
        .unwrap();
        let ae = add_ae_daily(Vec::new()).unwrap();
        let flow = flow_daily(&journey, &ae, &Population::default()).unwrap();
        let starts: i64 = flow
            .column("social_care_starts_from_hospital")
            .unwrap()
            .i64()
            .unwrap()
            .sum()
            .unwrap();
        assert_eq!(starts, 1);
        let counted = services_once(
            &journey,
            &person_numbers(&journey).unwrap(),
            &[Some(day(14)), Some(day(14))],
            &[Some(day(1)), Some(day(10))],
        )
        .unwrap();
        assert_eq!(counted, [false, true]);
    }

    /// Regression (disclosure review): one patient at a provider of no other patients
    /// (admitted on the 5th, ready on the 12th, discharged on the 20th) showed as the only
    /// days its columns were suppressed rather than 0: the patient's timeline. Every day
    /// of a provider-month with fewer than 50 patients is suppressed whole, zeros
    /// included; a provider-month with 50 is published cell by cell.
    #[test]
    fn regression_the_days_of_a_provider_month_of_few_patients_are_suppressed_whole() {
        use crate::measure::daily_population::DAILY_MIN_PATIENTS;
        use crate::publish::disclosure::{Rule, apply};
        let day = |d: u32| crate::ingest::dates::days_from_civil(2025, 11, d);
        // RX9: one patient. RX1: fifty, each a day case on the 3rd.
        let n = 1 + DAILY_MIN_PATIENTS;
        let mut provider = vec!["RX9"];
        provider.extend(std::iter::repeat_n("RX1", DAILY_MIN_PATIENTS));
        let persons: Vec<String> = (0..n).map(|i| format!("P{i}")).collect();
        let mut admitted = vec![Some(day(5))];
        admitted.extend(std::iter::repeat_n(Some(day(3)), DAILY_MIN_PATIENTS));
        let mut discharged = vec![Some(day(20))];
        discharged.extend(std::iter::repeat_n(Some(day(3)), DAILY_MIN_PATIENTS));
        let mut ready = vec![Some(day(12))];
        ready.extend(std::iter::repeat_n(None, DAILY_MIN_PATIENTS));
        let dates = |name: &str, v: Vec<Option<i32>>| {
            Column::new(name.into(), v).cast(&DataType::Date).unwrap()
        };
        let journey = DataFrame::new(
            n,
            vec![
                Column::new("provider_code".into(), provider),
                Column::new("person_id".into(), persons),
                dates("admission_date", admitted),
                dates("discharge_date", discharged),
                dates("discharge_ready_date", ready),
                Column::new("admission_type".into(), vec!["emergency"; n]),
                Column::new("ed_attendance_id".into(), vec![None::<&str>; n]),
                dates("care_service_start", vec![None; n]),
                Column::new("la_code".into(), vec![None::<&str>; n]),
                Column::new("awaited_service".into(), vec!["none"; n]),
            ],
        )
        .unwrap();
        let ae = add_ae_daily(Vec::new()).unwrap();
        let flow = flow_daily(&journey, &ae, &Population::default()).unwrap();
        let spec = crate::publish::Dataset::FlowDaily.gate();
        let (gated, _) = apply(flow, &spec, Rule::HES).unwrap();
        let rows = |p: &str| {
            gated
                .clone()
                .lazy()
                .filter(col("provider_code").eq(lit(p)))
                .collect()
                .unwrap()
        };
        let (small, large) = (rows("RX9"), rows("RX1"));
        assert_eq!(small.height(), 18, "3 to 20 November");
        for c in NAMES {
            let values = small.column(c).unwrap().i64().unwrap();
            let flags = small.column(&format!("{c}_suppressed")).unwrap();
            if AE_NAMES.contains(&c) {
                // No A&E patient: nothing to protect, its zeros are shown.
                assert_eq!(values.into_no_null_iter().sum::<i64>(), 0, "{c}");
                assert!(!flags.bool().unwrap().any(), "{c}");
            } else {
                assert_eq!(values.null_count(), 18, "{c}");
                assert!(flags.bool().unwrap().all(), "{c}");
            }
        }
        // Fifty day cases on the 3rd: shown (rounded); the days without any, 0.
        let admissions = large.column("admissions_emergency").unwrap().i64().unwrap();
        assert_eq!(admissions.get(0), Some(50));
        assert_eq!(admissions.get(1), Some(0));
        assert!(
            SMALL_POPULATIONS.iter().all(|h| gated.column(h).is_err()),
            "the helper is not published"
        );
    }

    /// Regression (disclosure re-review): inpatients and A&E patients were counted
    /// together, so one inpatient beside 49 A&E patients made 50 and the inpatient's
    /// days were published (admitted the 5th, discharged the 20th). Each group of counts
    /// rests on its own patients: here the inpatient's columns are suppressed whole and
    /// the A&E's, of 50 patients, shown.
    #[test]
    fn regression_inpatients_and_ae_patients_are_counted_apart() {
        use crate::measure::daily_population::DAILY_MIN_PATIENTS;
        use crate::publish::disclosure::{Rule, apply};
        let day = |d: u32| crate::ingest::dates::days_from_civil(2025, 10, d);
        let dates = |name: &str, v: Option<i32>| {
            Column::new(name.into(), [v]).cast(&DataType::Date).unwrap()
        };
        let journey = DataFrame::new(
            1,
            vec![
                Column::new("provider_code".into(), ["RX4"]),
                Column::new("person_id".into(), ["P"]),
                dates("admission_date", Some(day(5))),
                dates("discharge_date", Some(day(20))),
                dates("discharge_ready_date", Some(day(12))),
                Column::new("admission_type".into(), ["emergency"]),
                Column::new("ed_attendance_id".into(), [None::<&str>]),
                dates("care_service_start", None),
                Column::new("la_code".into(), [None::<&str>]),
                Column::new("awaited_service".into(), ["none"]),
            ],
        )
        .unwrap();
        let mut ae_patients = Population::default();
        for person in 0..DAILY_MIN_PATIENTS as u32 {
            ae_patients.add("RX4", month_of_day(day(5)), Some(person + 1));
        }
        let ae = DataFrame::new(
            1,
            vec![
                Column::new("provider_code".into(), ["RX4"]),
                Column::new("day".into(), [day(5)])
                    .cast(&DataType::Date)
                    .unwrap(),
                Column::new("ae_arrivals".into(), [50i64]),
                Column::new("ae_over_4h".into(), [10i64]),
                Column::new("ae_over_12h".into(), [0i64]),
            ],
        )
        .unwrap();
        let flow = flow_daily(&journey, &ae, &ae_patients).unwrap();
        let spec = crate::publish::Dataset::FlowDaily.gate();
        let (gated, _) = apply(flow, &spec, Rule::HES).unwrap();
        assert_eq!(gated.height(), 16, "5 to 20 October");
        for c in NAMES {
            let values = gated.column(c).unwrap().i64().unwrap();
            if AE_NAMES.contains(&c) {
                assert_eq!(values.null_count(), 0, "{c}: 50 A&E patients, shown");
            } else {
                assert_eq!(values.null_count(), 16, "{c}: one inpatient, suppressed");
            }
        }
        assert_eq!(
            gated.column("ae_arrivals").unwrap().i64().unwrap().get(0),
            Some(50)
        );
    }
}
