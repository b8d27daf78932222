//! Rows and the people behind them per source × council × month, for `linkage_quality`,
//! in little memory.
//!
//! Each count of records is published resting on the fewest people its rows can be
//! ([`super::people`]). polars' grouped `n_unique` gathered every group's rows (0.2 GB
//! more at 10 M input rows, the run's peak), and a group-by per person first held a row
//! per person and group (0.6 GB). Here a row is one `u64` — its group, person and flags
//! packed — sorted once: a run of equal group and person is one person, whose flags are
//! the run's. Rows without a person are one more person for a flag only when the group
//! has no other.

use std::collections::HashMap;

use polars::prelude::*;

/// Flags a row can carry, in the order of the counts they make.
pub const FLAGS: usize = 5;

const FLAG_BITS: u32 = 5;
const PERSON_BITS: u32 = 32;

/// A group: source, council, month (days since 1970 of its first day).
type Key<'a> = (&'a str, Option<&'a str>, i32);

/// Rows and people per group, as rows are added.
#[derive(Default)]
pub struct Tally<'a> {
    index: HashMap<Key<'a>, u32, foldhash::fast::RandomState>,
    /// The last row's source and council, its month's first day and the next month's,
    /// and its group: rows come in month order, mostly of one source and council.
    last: Option<(&'a str, Option<&'a str>, i32, i32, u32)>,
    keys: Vec<Key<'a>>,
    rows: Vec<[i64; FLAGS]>,
    people: PackedPeople,
}

/// Rows counted as the fewest people behind each group: each row with a person is one
/// `u64`, its group, person and flags packed, sorted once when counted (a run of equal
/// group and person is one person, whose flags are the run's); rows without a person are
/// one more person for a flag only when the group has no other. Shared with
/// [`super::group_people`].
#[derive(Default)]
pub(super) struct PackedPeople {
    /// Group, person and flags of each row with a person.
    packed: Vec<u64>,
    /// Per group, the flags of its rows without a person.
    unknown: Vec<u8>,
}

impl PackedPeople {
    /// Room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        PackedPeople {
            packed: Vec::with_capacity(rows),
            unknown: Vec::new(),
        }
    }

    /// A row of `group`, of `person`, with `flags` (bit `i`: the row counts under count
    /// `i`; at most [`FLAG_BITS`] of them).
    pub fn add(&mut self, group: u32, person: Option<u32>, flags: u8) {
        match person {
            Some(p) => self.packed.push(
                (u64::from(group) << (PERSON_BITS + FLAG_BITS))
                    | (u64::from(p) << FLAG_BITS)
                    | u64::from(flags),
            ),
            None => {
                let g = group as usize;
                if self.unknown.len() <= g {
                    self.unknown.resize(g + 1, 0);
                }
                self.unknown[g] |= flags;
            }
        }
    }

    /// The fewest people behind each of `groups` groups for each of the first `flags`
    /// flags: `[flag][group]`.
    pub fn count(mut self, groups: usize, flags: usize) -> Vec<Vec<i64>> {
        self.packed.sort_unstable();
        let mut people = vec![vec![0i64; groups]; flags];
        let mut close = |id: u64, seen: u8| {
            let g = (id >> PERSON_BITS) as usize;
            for (b, count) in people.iter_mut().enumerate() {
                count[g] += i64::from(seen >> b & 1);
            }
        };
        let mut run: Option<(u64, u8)> = None;
        for &row in &self.packed {
            let (id, f) = (row >> FLAG_BITS, (row & ((1 << FLAG_BITS) - 1)) as u8);
            match &mut run {
                Some((current, seen)) if *current == id => *seen |= f,
                _ => {
                    if let Some((id, seen)) = run {
                        close(id, seen);
                    }
                    run = Some((id, f));
                }
            }
        }
        if let Some((id, seen)) = run {
            close(id, seen);
        }
        drop(self.packed);
        for (b, count) in people.iter_mut().enumerate() {
            for (n, unknown) in count.iter_mut().zip(&self.unknown) {
                if *n == 0 && unknown >> b & 1 == 1 {
                    *n = 1;
                }
            }
        }
        people
    }
}

/// The first day of `day`'s month, in days since 1970.
pub fn month_start(day: i32) -> i32 {
    let (y, m, _) = crate::ingest::dates::civil_from_days(i64::from(day));
    crate::ingest::dates::days_from_civil(y as i32, m, 1)
}

impl<'a> Tally<'a> {
    /// A row of `source` and council `la` on `day`, of `person`, with `flags` (bit `i`:
    /// the row counts under count `i`; bit 0 is every row).
    pub fn add(
        &mut self,
        source: &'a str,
        la: Option<&'a str>,
        day: i32,
        person: Option<u32>,
        flags: u8,
    ) {
        let group = match self.last {
            Some((s, l, from, to, g)) if s == source && l == la && (from..to).contains(&day) => g,
            _ => {
                let month = month_start(day);
                let key = (source, la, month);
                let g = match self.index.get(&key) {
                    Some(&g) => g,
                    None => {
                        let g = self.keys.len() as u32;
                        self.index.insert(key, g);
                        self.keys.push(key);
                        self.rows.push([0; FLAGS]);
                        g
                    }
                };
                self.last = Some((source, la, month, month_start(month + 31), g));
                g
            }
        };
        let counts = &mut self.rows[group as usize];
        for (i, count) in counts.iter_mut().enumerate() {
            *count += i64::from(flags >> i & 1);
        }
        self.people.add(group, person, flags);
    }

    /// One row per group: `source`, `la_code`, `month` (Date), then `counts` and
    /// `people` (names of the [`FLAGS`] counts and of the people behind each).
    pub fn finish(
        mut self,
        counts: [&str; FLAGS],
        people: [&str; FLAGS],
    ) -> PolarsResult<DataFrame> {
        let persons = std::mem::take(&mut self.people).count(self.keys.len(), FLAGS);
        let mut columns = vec![
            Column::new(
                "source".into(),
                self.keys.iter().map(|k| k.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "la_code".into(),
                self.keys.iter().map(|k| k.1).collect::<Vec<_>>(),
            ),
            Column::new(
                "month".into(),
                self.keys.iter().map(|k| k.2).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)?,
        ];
        for (i, name) in counts.iter().enumerate() {
            let values: Vec<i64> = self.rows.iter().map(|r| r[i]).collect();
            columns.push(Column::new((*name).into(), values));
        }
        for (name, values) in people.iter().zip(persons) {
            columns.push(Column::new((*name).into(), values));
        }
        DataFrame::new(self.keys.len(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_the_fewest_people_behind_them_per_group() {
        let mut t = Tally::default();
        let day = crate::ingest::dates::days_from_civil(2026, 8, 14);
        // One person, nine rows, three of them flagged 1.
        for i in 0..9 {
            t.add("cld", Some("904"), day, Some(7), 1 | u8::from(i < 3) << 1);
        }
        // A second group: two rows without a person, one person with flag 2.
        t.add("apc", None, day, None, 1);
        t.add("apc", None, day + 1, None, 1 | 1 << 2);
        t.add("apc", None, day, Some(3), 1);
        let out = t
            .finish(["r", "a", "b", "c", "d"], ["pr", "pa", "pb", "pc", "pd"])
            .unwrap();
        let ints = |c: &str| -> Vec<i64> {
            out.column(c)
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        assert_eq!(ints("r"), [9, 3]);
        assert_eq!(ints("a"), [3, 0]);
        assert_eq!(ints("b"), [0, 1]);
        assert_eq!(
            ints("pr"),
            [1, 1],
            "rows without a person may be the one with"
        );
        assert_eq!(ints("pa"), [1, 0]);
        assert_eq!(ints("pb"), [0, 1], "no person has it: one more");
        let month = out.column("month").unwrap().cast(&DataType::Int32).unwrap();
        assert_eq!(
            month.i32().unwrap().get(0),
            Some(crate::ingest::dates::days_from_civil(2026, 8, 1))
        );
    }
}
