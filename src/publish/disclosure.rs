//! Statistical disclosure control for published datasets, applied at write time.
//!
//! The HES/ECDS rule (NHS England, "Change to disclosure control methodology for HES and
//! ECDS", September 2018): sub-national counts of people — 0 stays 0; 1–7 are
//! suppressed; 8 and above are rounded to the nearest 5. A statistic (median,
//! percentile) based on 1–7 people is suppressed too. Totals are computed from unrounded
//! values, so rows need not add up. Counts of organisations are exempt.
//!
//! Rates and changes are the exception: they are worked out from the published (rounded)
//! counts, and suppressed with either of them. Worked out from unrounded counts they give
//! the counts away: 10 records of which 75 % linked can only be 8 records and 6 linked
//! (a suppressed count), and this month's bed-days minus the change is last month's,
//! suppressed or not.
//!
//! What a count rests on is what protects it: a count of records (`linkage_quality`'s
//! records, events and spells; `social_care_queue`'s requests) is gated as a count of
//! things people account for, with the number of people behind it as its base (a helper
//! column the measure adds, not published), so one client's nine events are not shown
//! as "10". (`discharge_delays` and `bottlenecks` count spells, and `flow_daily`
//! attendances, as people: one person's several in one group is rare, and not guarded.) A count that is part of another (records
//! with an NHS number, of records) is suppressed whenever that one is, zeros included:
//! "none of these 1–7 patients was delayed" is a fact about each of them. A statistic
//! is an order statistic (no interpolation, so its fraction cannot tell how many values
//! lie under it) shown only when its base is shown, and a 90th percentile only when its
//! published base is at least [`P90_MIN_BASE`] (below that it is within a value or two
//! of the group's largest).
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

/// Smallest published base a 90th percentile is shown on: below 20 values, at most one
/// lies above it, so it is close to publishing the group's largest value.
pub const P90_MIN_BASE: i64 = 20;

/// Which columns of a published dataset count people, and which statistics rest on them.
#[derive(Debug, Clone, Default)]
pub struct GateSpec {
    /// Counts of people: suppressed at 1–7, rounded to 5 from 8.
    pub counts: Vec<&'static str>,
    /// `(count, base count of people)`: a count of things people account for (bed-days,
    /// records, requests), suppressed when it or its base is 1–7, rounded to 5
    /// otherwise.
    pub counts_of_people_things: Vec<(&'static str, &'static str)>,
    /// Helper columns gated counts rest on (counts of people behind counts of records),
    /// dropped from what is published.
    pub helpers: Vec<&'static str>,
    /// Helper boolean columns, each with the gated counts it covers: where true, the
    /// row's population behind those counts is too small for its grain (a provider's day
    /// in a month of few inpatients, or of few A&E patients), and they are suppressed,
    /// zeros included. Dropped from what is published.
    pub population: Vec<(&'static str, Vec<&'static str>)>,
    /// `(part, whole)`, both gated counts: the part is suppressed whenever the whole is,
    /// zeros included. Listed whole before part where one is both.
    pub parts: Vec<(&'static str, &'static str)>,
    /// `(statistic, base count, smallest published base)`: the statistic is suppressed
    /// when its base is, or when its base as published is under the smallest (0 for
    /// none; [`P90_MIN_BASE`] for a 90th percentile).
    pub statistics: Vec<(&'static str, &'static str, i64)>,
    /// `(percentage, numerator, denominator)`, both gated above: the percentage of the
    /// published numerator in the published denominator, suppressed when either is, to 1
    /// decimal or a whole percent by denominator.
    pub rates: Vec<(&'static str, &'static str, &'static str)>,
    /// Changes on an earlier period, worked out from published values.
    pub changes: Vec<ChangeSpec>,
    /// Ranks by a gated value, renumbered among the rows where it is shown.
    pub ranks: Vec<RankSpec>,
    /// Totals of what people account for (delayed bed-days), each with the helper columns
    /// holding its two largest patients' shares: what a rule's [`Dominance`] test reads.
    pub magnitudes: Vec<Magnitude>,
}

/// A total of what people account for (bed-days), and its helper columns: the part of it
/// the patient accounting for most holds, and the part the next holds (null with one
/// patient). Rows without a person count as one patient, the fewest they can be. The
/// helpers are the measure's, not published.
#[derive(Debug, Clone)]
pub struct Magnitude {
    /// The gated total.
    pub column: &'static str,
    /// The largest patient's part of it (helper).
    pub largest: &'static str,
    /// The second largest patient's part (helper).
    pub second: &'static str,
}

/// The (n, k) dominance rule for totals of what people account for: a total is
/// suppressed when its `top` largest patients (1 or 2) hold more than `max_share_pct`
/// per cent of it. One patient's long delay can otherwise be most of a group's delayed
/// bed-days (20 discharges, median 1 day, 55 bed-days: one patient waited about five
/// weeks), which the HES rule, a rule on counts, does not look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dominance {
    /// How many of the largest patients are summed (1 or 2).
    pub top: u8,
    /// The share of the total (per cent, 1-99) they may hold at most.
    pub max_share_pct: u8,
}

impl GateSpec {
    /// Every column that is published with a `<column>_suppressed` flag after it.
    pub fn flagged(&self) -> Vec<&'static str> {
        self.counts
            .iter()
            .copied()
            .chain(self.counts_of_people_things.iter().map(|(c, _)| *c))
            .chain(self.statistics.iter().map(|(s, _, _)| *s))
            .chain(self.rates.iter().map(|(r, _, _)| *r))
            .chain(self.changes.iter().map(|c| c.column))
            .chain(self.ranks.iter().map(|r| r.column))
            .collect()
    }

    /// The helper columns of [`GateSpec::magnitudes`].
    fn magnitude_helpers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.magnitudes.iter().flat_map(|m| [m.largest, m.second])
    }
}

/// A rank (1, 2, … within a group, by a gated value, computed from unrounded values) that
/// must not place a suppressed value: ranked among the rest, a suppressed row's rank
/// bounds it between its neighbours' published values (ranked second between 25 and 10
/// bed-days: 10 to 25). So rows whose `by` value is suppressed get no rank (flagged), the
/// others are ranked 1, 2, … among themselves in their old order, and the frame is
/// sorted by `within`, the rank (unranked rows last) and `then` (the unranked rows'
/// order, which must not follow the value either).
#[derive(Debug, Clone)]
pub struct RankSpec {
    /// The published rank; the frame comes in `within`, rank order.
    pub column: &'static str,
    /// The gated value ranked by.
    pub by: &'static str,
    /// The group ranks restart in.
    pub within: &'static str,
    /// The order of the unranked rows, after the ranked ones.
    pub then: Vec<&'static str>,
}

/// A change on an earlier period: `current` (gated above) minus `previous`, which is
/// gated the same way as a count of things people account for, with `previous_base` as
/// its base. `previous` and `previous_base` are helper columns the measure adds (null
/// when there is no earlier period); they are not published.
#[derive(Debug, Clone)]
pub struct ChangeSpec {
    /// The published change.
    pub column: &'static str,
    /// This period's value (a gated count).
    pub current: &'static str,
    /// The earlier period's value (helper).
    pub previous: &'static str,
    /// The count of people the earlier value rests on (helper).
    pub previous_base: &'static str,
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
        /// The dominance rule for totals of what people account for, if any (HES: none).
        dominance: Option<Dominance>,
    },
    /// No suppression: only for statistics NHS England has already published.
    None,
}

impl Rule {
    /// The HES/ECDS rule: 1–7 suppressed, 8 and above rounded to the nearest 5.
    pub const HES: Rule = Rule::Threshold {
        min_shown: MIN_SHOWN,
        round_to: 5,
        dominance: None,
    };
}

/// A warning when `rule` shows smaller counts, or rounds them less, than the HES rule:
/// allowed (a local agreement, or checking the measures unrounded), but never silently.
pub fn weaker_than_hes(rule: Rule) -> Option<String> {
    match rule {
        Rule::Threshold {
            min_shown,
            round_to,
            ..
        } if min_shown < MIN_SHOWN || round_to < 5 => Some(format!(
            "the disclosure rule (min_shown {min_shown}, round_to {round_to}) is weaker than NHS England's HES rule (8, 5): check the data sharing agreement before sharing published/"
        )),
        _ => None,
    }
}

/// What the gate did to one dataset: suppressed cells per column.
pub type Suppressed = BTreeMap<String, u64>;

/// The HES rule applied to one count: `None` means suppressed.
pub fn hes_count(v: i64) -> Option<i64> {
    Rule::HES.count(v)
}

impl Rule {
    /// The rule applied to one count of people or records, as the gate applies it to a
    /// column: `None` means suppressed.
    pub fn count(self, v: i64) -> Option<i64> {
        match self {
            Rule::Threshold { .. } if v == 0 => Some(0),
            Rule::Threshold { min_shown, .. } if (1..min_shown).contains(&v) => None,
            Rule::Threshold { round_to, .. } if round_to > 1 => {
                Some((v + round_to / 2) / round_to * round_to)
            }
            _ => Some(v),
        }
    }

    /// The true values a count this rule itself suppresses stands for (1–7 under HES);
    /// `None` when nothing is suppressed. A published cell can be suppressed for other
    /// reasons too (a small provider-month, a suppressed whole, few people behind it),
    /// and then stand for other values (the report's `hidden` says which).
    pub fn hidden_range(self) -> Option<(i64, i64)> {
        match self {
            Rule::Threshold { min_shown, .. } if min_shown > 1 => Some((1, min_shown - 1)),
            _ => None,
        }
    }
}

/// Whether `m`'s total is dominated: its `d.top` largest patients hold more than
/// `d.max_share_pct` per cent of it (a total of 0 is not).
fn dominated(m: &Magnitude, d: Dominance) -> Expr {
    let mut top = col(m.largest).fill_null(lit(0i64));
    if d.top >= 2 {
        top = top + col(m.second).fill_null(lit(0i64));
    }
    (top * lit(100i64))
        .gt(col(m.column) * lit(i64::from(d.max_share_pct)))
        .and(col(m.column).gt(lit(0i64)))
}

fn small(c: &str, min_shown: i64) -> Expr {
    col(c).gt_eq(lit(1i64)).and(col(c).lt(lit(min_shown)))
}

/// Applies `rule` to `df` as `spec` describes; returns the gated frame and what was
/// suppressed.
pub fn apply(df: DataFrame, spec: &GateSpec, rule: Rule) -> PolarsResult<(DataFrame, Suppressed)> {
    let helpers: Vec<&str> = spec
        .changes
        .iter()
        .flat_map(|c| [c.previous, c.previous_base])
        .chain(spec.helpers.iter().copied())
        .chain(spec.population.iter().map(|(h, _)| *h))
        .chain(spec.magnitude_helpers())
        .collect();
    let Rule::Threshold {
        min_shown,
        round_to,
        dominance,
    } = rule
    else {
        return Ok((df.drop_many(helpers), Suppressed::new()));
    };
    let small = |c: &str| small(c, min_shown);
    // Flags of counts and statistics come from the unrounded input; flags of rates and
    // changes from those flags (`derived_flags`); the earlier periods' flags are
    // internal, their helper columns not published.
    let mut exprs: Vec<Expr> = Vec::new();
    let mut flags: Vec<(String, Expr)> = Vec::new();
    let mut hidden_helpers: Vec<(String, Expr)> = Vec::new();
    let mut derived_flags: Vec<(String, Expr)> = Vec::new();
    let counts: Vec<(&str, Option<&str>)> = spec
        .counts
        .iter()
        .map(|c| (*c, None))
        .chain(
            spec.counts_of_people_things
                .iter()
                .map(|(c, b)| (*c, Some(*b))),
        )
        .chain(
            spec.changes
                .iter()
                .map(|c| (c.previous, Some(c.previous_base))),
        )
        .collect();
    // Each count's own reason to hide (1–7, or a base of 1–7 people), then a part's
    // whole's.
    let mut hides: BTreeMap<&str, Expr> = counts
        .iter()
        .map(|&(c, base)| {
            let mut hide = match base {
                Some(b) => small(c).or(small(b)),
                None => small(c),
            };
            for (helper, covered) in &spec.population {
                if covered.contains(&c) {
                    hide = hide.or(col(*helper));
                }
            }
            if let (Some(d), Some(m)) = (dominance, spec.magnitudes.iter().find(|m| m.column == c))
            {
                hide = hide.or(dominated(m, d));
            }
            (c, hide.fill_null(lit(false)))
        })
        .collect();
    for (part, whole) in &spec.parts {
        let (Some(p), Some(w)) = (hides.get(part), hides.get(whole)) else {
            polars_bail!(ComputeError: "the gate's part {part} or whole {whole} is not a count");
        };
        let hide = p.clone().or(w.clone());
        hides.insert(part, hide);
    }
    for (stat, base, min_base) in &spec.statistics {
        let base_hidden = hides.get(base).cloned().unwrap_or_else(|| small(base));
        let published_base = ((col(*base) + lit(round_to / 2)) / lit(round_to)) * lit(round_to);
        let hide = base_hidden
            .or(published_base.lt(lit(*min_base)))
            .and(col(*stat).is_not_null())
            .fill_null(lit(false));
        let value = when(hide.clone()).then(lit(NULL)).otherwise(col(*stat));
        exprs.push(value.alias(*stat));
        flags.push((stat.to_string(), hide));
    }
    for (c, _) in counts {
        let hide = hides[c].clone();
        exprs.push(
            when(hide.clone())
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(((col(c) + lit(round_to / 2)) / lit(round_to)) * lit(round_to))
                .alias(c),
        );
        if helpers.contains(&c) {
            hidden_helpers.push((c.to_string(), hide));
        } else {
            flags.push((c.to_string(), hide));
        }
    }
    // Rates and changes, from the gated values: suppressed with any value they rest on
    // (a rate or change that was null anyway, for want of a denominator or an earlier
    // period, stays null unflagged).
    let flag = |c: &str| col(format!("{c}_suppressed"));
    let mut derived: Vec<Expr> = Vec::new();
    for (pct, num, den) in &spec.rates {
        let hide = (flag(num).or(flag(den))).and(col(*pct).is_not_null());
        let value = when(flag(num).or(flag(den)).or(col(*den).eq(lit(0i64))))
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(
                col(*num).cast(DataType::Float64) * lit(100.0) / col(*den).cast(DataType::Float64),
            );
        derived.push(round_percentage(value, den).alias(*pct));
        derived_flags.push((pct.to_string(), hide));
    }
    for c in &spec.changes {
        let earlier_hidden = col(format!("{}_suppressed", c.previous));
        let either = flag(c.current).or(earlier_hidden);
        let hide = either.clone().and(col(c.column).is_not_null());
        derived.push(
            when(either.or(col(c.previous).is_null()))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col(c.current) - col(c.previous))
                .alias(c.column),
        );
        derived_flags.push((c.column.to_string(), hide));
    }
    // A rank is flagged with the value it ranks by (renumbered below).
    for r in &spec.ranks {
        derived_flags.push((r.column.to_string(), flag(r.by)));
    }
    let aliased = |f: &[(String, Expr)]| -> Vec<Expr> {
        f.iter()
            .map(|(c, e)| e.clone().alias(format!("{c}_suppressed")))
            .collect()
    };
    let (first_flags, second_flags) = (
        [aliased(&flags), aliased(&hidden_helpers)].concat(),
        aliased(&derived_flags),
    );
    flags.extend(derived_flags);
    let names: Vec<PlSmallStr> = df
        .get_column_names()
        .into_iter()
        .filter(|n| !helpers.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut gated = df
        .lazy()
        .with_columns(first_flags)
        .with_columns(exprs)
        .with_columns(second_flags)
        .with_columns(derived)
        .collect()?;
    for r in &spec.ranks {
        // Renumbered among the shown rows (the frame is in `within`, rank order).
        let within = gated.column(r.within)?.to_physical_repr();
        let within = within.cast(&DataType::Int64)?;
        let hidden = gated
            .column(&format!("{}_suppressed", r.by))?
            .bool()?
            .clone();
        let mut ranks: Vec<Option<i64>> = Vec::with_capacity(gated.height());
        let (mut group, mut n) = (None, 0i64);
        for (g, hide) in within.i64()?.iter().zip(hidden.iter()) {
            if group != Some(g) {
                (group, n) = (Some(g), 0);
            }
            ranks.push(if hide == Some(true) {
                None
            } else {
                n += 1;
                Some(n)
            });
        }
        gated.with_column(Column::new(r.column.into(), ranks))?;
        let keys: Vec<&str> = [r.within, r.column]
            .into_iter()
            .chain(r.then.iter().copied())
            .collect();
        gated = gated.sort(
            keys,
            SortMultipleOptions::default()
                .with_maintain_order(true)
                .with_nulls_last(true),
        )?;
    }
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

/// Whether every count `spec`'s population rule covers is below `minimum` (the fewest
/// patients a provider-month needs, `[disclosure] daily_min_patients`) on the rows of the
/// ungated `df` whose population is small: what lets a reader bound each such suppressed
/// cell by `minimum − 1`. A daily count of patients in a provider-month of fewer patients
/// is below it, but the gate counts a provider-month's patients as the fewest its rows
/// can be (rows without an NHS number are one patient at most:
/// [`crate::measure::daily_population`]), and counts a patient's several spells or
/// attendances on one day apart, so the bound is checked here, never assumed. True when
/// the rule covers nothing.
pub fn population_counts_below(
    df: &DataFrame,
    spec: &GateSpec,
    minimum: i64,
) -> PolarsResult<bool> {
    let largest: Vec<Expr> = spec
        .population
        .iter()
        .flat_map(|(helper, covered)| {
            covered.iter().map(move |c| {
                when(col(*helper))
                    .then(col(*c).cast(DataType::Int64))
                    .otherwise(lit(NULL).cast(DataType::Int64))
                    .max()
                    .alias(format!("{helper}/{c}"))
            })
        })
        .collect();
    if largest.is_empty() {
        return Ok(true);
    }
    let maxima = df.clone().lazy().select(largest).collect()?;
    for c in maxima.columns() {
        if c.i64()?.get(0).is_some_and(|v| v >= minimum) {
            return Ok(false);
        }
    }
    Ok(true)
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
    fn a_count_under_another_rule_is_suppressed_and_rounded_as_the_gate_does() {
        let rule = Rule::Threshold {
            min_shown: 10,
            round_to: 10,
            dominance: None,
        };
        let got: Vec<Option<i64>> = [0, 1, 9, 10, 14, 15, 1_465].map(|v| rule.count(v)).to_vec();
        assert_eq!(
            got,
            [
                Some(0),
                None,
                None,
                Some(10),
                Some(10),
                Some(20),
                Some(1_470)
            ]
        );
        assert_eq!(rule.hidden_range(), Some((1, 9)));
        assert_eq!(Rule::None.count(3), Some(3));
        assert_eq!(Rule::HES.hidden_range(), Some((1, 7)));
    }

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

    /// The dominance rule on `bottlenecks`' gate, on three groups of 60 delayed bed-days
    /// whose largest patients hold 20 (and 15), 40 (and 5) and 30 of them. Under (1, 50 %)
    /// the second group is suppressed, with its share, its change and its rank (the third
    /// moves up); the third, at exactly half, is not, but its previous month (30 of 50) is,
    /// and with it its change. Under (2, 55 %) the two largest dominate the first two; the
    /// month's total (40 + 35 of 180) only under (2, 40 %). Without the rule nothing is
    /// suppressed, and the helper columns are never published.
    #[test]
    fn a_total_its_largest_patients_dominate_is_suppressed_with_what_rests_on_it() {
        use crate::measure::{
            BOTTLENECKS_LARGEST as LARGEST, BOTTLENECKS_PEOPLE as PEOPLE,
            BOTTLENECKS_PREVIOUS_LARGEST as PREVIOUS_LARGEST,
            BOTTLENECKS_PREVIOUS_PEOPLE as PREVIOUS_PEOPLE,
            BOTTLENECKS_SYSTEM_LARGEST as SYSTEM_LARGEST,
        };
        let df = df!(
            "month" => [1i32, 1, 1],
            "rank" => [1i64, 2, 3],
            "la_code" => ["901", "902", "903"],
            "awaited_service" => ["home_care"; 3],
            "provider_code" => ["RX1"; 3],
            "delayed_discharges" => [20i64, 20, 20],
            "delayed_bed_days" => [60i64, 60, 60],
            "system_delayed_discharges" => [60i64; 3],
            "system_delayed_bed_days" => [180i64; 3],
            "share_of_system_pct" => [33.3f64; 3],
            "change_in_delayed_bed_days" => [10i64, 10, 10],
            "previous_delayed_bed_days" => [50i64, 50, 50],
            PREVIOUS_PEOPLE => [20i64, 20, 20],
            PEOPLE[0] => [20i64, 20, 20],
            PEOPLE[1] => [60i64; 3],
            LARGEST[0] => [20i64, 40, 30],
            LARGEST[1] => [Some(15i64), Some(5), None],
            SYSTEM_LARGEST[0] => [40i64; 3],
            SYSTEM_LARGEST[1] => [35i64; 3],
            PREVIOUS_LARGEST[0] => [5i64, 5, 30],
            PREVIOUS_LARGEST[1] => [5i64, 5, 5],
        )
        .unwrap();
        let spec = crate::publish::Dataset::Bottlenecks.gate();
        let gated = |top, max_share_pct| {
            let rule = Rule::Threshold {
                min_shown: MIN_SHOWN,
                round_to: 5,
                dominance: Some(Dominance { top, max_share_pct }),
            };
            let (out, suppressed) = apply(df.clone(), &spec, rule).unwrap();
            // Unranked rows come last: compared in council order.
            let out = out
                .sort(["la_code"], SortMultipleOptions::default())
                .unwrap();
            (out, suppressed)
        };
        let (out, suppressed) = gated(1, 50);
        assert_eq!(i64s(&out, "delayed_bed_days"), [Some(60), None, Some(60)]);
        assert_eq!(flags(&out, "delayed_bed_days"), [false, true, false]);
        assert_eq!(flags(&out, "share_of_system_pct"), [false, true, false]);
        assert_eq!(
            i64s(&out, "change_in_delayed_bed_days"),
            [Some(10), None, None]
        );
        assert_eq!(i64s(&out, "rank"), [Some(1), None, Some(2)]);
        assert_eq!(flags(&out, "system_delayed_bed_days"), [false; 3]);
        assert_eq!(suppressed["delayed_bed_days"], 1);
        assert_eq!(suppressed["change_in_delayed_bed_days"], 2);
        for helper in LARGEST
            .iter()
            .chain(&SYSTEM_LARGEST)
            .chain(&PREVIOUS_LARGEST)
        {
            assert!(out.column(helper).is_err(), "{helper} is not published");
        }
        // 40 of 60 is over 66 % and not over 67 %.
        assert_eq!(
            flags(&gated(1, 66).0, "delayed_bed_days"),
            [false, true, false]
        );
        assert_eq!(flags(&gated(1, 67).0, "delayed_bed_days"), [false; 3]);
        let (out, _) = gated(2, 55);
        assert_eq!(flags(&out, "delayed_bed_days"), [true, true, false]);
        assert_eq!(flags(&out, "system_delayed_bed_days"), [false; 3]);
        assert_eq!(flags(&gated(2, 40).0, "system_delayed_bed_days"), [true; 3]);
        let (out, _) = apply(df, &spec, Rule::HES).unwrap();
        assert_eq!(flags(&out, "delayed_bed_days"), [false; 3]);
        assert_eq!(flags(&out, "change_in_delayed_bed_days"), [false; 3]);
        assert!(out.column(LARGEST[0]).is_err());
    }

    fn spec() -> GateSpec {
        GateSpec {
            counts: vec!["n", "denominator"],
            statistics: vec![("median", "n", 0)],
            rates: vec![("share", "n", "denominator")],
            ..Default::default()
        }
    }

    fn i64s(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
        df.column(name).unwrap().i64().unwrap().iter().collect()
    }

    fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
        df.column(name).unwrap().f64().unwrap().iter().collect()
    }

    fn flags(df: &DataFrame, name: &str) -> Vec<bool> {
        df.column(&format!("{name}_suppressed"))
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect()
    }

    #[test]
    fn counts_statistics_and_rates_are_suppressed_with_flags() {
        let df = df!(
            "key" => ["a", "b", "c", "d", "e", "f", "g"],
            "n" => [0i64, 1, 7, 8, 12, 13, 101],
            "median" => [None, Some(4.0), Some(2.0), Some(3.5), Some(9.0), Some(1.0), Some(5.0)],
            "share" => [None, Some(10.0), Some(70.0), Some(80.0), Some(0.3), Some(0.33), Some(2.02)],
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
                "denominator",
                "denominator_suppressed"
            ]
        );
        assert_eq!(
            i64s(&out, "n"),
            vec![Some(0), None, None, Some(10), Some(10), Some(15), Some(100)]
        );
        assert_eq!(
            flags(&out, "n"),
            [false, true, true, false, false, false, false]
        );
        assert_eq!(
            f64s(&out, "median"),
            vec![None, None, None, Some(3.5), Some(9.0), Some(1.0), Some(5.0)]
        );
        // A missing median over zero people is not a suppression.
        assert_eq!(
            flags(&out, "median"),
            [false, true, true, false, false, false, false]
        );
        // Rates of the published counts: 10 of 10, 10 of 4000, 15 of 4000 (3999
        // published as 4000), 100 of 5000; one decimal from a denominator of 4,000.
        assert_eq!(
            f64s(&out, "share"),
            vec![
                None,
                None,
                None,
                Some(100.0),
                Some(0.3),
                Some(0.4),
                Some(2.0)
            ]
        );
        assert_eq!(
            flags(&out, "share"),
            [false, true, true, false, false, false, false]
        );
        assert_eq!(
            suppressed,
            Suppressed::from([
                ("n".into(), 2),
                ("denominator".into(), 0),
                ("median".into(), 2),
                ("share".into(), 2)
            ])
        );
    }

    #[test]
    fn regression_a_rate_does_not_give_away_a_suppressed_or_rounded_count() {
        // 8 records, 6 linked: "10 records, 75 %" gave the 6 away. 31 records, 28 linked:
        // "30 records, 30 linked, 90 %" gave away 3 unlinked.
        let df = df!(
            "records" => [8i64, 31],
            "linked" => [6i64, 28],
            "linked_pct" => [75.0, 90.3],
        )
        .unwrap();
        let spec = GateSpec {
            counts: vec!["records", "linked"],
            rates: vec![("linked_pct", "linked", "records")],
            ..Default::default()
        };
        let (out, _) = apply(df, &spec, Rule::HES).unwrap();
        assert_eq!(i64s(&out, "records"), vec![Some(10), Some(30)]);
        assert_eq!(i64s(&out, "linked"), vec![None, Some(30)]);
        assert_eq!(f64s(&out, "linked_pct"), vec![None, Some(100.0)]);
        assert_eq!(flags(&out, "linked_pct"), [true, false]);
    }

    #[test]
    fn regression_a_change_is_the_difference_of_published_values() {
        // This month's 110 bed-days (9 people) minus a change of 54 gave away last month's
        // suppressed 54 bed-days (5 people).
        let df = df!(
            "people" => [9i64, 8, 9, 3],
            "bed_days" => [110i64, 40, 30, 12],
            "change" => [Some(56i64), Some(18), None, Some(12)],
            "previous_bed_days" => [Some(54i64), Some(22), None, Some(0)],
            "previous_people" => [Some(5i64), Some(8), None, Some(0)],
        )
        .unwrap();
        let spec = GateSpec {
            counts: vec!["people"],
            counts_of_people_things: vec![("bed_days", "people")],
            changes: vec![ChangeSpec {
                column: "change",
                current: "bed_days",
                previous: "previous_bed_days",
                previous_base: "previous_people",
            }],
            ..Default::default()
        };
        let (out, suppressed) = apply(df.clone(), &spec, Rule::HES).unwrap();
        let names: Vec<&str> = out.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "people",
                "people_suppressed",
                "bed_days",
                "bed_days_suppressed",
                "change",
                "change_suppressed"
            ]
        );
        // Suppressed last month; 40 - 20; the first month; suppressed this month.
        assert_eq!(i64s(&out, "change"), vec![None, Some(20), None, None]);
        assert_eq!(flags(&out, "change"), [true, false, false, true]);
        assert_eq!(suppressed["change"], 2);
        // Unrounded (NHS England's own figures), the helpers are still not published.
        let (all, _) = apply(df, &spec, Rule::None).unwrap();
        assert_eq!(all.width(), 3);
    }

    /// Regression (disclosure review): a zero beside a suppressed base was shown —
    /// "of these 1–7 patients none was delayed" is a fact about each of them. A part is
    /// suppressed with its whole, zeros included, and down a chain (the bed-days of the
    /// delayed, of the discharged); a part of a shown whole keeps its own rule.
    #[test]
    fn regression_a_part_is_suppressed_with_its_whole_zeros_included() {
        let df = df!(
            "discharges" => [5i64, 5, 40, 40, 0],
            "delayed" => [0i64, 3, 0, 9, 0],
            "bed_days" => [0i64, 30, 0, 90, 0],
        )
        .unwrap();
        let spec = GateSpec {
            counts: vec!["discharges", "delayed"],
            counts_of_people_things: vec![("bed_days", "delayed")],
            parts: vec![("delayed", "discharges"), ("bed_days", "delayed")],
            ..Default::default()
        };
        let (out, suppressed) = apply(df, &spec, Rule::HES).unwrap();
        assert_eq!(
            i64s(&out, "delayed"),
            [None, None, Some(0), Some(10), Some(0)]
        );
        assert_eq!(flags(&out, "delayed"), [true, true, false, false, false]);
        assert_eq!(
            i64s(&out, "bed_days"),
            [None, None, Some(0), Some(90), Some(0)]
        );
        assert_eq!(flags(&out, "bed_days"), [true, true, false, false, false]);
        assert_eq!((suppressed["delayed"], suppressed["bed_days"]), (2, 2));
    }

    /// What lets the report say "suppressed (0–49)" of a small provider-month's daily
    /// counts: every count the population rule hides is below the minimum, checked on the
    /// unrounded rows, since rows without an NHS number count as one patient at most (a
    /// provider-month of 60 such arrivals a day is "small"). Rows of a large population
    /// are not the rule's, whatever their counts.
    #[test]
    fn regression_population_suppressed_counts_are_checked_against_the_minimum() {
        let spec = GateSpec {
            counts: vec!["beds", "arrivals"],
            population: vec![("small_beds", vec!["beds"]), ("small_ae", vec!["arrivals"])],
            ..Default::default()
        };
        let df = |beds: [i64; 3], arrivals: [i64; 3]| {
            df!(
                "beds" => beds,
                "arrivals" => arrivals,
                "small_beds" => [true, true, false],
                "small_ae" => [true, false, false],
            )
            .unwrap()
        };
        let below = |d: DataFrame| population_counts_below(&d, &spec, 50).unwrap();
        assert!(below(df([0, 49, 400], [12, 900, 900])));
        assert!(!below(df([0, 50, 400], [12, 900, 900])));
        assert!(!below(df([0, 3, 400], [60, 900, 900])));
        assert!(
            population_counts_below(&df([0, 3, 4], [5, 6, 7]), &GateSpec::default(), 1).unwrap()
        );
    }

    /// Regression (disclosure review): records were gated as people. A count of records
    /// rests on the people behind it (a helper, not published): nine events of one
    /// person are suppressed, and twelve of nine people shown (rounded).
    #[test]
    fn regression_records_rest_on_the_people_behind_them() {
        let df = df!("records" => [9i64, 12], "people" => [1i64, 9]).unwrap();
        let spec = GateSpec {
            counts_of_people_things: vec![("records", "people")],
            helpers: vec!["people"],
            ..Default::default()
        };
        let (out, _) = apply(df.clone(), &spec, Rule::HES).unwrap();
        assert_eq!(i64s(&out, "records"), [None, Some(10)]);
        assert_eq!(flags(&out, "records"), [true, false]);
        let names: Vec<&str> = out.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["records", "records_suppressed"]);
        let (all, _) = apply(df, &spec, Rule::None).unwrap();
        assert_eq!(all.width(), 1, "helpers are dropped under no rule too");
    }

    /// Regression (disclosure review): a 90th percentile of 8–11 values is at or next to
    /// the group's largest. It is shown only on a published base of 20 or more (18 values
    /// round to 20); the median of the same groups is shown from 8.
    #[test]
    fn regression_a_p90_needs_a_published_base_of_twenty() {
        let df = df!(
            "n" => [8i64, 17, 18, 30],
            "median" => [2.0f64, 2.0, 2.0, 2.0],
            "p90" => [9.0f64, 9.0, 9.0, 9.0],
        )
        .unwrap();
        let spec = GateSpec {
            counts: vec!["n"],
            statistics: vec![("median", "n", 0), ("p90", "n", P90_MIN_BASE)],
            ..Default::default()
        };
        let (out, _) = apply(df, &spec, Rule::HES).unwrap();
        assert_eq!(f64s(&out, "median"), [Some(2.0); 4]);
        assert_eq!(f64s(&out, "p90"), [None, None, Some(9.0), Some(9.0)]);
        assert_eq!(flags(&out, "p90"), [true, true, false, false]);
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
            dominance: None,
        };
        let (out, _) = apply(df, &spec, rule).unwrap();
        let n: Vec<Option<i64>> = out.column("n").unwrap().i64().unwrap().iter().collect();
        assert_eq!(
            n,
            vec![Some(0), None, Some(10), Some(10), Some(20), Some(30)]
        );
    }

    #[test]
    fn a_rule_weaker_than_hes_is_named() {
        assert_eq!(weaker_than_hes(Rule::HES), None);
        let stricter = Rule::Threshold {
            min_shown: 10,
            round_to: 10,
            dominance: None,
        };
        assert_eq!(weaker_than_hes(stricter), None);
        let none = Rule::Threshold {
            min_shown: 1,
            round_to: 1,
            dominance: None,
        };
        assert!(
            weaker_than_hes(none)
                .unwrap()
                .starts_with("the disclosure rule (min_shown 1, round_to 1) is weaker")
        );
    }

    #[test]
    fn rule_none_leaves_the_frame_alone() {
        let df = df!("n" => [1i64, 3]).unwrap();
        let (out, s) = apply(df.clone(), &spec(), Rule::None).unwrap();
        assert!(out.equals(&df));
        assert!(s.is_empty());
    }

    /// Regression (found by an independent recomputation): ranks were published for
    /// suppressed rows, in value order, so a suppressed group ranked between two shown
    /// ones had its bed-days bounded by theirs.
    #[test]
    fn only_shown_values_are_ranked_and_unranked_rows_follow_in_key_order() {
        let spec = GateSpec {
            counts: vec!["people"],
            counts_of_people_things: vec![("days", "people")],
            ranks: vec![RankSpec {
                column: "rank",
                by: "days",
                within: "month",
                then: vec!["key"],
            }],
            ..Default::default()
        };
        // In month, rank order, as the measure writes it.
        let df = df!(
            "month" => [1i32, 1, 1, 1, 2, 2],
            "rank" => [1i64, 2, 3, 4, 1, 2],
            "key" => ["d", "c", "b", "a", "x", "y"],
            "people" => [13i64, 7, 12, 1, 3, 9],
            "days" => [26i64, 14, 12, 1, 40, 9],
        )
        .unwrap();
        let (out, s) = apply(df, &spec, Rule::HES).unwrap();
        let col = |c: &str| crate::test_support::texts(out.column(c).unwrap());
        let text = |v: &[Option<&str>]| -> Vec<Option<String>> {
            v.iter().map(|x| x.map(String::from)).collect()
        };
        assert_eq!(
            col("key"),
            text(&[
                Some("d"),
                Some("b"),
                Some("a"),
                Some("c"),
                Some("y"),
                Some("x")
            ])
        );
        assert_eq!(
            col("rank"),
            text(&[Some("1"), Some("2"), None, None, Some("1"), None])
        );
        assert_eq!(
            col("rank_suppressed"),
            text(&[
                Some("false"),
                Some("false"),
                Some("true"),
                Some("true"),
                Some("false"),
                Some("true")
            ])
        );
        assert_eq!(s["rank"], 3);
    }
}
