//! Statistical disclosure control for published datasets, applied at write time.
//!
//! The HES/ECDS rule (NHS England, "Change to disclosure control methodology for HES and
//! ECDS", September 2018): sub-national counts of people — 0 stays 0; 1–7 are
//! suppressed; 8 and above are rounded to the nearest 5. A statistic (median, share,
//! change) based on 1–7 people is suppressed too. Totals and statistics are computed from
//! unrounded values, so rows need not add up. Counts of organisations are exempt.
//!
//! Suppression is explicit: the value becomes null and a boolean `<column>_suppressed`
//! flag, placed right after it, is true. A null with a false flag means "no value" (for
//! example a median over zero delayed discharges). Shares are percentages, shown to one
//! decimal place only when their denominator is at least 4,000, otherwise to a whole
//! percent.

use std::collections::BTreeMap;

use polars::prelude::*;

/// Smallest count shown.
pub const MIN_SHOWN: i64 = 8;

/// Denominator from which a percentage may be shown to one decimal place.
pub const ONE_DECIMAL_DENOMINATOR: i64 = 4_000;

/// Which columns of a published dataset count people, and which statistics rest on them.
#[derive(Debug, Clone, Default)]
pub struct GateSpec {
    /// Counts of people: suppressed at 1–7, rounded to 5 from 8.
    pub counts: Vec<&'static str>,
    /// `(count, base count of people)`: a count of things people account for (bed-days),
    /// suppressed when it or its base is 1–7, rounded to 5 otherwise.
    pub counts_of_people_things: Vec<(&'static str, &'static str)>,
    /// `(statistic, base count)`: the statistic is suppressed when its base is 1–7.
    pub statistics: Vec<(&'static str, &'static str)>,
    /// `(percentage, denominator)`: rounded to 1 decimal or whole percent by denominator
    /// (after the statistic rule above, if also listed there).
    pub percentages: Vec<(&'static str, &'static str)>,
}

/// The rule a pipeline applies to a published dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Counts below `min_shown` (other than 0) are suppressed; the rest are rounded to the
    /// nearest `round_to`. [`Rule::HES`] is the default.
    Threshold {
        /// Smallest count shown (HES: 8).
        min_shown: i64,
        /// Rounding base (HES: 5).
        round_to: i64,
    },
    /// No suppression: only for statistics NHS England has already published.
    None,
}

impl Rule {
    /// The HES/ECDS rule: 1–7 suppressed, 8 and above rounded to the nearest 5.
    pub const HES: Rule = Rule::Threshold {
        min_shown: MIN_SHOWN,
        round_to: 5,
    };
}

/// What the gate did to one dataset: suppressed cells per column.
pub type Suppressed = BTreeMap<String, u64>;

/// The HES rule applied to one count: `None` means suppressed.
pub fn hes_count(v: i64) -> Option<i64> {
    match v {
        0 => Some(0),
        1..MIN_SHOWN => None,
        _ => Some((v + 2) / 5 * 5),
    }
}

fn small(c: &str, min_shown: i64) -> Expr {
    col(c).gt_eq(lit(1i64)).and(col(c).lt(lit(min_shown)))
}

/// Applies `rule` to `df` as `spec` describes; returns the gated frame and what was
/// suppressed.
pub fn apply(df: DataFrame, spec: &GateSpec, rule: Rule) -> PolarsResult<(DataFrame, Suppressed)> {
    let Rule::Threshold {
        min_shown,
        round_to,
    } = rule
    else {
        return Ok((df, Suppressed::new()));
    };
    let small = |c: &str| small(c, min_shown);
    let mut exprs: Vec<Expr> = Vec::new();
    let mut flags: Vec<(String, Expr)> = Vec::new();
    for (stat, base) in &spec.statistics {
        let hide = small(base)
            .and(col(*stat).is_not_null())
            .fill_null(lit(false));
        let mut value = when(hide.clone()).then(lit(NULL)).otherwise(col(*stat));
        if let Some((_, denom)) = spec.percentages.iter().find(|(p, _)| p == stat) {
            value = round_percentage(value, denom);
        }
        exprs.push(value.alias(*stat));
        flags.push((stat.to_string(), hide));
    }
    for (pct, denom) in &spec.percentages {
        if !spec.statistics.iter().any(|(s, _)| s == pct) {
            exprs.push(round_percentage(col(*pct), denom).alias(*pct));
        }
    }
    let counts = spec.counts.iter().map(|c| (*c, None)).chain(
        spec.counts_of_people_things
            .iter()
            .map(|(c, b)| (*c, Some(*b))),
    );
    for (c, base) in counts {
        let mut hide = small(c);
        if let Some(b) = base {
            hide = hide.or(small(b));
        }
        let hide = hide.fill_null(lit(false));
        exprs.push(
            when(hide.clone())
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(((col(c) + lit(round_to / 2)) / lit(round_to)) * lit(round_to))
                .alias(c),
        );
        flags.push((c.to_string(), hide));
    }
    // Flags and values are computed from the unrounded input in one pass.
    let flag_exprs: Vec<Expr> = flags
        .iter()
        .map(|(c, e)| e.clone().alias(format!("{c}_suppressed")))
        .collect();
    let names: Vec<PlSmallStr> = df.get_column_names().into_iter().cloned().collect();
    let gated = df
        .lazy()
        .with_columns(flag_exprs)
        .with_columns(exprs)
        .collect()?;
    let mut suppressed = Suppressed::new();
    for (c, _) in &flags {
        let n = gated
            .column(&format!("{c}_suppressed"))?
            .bool()?
            .sum()
            .unwrap_or(0) as u64;
        suppressed.insert(c.clone(), n);
    }
    // Each flag sits right after its column.
    let mut order: Vec<PlSmallStr> = Vec::new();
    for name in names {
        order.push(name.clone());
        if flags.iter().any(|(c, _)| c.as_str() == name.as_str()) {
            order.push(format!("{name}_suppressed").into());
        }
    }
    Ok((gated.select(order)?, suppressed))
}

/// Rounds a percentage to 1 decimal place when its denominator is ≥ 4,000, else to a
/// whole percent.
fn round_percentage(value: Expr, denom: &str) -> Expr {
    when(col(denom).gt_eq(lit(ONE_DECIMAL_DENOMINATOR)))
        .then(value.clone().round(1, RoundMode::HalfAwayFromZero))
        .otherwise(value.round(0, RoundMode::HalfAwayFromZero))
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

    fn spec() -> GateSpec {
        GateSpec {
            counts: vec!["n"],
            counts_of_people_things: vec![],
            statistics: vec![("median", "n"), ("share", "n")],
            percentages: vec![("share", "denominator")],
        }
    }

    #[test]
    fn counts_and_statistics_are_suppressed_with_flags() {
        let df = df!(
            "key" => ["a", "b", "c", "d", "e", "f", "g"],
            "n" => [0i64, 1, 7, 8, 12, 13, 101],
            "median" => [None, Some(4.0), Some(2.0), Some(3.5), Some(9.0), Some(1.0), Some(5.0)],
            "share" => [None, Some(12.34), Some(50.0), Some(33.333), Some(66.66), Some(12.45), Some(7.25)],
            "denominator" => [0i64, 10, 10, 10, 4000, 3999, 5000],
        )
        .unwrap();
        let (out, suppressed) = apply(df, &spec(), Rule::HES).unwrap();
        let names: Vec<&str> = out.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "n",
                "n_suppressed",
                "median",
                "median_suppressed",
                "share",
                "share_suppressed",
                "denominator"
            ]
        );
        let n: Vec<Option<i64>> = out.column("n").unwrap().i64().unwrap().iter().collect();
        assert_eq!(
            n,
            vec![Some(0), None, None, Some(10), Some(10), Some(15), Some(100)]
        );
        let flag: Vec<Option<bool>> = out
            .column("n_suppressed")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            flag,
            [false, true, true, false, false, false, false].map(Some)
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
        // A missing median over zero people is not a suppression.
        let mflag: Vec<Option<bool>> = out
            .column("median_suppressed")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            mflag,
            [false, true, true, false, false, false, false].map(Some)
        );
        let s: Vec<Option<f64>> = out.column("share").unwrap().f64().unwrap().iter().collect();
        assert_eq!(
            s,
            vec![
                None,
                None,
                None,
                Some(33.0),
                Some(66.7),
                Some(12.0),
                Some(7.3)
            ]
        );
        assert_eq!(
            suppressed,
            Suppressed::from([("n".into(), 2), ("median".into(), 2), ("share".into(), 2)])
        );
    }

    #[test]
    fn bed_days_of_fewer_than_eight_people_are_suppressed() {
        let df = df!("people" => [7i64, 8, 0], "bed_days" => [14i64, 9, 0]).unwrap();
        let spec = GateSpec {
            counts: vec!["people"],
            counts_of_people_things: vec![("bed_days", "people")],
            ..Default::default()
        };
        let (out, suppressed) = apply(df, &spec, Rule::HES).unwrap();
        let b: Vec<Option<i64>> = out
            .column("bed_days")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(b, vec![None, Some(10), Some(0)]);
        assert_eq!(suppressed["bed_days"], 1);
    }

    #[test]
    fn a_pipeline_can_set_its_own_threshold() {
        let df = df!("n" => [0i64, 9, 10, 14, 15, 26]).unwrap();
        let spec = GateSpec {
            counts: vec!["n"],
            ..Default::default()
        };
        let rule = Rule::Threshold {
            min_shown: 10,
            round_to: 10,
        };
        let (out, _) = apply(df, &spec, rule).unwrap();
        let n: Vec<Option<i64>> = out.column("n").unwrap().i64().unwrap().iter().collect();
        assert_eq!(
            n,
            vec![Some(0), None, Some(10), Some(10), Some(20), Some(30)]
        );
    }

    #[test]
    fn rule_none_leaves_the_frame_alone() {
        let df = df!("n" => [1i64, 3]).unwrap();
        let (out, s) = apply(df.clone(), &spec(), Rule::None).unwrap();
        assert!(out.equals(&df));
        assert!(s.is_empty());
    }
}
