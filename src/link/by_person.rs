//! Rows of one frame grouped by person number and ordered within each person, for the
//! journey's as-of lookups ("the person's latest row at or before t", "the first at or
//! after t").
//!
//! Person numbers are dense (`0..persons`, [`super::person_index`]), so rows are grouped
//! by a counting sort into one offsets array and one row array: no hash table, no sorted
//! copy of the frame's columns, and no more memory than two `u32`s a row. Each lookup is a
//! binary search within one person's rows.

use std::cmp::Ordering;

use polars::prelude::*;

/// Row numbers of a frame, grouped by person and ordered within each person.
pub struct ByPerson {
    /// `starts[p]..starts[p + 1]` is person `p`'s range of `rows`.
    starts: Vec<u32>,
    /// Row numbers, person by person.
    rows: Vec<IdxSize>,
}

impl ByPerson {
    /// Groups the rows `i` of a frame with `persons[i]` not null and `keep(i)` true, and
    /// orders each person's rows by `order`. The sort is stable: rows that `order` finds
    /// equal keep their row order.
    pub fn new(
        persons: &UInt32Chunked,
        keep: impl Fn(usize) -> bool,
        order: impl Fn(IdxSize, IdxSize) -> Ordering,
    ) -> Self {
        let persons = persons.rechunk();
        let slots = persons.max().map_or(0, |m| m as usize + 1);
        let mut starts = vec![0u32; slots + 1];
        let kept = |(i, p): (usize, Option<u32>)| p.filter(|_| keep(i)).map(|p| (i, p));
        for (_, p) in persons.iter().enumerate().filter_map(kept) {
            starts[p as usize + 1] += 1;
        }
        for p in 0..slots {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut rows: Vec<IdxSize> = vec![0; starts[slots] as usize];
        for (i, p) in persons.iter().enumerate().filter_map(kept) {
            rows[next[p as usize] as usize] = i as IdxSize;
            next[p as usize] += 1;
        }
        drop(next);
        for p in 0..slots {
            let range = &mut rows[starts[p] as usize..starts[p + 1] as usize];
            if range.len() > 1 {
                range.sort_by(|a, b| order(*a, *b));
            }
        }
        ByPerson { starts, rows }
    }

    /// Person `p`'s rows, in order.
    pub fn rows(&self, p: u32) -> &[IdxSize] {
        let p = p as usize;
        if p + 1 >= self.starts.len() {
            return &[];
        }
        &self.rows[self.starts[p] as usize..self.starts[p + 1] as usize]
    }

    /// Person `p`'s last row (in order) whose `key` is at or before `at`. The person's
    /// rows must be ordered by `key` first.
    pub fn last_at_or_before(
        &self,
        p: u32,
        at: i64,
        key: impl Fn(IdxSize) -> i64,
    ) -> Option<IdxSize> {
        let rows = self.rows(p);
        let end = rows.partition_point(|r| key(*r) <= at);
        end.checked_sub(1).map(|i| rows[i])
    }

    /// Person `p`'s first row (in order) whose `key` is at or after `at`, passing over
    /// rows for which `skip` is true. The person's rows must be ordered by `key` first.
    pub fn first_at_or_after(
        &self,
        p: u32,
        at: i64,
        key: impl Fn(IdxSize) -> i64,
        skip: impl Fn(IdxSize) -> bool,
    ) -> Option<IdxSize> {
        let rows = self.rows(p);
        let start = rows.partition_point(|r| key(*r) < at);
        rows[start..].iter().copied().find(|r| !skip(*r))
    }
}

/// The values of an integer-backed column (dates as days, datetimes in their unit), one
/// contiguous array, read by row number as `i64`. 32-bit values (dates) are read in place,
/// not widened into a copy: the journey reads several date columns of every spell at once.
pub struct Ints {
    values: IntValues,
}

enum IntValues {
    I32(Int32Chunked),
    I64(Int64Chunked),
}

impl Ints {
    /// The physical values of `column` (Date, Datetime or an integer type).
    pub fn of(column: &Column) -> PolarsResult<Self> {
        let physical = column.as_materialized_series().to_physical_repr();
        let values = match physical.dtype() {
            DataType::Int32 => IntValues::I32(physical.i32()?.rechunk().into_owned()),
            _ => IntValues::I64(
                physical
                    .cast(&DataType::Int64)?
                    .i64()?
                    .rechunk()
                    .into_owned(),
            ),
        };
        Ok(Ints { values })
    }

    /// Row `i`'s value, if not null.
    pub fn get(&self, i: IdxSize) -> Option<i64> {
        let i = i as usize;
        match &self.values {
            IntValues::I32(v) => {
                let arr = v.downcast_as_array();
                arr.validity()
                    .is_none_or(|b| b.get_bit(i))
                    .then(|| i64::from(arr.value(i)))
            }
            IntValues::I64(v) => {
                let arr = v.downcast_as_array();
                arr.validity()
                    .is_none_or(|b| b.get_bit(i))
                    .then(|| arr.value(i))
            }
        }
    }

    /// Row `i`'s value; only for rows known not to be null (ordering keys of rows kept
    /// by [`ByPerson::new`]).
    pub fn at(&self, i: IdxSize) -> i64 {
        match &self.values {
            IntValues::I32(v) => i64::from(v.downcast_as_array().value(i as usize)),
            IntValues::I64(v) => v.downcast_as_array().value(i as usize),
        }
    }
}

/// The values of a text or categorical column as text, one contiguous array, read by row
/// number.
pub struct Texts {
    values: StringChunked,
}

impl Texts {
    /// `column` as text (categoricals are cast; strings are shared, not copied).
    pub fn of(column: &Column) -> PolarsResult<Self> {
        let values = column
            .as_materialized_series()
            .cast(&DataType::String)?
            .str()?
            .rechunk()
            .into_owned();
        Ok(Texts { values })
    }

    /// Row `i`'s value, if not null.
    pub fn get(&self, i: IdxSize) -> Option<&str> {
        self.values.get(i as usize)
    }
}

/// The values of a string or categorical column, borrowed, in row order (no copy and no
/// allocation per row).
pub fn text_iter(c: &Column) -> PolarsResult<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match c.dtype() {
        DataType::Categorical(..) | DataType::Enum(..) => Box::new(c.cat32()?.iter_str()),
        _ => Box::new(c.str()?.iter()),
    })
}

/// A boolean mask read by row number (null is false).
pub struct Mask {
    values: BooleanChunked,
}

impl Mask {
    /// The mask computed by `expr` over `df`.
    pub fn of(df: &DataFrame, expr: Expr) -> PolarsResult<Self> {
        let out = df.clone().lazy().select([expr.alias("mask")]).collect()?;
        let values = out.column("mask")?.bool()?.rechunk().into_owned();
        Ok(Mask { values })
    }

    /// Whether row `i` is set.
    pub fn get(&self, i: usize) -> bool {
        let arr = self.values.downcast_as_array();
        arr.validity().is_none_or(|v| v.get_bit(i)) && arr.value(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_person_and_ordered_stably() {
        let persons = UInt32Chunked::from_iter_options(
            "p".into(),
            [Some(2), None, Some(0), Some(2), Some(2), Some(0)].into_iter(),
        );
        let key = [5i64, 1, 9, 3, 5, 9];
        let by = ByPerson::new(
            &persons,
            |_| true,
            |a, b| key[a as usize].cmp(&key[b as usize]),
        );
        assert_eq!(by.rows(0), [2, 5], "equal keys keep row order");
        assert_eq!(by.rows(1), [] as [IdxSize; 0]);
        assert_eq!(by.rows(2), [3, 0, 4]);
        assert_eq!(by.rows(7), [] as [IdxSize; 0], "beyond the last person");
        let k = |r: IdxSize| key[r as usize];
        assert_eq!(by.last_at_or_before(2, 5, k), Some(4), "last of equal keys");
        assert_eq!(by.last_at_or_before(2, 2, k), None);
        assert_eq!(by.first_at_or_after(2, 4, k, |_| false), Some(0));
        assert_eq!(by.first_at_or_after(2, 4, k, |r| r == 0), Some(4));
        assert_eq!(by.first_at_or_after(2, 6, k, |_| false), None);
    }

    #[test]
    fn ints_read_dates_in_place_and_datetimes_and_integers_alike() {
        let dates = Column::new("d".into(), [Some(19_000i32), None, Some(-3)])
            .cast(&DataType::Date)
            .unwrap();
        let d = Ints::of(&dates).unwrap();
        assert!(matches!(d.values, IntValues::I32(_)), "no widened copy");
        assert_eq!(
            (d.get(0), d.get(1), d.get(2), d.at(2)),
            (Some(19_000), None, Some(-3), -3)
        );
        let times = Column::new("t".into(), [Some(7_200_000i64), None])
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        let t = Ints::of(&times).unwrap();
        assert_eq!(
            (t.get(0), t.get(1), t.at(0)),
            (Some(7_200_000), None, 7_200_000)
        );
        let small = Column::new("u".into(), [5u32, 250]);
        assert_eq!(
            Ints::of(&small).unwrap().get(1),
            Some(250),
            "other integer types widen"
        );
    }

    #[test]
    fn rows_left_out_are_not_grouped() {
        let persons = UInt32Chunked::from_slice("p".into(), &[1, 1, 1]);
        let by = ByPerson::new(&persons, |i| i != 1, |a, b| a.cmp(&b));
        assert_eq!(by.rows(1), [0, 2]);
    }
}
