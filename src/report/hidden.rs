//! What a suppressed cell can stand for, column by column: worked out from the gate that
//! suppressed it (`Dataset::gate()`, the specification the run applied, never a copy of
//! it) and what the run manifest records of the rule — the smallest count shown, the
//! rounding base and, for `flow_daily`, the smallest provider-month population published.
//!
//! The gate suppresses a cell for one of several reasons, and each says something
//! different of it:
//! - a count of people of 1 to `min_shown − 1` (HES: 1–7): 1–7;
//! - a count of things people account for (records, bed-days, requests) resting on 1–7
//!   people, or itself 1–7 (then so are its people, each accounting for one at least): at
//!   least 1, with no top; the people behind it are 1–7;
//! - a part of a suppressed whole (the delayed of the discharged), zeros included: 0 up
//!   to the whole's top, and its people 0 up to the whole's; a part whose whole is its own
//!   base (the bed-days of the delayed) has no top, and the whole's count is its people;
//! - a daily count of a provider-month of fewer than `daily_min_patients` patients, zeros
//!   included: 0 to `daily_min_patients − 1` where the manifest records that every count
//!   so suppressed was below it, else from 0 with no top (an older manifest, or a count
//!   that was not: the gate counts rows without an NHS number as one patient at most, and
//!   a patient's several spells or attendances in a day apart);
//! - a statistic (a median, a 90th percentile) whose base is suppressed, or whose base as
//!   published is under its smallest: not a count; what is known is the people it rests
//!   on (a 90th percentile on a published base under 20: up to 17 of them);
//! - a total of what people account for (bed-days) its largest patients dominate, under
//!   a rule with [`Dominance`](crate::publish::disclosure::Dominance): at least 1, with
//!   no top, on any number of people;
//! - a rate, change or rank, suppressed with what it rests on: nothing of its size.
//!
//! [`Bounds::of`] takes every reason the gate has for a column (the union of their
//! ranges), so what it says holds of any cell of the column; [`Bounds::in_row`] drops the
//! reasons a row rules out: a part whose whole is shown in the same row was suppressed for
//! its own reasons, and [`FlowHidden`] knows a provider-month with any count of a group
//! shown is not small for that group.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::data::{Cell, FlowColumn, FlowDay};
use super::format::Bounded;
use super::period::month_start;
use crate::publish::Dataset;
use crate::publish::disclosure::GateSpec;
use crate::publish::manifest::SmallPopulations;

/// What a suppressed cell can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    /// The value, when it is a count (of people, records, bed-days, requests); `None`
    /// when it is not (a statistic, rate, change or rank), whose size is not known.
    pub count: Option<Bounded>,
    /// How many people the value rests on, when known to lie in a range (a count of people
    /// is its own; bed-days rest on their patients).
    pub people: Option<Bounded>,
}

/// Anything from 0 up.
const ANY: Bounded = Bounded { low: 0, high: None };

impl Hidden {
    /// Nothing known of the value or of the people behind it.
    pub const UNKNOWN: Hidden = Hidden {
        count: None,
        people: None,
    };

    /// What the cell adds to a sum of counts: its range, or anything from 0 up when it is
    /// not a count.
    pub fn in_sum(self) -> Bounded {
        self.count.unwrap_or(ANY)
    }

    /// A cell suppressed for one reason or the other: the range holding both.
    fn or(self, other: Hidden) -> Hidden {
        let either = |a: Option<Bounded>, b: Option<Bounded>| Some(a?.either(b?));
        Hidden {
            count: either(self.count, other.count),
            people: either(self.people, other.people),
        }
    }
}

/// What the run manifest records of the rule one dataset was written under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recorded {
    /// The smallest count shown; `None` when not recorded (no manifest, an older one) or
    /// when the rule suppresses nothing.
    pub min_shown: Option<i64>,
    /// The rounding base of shown counts, when recorded.
    pub round_to: Option<i64>,
    /// What the gate's population rule did, when recorded.
    pub small_populations: Option<SmallPopulations>,
    /// The dominance rule for totals, when one applied.
    pub dominance: Option<crate::publish::disclosure::Dominance>,
}

/// What the suppressed cells of one dataset can stand for.
#[derive(Debug, Clone)]
pub struct Bounds {
    spec: GateSpec,
    recorded: Recorded,
}

/// A published row whose cells can be asked, by column, whether they are suppressed.
pub trait GatedRow {
    /// Whether `column`'s cell is suppressed; `None` for a column the report does not read.
    fn suppressed(&self, column: &str) -> Option<bool>;
}

impl Bounds {
    /// The bounds of `dataset`'s cells under the rule `recorded`.
    pub fn new(dataset: Dataset, recorded: Recorded) -> Self {
        Bounds {
            spec: dataset.gate(),
            recorded,
        }
    }

    /// What the manifest records.
    pub fn recorded(&self) -> Recorded {
        self.recorded
    }

    /// A suppressed cell of `column`, whatever row it is in.
    pub fn of(&self, column: &str) -> Hidden {
        self.reasons(column, &|_| false)
    }

    /// A suppressed cell of `column` in a provider-month that is not small: what the other
    /// reasons leave.
    pub fn not_small(&self, column: &str) -> Hidden {
        self.reasons(column, &|c| {
            self.spec.population.iter().any(|(h, _)| *h == c)
        })
    }

    /// What a count the population rule suppresses can hold, when the gate has such a rule
    /// that suppresses something.
    pub fn small_population(&self) -> Option<Bounded> {
        if self.spec.population.is_empty() {
            return None;
        }
        self.population()
    }

    /// A suppressed cell of `column` in `row`: a whole shown in the row rules out its
    /// parts' suppression with it.
    pub fn in_row(&self, column: &str, row: &impl GatedRow) -> Hidden {
        self.reasons(column, &|c| row.suppressed(c) == Some(false))
    }

    /// A suppressed cell of `column`, leaving out the reasons `ruled_out` names (a whole
    /// shown, a population helper known to be false).
    fn reasons(&self, column: &str, ruled_out: &dyn Fn(&str) -> bool) -> Hidden {
        if let Some(&(_, base, min_base)) = self.spec.statistics.iter().find(|s| s.0 == column) {
            return self.statistic(base, min_base, ruled_out);
        }
        self.count(column, ruled_out).unwrap_or(Hidden::UNKNOWN)
    }

    /// A suppressed count; `None` when `column` is not a gated count.
    fn count(&self, column: &str, ruled_out: &dyn Fn(&str) -> bool) -> Option<Hidden> {
        // 1 to min_shown − 1; none under a rule showing every count.
        let small = match self.recorded.min_shown {
            Some(m) if m <= 1 => None,
            m => Some(Bounded {
                low: 1,
                high: m.map(|m| m - 1),
            }),
        };
        let base = self
            .spec
            .counts_of_people_things
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, b)| *b);
        let mut hidden: Option<Hidden> = None;
        let mut add = |h: Hidden| hidden = Some(hidden.map_or(h, |known| known.or(h)));
        if self.spec.counts.contains(&column) {
            if let Some(s) = small {
                add(Hidden {
                    count: Some(s),
                    people: Some(s),
                });
            }
        } else if base.is_some() {
            if let Some(s) = small {
                add(Hidden {
                    count: Some(Bounded { low: 1, high: None }),
                    people: Some(s),
                });
            }
        } else {
            return None;
        }
        // A total its largest patients dominate: at least 1 (a total of 0 is not), on
        // any number of people.
        if self.recorded.dominance.is_some()
            && self.spec.magnitudes.iter().any(|m| m.column == column)
        {
            add(Hidden {
                count: Some(Bounded { low: 1, high: None }),
                people: Some(Bounded { low: 1, high: None }),
            });
        }
        let small_population = self
            .spec
            .population
            .iter()
            .any(|(helper, covered)| covered.contains(&column) && !ruled_out(helper));
        if let (true, Some(p)) = (small_population, self.population()) {
            add(Hidden {
                count: Some(p),
                people: Some(p),
            });
        }
        for (_, whole) in self.spec.parts.iter().filter(|(p, _)| *p == column) {
            if !ruled_out(whole) {
                add(self.with_whole(whole, self.same_people(base, whole), ruled_out));
            }
        }
        // Suppressed, though no reason the rule records can apply: nothing is known.
        Some(hidden.unwrap_or(Hidden {
            count: Some(ANY),
            people: None,
        }))
    }

    /// Whether a part resting on `base` rests on the people its `whole` counts or rests on:
    /// the whole is its base (the bed-days of the delayed, counted as people), or both rest
    /// on one helper (the bed-days and the spells of the delayed, on the delayed patients).
    fn same_people(&self, base: Option<&str>, whole: &str) -> bool {
        let whole_base = self
            .spec
            .counts_of_people_things
            .iter()
            .find(|(c, _)| *c == whole)
            .map(|(_, b)| *b);
        base == Some(whole) || (base.is_some() && base == whole_base)
    }

    /// A part suppressed with its suppressed `whole`, zeros included. `is_base`: the part
    /// rests on the people the whole counts or rests on ([`Bounds::same_people`]), so the
    /// whole's people bound the part's people, not the part; otherwise the part counts
    /// some of what the whole counts.
    fn with_whole(&self, whole: &str, is_base: bool, ruled_out: &dyn Fn(&str) -> bool) -> Hidden {
        let w = self.count(whole, ruled_out).unwrap_or(Hidden::UNKNOWN);
        let from_0 = |b: Option<Bounded>| Bounded {
            low: 0,
            high: b.and_then(|b| b.high),
        };
        if is_base {
            Hidden {
                count: Some(ANY),
                people: w.people,
            }
        } else {
            Hidden {
                count: Some(from_0(w.count)),
                people: w.people.map(|p| from_0(Some(p))),
            }
        }
    }

    /// What a count the population rule suppresses can hold: 0 to `daily_min_patients − 1`
    /// where the manifest records every such count was below it, else from 0 with no top;
    /// `None` when the rule suppresses nothing (a minimum of 1).
    fn population(&self) -> Option<Bounded> {
        match self.recorded.small_populations {
            Some(s) if s.daily_min_patients <= 1 => None,
            Some(s) if s.counts_below_minimum => Some(Bounded {
                low: 0,
                high: Some(s.daily_min_patients - 1),
            }),
            _ => Some(ANY),
        }
    }

    /// A suppressed statistic over `base`: the people it rests on, 1 at least (over nobody
    /// it is no value, not suppressed), and under the largest base published under
    /// `min_base` when that is its smallest.
    fn statistic(&self, base: &str, min_base: i64, ruled_out: &dyn Fn(&str) -> bool) -> Hidden {
        let mut people = self.count(base, ruled_out).and_then(|h| h.people);
        if min_base > 0 {
            let under = Bounded {
                low: 1,
                high: self.largest_published_under(min_base),
            };
            people = people.map(|p| p.either(under));
        }
        Hidden {
            count: None,
            people: people.map(|p| Bounded {
                low: p.low.max(1),
                high: p.high,
            }),
        }
    }

    /// The largest count published (rounded as the gate rounds: `(v + r/2) / r × r`) as
    /// less than `min`: 17 for 20 under the HES rule.
    fn largest_published_under(&self, min: i64) -> Option<i64> {
        let r = self.recorded.round_to.filter(|r| *r >= 1)?;
        Some(r * ((min + r - 1) / r) - r / 2 - 1)
    }
}

/// What each suppressed cell of `flow_daily` can stand for, row by row. The population
/// rule suppresses every count of a group (the inpatients', the A&E's) on every day of a
/// small provider-month, so a provider-month with any count of the group not suppressed
/// is not small for it, and its suppressed cells of the group are the primary rule's.
#[derive(Debug, Clone)]
pub struct FlowHidden<'a> {
    bounds: Bounds,
    /// (provider, month, population helper) known not to be small.
    not_small: HashSet<(&'a str, NaiveDate, &'static str)>,
}

impl<'a> FlowHidden<'a> {
    /// From every row of `flow_daily` (not only those a section shows: a month's other
    /// days tell whether it is small).
    pub fn new(bounds: Bounds, rows: &'a [FlowDay]) -> Self {
        let mut not_small = HashSet::new();
        for r in rows {
            for c in FlowColumn::ALL {
                if let (Some(helper), false) =
                    (bounds.helper_of(c.name()), r.get(c).is_suppressed())
                {
                    not_small.insert((r.provider_code.as_str(), month_start(r.date), helper));
                }
            }
        }
        FlowHidden { bounds, not_small }
    }

    /// The bounds of `flow_daily`, whatever the row.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// A suppressed cell of `column` in `row`.
    pub fn of(&self, row: &FlowDay, column: FlowColumn) -> Hidden {
        let month = month_start(row.date);
        self.bounds.reasons(column.name(), &|reason| {
            row.suppressed(reason) == Some(false)
                || self
                    .not_small
                    .contains(&(row.provider_code.as_str(), month, reason))
        })
    }

    /// What `column`'s cell of `row` adds to a sum: its value, its range when suppressed,
    /// anything from 0 up when it has none.
    pub fn in_sum(&self, row: &FlowDay, column: FlowColumn) -> Bounded {
        match row.get(column) {
            Cell::Shown(v) => Bounded::exact(v),
            Cell::Suppressed => self.of(row, column).in_sum(),
            Cell::Empty => ANY,
        }
    }
}

impl Bounds {
    /// The population helper whose rule covers `column`, if any.
    fn helper_of(&self, column: &str) -> Option<&'static str> {
        self.spec
            .population
            .iter()
            .find(|(_, covered)| covered.contains(&column))
            .map(|(h, _)| *h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HES: Recorded = Recorded {
        min_shown: Some(8),
        round_to: Some(5),
        small_populations: None,
        dominance: None,
    };

    fn b(low: i64, high: Option<i64>) -> Option<Bounded> {
        Some(Bounded { low, high })
    }

    fn hidden(count: Option<Bounded>, people: Option<Bounded>) -> Hidden {
        Hidden { count, people }
    }

    fn flow(small: Option<(i64, bool)>) -> Bounds {
        Bounds::new(
            Dataset::FlowDaily,
            Recorded {
                small_populations: small.map(|(d, below)| SmallPopulations {
                    daily_min_patients: d,
                    counts_below_minimum: below,
                }),
                ..HES
            },
        )
    }

    /// Regression (re-review): every suppressed cell was said to stand for 1–7. A count
    /// only the primary rule suppresses still does.
    #[test]
    fn regression_a_count_of_people_only_the_small_count_rule_hides_is_1_to_7() {
        // `flow_daily`'s counts of patients, under a population rule that hides none.
        let none_small = Some(SmallPopulations {
            daily_min_patients: 1,
            counts_below_minimum: true,
        });
        let rule = |min_shown, round_to| {
            Bounds::new(
                Dataset::FlowDaily,
                Recorded {
                    min_shown,
                    round_to,
                    small_populations: none_small,
                    dominance: None,
                },
            )
        };
        let seven = b(1, Some(7));
        assert_eq!(
            rule(Some(8), Some(5)).of("discharges"),
            hidden(seven, seven)
        );
        let nine = rule(Some(10), Some(10)).of("discharges");
        assert_eq!(nine, hidden(b(1, Some(9)), b(1, Some(9))));
        // No rule recorded: 1 at least, no top.
        let open = b(1, None);
        assert_eq!(rule(None, None).of("discharges"), hidden(open, open));
    }

    /// Regression (re-review): a small provider-month's daily counts, zeros included, were
    /// said to be 1–7 each. They are 0 to daily_min_patients − 1 where the manifest
    /// records every one was below it; from 0 with no top where it does not, or where an
    /// older manifest does not record the rule; and the rule of a minimum of 1 hides none.
    #[test]
    fn regression_a_small_provider_month_s_daily_counts_are_0_to_49() {
        let to_49 = b(0, Some(49));
        assert_eq!(
            flow(Some((50, true))).of("ae_arrivals"),
            hidden(to_49, to_49)
        );
        assert_eq!(
            flow(Some((50, true))).of("occupied_beds_midnight"),
            hidden(to_49, to_49)
        );
        // A minimum under the smallest count shown: the range of either rule.
        let to_7 = b(0, Some(7));
        assert_eq!(flow(Some((5, true))).of("discharges"), hidden(to_7, to_7));
        let open = b(0, None);
        assert_eq!(flow(Some((50, false))).of("discharges"), hidden(open, open));
        assert_eq!(flow(None).of("ae_over_12h"), hidden(open, open));
        let seven = b(1, Some(7));
        assert_eq!(flow(Some((1, true))).of("discharges"), hidden(seven, seven));
    }

    /// A part suppressed with its whole, zeros included: 0 up to the whole's top; the
    /// bed-days of the delayed have no top, and rest on the delayed as their people.
    #[test]
    fn regression_a_part_of_a_suppressed_whole_can_be_0() {
        let bottlenecks = Bounds::new(Dataset::Bottlenecks, HES);
        let to_7 = b(0, Some(7));
        // Delayed spells of a suppressed month: from 0, no top (they rest on their people).
        assert_eq!(
            bottlenecks.of("delayed_discharges"),
            hidden(b(0, None), to_7)
        );
        assert_eq!(bottlenecks.of("delayed_bed_days"), hidden(b(0, None), to_7));
        // Records with an NHS number, of records resting on 1–7 people: no top; their
        // people 0–7.
        let linkage = Bounds::new(Dataset::LinkageQuality, HES);
        assert_eq!(
            linkage.of("with_valid_nhs_number"),
            hidden(b(0, None), to_7)
        );
        assert_eq!(
            linkage.of("delayed_spells_linked_to_social_care"),
            hidden(b(0, None), to_7)
        );
    }

    /// Records, requests and bed-days resting on 1–7 people (or themselves 1–7): at least
    /// 1, no top; the people behind them 1–7.
    #[test]
    fn regression_a_count_of_things_of_few_people_has_no_top() {
        let people = b(1, Some(7));
        let linkage = Bounds::new(Dataset::LinkageQuality, HES);
        assert_eq!(linkage.of("records"), hidden(b(1, None), people));
        let queue = Bounds::new(Dataset::SocialCareQueue, HES);
        assert_eq!(queue.of("requests"), hidden(b(1, None), people));
        let bottlenecks = Bounds::new(Dataset::Bottlenecks, HES);
        assert_eq!(
            bottlenecks.of("system_delayed_bed_days"),
            hidden(b(1, None), people)
        );
        // Spells resting on their patients: one patient's nine delayed spells are hidden.
        assert_eq!(
            bottlenecks.of("system_delayed_discharges"),
            hidden(b(1, None), people)
        );
        let delays = Bounds::new(Dataset::DischargeDelays, HES);
        assert_eq!(delays.of("discharges"), hidden(b(1, None), people));
    }

    /// Medians rest on 1–7 people; a 90th percentile is hidden on a published base under
    /// 20 too (17 at most, rounded to the nearest 5); rates, changes and ranks say nothing
    /// of their size.
    #[test]
    fn regression_statistics_rates_changes_and_ranks_claim_no_count() {
        let queue = Bounds::new(Dataset::SocialCareQueue, HES);
        let seven = b(1, Some(7));
        assert_eq!(queue.of("median_days_to_service"), hidden(None, seven));
        assert_eq!(
            queue.of("p90_days_to_service"),
            hidden(None, b(1, Some(17)))
        );
        let tens = Recorded {
            min_shown: Some(10),
            round_to: Some(10),
            ..HES
        };
        let tens = Bounds::new(Dataset::SocialCareQueue, tens);
        assert_eq!(tens.of("p90_days_to_service"), hidden(None, b(1, Some(14))));
        let bottlenecks = Bounds::new(Dataset::Bottlenecks, HES);
        for c in ["share_of_system_pct", "change_in_delayed_bed_days", "rank"] {
            assert_eq!(bottlenecks.of(c), Hidden::UNKNOWN, "{c}");
        }
        let linkage = Bounds::new(Dataset::LinkageQuality, HES);
        assert_eq!(linkage.of("linked_pct"), Hidden::UNKNOWN);
    }

    struct Row(&'static [(&'static str, bool)]);

    impl GatedRow for Row {
        fn suppressed(&self, column: &str) -> Option<bool> {
            self.0.iter().find(|(c, _)| *c == column).map(|(_, s)| *s)
        }
    }

    /// A whole shown in the row rules out the part's suppression with it.
    #[test]
    fn a_part_whose_whole_is_shown_was_suppressed_for_its_own_reasons() {
        let bottlenecks = Bounds::new(Dataset::Bottlenecks, HES);
        let seven = b(1, Some(7));
        let system_shown = Row(&[
            ("system_delayed_discharges", false),
            ("delayed_discharges", true),
        ]);
        assert_eq!(
            bottlenecks.in_row("delayed_discharges", &system_shown),
            hidden(b(1, None), seven)
        );
        assert_eq!(
            bottlenecks.in_row("delayed_bed_days", &system_shown),
            hidden(b(0, None), seven)
        );
        let system_hidden = Row(&[("system_delayed_discharges", true)]);
        let to_7 = b(0, Some(7));
        assert_eq!(
            bottlenecks.in_row("delayed_discharges", &system_hidden),
            hidden(b(0, None), to_7)
        );
        let queue = Bounds::new(Dataset::SocialCareQueue, HES);
        let requests_shown = Row(&[("requests", false)]);
        assert_eq!(
            queue.in_row("median_days_to_assessment", &requests_shown),
            hidden(None, seven)
        );
        assert_eq!(
            queue.in_row("assessed", &requests_shown),
            hidden(b(1, None), seven)
        );
    }
}
