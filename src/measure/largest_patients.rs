//! The two patients accounting for most of a group's total (its delayed bed-days): the
//! helper columns the disclosure gate's dominance rule reads
//! ([`crate::publish::disclosure::Dominance`]) and drops.
//!
//! A patient's part of a group's total is the sum over their rows in the group (two
//! delayed spells of one patient are one contributor). Rows without a person (no NHS
//! number) are taken as one patient: the fewest they can be, and so the largest share
//! they can hold, as [`super::people`] counts them the fewest people.

use polars::prelude::*;

use crate::link::person_index::PERSON;

/// The names of a total's helper columns: its largest patient's part and the second's.
pub type Largest = [&'static str; 2];

/// Per group of `keys` in `rows` (which carry [`PERSON`], null for a row without one, and
/// `value`, a whole number per row): the key columns, then `names[0]`, the largest part
/// of the group's total of `value` one patient accounts for, and `names[1]`, the next
/// (null when the group has one patient), as `Int64`. Groups come in no particular order.
pub(crate) fn largest_patients(
    rows: LazyFrame,
    keys: &[&str],
    value: &str,
    names: Largest,
) -> PolarsResult<DataFrame> {
    let key_cols = || keys.iter().map(|k| col(*k)).collect::<Vec<_>>();
    let by_patient = key_cols()
        .into_iter()
        .chain([col(PERSON)])
        .collect::<Vec<_>>();
    let descending = SortOptions::default().with_order_descending(true);
    Ok(rows
        .group_by(by_patient)
        .agg([col(value).cast(DataType::Int64).sum().alias(value)])
        .group_by(key_cols())
        .agg([
            col(value).max().alias(names[0]),
            col(value)
                .sort(descending)
                .slice(lit(1i64), lit(1u64))
                .first()
                .alias(names[1]),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// The helper columns `names`, null: for a pipeline without a dominance rule, which
/// has no use for them (the gate drops them unread).
pub(crate) fn none_of(names: &[Largest]) -> Vec<Expr> {
    names
        .iter()
        .flatten()
        .map(|n| lit(NULL).cast(DataType::Int64).alias(*n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two delayed spells of one patient are one part (3 + 4); rows without a person are
    /// one part between them (2 + 2); a group of one patient has no second.
    #[test]
    fn a_patient_s_rows_are_one_part_and_rows_without_a_person_one_patient() {
        let rows = df!(
            "group" => ["a", "a", "a", "a", "a", "b"],
            PERSON => [Some(1u32), Some(1), Some(2), None, None, Some(3)],
            "days" => [3i64, 4, 5, 2, 2, 9],
        )
        .unwrap();
        let out = largest_patients(rows.lazy(), &["group"], "days", ["top", "next"])
            .unwrap()
            .sort(["group"], SortMultipleOptions::default())
            .unwrap();
        let ints = |c: &str| -> Vec<Option<i64>> {
            out.column(c).unwrap().i64().unwrap().iter().collect()
        };
        assert_eq!(ints("top"), [Some(7), Some(9)]);
        assert_eq!(ints("next"), [Some(5), None]);
    }
}
