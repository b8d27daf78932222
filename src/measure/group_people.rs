//! The fewest people behind each group of rows, in little memory: the base the disclosure
//! gate rests `discharge_delays`' and `bottlenecks`' counts of spells on.
//!
//! A group-by on the groups' keys and the person (one row per group and person, then
//! counted) held a hash table and a frame of about a row per spell: at 10 M input rows it
//! raised the run's peak from 0.94 to 1.25 GB and took a second, and polars' group-by on
//! the keys alone, with a row index each, 1.11 GB. Here each row's group is numbered from
//! its keys' physical values (codes are categories), and the rows are counted as
//! `linkage_quality`'s are ([`super::people_tally::PackedPeople`]: one packed `u64` a row,
//! sorted once; rows without a person one more person only where the group has no other,
//! as [`super::people`] counts them).

use std::collections::HashMap;

use polars::prelude::*;

use super::people_tally::PackedPeople;
use crate::link::person_index::PERSON;

/// Flags a group can be counted by, besides every row (five flag bits a packed row).
const MAX_FLAGS: usize = 4;

/// Per group of `keys` in `rows` (which carry the person number
/// [`PERSON`](crate::link::person_index::PERSON), null for a row without one): the key
/// columns, then `all`, the fewest people behind every row, and for each `(name, flag)`
/// the fewest people behind the rows where the flag holds (a null flag does not), as
/// `Int64` columns. Groups come in no particular order.
pub(crate) fn people_by_group(
    rows: LazyFrame,
    keys: &[&str],
    all: &str,
    flags: &[(&str, Expr)],
) -> PolarsResult<DataFrame> {
    if flags.len() > MAX_FLAGS {
        polars_bail!(ComputeError: "people_by_group counts at most {MAX_FLAGS} flags");
    }
    let narrow = rows
        .select(
            keys.iter()
                .map(|k| col(*k))
                .chain([col(PERSON)])
                .chain(
                    flags
                        .iter()
                        .map(|(name, flag)| flag.clone().fill_null(lit(false)).alias(*name)),
                )
                .collect::<Vec<_>>(),
        )
        .collect()?;
    // Bit 0: every row; bit i + 1: flag i.
    let mut row_flags = vec![1u8; narrow.height()];
    for (i, (name, _)) in flags.iter().enumerate() {
        for (f, set) in row_flags
            .iter_mut()
            .zip(narrow.column(name)?.bool()?.iter())
        {
            *f |= u8::from(set == Some(true)) << (i + 1);
        }
    }
    let (group_of, firsts) = dense_groups(&narrow, keys)?;
    let groups = firsts.len();
    let mut packed = PackedPeople::with_capacity(narrow.height());
    let persons = narrow.column(PERSON)?.u32()?;
    for (i, person) in persons.iter().enumerate() {
        packed.add(group_of[i], person, row_flags[i]);
    }
    drop((row_flags, group_of));
    let people = packed.count(groups, flags.len() + 1);
    let names = std::iter::once(all).chain(flags.iter().map(|(name, _)| *name));
    let firsts = IdxCa::from_vec("first".into(), firsts);
    let mut out = narrow.select(keys.iter().copied())?.take(&firsts)?;
    for (name, count) in names.zip(people) {
        out.with_column(Column::new(name.into(), count))?;
    }
    Ok(out)
}

/// Each row's group of `keys` as a dense number (in order of first appearance), and each
/// group's first row. Keys are compared by their physical values (a code's category, a
/// date's day, a text's first appearance; null a value of its own), one key column at a time folded into the number
/// so far: no row's keys are held together, and no text is hashed.
fn dense_groups(df: &DataFrame, keys: &[&str]) -> PolarsResult<(Vec<u32>, Vec<IdxSize>)> {
    let mut group_of = vec![0u32; df.height()];
    let mut firsts: Vec<IdxSize> = if df.height() > 0 { vec![0] } else { vec![] };
    for key in keys {
        let physical = df.column(key)?.to_physical_repr();
        let s = physical.as_materialized_series();
        let mut fold = |values: &mut dyn Iterator<Item = Option<u64>>| {
            let mut index: HashMap<(u32, Option<u64>), u32, foldhash::fast::RandomState> =
                HashMap::default();
            firsts.clear();
            for (i, (g, v)) in group_of.iter_mut().zip(values).enumerate() {
                let next = index.len() as u32;
                *g = *index.entry((*g, v)).or_insert_with(|| {
                    firsts.push(i as IdxSize);
                    next
                });
            }
        };
        // Signed values by their two's complement bits: distinct exactly when they are.
        match s.dtype() {
            DataType::UInt8 => fold(&mut s.u8()?.iter().map(|v| v.map(u64::from))),
            DataType::UInt16 => fold(&mut s.u16()?.iter().map(|v| v.map(u64::from))),
            DataType::UInt32 => fold(&mut s.u32()?.iter().map(|v| v.map(u64::from))),
            DataType::UInt64 => fold(&mut s.u64()?.iter()),
            DataType::Int32 => fold(&mut s.i32()?.iter().map(|v| v.map(|v| i64::from(v) as u64))),
            DataType::Int64 => fold(&mut s.i64()?.iter().map(|v| v.map(|v| v as u64))),
            // Text (a key that is not a code): each distinct text numbered as it comes.
            DataType::String => {
                let mut texts: HashMap<&str, u64, foldhash::fast::RandomState> = HashMap::default();
                fold(&mut s.str()?.iter().map(|v| {
                    v.map(|t| {
                        let next = texts.len() as u64;
                        *texts.entry(t).or_insert(next)
                    })
                }))
            }
            other => {
                polars_bail!(ComputeError: "people_by_group: key {key} of type {other} is not a whole number, date, code or text")
            }
        }
    }
    Ok((group_of, firsts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups of two keys, one a null: the fewest people of all rows and of the flagged,
    /// rows without a person one more only where no person is known.
    #[test]
    fn the_fewest_people_per_group_and_flag() {
        let rows = df!(
            "council" => [Some("901"), Some("901"), Some("901"), None, None, Some("902")],
            "provider" => ["RX1", "RX1", "RX1", "RX1", "RX1", "RX2"],
            PERSON => [Some(3u32), Some(3), None, None, None, Some(4)],
            "delayed" => [Some(true), Some(false), Some(true), Some(true), None, Some(false)],
        )
        .unwrap()
        .lazy();
        let out = people_by_group(
            rows,
            &["council", "provider"],
            "people",
            &[("people_delayed", col("delayed"))],
        )
        .unwrap()
        .sort(
            ["council"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .unwrap();
        let ints = |c: &str| -> Vec<Option<i64>> {
            out.column(c).unwrap().i64().unwrap().iter().collect()
        };
        assert_eq!(ints("people"), [Some(1), Some(1), Some(1)]);
        assert_eq!(ints("people_delayed"), [Some(1), Some(0), Some(1)]);
        let council: Vec<Option<&str>> = out
            .column("council")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(council, [Some("901"), Some("902"), None]);
    }

    /// Keys are told apart by exact values: -1 and -2 (a date before 1970 is negative),
    /// null from any value, codes by their category.
    #[test]
    fn groups_are_told_apart_by_exact_values_nulls_and_codes() {
        let df = df!(
            "day" => [Some(-1i32), Some(-2), None, Some(-1), Some(-1)],
            "code" => ["x", "x", "x", "y", "x"],
        )
        .unwrap()
        .lazy()
        .with_column(col("code").cast(crate::normalise::categorical()))
        .collect()
        .unwrap();
        assert_eq!(
            dense_groups(&df, &["day", "code"]).unwrap(),
            (vec![0, 1, 2, 3, 0], vec![0, 1, 2, 3])
        );
        assert_eq!(
            dense_groups(&df, &["day"]).unwrap(),
            (vec![0, 1, 2, 0, 0], vec![0, 1, 2])
        );
        assert_eq!(
            dense_groups(&df, &["code"]).unwrap(),
            (vec![0, 0, 0, 1, 0], vec![0, 3])
        );
    }
}
