//! `linkage_quality`: how well the sources link, per source × local authority × month,
//! so match rates are seen, not assumed.
//!
//! - `records`: accepted rows (for social care: events after resolution).
//! - `with_valid_nhs_number`: rows with a pseudonymised NHS number. Rows without one are
//!   kept (a blank or invalid number is left blank, `on_invalid = "blank"` in the
//!   hospital and A&E contracts; council rows may have none), so this can be less than
//!   `records`.
//! - `linked_to_other_source`: rows whose person appears in at least one other source.
//! - `delayed_spells`, `delayed_spells_linked_to_social_care`: hospital spells discharged
//!   after their ready date, and those with a linked social-care service.
//! - `linked_pct`, `delayed_linked_to_social_care_pct`: the two rates, in percent.
//!
//! Each count of records comes with the people behind it (helper columns in [`PEOPLE`],
//! which the disclosure gate rests the counts on and drops): the fewest people the rows
//! can be ([`super::people`]), a council's clients by their council person id.
//!
//! `la_code` is the council of the event for social care, the council of the linked
//! service or request for hospital spells, and null for A&E attendances and unlinked
//! spells. The month is the admission, arrival or event start month.

use polars::prelude::*;

use super::people;
use super::people_tally::Tally;
use crate::link::by_person::text_iter;
use crate::link::journey::SOURCE;
use crate::link::person_index::{PERSON, PersonSet};

/// The persons of a frame's [`PERSON`] column.
fn persons(df: &DataFrame) -> PolarsResult<&UInt32Chunked> {
    df.column(PERSON)?.u32()
}

/// A grouping column as text, whichever way the frame holds it (string or categorical).
fn text(c: &str) -> Expr {
    col(c).cast(DataType::String)
}

/// The count columns, per row: 1 (or 0) for a hospital or council row; summed for A&E.
const COUNTS: [&str; 5] = [
    "records",
    "with_valid_nhs_number",
    "linked_to_other_source",
    "delayed_spells",
    "delayed_spells_linked_to_social_care",
];

/// The people behind each of [`COUNTS`], in its order: helper columns the disclosure
/// gate rests the counts on, and drops.
pub const PEOPLE: [&str; 5] = [
    "people",
    "people_with_valid_nhs_number",
    "people_linked_to_other_source",
    "people_delayed",
    "people_delayed_linked_to_social_care",
];

/// A&E attendances per source × arrival month: `source`, `month`, `records`,
/// `with_valid_nhs_number` and `linked_to_other_source` (their person is in `others`: the
/// persons of hospital spells and resolved social-care events), and the people behind
/// the first three ([`PEOPLE`]). Attendances can be counted a part at a time:
/// [`linkage_quality`] adds the parts' counts up and takes the largest of their people
/// (a person seen in two parts is one; the largest is the fewest they can be).
pub fn ae_counts(ed: &DataFrame, others: &PersonSet) -> PolarsResult<DataFrame> {
    let linked = others.flag(ed.column(PERSON)?.u32()?, "linked");
    let mut df = ed.select([PERSON, "source", "arrival"])?;
    df.with_column(linked.into_series().into_column())?;
    df.lazy()
        // Grouped on the categorical's ids; only the groups' sources are cast to text.
        .group_by([
            col("source"),
            col("arrival").dt().date().dt().month_start().alias("month"),
        ])
        .agg([
            len().cast(DataType::Int64).alias("records"),
            col(PERSON)
                .is_not_null()
                .cast(DataType::Int64)
                .sum()
                .alias("with_valid_nhs_number"),
            col("linked")
                .cast(DataType::Int64)
                .sum()
                .alias("linked_to_other_source"),
            people(col(PERSON)).alias(PEOPLE[0]),
            people(col(PERSON).drop_nulls()).alias(PEOPLE[1]),
            people(col(PERSON).filter(col("linked"))).alias(PEOPLE[2]),
        ])
        .with_column(text("source"))
        .collect()
}

/// A date column's days since 1970.
fn days(df: &DataFrame, c: &str) -> PolarsResult<Int32Chunked> {
    Ok(df.column(c)?.date()?.physical().clone())
}

/// Hospital spells' [`COUNTS`] and [`PEOPLE`] per source × council × admission month
/// ([`Tally`]): spells, with an NHS number, whose person is in `others`, delayed, and
/// delayed with a linked social-care service.
fn hospital_rows(journey: &DataFrame, others: &PersonSet) -> PolarsResult<DataFrame> {
    let persons = persons(journey)?;
    let delay = journey.column("delay_days")?.cast(&DataType::Int64)?;
    let admitted = days(journey, "admission_date")?;
    let rows = text_iter(journey.column(SOURCE)?)?
        .zip(text_iter(journey.column("la_code")?)?)
        .zip(admitted.iter())
        .zip(persons.iter())
        .zip(delay.i64()?.iter())
        .zip(text_iter(journey.column("awaited_service")?)?);
    let mut tally = Tally::default();
    for (((((source, la), day), person), delay), awaited) in rows {
        let (Some(source), Some(day)) = (source, day) else {
            continue;
        };
        let delayed = delay.is_some_and(|d| d > 0);
        let flags = 1
            | u8::from(person.is_some()) << 1
            | u8::from(person.is_some_and(|p| others.contains(p))) << 2
            | u8::from(delayed) << 3
            | u8::from(delayed && awaited.is_some_and(|a| a != "none")) << 4;
        tally.add(source, la, day, person, flags);
    }
    tally.finish(COUNTS, PEOPLE)
}

/// Council events' [`COUNTS`] and [`PEOPLE`] per source × council × event start month
/// ([`Tally`]): events, with an NHS number, whose person is in `others` (none delayed).
/// A council's clients are counted by their council person id: rows without an NHS
/// number have one too.
fn council_rows(care: &DataFrame, others: &PersonSet) -> PolarsResult<DataFrame> {
    let persons = persons(care)?;
    let mut clients: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let started = days(care, "event_start")?;
    let rows = text_iter(care.column("source")?)?
        .zip(text_iter(care.column("la_code")?)?)
        .zip(started.iter())
        .zip(persons.iter())
        .zip(text_iter(care.column("la_person_id")?)?);
    let mut tally = Tally::default();
    for ((((source, la), day), person), client) in rows {
        let (Some(source), Some(day)) = (source, day) else {
            continue;
        };
        let client = client.map(|c| {
            let next = clients.len() as u32;
            *clients.entry(c).or_insert(next)
        });
        let flags = 1
            | u8::from(person.is_some()) << 1
            | u8::from(person.is_some_and(|p| others.contains(p))) << 2;
        tally.add(source, la, day, client, flags);
    }
    tally.finish(COUNTS, PEOPLE)
}

/// Match rates from the journeys, A&E attendances (the persons seen in A&E and the
/// [`ae_counts`] of its parts) and resolved social-care events.
///
/// Whether a row's person is in another source is a flag looked up by person number
/// ([`PersonSet`]), not a join; hospital and council rows are counted on their own
/// columns (categories, not text) and only the groups' keys are cast to text, as for
/// [`ae_counts`].
pub fn linkage_quality(
    journey: &DataFrame,
    ae_persons: &DataFrame,
    ae: Vec<DataFrame>,
    care: &DataFrame,
) -> PolarsResult<LazyFrame> {
    let n = |v: i64| lit(v).cast(DataType::Int64);
    let zero_people = || [n(0).alias(PEOPLE[3]), n(0).alias(PEOPLE[4])];
    let hospital = hospital_rows(
        journey,
        &PersonSet::of(&[persons(ae_persons)?, persons(care)?]),
    )?;
    let council = council_rows(
        care,
        &PersonSet::of(&[persons(journey)?, persons(ae_persons)?]),
    )?;
    let columns = |lf: LazyFrame| {
        lf.select(
            [col("source"), col("la_code"), col("month")]
                .into_iter()
                .chain(COUNTS.map(col))
                .chain(PEOPLE.map(col))
                .collect::<Vec<_>>(),
        )
    };
    let attendances = ae.into_iter().map(|counts| {
        counts.lazy().select(
            [
                col("source"),
                lit(NULL).cast(DataType::String).alias("la_code"),
                col("month"),
                col(COUNTS[0]),
                col(COUNTS[1]),
                col(COUNTS[2]),
                n(0).alias(COUNTS[3]),
                n(0).alias(COUNTS[4]),
            ]
            .into_iter()
            .chain(PEOPLE[..3].iter().map(|p| col(*p)))
            .chain(zero_people())
            .collect::<Vec<_>>(),
        )
    });
    let rows: Vec<LazyFrame> = [columns(hospital.lazy()), columns(council.lazy())]
        .into_iter()
        .chain(attendances)
        .collect();
    Ok(concat(rows, UnionArgs::default())?
        .group_by([col("source"), col("la_code"), col("month")])
        .agg(
            COUNTS
                .map(|c| col(c).sum())
                .into_iter()
                .chain(PEOPLE.map(|p| col(p).max()))
                .collect::<Vec<_>>(),
        )
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
        .select(
            [
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
            ]
            .into_iter()
            .chain(PEOPLE.map(col))
            .collect::<Vec<_>>(),
        )
        .sort(
            ["source", "la_code", "month"],
            SortMultipleOptions::default().with_nulls_last(true),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source, council, then the five counts.
    type Row = (String, Option<String>, i64, i64, i64, i64, i64);

    /// Regression: two trusts can use the same spell number. Joining the journey back to
    /// the spells on `spell_id` alone counted each such spell once per trust using it.
    #[test]
    fn the_same_spell_number_at_two_trusts_counts_each_spell_once() {
        let date = |d: i32| lit(d).cast(DataType::Date);
        let journey = df!(
            "spell_id" => ["S1", "S1", "S2"],
            "person_id" => ["P1", "P2", "P3"],
            PERSON => [0u32, 1, 2],
            SOURCE => ["apc_a", "apc_b", "apc_b"],
            "la_code" => [Some("901"), None, None],
            "delay_days" => [Some(3i64), Some(0), None],
            "awaited_service" => ["home_care", "none", "none"],
        )
        .unwrap()
        .lazy()
        .with_column(date(20_000).alias("admission_date"))
        .collect()
        .unwrap();
        let ed = df!(
            "person_id" => ["P1"],
            PERSON => [0u32],
            "source" => ["ecds"],
            "arrival" => [20_000i64 * 86_400_000],
        )
        .unwrap()
        .lazy()
        .with_column(col("arrival").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
        .collect()
        .unwrap();
        // Person 0 has a spell, so the attendance links.
        let others = PersonSet::of(&[&UInt32Chunked::from_slice("p".into(), &[0, 1, 2])]);
        let ae_persons = PersonSet::of(&[ed.column(PERSON).unwrap().u32().unwrap()])
            .to_frame()
            .unwrap();
        // Counted in two parts (the same row twice would count twice: one part is empty).
        let ae = vec![
            ae_counts(&ed, &others).unwrap(),
            ae_counts(&ed.head(Some(0)), &others).unwrap(),
        ];
        let care = df!(
            "person_id" => [Some("P1"), None],
            PERSON => [Some(0u32), None],
            "la_person_id" => ["L1", "L2"],
            "source" => ["cld", "cld"],
            "la_code" => ["901", "901"],
        )
        .unwrap()
        .lazy()
        .with_column(date(20_001).alias("event_start"))
        .collect()
        .unwrap();
        let out = linkage_quality(&journey, &ae_persons, ae, &care)
            .unwrap()
            .collect()
            .unwrap();
        let rows: Vec<Row> = (0..out.height())
            .map(|i| {
                let s = |c: &str| {
                    out.column(c)
                        .unwrap()
                        .str()
                        .unwrap()
                        .get(i)
                        .map(String::from)
                };
                let n = |c: &str| out.column(c).unwrap().i64().unwrap().get(i).unwrap();
                (
                    s("source").unwrap(),
                    s("la_code"),
                    n("records"),
                    n("with_valid_nhs_number"),
                    n("linked_to_other_source"),
                    n("delayed_spells"),
                    n("delayed_spells_linked_to_social_care"),
                )
            })
            .collect();
        let row = |src: &str, la: Option<&str>, r, v, l, d, dl| {
            (src.to_string(), la.map(String::from), r, v, l, d, dl)
        };
        assert_eq!(
            rows,
            [
                row("apc_a", Some("901"), 1, 1, 1, 1, 1),
                row("apc_b", None, 2, 2, 0, 0, 0),
                row("cld", Some("901"), 2, 1, 1, 0, 0),
                row("ecds", None, 1, 1, 1, 0, 0),
            ]
        );
        // The people behind them: the council's two clients by council id, one of them
        // without an NHS number.
        let people: Vec<Vec<i64>> = PEOPLE
            .iter()
            .map(|p| {
                out.column(p)
                    .unwrap()
                    .i64()
                    .unwrap()
                    .into_no_null_iter()
                    .collect()
            })
            .collect();
        assert_eq!(
            people,
            [
                vec![1, 2, 2, 1],
                vec![1, 2, 1, 1],
                vec![1, 0, 1, 1],
                vec![1, 0, 0, 0],
                vec![1, 0, 0, 0],
            ]
        );
    }

    /// Regression (disclosure review): records were gated as if each were a person, so
    /// one council client with nine events in a month was published as 10 records,
    /// 10 with an NHS number, 10 linked, 100 % linked. The people behind them are one:
    /// every count of the row is suppressed, and the rate with them.
    #[test]
    fn regression_one_clients_nine_events_are_not_published_as_ten_people() {
        let nine = |v: &str| vec![v.to_string(); 9];
        let care = df!(
            "person_id" => nine("P1"),
            PERSON => vec![0u32; 9],
            "la_person_id" => nine("L1"),
            "source" => nine("cld"),
            "la_code" => nine("904"),
        )
        .unwrap()
        .lazy()
        .with_column(lit(20_000).cast(DataType::Date).alias("event_start"))
        .collect()
        .unwrap();
        let journey = df!(
            "spell_id" => ["S1"],
            PERSON => [0u32],
            SOURCE => ["apc"],
            "la_code" => [Some("904")],
            "delay_days" => [Some(0i64)],
            "awaited_service" => ["none"],
        )
        .unwrap()
        .lazy()
        .with_column(lit(20_000).cast(DataType::Date).alias("admission_date"))
        .collect()
        .unwrap();
        let ae_persons = PersonSet::of(&[]).to_frame().unwrap();
        let out = linkage_quality(&journey, &ae_persons, vec![], &care)
            .unwrap()
            .filter(col("source").eq(lit("cld")))
            .collect()
            .unwrap();
        let count = |c: &str| out.column(c).unwrap().i64().unwrap().get(0);
        assert_eq!(
            (
                count("records"),
                count("linked_to_other_source"),
                count("people")
            ),
            (Some(9), Some(9), Some(1))
        );
        let spec = crate::publish::Dataset::LinkageQuality.gate();
        let (gated, _) =
            crate::publish::disclosure::apply(out, &spec, crate::publish::disclosure::Rule::HES)
                .unwrap();
        for c in ["records", "with_valid_nhs_number", "linked_to_other_source"] {
            assert_eq!(gated.column(c).unwrap().i64().unwrap().get(0), None, "{c}");
            let flag = gated.column(&format!("{c}_suppressed")).unwrap();
            assert_eq!(flag.bool().unwrap().get(0), Some(true), "{c}");
        }
        assert_eq!(
            gated.column("linked_pct").unwrap().f64().unwrap().get(0),
            None
        );
        assert!(
            gated.column("people").is_err(),
            "the people behind the counts are not published"
        );
    }
}
