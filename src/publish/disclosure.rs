//! Statistical disclosure control for published datasets: the HES/ECDS rule.
//!
//! Sub-national counts of individuals: 0 stays 0; 1–7 are suppressed (written as null);
//! 8 and above are rounded to the nearest 5. A median or other statistic based on 1–7
//! individuals is suppressed too. Totals are rounded from unrounded values, so rows need
//! not add up (NHS England, "Change to disclosure control methodology for HES and ECDS",
//! September 2018).

use polars::prelude::*;

/// Smallest count shown.
pub const MIN_SHOWN: i64 = 8;

/// The HES rule applied to one count: `None` means suppressed.
pub fn hes_count(v: i64) -> Option<i64> {
    match v {
        0 => Some(0),
        1..MIN_SHOWN => None,
        _ => Some((v + 2) / 5 * 5),
    }
}

/// Applies the HES rule to `counts`, and suppresses each `(statistic, base)` pair's
/// statistic where its base count is 1–7. Returns the frame and the number of cells
/// suppressed.
pub fn apply_hes(
    df: DataFrame,
    counts: &[&str],
    statistics: &[(&str, &str)],
) -> PolarsResult<(DataFrame, u64)> {
    let mut suppressed = 0u64;
    for c in counts {
        let s = df.column(c)?.cast(&DataType::Int64)?;
        suppressed += s
            .i64()?
            .iter()
            .filter(|v| matches!(v, Some(x) if (1..MIN_SHOWN).contains(x)))
            .count() as u64;
    }
    for (stat, base) in statistics {
        let b = df.column(base)?.cast(&DataType::Int64)?;
        let st = df.column(stat)?;
        suppressed += b
            .i64()?
            .iter()
            .zip(st.is_not_null().iter())
            .filter(|(b, has)| {
                has.unwrap_or(false) && matches!(b, Some(x) if (1..MIN_SHOWN).contains(x))
            })
            .count() as u64;
    }
    let small = |c: &str| col(c).gt_eq(lit(1i64)).and(col(c).lt(lit(MIN_SHOWN)));
    let mut exprs: Vec<Expr> = statistics
        .iter()
        .map(|(stat, base)| {
            when(small(base))
                .then(lit(NULL))
                .otherwise(col(*stat))
                .alias(*stat)
        })
        .collect();
    for c in counts {
        exprs.push(
            when(small(c))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(((col(*c) + lit(2i64)) / lit(5i64)) * lit(5i64))
                .alias(*c),
        );
    }
    let out = df.lazy().with_columns(exprs).collect()?;
    Ok((out, suppressed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hes_rule_boundaries() {
        assert_eq!(hes_count(0), Some(0));
        for v in 1..=7 {
            assert_eq!(hes_count(v), None, "{v}");
        }
        assert_eq!(hes_count(8), Some(10));
        assert_eq!(hes_count(12), Some(10));
        assert_eq!(hes_count(13), Some(15));
        assert_eq!(hes_count(15), Some(15));
        assert_eq!(hes_count(17), Some(15));
        assert_eq!(hes_count(18), Some(20));
        assert_eq!(hes_count(1234), Some(1235));
    }

    #[test]
    fn frame_rule_matches_scalar_rule_and_suppresses_small_medians() {
        let df = df!(
            "n" => [0i64, 1, 7, 8, 12, 13, 101],
            "median" => [None, Some(4.0), Some(2.0), Some(3.5), Some(9.0), Some(1.0), Some(5.0)],
        )
        .unwrap();
        let (out, suppressed) = apply_hes(df, &["n"], &[("median", "n")]).unwrap();
        let n: Vec<Option<i64>> = out.column("n").unwrap().i64().unwrap().iter().collect();
        assert_eq!(
            n,
            vec![Some(0), None, None, Some(10), Some(10), Some(15), Some(100)]
        );
        let m: Vec<Option<f64>> = out
            .column("median")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            m,
            vec![None, None, None, Some(3.5), Some(9.0), Some(1.0), Some(5.0)]
        );
        // Two counts (1, 7) and two medians (bases 1, 7) suppressed.
        assert_eq!(suppressed, 4);
    }
}
