//! One-sentence plain-English readings, one per section, from figures the sections have
//! already taken from the published data. Each says what the numbers show without
//! jargon, and says so plainly when a figure is suppressed or missing.

use chrono::NaiveDate;

use super::data::Cell;
use super::format::{self, Bounded};

/// Section 1: delayed bed-days this month, the change, and the share waiting for social care
/// as section 1 words it (`about 86%`, `between 31% and 86%`); `dominance`: a dominance
/// rule applied, so a suppressed total need not be of few patients.
pub fn headline(
    month: NaiveDate,
    bed_days: Cell<i64>,
    previous: Option<(NaiveDate, Cell<i64>)>,
    social_care_share: Option<String>,
    dominance: bool,
) -> String {
    let m = format::month(month);
    let total = match bed_days {
        Cell::Shown(0) => {
            return format!("No patient's discharge was delayed in {m}.");
        }
        Cell::Shown(v) => v,
        Cell::Suppressed if dominance => {
            return format!(
                "The delays in {m} are suppressed to protect privacy: they involved few patients, or one or two patients account for most of the days."
            );
        }
        Cell::Suppressed => {
            return format!(
                "Delays in {m} involved so few patients that the total is suppressed to protect privacy."
            );
        }
        Cell::Empty => return format!("No delayed discharges were published for {m}."),
    };
    let mut s = format!(
        "In {m}, patients who were ready to leave hospital spent {} days waiting to go",
        format::int(total)
    );
    if let Some((pm, Cell::Shown(p))) = previous {
        let diff = total - p;
        let pm = format::month(pm);
        s.push_str(&match diff.signum() {
            1 => format!(", {} more than in {pm}", format::int(diff)),
            -1 => format!(", {} fewer than in {pm}", format::int(-diff)),
            _ => format!(", the same as in {pm}"),
        });
    }
    match social_care_share {
        Some(share) => s.push_str(&format!(
            "; {share} of those days were spent waiting for a social-care service to start."
        )),
        None => s.push('.'),
    }
    s
}

/// Who a bottleneck group's patients are, in words: `waiting for home care from council
/// 902 at RX2`, or `at RX2 with no linked social-care service`. The second is no cause of
/// delay: `none` means linkage found no social-care service for the spell, not that the
/// patient was waiting for nothing (regression, review: "the largest cause of delay …
/// was patients waiting for no social-care service").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The words, to follow "patients".
    pub words: String,
    /// Whether the group awaits a linked social-care service.
    pub awaits_service: bool,
}

/// The [`Group`] of council `la_code`, service `awaited_service` and `provider`.
pub fn group(la_code: Option<&str>, awaited_service: &str, provider: &str) -> Group {
    if awaited_service == "none" {
        Group {
            words: format!("at {provider} with no linked social-care service"),
            awaits_service: false,
        }
    } else {
        Group {
            words: format!(
                "waiting for {} from {} at {provider}",
                format::service(awaited_service),
                format::council(la_code)
            ),
            awaits_service: true,
        }
    }
}

/// Section 2: the biggest bottleneck of the month. `largest_shown` is the first ranked
/// group (only groups large enough to show are ranked); `unranked` counts the groups too
/// small to show, whose bed-days could be more or fewer than any shown; `patients`: how
/// many patients each of those can hold (1–7, or from 0 when suppressed with a suppressed
/// total), when known; `dominance`: a dominance rule applied, so a group can also be
/// suppressed for one or two patients holding most of its days.
pub fn waits(
    month: NaiveDate,
    largest_shown: Option<(Group, i64, Cell<f64>)>,
    unranked: usize,
    patients: Option<Bounded>,
    dominance: bool,
) -> String {
    // Under a dominance rule a group is also suppressed for one or two patients holding
    // most of its days, whatever their number.
    let few = if dominance {
        "few patients or dominated by one or two".to_string()
    } else {
        format::patients(patients)
    };
    let m = format::month(month);
    let share = |c: Cell<f64>| match c {
        Cell::Shown(v) => format!(", {} of the total", format::pct(v)),
        _ => String::new(),
    };
    // A group awaiting a service is a cause of delay; one with no linked service is not
    // known to be one.
    let what = |g: &Group| {
        if g.awaits_service {
            "cause of delay"
        } else {
            "group of delays"
        }
    };
    let groups = |n: usize| {
        format!(
            "{} group{}",
            format::int(n as i64),
            if n == 1 { "" } else { "s" }
        )
    };
    match (largest_shown, unranked) {
        (None, 0) => format!("No delayed discharges were published for {m}."),
        (None, n) if dominance => format!(
            "Every group of delayed discharges in {m} ({}) is suppressed to protect privacy: each has few patients, or one or two patients account for most of its days.",
            groups(n)
        ),
        (None, n) => format!(
            "Every group of delayed discharges in {m} ({}) is small enough to be suppressed to protect privacy.",
            groups(n)
        ),
        (Some((who, days, pct)), 0) => format!(
            "The largest single {} in {m} was patients {}: {} delayed bed-days{}.",
            what(&who),
            who.words,
            format::int(days),
            share(pct)
        ),
        (Some((who, days, pct)), n) => format!(
            "Of the groups large enough to show, the largest {} in {m} was patients {}: {} delayed bed-days{} ({} of {few} {} suppressed to protect privacy and not ranked, and any could have more).",
            what(&who),
            who.words,
            format::int(days),
            share(pct),
            groups(n),
            if n == 1 { "is" } else { "are" }
        ),
    }
}

/// The largest shown daily value, where and when, and what the suppressed days can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peak {
    /// (value, provider, day) of the largest shown value (its first day, when tied).
    pub shown: Option<(i64, String, NaiveDate)>,
    /// Other provider-days shown with the same value.
    pub ties: usize,
    /// Days whose value is suppressed.
    pub suppressed: usize,
    /// What each suppressed day can hold: from the least of their lows to the largest of
    /// their tops (no top once one has none).
    pub each: Bounded,
    /// The largest of their lows: the least the largest suppressed day holds.
    pub floor: i64,
}

impl Peak {
    /// No day counted yet.
    pub fn none() -> Self {
        Peak {
            shown: None,
            ties: 0,
            suppressed: 0,
            each: Bounded::exact(0),
            floor: 0,
        }
    }

    /// Counts a day whose value is suppressed, within `b`.
    pub fn add_suppressed(&mut self, b: Bounded) {
        (self.each, self.floor) = match self.suppressed {
            0 => (b, b.low),
            _ => (self.each.either(b), self.floor.max(b.low)),
        };
        self.suppressed += 1;
    }

    /// "… {v} ({provider}, {day})", said as the largest shown when a suppressed day could
    /// be larger (its range reaches above it).
    fn said(&self) -> Option<String> {
        let (v, p, d) = self.shown.as_ref()?;
        // A suppressed day held more than any day shown: the peak was on one of them
        // (regression: "peaked at 0" when every day shown was 0).
        if self.suppressed > 0 && self.floor > *v {
            let peak = match self.each.high {
                Some(high) => format::bounded(Bounded {
                    low: self.floor,
                    high: Some(high),
                }),
                None => format!("{} or more", format::int(self.floor)),
            };
            return Some(format!(
                "{peak}, on {} whose figure is suppressed ({})",
                match self.suppressed {
                    1 => "the one day".to_string(),
                    n => format!("one of the {} days", format::int(n as i64)),
                },
                if *v == 0 {
                    "every day shown was 0".to_string()
                } else {
                    format!("no day shown had more than {}", format::int(*v))
                }
            ));
        }
        // Tied peaks are all counted (regression, review: one day was named as if alone).
        let at = match self.ties {
            0 => format!("{} ({p}, {})", format::int(*v), format::day(*d)),
            n => format!(
                "{} on {} days (first {p}, {})",
                format::int(*v),
                format::int(n as i64 + 1),
                format::day(*d)
            ),
        };
        let could_be_more = self.suppressed > 0 && self.each.high.is_none_or(|hi| hi > *v);
        Some(if could_be_more {
            format!(
                "{at} among the days shown ({} day{} suppressed, {})",
                format::int(self.suppressed as i64),
                if self.suppressed == 1 { "" } else { "s" },
                match self.each {
                    Bounded {
                        low,
                        high: Some(hi),
                    } => format!("{} to {} each", format::int(low), format::int(hi)),
                    Bounded { low, high: None } if low > 0 => {
                        format!("at least {} each", format::int(low))
                    }
                    Bounded { high: None, .. } => "of no known size".to_string(),
                }
            )
        } else {
            at
        })
    }
}

/// Section 3: peak occupancy and peak patients ready to leave.
pub fn flow(from: NaiveDate, to: NaiveDate, peak_beds: &Peak, peak_ready: &Peak) -> String {
    let span = format!("{} and {}", format::day(from), format::day(to));
    let beds = match peak_beds.said() {
        Some(at) => format!("occupied beds at midnight peaked at {at}"),
        None => "daily occupied beds are all suppressed".to_string(),
    };
    let ready = match peak_ready.said() {
        Some(at) => {
            format!("the most patients ready to leave but still in hospital on one day was {at}")
        }
        None => "daily counts of patients ready to leave are all suppressed".to_string(),
    };
    format!("Between {span}, {beds}, and {ready}.")
}

/// Section 4: the longest median wait from referral to service start.
/// `hidden`: groups whose median is suppressed (any could wait longer); `groups`: the
/// month's groups, those whose service has not started included.
pub fn queue(
    month: NaiveDate,
    longest: Option<(String, f64, Cell<f64>)>,
    hidden: usize,
    groups: usize,
) -> String {
    let m = format::month(month);
    match longest {
        Some((who, median, p90)) => {
            let p90 = match p90 {
                Cell::Shown(v) => format!(" (one in ten waited {} days or more)", format::num(v)),
                _ => String::new(),
            };
            let (which, caveat) = match hidden {
                0 => ("the longest wait", String::new()),
                n => (
                    "of the groups large enough to show, the longest wait",
                    format!(
                        " ({} group{} too small to show {} suppressed, and any could wait longer)",
                        format::int(n as i64),
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "is" } else { "are" }
                    ),
                ),
            };
            format!(
                "For patients referred from hospital in {m}, {which} for a service to start was for {who}: half waited {} days or more{p90}{caveat}.",
                format::num(median)
            )
        }
        // Regression (review): all three said "every group is too small and is
        // suppressed", beside groups of 10 requests shown whose service had not started,
        // and of a month with no requests at all.
        None if groups == 0 => {
            format!("No hospital-discharge requests were published for {m}.")
        }
        None if hidden == 0 => format!("No service had started yet for any request made in {m}."),
        None => format!(
            "No waiting times can be shown for referrals made in {m}: every group whose service has started is too small to show and is suppressed."
        ),
    }
}

/// Section 5: A&E long waits in the month.
/// `part`: the days of the month the A&E data cover, when not all of it.
/// `rounded`: the daily figures added up were rounded, so the totals are approximate
/// (a range from suppressed days is then no hard bound either).
pub fn ae(
    month: NaiveDate,
    part: Option<(NaiveDate, NaiveDate)>,
    arrivals: Bounded,
    over_4h: Bounded,
    over_12h: Bounded,
    rounded: bool,
) -> String {
    let m = format::month(month);
    if arrivals.high == Some(0) {
        return format!("No A&E attendances were published for {m}.");
    }
    let m = match part {
        Some((from, to)) => format!("{m} (A&E data for {} only)", format::span(from, to)),
        None => m,
    };
    format!(
        "In {m}, {}{} A&E attendances lasted more than 4 hours and {} more than 12 hours, out of {} arrivals{}.",
        if rounded { "roughly " } else { "" },
        format::bounded(over_4h),
        format::bounded(over_12h),
        format::bounded_short(arrivals),
        if rounded {
            " (added up from rounded daily figures)"
        } else {
            ""
        }
    )
}

/// Section 5, when the daily figures hold no A&E arrival on any day: no A&E data (a
/// pipeline without an A&E source), not months without attendances.
pub fn no_ae_data() -> String {
    "There are no A&E data: the published daily figures hold no A&E arrivals on any day, so there is nothing to show here.".to_string()
}

/// Section 5, for a month after the A&E data end.
pub fn ae_not_covered(month: NaiveDate, ae_end: NaiveDate) -> String {
    format!(
        "No A&E data were published for {}: the A&E data end on {}.",
        format::month(month),
        format::day(ae_end)
    )
}

/// Section 6: row accounting and suppression.
/// Record counts under `rule`, the published data's, like every count the report shows;
/// the share is of the shown counts (to one decimal place only over 4,000, as the gate
/// publishes percentages), and left out when the set-aside count is suppressed.
pub fn quality(
    rows_in: u64,
    quarantined: u64,
    suppressed_cells: u64,
    rule: crate::publish::disclosure::Rule,
) -> String {
    let hidden = rule.hidden_range();
    let (total, q) = (rule.count(rows_in as i64), rule.count(quarantined as i64));
    let set_aside = match (total, q) {
        (Some(total), Some(q)) if total > 0 => {
            format!("{} ({})", format::int(q), format::share_pct(q, total))
        }
        (_, q) => format::records(q, hidden),
    };
    format!(
        "Of {} rows received, {set_aside} were set aside because they broke their source's rules, and {} published figures are suppressed to protect privacy.",
        format::records(total, hidden),
        format::int(suppressed_cells as i64)
    )
}

/// Section 7: the ICB beside its region and England on the latest day.
pub fn sitrep(
    date: NaiveDate,
    setting: &str,
    icb: Option<(String, f64)>,
    region: Option<(String, f64)>,
    england: Option<f64>,
) -> String {
    let d = format::day(date);
    let p = |v: f64| format!("{}%", v.round());
    match icb {
        Some((name, v)) => {
            let mut others = Vec::new();
            if let Some((r, rv)) = region {
                others.push(format!("{} in {r}", p(rv)));
            }
            if let Some(e) = england {
                others.push(format!("{} in England", p(e)));
            }
            let against = if others.is_empty() {
                String::new()
            } else {
                format!(", against {}", others.join(" and "))
            };
            format!(
                "On {d}, {} of {setting} patients in {name} who no longer needed to be in hospital were still there at the end of the day{against}.",
                p(v)
            )
        }
        None => match england {
            Some(e) => format!(
                "On {d}, {} of {setting} patients in England who no longer needed to be in hospital were still there at the end of the day.",
                p(e)
            ),
            None => format!("NHS England's sitrep for {d} has no figures to compare."),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).unwrap()
    }

    fn seven() -> Option<Bounded> {
        Some(Bounded {
            low: 1,
            high: Some(7),
        })
    }

    /// A peak of `v` shown (`ties` days besides), with `suppressed` days of `each`.
    fn peak_of(v: Option<i64>, ties: usize, suppressed: &[Bounded]) -> Peak {
        let mut p = Peak::none();
        p.shown = v.map(|v| (v, "RX1".to_string(), d(1)));
        p.ties = ties;
        for b in suppressed {
            p.add_suppressed(*b);
        }
        p
    }

    fn days(n: usize, low: i64, high: Option<i64>) -> Vec<Bounded> {
        vec![Bounded { low, high }; n]
    }

    #[test]
    fn headline_reads_as_one_sentence() {
        let s = headline(
            d(9),
            Cell::Shown(480),
            Some((d(8), Cell::Shown(525))),
            Some("about 86%".to_string()),
            false,
        );
        assert_eq!(
            s,
            "In September 2026, patients who were ready to leave hospital spent 480 days waiting to go, 45 fewer than in August 2026; about 86% of those days were spent waiting for a social-care service to start."
        );
        let s = headline(
            d(9),
            Cell::Shown(480),
            None,
            Some("between 25% and 86%".to_string()),
            false,
        );
        assert_eq!(
            s,
            "In September 2026, patients who were ready to leave hospital spent 480 days waiting to go; between 25% and 86% of those days were spent waiting for a social-care service to start."
        );
        let s = headline(d(9), Cell::Suppressed, None, None, false);
        assert!(s.contains("suppressed"), "{s}");
        assert!(!s.contains(" 0 "), "{s}");
    }

    /// Regression (found by a review): once suppressed groups were no longer ranked, the
    /// first ranked group was called "the largest single cause of delay" although a
    /// suppressed group could be larger (35 bed-days against 25 shown).
    #[test]
    fn the_largest_shown_group_is_not_called_the_largest_when_groups_are_suppressed() {
        let who = || group(Some("902"), "home_care", "RX2");
        assert_eq!(
            waits(
                d(10),
                Some((who(), 40, Cell::Shown(8.0))),
                2,
                seven(),
                false
            ),
            "Of the groups large enough to show, the largest cause of delay in October 2026 was patients waiting for home care from council 902 at RX2: 40 delayed bed-days, 8% of the total (2 groups of 1–7 patients are suppressed to protect privacy and not ranked, and any could have more)."
        );
        assert_eq!(
            waits(
                d(10),
                Some((who(), 40, Cell::Suppressed)),
                0,
                seven(),
                false
            ),
            "The largest single cause of delay in October 2026 was patients waiting for home care from council 902 at RX2: 40 delayed bed-days."
        );
        assert_eq!(
            waits(d(10), None, 1, seven(), false),
            "Every group of delayed discharges in October 2026 (1 group) is small enough to be suppressed to protect privacy."
        );
        assert_eq!(
            waits(d(10), None, 0, seven(), false),
            "No delayed discharges were published for October 2026."
        );
    }

    /// Regression (review of the dominance rule): under a dominance rule a month's
    /// bed-days, or a group's, can be suppressed beside 130 delayed discharges: the
    /// reading said they "involved so few patients"; it gives both reasons.
    #[test]
    fn regression_under_a_dominance_rule_a_suppressed_total_is_not_said_to_be_of_few_patients() {
        let s = headline(d(9), Cell::Suppressed, None, None, true);
        assert_eq!(
            s,
            "The delays in September 2026 are suppressed to protect privacy: they involved few patients, or one or two patients account for most of the days."
        );
        assert_eq!(
            waits(d(10), None, 20, seven(), true),
            "Every group of delayed discharges in October 2026 (20 groups) is suppressed to protect privacy: each has few patients, or one or two patients account for most of its days."
        );
        let who = group(Some("902"), "home_care", "RX2");
        assert_eq!(
            waits(d(10), Some((who, 40, Cell::Shown(8.0))), 2, seven(), true),
            "Of the groups large enough to show, the largest cause of delay in October 2026 was patients waiting for home care from council 902 at RX2: 40 delayed bed-days, 8% of the total (2 groups of few patients or dominated by one or two are suppressed to protect privacy and not ranked, and any could have more)."
        );
    }

    /// Regression (re-review): "2 groups of 1–7 patients are suppressed" of groups
    /// suppressed with their month's suppressed total, which can hold none.
    #[test]
    fn regression_groups_suppressed_with_their_total_are_of_at_most_7_patients() {
        let who = group(Some("902"), "home_care", "RX2");
        let up_to_7 = Some(Bounded {
            low: 0,
            high: Some(7),
        });
        assert_eq!(
            waits(d(10), Some((who, 40, Cell::Shown(8.0))), 2, up_to_7, false),
            "Of the groups large enough to show, the largest cause of delay in October 2026 was patients waiting for home care from council 902 at RX2: 40 delayed bed-days, 8% of the total (2 groups of at most 7 patients are suppressed to protect privacy and not ranked, and any could have more)."
        );
    }

    /// Regression (review): "the largest cause of delay in September 2026 was patients
    /// waiting for no social-care service": `none` is no linked service, not a cause.
    #[test]
    fn regression_a_group_with_no_linked_service_is_not_called_a_cause() {
        assert_eq!(
            waits(
                d(9),
                Some((group(None, "none", "RX2"), 40, Cell::Shown(8.0))),
                0,
                seven(),
                false
            ),
            "The largest single group of delays in September 2026 was patients at RX2 with no linked social-care service: 40 delayed bed-days, 8% of the total."
        );
        assert_eq!(
            waits(
                d(9),
                Some((group(None, "none", "RX2"), 40, Cell::Shown(8.0))),
                3,
                seven(),
                false
            ),
            "Of the groups large enough to show, the largest group of delays in September 2026 was patients at RX2 with no linked social-care service: 40 delayed bed-days, 8% of the total (3 groups of 1–7 patients are suppressed to protect privacy and not ranked, and any could have more)."
        );
    }

    /// Regression (found by a review): the report showed the manifest's counts under the
    /// HES rule and said "1–7" whatever rule the pipeline set (13 quarantined rows shown
    /// as 15 beside tables saying "suppressed (1–9)"), and gave a share of a small total
    /// to a tenth of a percent.
    #[test]
    fn regression_counts_follow_the_pipelines_rule_not_hes() {
        use crate::publish::disclosure::Rule;
        let rule = Rule::Threshold {
            min_shown: 10,
            round_to: 10,
            dominance: None,
        };
        assert_eq!(
            quality(1_465, 13, 4, rule),
            "Of 1,470 rows received, 10 (1%) were set aside because they broke their source's rules, and 4 published figures are suppressed to protect privacy."
        );
        assert_eq!(
            quality(1_465, 9, 4, rule),
            "Of 1,470 rows received, 1–9 were set aside because they broke their source's rules, and 4 published figures are suppressed to protect privacy."
        );
        assert!(
            waits(
                d(10),
                Some((group(Some("902"), "home_care", "RX2"), 40, Cell::Empty)),
                1,
                Some(Bounded {
                    low: 1,
                    high: Some(9)
                }),
                false
            )
            .contains("(1 group of 1–9 patients is suppressed")
        );
    }

    /// Regression (review): the queue's reading called the longest shown median "the
    /// longest wait" while 8 of 13 groups had their medians suppressed.
    #[test]
    fn regression_the_longest_shown_queue_wait_is_not_called_the_longest_when_groups_are_suppressed()
     {
        let who = || "home care from council 902".to_string();
        assert_eq!(
            queue(d(9), Some((who(), 15.0, Cell::Suppressed)), 8, 13),
            "For patients referred from hospital in September 2026, of the groups large enough to show, the longest wait for a service to start was for home care from council 902: half waited 15 days or more (8 groups too small to show are suppressed, and any could wait longer)."
        );
        assert_eq!(
            queue(d(9), Some((who(), 15.0, Cell::Shown(30.0))), 0, 5),
            "For patients referred from hospital in September 2026, the longest wait for a service to start was for home care from council 902: half waited 15 days or more (one in ten waited 30 days or more)."
        );
    }

    /// Regression (review): with no wait to show, the reading said "every group is too
    /// small and is suppressed" whatever the reason: beside groups of 10 requests shown
    /// whose service had not started, and of a month with no rows at all.
    #[test]
    fn regression_no_queue_wait_to_show_says_why() {
        assert_eq!(
            queue(d(3), None, 0, 3),
            "No service had started yet for any request made in March 2026."
        );
        assert_eq!(
            queue(d(3), None, 0, 0),
            "No hospital-discharge requests were published for March 2026."
        );
        assert_eq!(
            queue(d(3), None, 2, 5),
            "No waiting times can be shown for referrals made in March 2026: every group whose service has started is too small to show and is suppressed."
        );
    }

    #[test]
    fn ae_ranges_are_spelt_out() {
        let b = |low, high| Bounded { low, high };
        let s = ae(
            d(9),
            None,
            b(1400, Some(1400)),
            b(155, Some(260)),
            b(0, Some(0)),
            false,
        );
        assert_eq!(
            s,
            "In September 2026, between 155 and 260 A&E attendances lasted more than 4 hours and 0 more than 12 hours, out of 1,400 arrivals."
        );
        // Regression: totals of rounded daily figures read as hard bounds (the true
        // count, 741, lay outside "between 696 and 732").
        let s = ae(
            d(9),
            None,
            b(1400, Some(1400)),
            b(155, Some(260)),
            b(0, Some(0)),
            true,
        );
        assert_eq!(
            s,
            "In September 2026, roughly between 155 and 260 A&E attendances lasted more than 4 hours and 0 more than 12 hours, out of 1,400 arrivals (added up from rounded daily figures)."
        );
        // Regression (review): A&E data ending on 15 September read "In September 2026,
        // … out of 348–366 arrivals", as if the month were whole.
        let s = ae(
            d(9),
            Some((d(9), NaiveDate::from_ymd_opt(2026, 9, 15).unwrap())),
            b(348, Some(366)),
            b(28, Some(196)),
            b(6, Some(42)),
            true,
        );
        assert_eq!(
            s,
            "In September 2026 (A&E data for 1–15 September 2026 only), roughly between 28 and 196 A&E attendances lasted more than 4 hours and between 6 and 42 more than 12 hours, out of 348–366 arrivals (added up from rounded daily figures)."
        );
        assert_eq!(
            ae_not_covered(d(10), NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()),
            "No A&E data were published for October 2026: the A&E data end on 30 September 2026."
        );
    }

    /// Regression: with most days suppressed the reading said the most patients ready to
    /// leave on one day "was 0", though each suppressed day held 1 to 7.
    #[test]
    fn a_peak_a_suppressed_day_could_exceed_is_said_to_be_among_the_days_shown() {
        let s = flow(
            d(1),
            d(3),
            &peak_of(Some(75), 0, &days(3, 1, Some(7))),
            &peak_of(Some(3), 0, &days(139, 1, Some(7))),
        );
        assert_eq!(
            s,
            "Between 1 January 2026 and 1 March 2026, occupied beds at midnight peaked at 75 (RX1, 1 January 2026), and the most patients ready to leave but still in hospital on one day was 3 (RX1, 1 January 2026) among the days shown (139 days suppressed, 1 to 7 each)."
        );
        let none = peak_of(None, 0, &days(4, 1, Some(7)));
        assert!(
            flow(d(1), d(3), &none, &peak_of(Some(9), 0, &[]))
                .ends_with("was 9 (RX1, 1 January 2026).")
        );
    }

    /// Regression (review, synth 300/1/1): every day shown was 0 and the others were
    /// suppressed (each 1 to 7), and the reading said beds "peaked at 0".
    #[test]
    fn regression_a_peak_on_suppressed_days_is_not_said_to_be_0() {
        let s = flow(
            d(1),
            d(3),
            &peak_of(Some(0), 0, &days(40, 1, Some(7))),
            &peak_of(Some(0), 0, &days(1, 1, Some(7))),
        );
        assert_eq!(
            s,
            "Between 1 January 2026 and 1 March 2026, occupied beds at midnight peaked at between 1 and 7, on one of the 40 days whose figure is suppressed (every day shown was 0), and the most patients ready to leave but still in hospital on one day was between 1 and 7, on the one day whose figure is suppressed (every day shown was 0)."
        );
    }

    /// Regression (re-review): days of a small provider-month (0 to 49 each, zeros
    /// included) were said to hold 1 to 7, so a peak of 0 shown was said to lie on them
    /// ("peaked at between 1 and 7"), and a peak of 20 shown to be the largest. Days of
    /// either kind: the peak may be on a suppressed day, or none at all; with no top
    /// recorded, none is claimed.
    #[test]
    fn regression_a_peak_beside_days_of_a_small_provider_month_claims_no_1_to_7() {
        let mixed = [days(2, 1, Some(7)), days(30, 0, Some(49))].concat();
        let s = flow(
            d(1),
            d(3),
            &peak_of(Some(0), 0, &mixed),
            &peak_of(Some(20), 0, &mixed),
        );
        assert_eq!(
            s,
            "Between 1 January 2026 and 1 March 2026, occupied beds at midnight peaked at between 1 and 49, on one of the 32 days whose figure is suppressed (every day shown was 0), and the most patients ready to leave but still in hospital on one day was 20 (RX1, 1 January 2026) among the days shown (32 days suppressed, 0 to 49 each)."
        );
        let open = [days(2, 1, Some(7)), days(30, 0, None)].concat();
        let s = flow(
            d(1),
            d(3),
            &peak_of(Some(0), 0, &open),
            &peak_of(Some(0), 0, &days(3, 0, None)),
        );
        assert_eq!(
            s,
            "Between 1 January 2026 and 1 March 2026, occupied beds at midnight peaked at 1 or more, on one of the 32 days whose figure is suppressed (every day shown was 0), and the most patients ready to leave but still in hospital on one day was 0 (RX1, 1 January 2026) among the days shown (3 days suppressed, of no known size)."
        );
    }

    /// Regression (review): tied peaks named only one day, as if it alone held the peak.
    #[test]
    fn regression_tied_peaks_are_counted_not_one_named_alone() {
        assert_eq!(
            flow(
                d(1),
                d(3),
                &peak_of(Some(75), 2, &[]),
                &peak_of(Some(75), 0, &[])
            ),
            "Between 1 January 2026 and 1 March 2026, occupied beds at midnight peaked at 75 on 3 days (first RX1, 1 January 2026), and the most patients ready to leave but still in hospital on one day was 75 (RX1, 1 January 2026)."
        );
        assert!(
            flow(
                d(1),
                d(3),
                &peak_of(Some(5), 1, &days(2, 1, Some(7))),
                &peak_of(Some(75), 0, &[])
            )
            .contains(
                "peaked at 5 on 2 days (first RX1, 1 January 2026) among the days shown (2 days suppressed, 1 to 7 each)"
            )
        );
    }
}
