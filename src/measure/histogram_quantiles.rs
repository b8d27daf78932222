//! Quantiles of whole-number values per group, computed from each group's histogram.
//!
//! polars computes a grouped `median()` / `quantile()` by gathering every group's rows
//! (measured: ~180 MB of transient memory for `discharge_delays` over 2.1 M journeys,
//! the run's peak). Delays are whole days in a small range, so a group's values are
//! held exactly as (value, count) pairs: a `len()` group-by, which polars streams. The
//! quantile is then read off the cumulative counts with polars' `Lower` rule (the lower
//! of the two order statistics around `(n - 1) * q`: one of the values, never an
//! interpolation between two, whose fraction would tell how many values there are —
//! see [`crate::publish::disclosure`]), so the results are those of
//! `col(x).cast(Float64).quantile(q, Lower)`, as the other measures' ([`super::p90`]).

use polars::prelude::*;

/// The `q` quantile (polars' `Lower` rule) of the multiset given by ascending distinct
/// `values` with positive `counts`; `None` when the multiset is empty.
pub fn quantile_of_counts(values: &[i64], counts: &[u64], q: f64) -> Option<f64> {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return None;
    }
    // As polars-core's `quantile_idx` for `QuantileMethod::Lower`.
    let index = (((n as f64 - 1.0) * q).floor() as u64).min(n - 1);
    Some(order_statistic(values, counts, index) as f64)
}

/// The `k`-th smallest (0-based) value of the multiset.
fn order_statistic(values: &[i64], counts: &[u64], k: u64) -> i64 {
    let mut seen = 0u64;
    for (v, c) in values.iter().zip(counts) {
        seen += c;
        if k < seen {
            return *v;
        }
    }
    *values.last().expect("k < n, so there is a value")
}

/// Replaces the list columns `values` (ascending whole numbers, one group's distinct
/// values per row) and `counts` (how often each occurs) with one `Float64` column per
/// `(name, q)` in `outputs`: the group's `q` quantile, null for an empty group.
pub fn quantile_columns(
    mut df: DataFrame,
    values: &str,
    counts: &str,
    outputs: &[(&str, f64)],
) -> PolarsResult<DataFrame> {
    let list_of =
        |name: &str, inner: DataType| df.column(name)?.cast(&DataType::List(Box::new(inner)));
    let vals = list_of(values, DataType::Int64)?;
    let cnts = list_of(counts, DataType::UInt64)?;
    let (vals, cnts) = (vals.list()?, cnts.list()?);
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(df.height()); outputs.len()];
    let (mut v_buf, mut c_buf) = (Vec::new(), Vec::new());
    for (v, c) in vals.amortized_iter().zip(cnts.amortized_iter()) {
        v_buf.clear();
        c_buf.clear();
        if let (Some(v), Some(c)) = (v, c) {
            for (v, c) in v.as_ref().i64()?.iter().zip(c.as_ref().u64()?.iter()) {
                if let (Some(v), Some(c)) = (v, c) {
                    v_buf.push(v);
                    c_buf.push(c);
                }
            }
        }
        polars_ensure!(
            v_buf.is_sorted(),
            ComputeError: "histogram values of a group are not in ascending order"
        );
        for (column, (_, q)) in columns.iter_mut().zip(outputs) {
            column.push(quantile_of_counts(&v_buf, &c_buf, *q));
        }
    }
    df.drop_in_place(values)?;
    df.drop_in_place(counts)?;
    for (column, (name, _)) in columns.into_iter().zip(outputs) {
        df.with_column(Column::new((*name).into(), column))?;
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// polars' own grouped quantile of the expanded values, the reference.
    fn polars_quantile(expanded: &[i64], q: f64) -> Option<f64> {
        let df = df!("v" => expanded).unwrap();
        let out = df
            .lazy()
            .select([col("v")
                .cast(DataType::Float64)
                .quantile(lit(q), QuantileMethod::Lower)])
            .collect()
            .unwrap();
        out.column("v").unwrap().f64().unwrap().get(0)
    }

    fn expand(values: &[i64], counts: &[u64]) -> Vec<i64> {
        values
            .iter()
            .zip(counts)
            .flat_map(|(v, c)| std::iter::repeat_n(*v, *c as usize))
            .collect()
    }

    /// Regression (disclosure review): an interpolated p90 (1.6999999999999993 of 24
    /// delays) had a fraction only one count of values could give, recovering the
    /// count and the delays that rounding hid. An order statistic is one of the values.
    #[test]
    fn pinned_quantiles() {
        // 1, 2, 2, 10: the median is the 2nd value (index 1.5, lower), the p90 the 3rd
        // (index 2.7, lower): not 7.6, between the 3rd and 4th.
        assert_eq!(quantile_of_counts(&[1, 2, 10], &[1, 2, 1], 0.5), Some(2.0));
        assert_eq!(quantile_of_counts(&[1, 2, 10], &[1, 2, 1], 0.9), Some(2.0));
        assert_eq!(quantile_of_counts(&[3, 4], &[1, 1], 0.5), Some(3.0));
        // 21 delays of 1 day and 3 of 2: p90 at index 20.7 is 1, never 1.7.
        assert_eq!(quantile_of_counts(&[1, 2], &[21, 3], 0.9), Some(1.0));
        assert_eq!(quantile_of_counts(&[7], &[5], 0.9), Some(7.0));
        assert_eq!(quantile_of_counts(&[], &[], 0.5), None);
        assert_eq!(quantile_of_counts(&[-2, 5], &[1, 0], 1.0), Some(-2.0));
    }

    #[test]
    fn equals_polars_on_random_multisets() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..300 {
            let k = 1 + next(8) as usize;
            let mut values: Vec<i64> = (0..k).map(|_| next(60) as i64 - 5).collect();
            values.sort();
            values.dedup();
            let counts: Vec<u64> = values.iter().map(|_| 1 + next(9)).collect();
            let expanded = expand(&values, &counts);
            for q in [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0] {
                let ours = quantile_of_counts(&values, &counts, q);
                let theirs = polars_quantile(&expanded, q);
                assert_eq!(
                    ours.map(f64::to_bits),
                    theirs.map(f64::to_bits),
                    "q {q} of {expanded:?}"
                );
            }
        }
    }

    #[test]
    fn quantile_columns_replace_the_lists() {
        let df = df!(
            "g" => ["a", "b", "c"],
            "values" => [
                Series::new("".into(), [1i64, 2, 10]),
                Series::new("".into(), Vec::<i64>::new()),
                Series::new("".into(), [4i64]),
            ],
            "counts" => [
                Series::new("".into(), [1u32, 2, 1]),
                Series::new("".into(), Vec::<u32>::new()),
                Series::new("".into(), [3u32]),
            ],
        )
        .unwrap();
        let out =
            quantile_columns(df, "values", "counts", &[("median", 0.5), ("p90", 0.9)]).unwrap();
        assert_eq!(
            out.get_column_names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>(),
            ["g", "median", "p90"],
            "lists dropped, quantiles appended"
        );
        let floats = |name: &str| -> Vec<Option<f64>> {
            out.column(name).unwrap().f64().unwrap().iter().collect()
        };
        assert_eq!(floats("median"), [Some(2.0), None, Some(4.0)]);
        assert_eq!(floats("p90"), [Some(2.0), None, Some(4.0)]);
    }

    #[test]
    fn unsorted_values_are_an_error() {
        let df = df!(
            "values" => [Series::new("".into(), [5i64, 1])],
            "counts" => [Series::new("".into(), [1u32, 1])],
        )
        .unwrap();
        assert!(quantile_columns(df, "values", "counts", &[("m", 0.5)]).is_err());
    }
}
