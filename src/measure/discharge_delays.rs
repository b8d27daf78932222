//! `discharge_delays`: per discharge month × provider × local authority × pathway ×
//! awaited service, over finished spells with a discharge ready date.

use polars::prelude::*;

use super::histogram_quantiles::quantile_columns;
use super::largest_patients::{Largest, largest_patients};
use super::{discharged_with_ready_date, people_by_group};

/// The people behind `discharges` and behind `delayed_discharges` (and its bed-days),
/// helper columns the disclosure gate rests those counts on and drops: one patient's
/// eight spells in a group are suppressed, not published as 10.
pub const PEOPLE: [&str; 2] = ["people_discharged", "people_delayed"];

/// The parts of `delayed_bed_days` its largest two patients account for: helper columns
/// the gate's dominance rule reads and drops ([`super::largest_patients`]).
pub const LARGEST: Largest = ["largest_delayed_bed_days", "second_delayed_bed_days"];

/// Discharges, delayed discharges (`delay_days > 0`), delayed bed-days (sum of
/// `delay_days`), and the median and 90th-percentile delay over delayed discharges.
/// `la_code` is null for spells with no linked social-care event. With them, the people
/// behind the counts ([`PEOPLE`]) and the parts of the bed-days their largest two
/// patients account for ([`LARGEST`]; null in a group with no delayed discharge).
///
/// Computed from a histogram of `delay_days` per group (a `len()` group-by), not by
/// gathering every group's rows: see [`super::histogram_quantiles`].
///
/// The largest patients' parts are worked out only `with_largest` (a pipeline with a
/// dominance rule); otherwise their columns are null.
pub fn discharge_delays(journey: LazyFrame, with_largest: bool) -> PolarsResult<DataFrame> {
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
    let discharged = discharged_with_ready_date(journey);
    let people = people_by_group(
        discharged.clone(),
        &KEYS,
        PEOPLE[0],
        &[(PEOPLE[1], delayed.clone())],
    )?;
    let largest = with_largest
        .then(|| {
            largest_patients(
                discharged.clone().filter(delayed.clone()),
                &KEYS,
                "delay_days",
                LARGEST,
            )
        })
        .transpose()?;
    let histogram = discharged
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
    let nulls_equal = JoinArgs {
        nulls_equal: true,
        ..JoinArgs::new(JoinType::Left)
    };
    let measured = quantile_columns(
        groups,
        "values",
        "counts",
        &[("median_delay_days", 0.5), ("p90_delay_days", 0.9)],
    )?
    .lazy()
    .join(people.lazy(), keys(), keys(), nulls_equal.clone());
    let measured = match largest {
        Some(largest) => measured.join(largest.lazy(), keys(), keys(), nulls_equal),
        None => measured.with_columns(super::largest_patients::none_of(&[LARGEST])),
    };
    measured
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dates::days_from_civil;
    use crate::link::person_index::PERSON;
    use crate::measure::test_frames::{ints, spells_with_dates};

    /// Regression (known limit of session 20: discharges were gated as if each spell were
    /// a person): a provider-month of one patient's nine discharges, three of them
    /// delayed, rests on one person for both counts; the council's group beside it on two
    /// (a spell without a person is one more only where no person is known, and a group
    /// of only such spells is one person).
    #[test]
    fn regression_discharges_rest_on_the_people_behind_them() {
        let day = |d| days_from_civil(2026, 11, d);
        let mut people = vec![Some(4u32); 9];
        let mut la = vec![None; 9];
        let mut delay = vec![0i64, 0, 0, 0, 0, 0, 2, 3, 9];
        people.extend([Some(5), Some(6), None, None, None]);
        la.extend([
            Some("901"),
            Some("901"),
            Some("901"),
            Some("902"),
            Some("902"),
        ]);
        delay.extend([1, 0, 4, 1, 0]);
        let n = people.len();
        let journey = df!(
            "discharge_date" => vec![day(20); n],
            "discharge_ready_date" => vec![day(10); n],
            "delay_days" => delay,
            "provider_code" => vec!["RX1"; n],
            "la_code" => la,
            "discharge_pathway" => vec![Some("P1"); n],
            "awaited_service" => vec!["home_care"; n],
            PERSON => people,
        )
        .unwrap();
        let journey = spells_with_dates(journey);
        let out = discharge_delays(journey.clone(), true).unwrap();
        // Without a dominance rule the parts are not worked out: null, the rest alike.
        let plain = discharge_delays(journey, false).unwrap();
        for h in LARGEST {
            assert_eq!(plain.column(h).unwrap().null_count(), plain.height(), "{h}");
        }
        assert!(
            plain
                .drop_many(LARGEST)
                .equals_missing(&out.clone().drop_many(LARGEST))
        );
        let ints = |c: &str| ints(&out, c);
        let text = |c: &str| -> Vec<Option<String>> {
            out.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(String::from))
                .collect()
        };
        assert_eq!(
            text("la_code"),
            [Some("901".into()), Some("902".into()), None]
        );
        assert_eq!(ints("discharges"), [Some(3), Some(2), Some(9)]);
        assert_eq!(ints("delayed_discharges"), [Some(2), Some(1), Some(3)]);
        assert_eq!(ints("delayed_bed_days"), [Some(5), Some(1), Some(14)]);
        assert_eq!(ints(PEOPLE[0]), [Some(2), Some(1), Some(1)]);
        // 901: person 5 delayed, person 6 not, and a delayed spell of no person (5 is known).
        assert_eq!(ints(PEOPLE[1]), [Some(1), Some(1), Some(1)]);
        // The largest patients' parts of the delayed bed-days: 901's patient 5 (1) and
        // its spell of no person (4); 902's spells of no person, one patient (1); the
        // patient of nine spells (14).
        assert_eq!(ints(LARGEST[0]), [Some(4), Some(1), Some(14)]);
        assert_eq!(ints(LARGEST[1]), [Some(1), None, None]);
        // Published: the nine discharges of one patient are suppressed, not shown as 10,
        // with every part of them; the people behind them are not published.
        let spec = crate::publish::Dataset::DischargeDelays.gate();
        let (gated, _) =
            crate::publish::disclosure::apply(out, &spec, crate::publish::disclosure::Rule::HES)
                .unwrap();
        for c in ["discharges", "delayed_discharges", "delayed_bed_days"] {
            let shown = crate::measure::test_frames::ints(&gated, c);
            assert_eq!(shown, [None, None, None], "{c}");
            let flag: Vec<Option<bool>> = gated
                .column(&format!("{c}_suppressed"))
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .collect();
            assert_eq!(flag, [Some(true); 3], "{c}");
        }
        for p in PEOPLE.iter().chain(&LARGEST) {
            assert!(gated.column(p).is_err(), "{p} is not published");
        }
    }
}
