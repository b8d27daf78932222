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

/// Row numbers of a frame, grouped by person and ordered within each person by a key,
/// with each row's key beside it: a lookup's binary search reads one contiguous run of
/// keys, not a value scattered across the frame per step (persons' rows are far apart in
/// an extract ordered by time, and reading keys through the row numbers was a cache miss
/// per step, most of the linkage stage at 15 years of history).
pub struct ByPerson {
    /// `starts[p]..starts[p + 1]` is person `p`'s range of `rows` and `keys`.
    starts: Vec<u32>,
    /// Row numbers, person by person.
    rows: Vec<IdxSize>,
    /// Each of `rows`' key.
    keys: Vec<i64>,
}

impl ByPerson {
    /// Groups the rows `i` of a frame with `persons[i]` not null, `keep(i)` true and a
    /// `key(i)`, and orders each person's rows by key, then by `tie`. The sort is stable:
    /// rows equal on both keep their row order.
    pub fn new(
        persons: &UInt32Chunked,
        keep: impl Fn(usize) -> bool,
        key: impl Fn(IdxSize) -> Option<i64>,
        tie: impl Fn(IdxSize, IdxSize) -> Ordering,
    ) -> Self {
        let persons = persons.rechunk();
        let slots = persons.max().map_or(0, |m| m as usize + 1);
        let mut starts = vec![0u32; slots + 1];
        let kept = |(i, p): (usize, Option<u32>)| {
            let p = p.filter(|_| keep(i))?;
            key(i as IdxSize).map(|k| (i, p, k))
        };
        let mut count = 0usize;
        for (_, p, _) in persons.iter().enumerate().filter_map(kept) {
            starts[p as usize + 1] += 1;
            count += 1;
        }
        for p in 0..slots {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut pairs: Vec<(i64, IdxSize)> = vec![(0, 0); count];
        for (i, p, k) in persons.iter().enumerate().filter_map(kept) {
            pairs[next[p as usize] as usize] = (k, i as IdxSize);
            next[p as usize] += 1;
        }
        drop(next);
        for p in 0..slots {
            let range = &mut pairs[starts[p] as usize..starts[p + 1] as usize];
            if range.len() > 1 {
                range.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| tie(a.1, b.1)));
            }
        }
        let (keys, rows) = pairs.into_iter().unzip();
        ByPerson { starts, rows, keys }
    }

    /// Person `p`'s range of `rows` and `keys`.
    fn range(&self, p: u32) -> std::ops::Range<usize> {
        let p = p as usize;
        if p + 1 >= self.starts.len() {
            return 0..0;
        }
        self.starts[p] as usize..self.starts[p + 1] as usize
    }

    /// Person `p`'s rows, in order.
    pub fn rows(&self, p: u32) -> &[IdxSize] {
        &self.rows[self.range(p)]
    }

    /// Calls `f` with each person's rows and their keys, in order, persons with no rows
    /// left out.
    pub fn for_each_person(&self, mut f: impl FnMut(&[IdxSize], &[i64])) {
        for w in self.starts.windows(2) {
            let range = w[0] as usize..w[1] as usize;
            if !range.is_empty() {
                f(&self.rows[range.clone()], &self.keys[range]);
            }
        }
    }

    /// Person `p`'s last row (in order) whose key is at or before `at`, with its key.
    pub fn last_at_or_before(&self, p: u32, at: i64) -> Option<(IdxSize, i64)> {
        let range = self.range(p);
        let keys = &self.keys[range.clone()];
        let end = keys.partition_point(|k| *k <= at);
        let i = range.start + end.checked_sub(1)?;
        Some((self.rows[i], self.keys[i]))
    }

    /// Person `p`'s first row (in order) whose key is at or after `at`, passing over rows
    /// for which `skip` is true, with its key.
    pub fn first_at_or_after(
        &self,
        p: u32,
        at: i64,
        skip: impl Fn(IdxSize) -> bool,
    ) -> Option<(IdxSize, i64)> {
        let range = self.range(p);
        let start = range.start + self.keys[range.clone()].partition_point(|k| *k < at);
        (start..range.end)
            .find(|&i| !skip(self.rows[i]))
            .map(|i| (self.rows[i], self.keys[i]))
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
            |r| Some(key[r as usize]),
            |_, _| Ordering::Equal,
        );
        assert_eq!(by.rows(0), [2, 5], "equal keys keep row order");
        assert_eq!(by.rows(1), [] as [IdxSize; 0]);
        assert_eq!(by.rows(2), [3, 0, 4]);
        assert_eq!(by.rows(7), [] as [IdxSize; 0], "beyond the last person");
        assert_eq!(
            by.last_at_or_before(2, 5),
            Some((4, 5)),
            "last of equal keys"
        );
        assert_eq!(by.last_at_or_before(2, 2), None);
        assert_eq!(by.last_at_or_before(7, 2), None, "beyond the last person");
        assert_eq!(by.first_at_or_after(2, 4, |_| false), Some((0, 5)));
        assert_eq!(by.first_at_or_after(2, 4, |r| r == 0), Some((4, 5)));
        assert_eq!(by.first_at_or_after(2, 6, |_| false), None);
        assert_eq!(by.first_at_or_after(7, 0, |_| false), None);
        let mut seen = Vec::new();
        by.for_each_person(|rows, keys| seen.push((rows.to_vec(), keys.to_vec())));
        assert_eq!(
            seen,
            [(vec![2, 5], vec![9, 9]), (vec![3, 0, 4], vec![3, 5, 5])]
        );
    }

    #[test]
    fn equal_keys_are_ordered_by_the_tie_break_then_by_row() {
        let persons = UInt32Chunked::from_slice("p".into(), &[0, 0, 0, 0]);
        let key = [7i64, 7, 3, 7];
        let tie = [2, 1, 0, 1];
        let by = ByPerson::new(
            &persons,
            |_| true,
            |r| Some(key[r as usize]),
            |a, b| tie[a as usize].cmp(&tie[b as usize]),
        );
        assert_eq!(by.rows(0), [2, 1, 3, 0]);
        assert_eq!(by.first_at_or_after(0, 4, |_| false), Some((1, 7)));
        assert_eq!(by.last_at_or_before(0, 7), Some((0, 7)));
    }

    #[test]
    fn rows_without_a_key_are_not_grouped() {
        let persons = UInt32Chunked::from_slice("p".into(), &[0, 0, 0]);
        let key = [Some(4i64), None, Some(1)];
        let by = ByPerson::new(
            &persons,
            |_| true,
            |r| key[r as usize],
            |_, _| Ordering::Equal,
        );
        assert_eq!(by.rows(0), [2, 0]);
    }

    #[test]
    fn ints_read_dates_in_place_and_datetimes_and_integers_alike() {
        let dates = Column::new("d".into(), [Some(19_000i32), None, Some(-3)])
            .cast(&DataType::Date)
            .unwrap();
        let d = Ints::of(&dates).unwrap();
        assert!(matches!(d.values, IntValues::I32(_)), "no widened copy");
        assert_eq!(
            (d.get(0), d.get(1), d.get(2)),
            (Some(19_000), None, Some(-3))
        );
        let times = Column::new("t".into(), [Some(7_200_000i64), None])
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        let t = Ints::of(&times).unwrap();
        assert_eq!((t.get(0), t.get(1)), (Some(7_200_000), None));
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
        let by = ByPerson::new(&persons, |i| i != 1, |_| Some(0), |_, _| Ordering::Equal);
        assert_eq!(by.rows(1), [0, 2]);
    }
}
