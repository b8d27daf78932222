//! Columns as small integer codes, and several codes packed into one `u128` sort key:
//! how the CLD rules ([`super::social_care`]) group, deduplicate and order millions of
//! events with one sort of 16-byte keys instead of polars' joins, sorts and `unique`s,
//! each of which copied the events (the run's peak memory at 2.8 M CLD rows).
//!
//! A column's codes keep polars' ascending sort order: 0 is null (polars sorts nulls
//! first), then `1..=k` for its distinct values in order (text and categoricals by their
//! bytes, as polars orders non-enum categoricals; dates and numbers by value). Codes
//! that are only compared for equality can be made dense in any order ([`Dense`]).

use std::collections::HashMap;

use polars::prelude::*;

/// Hash state for the maps here (fixed: codes do not depend on a random seed).
type Fixed = foldhash::fast::FixedState;

/// A column's values as order-keeping codes ([`codes`]).
pub struct Codes {
    /// Each row's code: 0 for null, else 1 + the value's place among the distinct values.
    pub codes: Vec<u32>,
    /// Each distinct value, in order (code `c` is `values[c - 1]`).
    pub values: Values,
}

/// The distinct values of a column, in order.
pub enum Values {
    /// Text and categorical columns.
    Text(Vec<String>),
    /// Dates (days), datetimes and integers, by their physical value.
    Numbers(Vec<i64>),
}

impl Codes {
    /// How many codes there are, null's included (the bound a key packs).
    pub fn count(&self) -> u64 {
        1 + match &self.values {
            Values::Text(v) => v.len(),
            Values::Numbers(v) => v.len(),
        } as u64
    }

    /// The code of text `value`, 0 when no row holds it (or the column is not text). A
    /// linear search: for columns of a few values.
    pub fn code_of(&self, value: &str) -> u32 {
        match &self.values {
            Values::Text(v) => v
                .iter()
                .position(|s| s == value)
                .map_or(0, |i| i as u32 + 1),
            Values::Numbers(_) => 0,
        }
    }

    /// Row `i`'s number (a date's day), when the column holds numbers and the row is not
    /// null.
    pub fn number(&self, i: usize) -> Option<i64> {
        match (&self.values, self.codes[i]) {
            (_, 0) | (Values::Text(_), _) => None,
            (Values::Numbers(v), c) => Some(v[c as usize - 1]),
        }
    }
}

/// The order-keeping codes of `column` (text, categorical, date, datetime or integer).
pub fn codes(column: &Column) -> PolarsResult<Codes> {
    let series = column.as_materialized_series();
    match series.dtype() {
        DataType::String => {
            let ca = series.str()?;
            let mut first: HashMap<&str, u32, Fixed> = HashMap::default();
            let seen: Vec<u32> = ca
                .iter()
                .map(|v| {
                    v.map_or(0, |v| {
                        let next = first.len() as u32 + 1;
                        *first.entry(v).or_insert(next)
                    })
                })
                .collect();
            let mut distinct: Vec<(&str, u32)> = first.into_iter().collect();
            distinct.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            Ok(renumbered(seen, distinct))
        }
        DataType::Categorical(..) | DataType::Enum(..) => {
            // The categories' own numbers, then each distinct one's text.
            let physical = series.to_physical_repr().cast(&DataType::UInt32)?;
            let mut first: HashMap<u32, (u32, IdxSize), Fixed> = HashMap::default();
            let seen: Vec<u32> = physical
                .u32()?
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    v.map_or(0, |v| {
                        let next = first.len() as u32 + 1;
                        first.entry(v).or_insert((next, row as IdxSize)).0
                    })
                })
                .collect();
            let mut first_met = Vec::with_capacity(first.len());
            let (ids, rows): (Vec<u32>, Vec<IdxSize>) = first
                .into_iter()
                .map(|(physical, (id, row))| {
                    first_met.push(physical);
                    (id, row)
                })
                .unzip();
            let text = series
                .take(&IdxCa::from_vec("rows".into(), rows))?
                .cast(&DataType::String)?;
            let mut distinct: Vec<(&str, u32, u32)> = text
                .str()?
                .iter()
                .zip(ids)
                .zip(first_met)
                .map(|((t, id), physical)| (t.unwrap_or_default(), id, physical))
                .collect();
            // An enum sorts by its categories' order, not their text.
            if matches!(series.dtype(), DataType::Enum(..)) {
                distinct.sort_unstable_by_key(|d| d.2);
            } else {
                distinct.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            }
            Ok(renumbered(
                seen,
                distinct.into_iter().map(|(t, id, _)| (t, id)).collect(),
            ))
        }
        _ => {
            let physical = series.to_physical_repr().cast(&DataType::Int64)?;
            Ok(number_codes(physical.i64()?))
        }
    }
}

/// Codes of numbers: by a table over their range when it is small next to the rows
/// (dates: a few thousand days), else by sorting the distinct values.
fn number_codes(ca: &Int64Chunked) -> Codes {
    let table_limit = (4 * ca.len() as u64).max(1 << 16);
    if let (Some(lo), Some(hi)) = (ca.min(), ca.max())
        && (hi as i128 - lo as i128) < i128::from(table_limit)
    {
        let mut rank = vec![0u32; (hi - lo) as usize + 1];
        for v in ca.iter().flatten() {
            rank[(v - lo) as usize] = 1;
        }
        let mut values = Vec::new();
        for (k, r) in rank.iter_mut().enumerate() {
            if *r != 0 {
                values.push(lo + k as i64);
                *r = values.len() as u32;
            }
        }
        let codes = ca
            .iter()
            .map(|v| v.map_or(0, |v| rank[(v - lo) as usize]))
            .collect();
        return Codes {
            codes,
            values: Values::Numbers(values),
        };
    }
    let mut values: Vec<i64> = ca.iter().flatten().collect();
    values.sort_unstable();
    values.dedup();
    let codes = ca
        .iter()
        .map(|v| v.map_or(0, |v| values.binary_search(&v).unwrap_or(0) as u32 + 1))
        .collect();
    Codes {
        codes,
        values: Values::Numbers(values),
    }
}

/// The codes of `df`'s columns `names`, in that order, each column on its own core.
pub fn codes_of(df: &DataFrame, names: &[&str]) -> PolarsResult<Vec<Codes>> {
    use polars_core::utils::rayon::prelude::*;
    polars_core::runtime::THREAD_POOL.install(|| {
        names
            .par_iter()
            .map(|c| codes(df.column(c)?))
            .collect::<PolarsResult<Vec<Codes>>>()
    })
}

/// Sorts packed keys on every core.
pub fn sort_keys(keys: &mut [u128]) {
    use polars_core::utils::rayon::prelude::*;
    polars_core::runtime::THREAD_POOL.install(|| keys.par_sort_unstable());
}

/// Codes from first-seen numbers: `distinct` holds each value, in order, with its
/// first-seen number (1-based); every row is renumbered by the value's place.
fn renumbered(mut seen: Vec<u32>, distinct: Vec<(&str, u32)>) -> Codes {
    let mut rank = vec![0u32; distinct.len() + 1];
    for (place, (_, id)) in distinct.iter().enumerate() {
        rank[*id as usize] = place as u32 + 1;
    }
    for c in &mut seen {
        *c = rank[*c as usize];
    }
    Codes {
        codes: seen,
        values: Values::Text(distinct.into_iter().map(|(v, _)| v.to_string()).collect()),
    }
}

/// Dense numbers for tuples compared only for equality: each distinct tuple gets the
/// next number as it is first met.
pub struct Dense<K> {
    ids: HashMap<K, u32, Fixed>,
}

impl<K: std::hash::Hash + Eq> Dense<K> {
    /// No tuples yet.
    pub fn new() -> Self {
        Dense {
            ids: HashMap::default(),
        }
    }

    /// The number of `key`.
    pub fn id(&mut self, key: K) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(key).or_insert(next)
    }

    /// How many numbers were given.
    pub fn count(&self) -> u64 {
        self.ids.len() as u64
    }
}

impl<K: std::hash::Hash + Eq> Default for Dense<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// The layout of a `u128` key holding several codes, most significant first: comparing
/// two keys compares their codes in that order.
pub struct Packer {
    /// Each field's width in bits.
    widths: Vec<u32>,
}

impl Packer {
    /// A layout for fields of `counts[i]` values each (codes `0..counts[i]`); an error
    /// when they need more than 128 bits together.
    pub fn new(counts: &[u64]) -> PolarsResult<Self> {
        let widths: Vec<u32> = counts
            .iter()
            .map(|&c| u64::BITS - c.saturating_sub(1).leading_zeros())
            .collect();
        let total: u32 = widths.iter().sum();
        polars_ensure!(
            total <= 128,
            ComputeError: "too many distinct values to order by one key ({total} bits of {counts:?})"
        );
        Ok(Packer { widths })
    }

    /// The key of `fields` (as many as the layout's, each below its count).
    pub fn pack(&self, fields: &[u64]) -> u128 {
        debug_assert_eq!(fields.len(), self.widths.len());
        fields
            .iter()
            .zip(&self.widths)
            .fold(0u128, |key, (&f, &w)| (key << w) | u128::from(f))
    }

    /// The bits of the last `n` fields, to shift a key right by to compare only the
    /// fields before them.
    pub fn low_bits(&self, n: usize) -> u32 {
        self.widths[self.widths.len() - n..].iter().sum()
    }

    /// The last field of `key`.
    pub fn last(&self, key: u128) -> u64 {
        let w = *self.widths.last().unwrap_or(&0);
        (key & ((1u128 << w) - 1)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_codes_keep_byte_order_with_null_first() {
        let c = Column::new(
            "t".into(),
            [Some("b"), None, Some("B"), Some("a"), Some("b")],
        );
        let codes = codes(&c).unwrap();
        assert_eq!(codes.codes, [3, 0, 1, 2, 3]);
        assert_eq!(codes.count(), 4);
        assert_eq!(codes.code_of("a"), 2);
        assert_eq!(codes.code_of("z"), 0);
    }

    #[test]
    fn categorical_codes_order_by_text_not_by_category_number() {
        // Categories are numbered as first met: "zeta" before "alpha".
        let c = Column::new(
            "t".into(),
            [Some("zeta"), Some("alpha"), None, Some("zeta")],
        )
        .cast(&crate::normalise::categorical())
        .unwrap();
        let codes = codes(&c).unwrap();
        assert_eq!(codes.codes, [2, 1, 0, 2]);
        assert_eq!(codes.code_of("zeta"), 2);
    }

    #[test]
    fn date_codes_order_by_day_and_give_the_day_back() {
        let c = Column::new("d".into(), [Some(20_000i32), Some(-5), None, Some(20_000)])
            .cast(&DataType::Date)
            .unwrap();
        let codes = codes(&c).unwrap();
        assert_eq!(codes.codes, [2, 1, 0, 2]);
        assert_eq!(
            (codes.number(0), codes.number(1), codes.number(2)),
            (Some(20_000), Some(-5), None)
        );
    }

    #[test]
    fn numbers_too_far_apart_for_a_table_are_coded_by_sorting() {
        let c = Column::new("n".into(), [Some(i64::MAX), Some(i64::MIN), None, Some(0)]);
        let codes = codes(&c).unwrap();
        assert_eq!(codes.codes, [3, 1, 0, 2]);
        assert_eq!(codes.number(0), Some(i64::MAX));
    }

    #[test]
    fn packed_keys_compare_field_by_field() {
        let p = Packer::new(&[3, 1000, 2]).unwrap();
        assert_eq!(p.low_bits(1), 1);
        assert!(p.pack(&[1, 999, 1]) < p.pack(&[2, 0, 0]));
        assert!(p.pack(&[1, 5, 0]) < p.pack(&[1, 5, 1]));
        assert_eq!(p.last(p.pack(&[2, 7, 1])), 1);
        assert_eq!(p.pack(&[2, 7, 1]) >> p.low_bits(1), p.pack(&[2, 7, 0]) >> 1);
    }

    #[test]
    fn a_layout_wider_than_128_bits_is_an_error() {
        assert!(Packer::new(&[u64::MAX, u64::MAX, 2]).is_err());
        assert!(Packer::new(&[u64::MAX, u64::MAX]).is_ok());
    }

    #[test]
    fn dense_numbers_are_given_as_tuples_are_first_met() {
        let mut d = Dense::new();
        assert_eq!((d.id([3, 1]), d.id([0, 0]), d.id([3, 1])), (0, 1, 0));
        assert_eq!(d.count(), 2);
    }
}
