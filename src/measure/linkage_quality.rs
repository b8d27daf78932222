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
//! `la_code` is the council of the event for social care, the council of the linked
//! service or request for hospital spells, and null for A&E attendances and unlinked
//! spells. The month is the admission, arrival or event start month.

use polars::prelude::*;

use crate::link::journey::SOURCE;
use crate::link::person_index::{PERSON, PersonSet};

/// `columns` of `df` and `linked`: whether the row's person is in `others`.
fn with_linked(df: &DataFrame, columns: &[&str], others: &PersonSet) -> PolarsResult<LazyFrame> {
    let linked = others.flag(df.column(PERSON)?.u32()?, "linked");
    let mut out = df.select(columns.iter().copied())?;
    out.with_column(linked.into_series().into_column())?;
    Ok(out.lazy())
}

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

/// A&E attendances per source × arrival month: `source`, `month`, `records`,
/// `with_valid_nhs_number` and `linked_to_other_source` (their person is in `others`: the
/// persons of hospital spells and resolved social-care events). Attendances can be
/// counted a part at a time: [`linkage_quality`] adds the parts up.
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
        ])
        .with_column(text("source"))
        .collect()
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
    let flag = |e: Expr| e.cast(DataType::Int64);
    let n = |v: i64| lit(v).cast(DataType::Int64);
    let delayed = col("delay_days").gt(lit(0i64)).fill_null(lit(false));
    let counted = |lf: LazyFrame, counts: [Expr; 5]| {
        lf.group_by([col("source"), col("la_code"), col("month")])
            .agg(counts)
            .with_columns([text("source"), text("la_code")])
    };
    let hospital = counted(
        with_linked(
            journey,
            &[
                SOURCE,
                "la_code",
                "admission_date",
                PERSON,
                "delay_days",
                "awaited_service",
            ],
            &PersonSet::of(&[persons(ae_persons)?, persons(care)?]),
        )?
        .with_columns([
            col(SOURCE).alias("source"),
            col("admission_date").dt().month_start().alias("month"),
        ]),
        [
            len().cast(DataType::Int64).alias(COUNTS[0]),
            flag(col(PERSON).is_not_null()).sum().alias(COUNTS[1]),
            flag(col("linked")).sum().alias(COUNTS[2]),
            flag(delayed.clone()).sum().alias(COUNTS[3]),
            flag(delayed.and(col("awaited_service").neq(lit("none"))))
                .sum()
                .alias(COUNTS[4]),
        ],
    );
    let council = counted(
        with_linked(
            care,
            &["source", "la_code", "event_start", PERSON],
            // The journey has one row per spell, with the spell's person.
            &PersonSet::of(&[persons(journey)?, persons(ae_persons)?]),
        )?
        .with_column(col("event_start").dt().month_start().alias("month")),
        [
            len().cast(DataType::Int64).alias(COUNTS[0]),
            flag(col(PERSON).is_not_null()).sum().alias(COUNTS[1]),
            flag(col("linked")).sum().alias(COUNTS[2]),
            n(0).alias(COUNTS[3]),
            n(0).alias(COUNTS[4]),
        ],
    );
    let columns = |lf: LazyFrame| {
        lf.select([
            col("source"),
            col("la_code"),
            col("month"),
            col(COUNTS[0]),
            col(COUNTS[1]),
            col(COUNTS[2]),
            col(COUNTS[3]),
            col(COUNTS[4]),
        ])
    };
    let attendances = ae.into_iter().map(|counts| {
        counts.lazy().select([
            col("source"),
            lit(NULL).cast(DataType::String).alias("la_code"),
            col("month"),
            col(COUNTS[0]),
            col(COUNTS[1]),
            col(COUNTS[2]),
            n(0).alias(COUNTS[3]),
            n(0).alias(COUNTS[4]),
        ])
    });
    let rows: Vec<LazyFrame> = [columns(hospital), columns(council)]
        .into_iter()
        .chain(attendances)
        .collect();
    Ok(concat(rows, UnionArgs::default())?
        .group_by([col("source"), col("la_code"), col("month")])
        .agg(COUNTS.map(|c| col(c).sum()))
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
        .select([
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
        ])
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
    }
}
