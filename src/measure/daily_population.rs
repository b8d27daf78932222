//! Whether a provider's month has patients enough for its days to be published one by one.
//!
//! `flow_daily` gives each provider a row per day. Cell by cell the HES rule holds, but a
//! provider with few patients in a month (a small independent hospital, a community ward)
//! has its days read together: one patient admitted on the 5th, ready on the 12th and
//! discharged on the 20th shows as the only days those columns are suppressed rather
//! than 0 — their timeline. So the days of a provider-month whose distinct patients are
//! fewer than a minimum (`[disclosure] daily_min_patients`, default
//! [`DAILY_MIN_PATIENTS`]) are suppressed (every count of the group, zeros included:
//! [`crate::publish::disclosure::GateSpec::population`]); spells and A&E are counted
//! apart, each for its own columns.
//!
//! Patients are counted as they are seen (spells in a bed during the month, their
//! social-care starts, A&E arrivals), a provider-month at a time, and only up to the
//! minimum: a set per provider-month that is dropped once the minimum is reached, so the
//! count costs a hash lookup per row and almost no memory. A row without a person (no
//! NHS number) may be any patient seen, or one more when there is none: the fewest
//! people the rows can be, as [`super::people`] counts.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use crate::link::person_index::PERSON;

type Fast = foldhash::fast::RandomState;

/// Fewest distinct patients a provider must have in a month for its days to be
/// published one by one, unless a pipeline sets its own: at fewer, most of a day's counts
/// are 1–7 or 0, and which are which traces the patients' days.
pub const DAILY_MIN_PATIENTS: usize = 50;

/// A warning when `plan` writes `flow_daily` with a smaller minimum than
/// [`DAILY_MIN_PATIENTS`]: allowed (a local agreement, or checking the measures), never
/// silently.
pub fn weaker_than_default(plan: &crate::config::Plan) -> Option<String> {
    let writes = plan
        .outputs
        .iter()
        .any(|o| o.dataset == crate::publish::Dataset::FlowDaily);
    (writes && plan.daily_min_patients < DAILY_MIN_PATIENTS).then(|| {
        format!(
            "disclosure.daily_min_patients {} is below the default {DAILY_MIN_PATIENTS}: flow_daily publishes the days of providers with fewer patients in a month, whose days can trace them; check the data sharing agreement before sharing published/",
            plan.daily_min_patients
        )
    })
}

/// What is known of one provider-month's patients.
#[derive(Debug, Clone)]
enum Seen {
    /// Fewer than the minimum so far: the persons, and whether a row had none.
    Few {
        persons: HashSet<u32>,
        unknown: bool,
    },
    /// The minimum reached.
    Enough,
}

impl Seen {
    /// The fewest patients seen, or `None` once the minimum is reached.
    fn few(&self) -> Option<usize> {
        match self {
            Seen::Few { persons, unknown } => Some(persons.len().max(usize::from(*unknown))),
            Seen::Enough => None,
        }
    }
}

/// Distinct patients per provider × month, counted up to a minimum.
#[derive(Debug, Clone)]
pub struct Population {
    minimum: usize,
    by_provider: HashMap<String, HashMap<i32, Seen, Fast>, Fast>,
    /// The last provider-month found to have the minimum (its buffer reused): rows come
    /// in time order, most of large providers, whose patients need no more counting.
    enough: (String, Option<i32>),
}

impl Default for Population {
    /// Counting up to [`DAILY_MIN_PATIENTS`].
    fn default() -> Self {
        Population::new(DAILY_MIN_PATIENTS)
    }
}

/// A month as `year × 12 + month − 1`, from days since 1970-01-01.
pub fn month_of_day(day: i32) -> i32 {
    let (y, m, _) = crate::ingest::dates::civil_from_days(i64::from(day));
    y as i32 * 12 + m as i32 - 1
}

impl Population {
    /// Counting up to `minimum` patients per provider-month (at least 1).
    pub fn new(minimum: usize) -> Self {
        Population {
            minimum: minimum.max(1),
            by_provider: HashMap::default(),
            enough: (String::new(), None),
        }
    }

    /// The minimum counted up to.
    pub fn minimum(&self) -> usize {
        self.minimum
    }

    /// A patient (`None`: a row without a person) seen at `provider` in `month`
    /// ([`month_of_day`]).
    pub fn add(&mut self, provider: &str, month: i32, person: Option<u32>) {
        if self.enough.1 == Some(month) && self.enough.0 == provider {
            return;
        }
        let months = match self.by_provider.get_mut(provider) {
            Some(m) => m,
            None => self.by_provider.entry(provider.to_string()).or_default(),
        };
        let seen = months.entry(month).or_insert_with(|| Seen::Few {
            persons: HashSet::new(),
            unknown: false,
        });
        if let Seen::Few { persons, unknown } = seen {
            match person {
                Some(p) => {
                    persons.insert(p);
                }
                None => *unknown = true,
            }
            if persons.len() >= self.minimum {
                *seen = Seen::Enough;
            }
        }
        if matches!(seen, Seen::Enough) {
            self.enough.0.clear();
            self.enough.0.push_str(provider);
            self.enough.1 = Some(month);
        }
    }

    /// A patient seen at `provider` on every month from day `from` to day `to`
    /// (inclusive; `to` before `from` is the month of `from` alone).
    pub fn add_days(&mut self, provider: &str, from: i32, to: i32, person: Option<u32>) {
        let (first, last) = (month_of_day(from), month_of_day(to.max(from)));
        for month in first..=last {
            self.add(provider, month, person);
        }
    }

    /// Both counts together (a patient seen in each is one).
    pub fn merge(&mut self, other: Population) {
        for (provider, months) in other.by_provider {
            for (month, seen) in months {
                match seen {
                    Seen::Enough => {
                        self.by_provider
                            .entry(provider.clone())
                            .or_default()
                            .insert(month, Seen::Enough);
                    }
                    Seen::Few { persons, unknown } => {
                        for p in persons {
                            self.add(&provider, month, Some(p));
                        }
                        if unknown {
                            self.add(&provider, month, None);
                        }
                    }
                }
            }
        }
    }

    /// The A&E attendances of `ed` (`provider_code`, `arrival`, [`PERSON`]), each a
    /// patient seen in its arrival month.
    pub fn add_attendances(&mut self, ed: &DataFrame) -> PolarsResult<()> {
        let providers = crate::link::by_person::text_iter(ed.column("provider_code")?)?;
        let arrival = ed.column("arrival")?;
        let per_day: i64 = match arrival.dtype() {
            DataType::Datetime(TimeUnit::Milliseconds, _) => 86_400_000,
            DataType::Datetime(TimeUnit::Microseconds, _) => 86_400_000_000,
            DataType::Datetime(TimeUnit::Nanoseconds, _) => 86_400_000_000_000,
            dt => polars_bail!(ComputeError: "arrival is {dt}, not a datetime"),
        };
        let arrivals = arrival
            .as_materialized_series()
            .to_physical_repr()
            .into_owned();
        let persons = ed.column(PERSON)?.u32()?;
        for ((provider, at), person) in providers.zip(arrivals.i64()?.iter()).zip(persons.iter()) {
            if let (Some(provider), Some(at)) = (provider, at) {
                let day = at.div_euclid(per_day) as i32;
                self.add(provider, month_of_day(day), person);
            }
        }
        Ok(())
    }

    /// Whether `provider` had patients in `month`, but fewer than the minimum.
    pub fn is_small(&self, provider: &str, month: i32) -> bool {
        self.by_provider
            .get(provider)
            .and_then(|m| m.get(&month))
            .and_then(Seen::few)
            .is_some_and(|n| n >= 1 && n < self.minimum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_month_is_small_until_it_has_the_minimum_of_distinct_patients() {
        let mut p = Population::default();
        let june = 2024 * 12 + 5;
        // One patient seen a hundred times is one.
        for _ in 0..100 {
            p.add("RX9", june, Some(7));
        }
        assert!(p.is_small("RX9", june));
        for person in 0..DAILY_MIN_PATIENTS as u32 - 1 {
            p.add("RX1", june, Some(person));
        }
        assert!(p.is_small("RX1", june), "one short");
        p.add("RX1", june, Some(10_000));
        assert!(!p.is_small("RX1", june));
        // Unseen: nothing to protect (its days are all 0).
        assert!(!p.is_small("RX2", june));
        assert!(!p.is_small("RX1", june + 1));
    }

    #[test]
    fn rows_without_a_person_are_one_more_patient_only_when_there_is_none() {
        let mut p = Population::default();
        p.add("RX1", 1, None);
        p.add("RX1", 1, None);
        assert!(p.is_small("RX1", 1));
        let mut other = Population::default();
        for person in 0..DAILY_MIN_PATIENTS as u32 - 1 {
            other.add("RX1", 1, Some(person));
        }
        other.add("RX1", 1, None);
        p.merge(other);
        assert!(
            p.is_small("RX1", 1),
            "49 known and unknown rows: 49 at least"
        );
    }

    #[test]
    fn a_stay_counts_in_every_month_it_spans_and_merging_unites_patients() {
        let day = |y, m, d| crate::ingest::dates::days_from_civil(y, m, d);
        let mut spells = Population::default();
        spells.add_days("RX1", day(2024, 1, 30), day(2024, 3, 2), Some(1));
        for m in [1, 2, 3] {
            assert!(spells.is_small("RX1", 2024 * 12 + m - 1), "month {m}");
        }
        assert!(!spells.is_small("RX1", 2024 * 12 + 3));
        let mut ae = Population::default();
        for person in 1..=DAILY_MIN_PATIENTS as u32 {
            ae.add("RX1", 2024 * 12 + 1, Some(person));
        }
        spells.merge(ae);
        assert!(
            !spells.is_small("RX1", 2024 * 12 + 1),
            "February reaches 50"
        );
        assert!(spells.is_small("RX1", 2024 * 12), "January still one");
    }

    #[test]
    fn a_pipeline_may_set_its_own_minimum() {
        let mut p = Population::new(1);
        p.add("RX9", 1, Some(7));
        assert!(!p.is_small("RX9", 1), "1 publishes every provider's days");
        let mut p = Population::new(100);
        for person in 0..60 {
            p.add("RX1", 1, Some(person));
        }
        assert!(p.is_small("RX1", 1));
    }
}
