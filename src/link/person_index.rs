//! Dense person numbers for linkage, and the pseudonyms they stand for.
//!
//! Pseudonyms are 32-character strings: held once per row they are much of a run's
//! memory (a string view and its bytes, 48 of an A&E attendance's ~100 bytes), and
//! joining or grouping on them hashes and compares 32 bytes per row. So after ingest every
//! distinct `person_id` of spells, attendances and social-care events is numbered
//! (`_person`, UInt32, null where `person_id` is null) and frames carry the number in
//! the pseudonym's place. [`Persons`] holds each distinct pseudonym once and puts them
//! back, file by file, as datasets are written ([`Persons::restore`]).
//!
//! The number is the pseudonym's rank among the run's distinct pseudonyms, so numbers
//! order as the pseudonyms do: `min(_person)` picks the same person as `min(person_id)`
//! (the CLD person-key rule relies on it), and numbering does not depend on the number
//! of threads. Pseudonyms are read one staged file at a time ([`Numbering::push`]), so
//! the run never holds every row's pseudonym at once.
//!
//! Numbering runs on one thread per core: each thread owns the pseudonyms of one bucket
//! (by a hash of the text), so no lock is taken.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use polars::prelude::*;
use polars_arrow::array::Array;

/// The column holding the person number.
pub const PERSON: &str = "_person";

/// The column the person number stands in for.
pub const PERSON_ID: &str = "person_id";

/// A hasher for pseudonyms: they are already uniformly random, so mixing their first and
/// last eight bytes is enough (equality is still checked on the whole text).
#[derive(Default, Clone, Copy)]
struct EdgeBytes;

struct EdgeHasher(u64);

impl BuildHasher for EdgeBytes {
    type Hasher = EdgeHasher;
    fn build_hasher(&self) -> EdgeHasher {
        EdgeHasher(0)
    }
}

impl Hasher for EdgeHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(5) ^ edge_hash(bytes);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn edge_hash(bytes: &[u8]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let n = bytes.len();
    let head = word(&bytes[..n.min(8)]);
    let tail = word(&bytes[n.saturating_sub(8)..]);
    (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

const NONE: u32 = u32::MAX;

/// Pseudonyms numbered as they stream past, part by part; [`Numbering::finish`] turns
/// the provisional numbers into ranks.
pub struct Numbering {
    /// One map per bucket: pseudonym → its index within the bucket.
    buckets: Vec<HashMap<Box<str>, u32, EdgeBytes>>,
    /// Every row pushed so far: `index × buckets + bucket`, or [`NONE`] for null.
    codes: Vec<u32>,
}

impl Numbering {
    /// Numbering on `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        Numbering {
            buckets: (0..threads.clamp(1, 64))
                .map(|_| HashMap::default())
                .collect(),
            codes: Vec::new(),
        }
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> usize {
        self.codes.len()
    }

    /// Numbers the next rows (their pseudonyms, or null).
    pub fn push(&mut self, ids: &StringChunked) -> PolarsResult<()> {
        let n = self.buckets.len();
        let start = self.codes.len();
        self.codes.resize(start + ids.len(), NONE);
        let out = &mut self.codes[start..];
        // Each thread fills in its bucket's rows and leaves the others at NONE.
        let filled: Vec<Vec<u32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .buckets
                .iter_mut()
                .enumerate()
                .map(|(bucket, seen)| {
                    scope.spawn(move || {
                        let mut number = |id: &str| {
                            if bucket_of(id, n) != bucket {
                                return NONE;
                            }
                            let local = match seen.get(id) {
                                Some(&local) => local,
                                None => {
                                    let local = seen.len() as u32;
                                    seen.insert(id.into(), local);
                                    local
                                }
                            };
                            local * n as u32 + bucket as u32
                        };
                        let mut codes = Vec::with_capacity(ids.len());
                        for arr in ids.downcast_iter() {
                            // A row whose view (length, first bytes, and where its
                            // bytes are) is the previous row's holds the same pseudonym:
                            // rows of one person come together in an extract, and read
                            // from a dictionary page they share their bytes.
                            let validity = arr.validity();
                            let mut last: Option<(u128, u32)> = None;
                            for (i, view) in arr.views().iter().enumerate() {
                                if validity.is_some_and(|v| !v.get_bit(i)) {
                                    codes.push(NONE);
                                    continue;
                                }
                                let key = view.as_u128();
                                let code = match last {
                                    Some((k, code)) if k == key => code,
                                    _ => number(arr.value(i)),
                                };
                                last = Some((key, code));
                                codes.push(code);
                            }
                        }
                        codes
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if filled.iter().any(|f| f.len() != out.len()) {
            polars_bail!(ComputeError: "a person-numbering thread failed");
        }
        for part in &filled {
            for (o, &c) in out.iter_mut().zip(part) {
                *o = (*o).min(c);
            }
        }
        let distinct: usize = self.buckets.iter().map(HashMap::len).sum();
        if distinct as u64 * n as u64 >= u64::from(NONE) {
            polars_bail!(ComputeError: "more distinct pseudonyms than person numbers can hold");
        }
        Ok(())
    }

    /// The pseudonym table and every pushed row's person number, in push order.
    pub fn finish(self) -> (Persons, UInt32Chunked) {
        let n = self.buckets.len();
        // Sorted by the first 8 bytes as a big-endian integer (zero-padded: the same
        // order as the bytes), then by the whole text when those are equal: the same
        // order as comparing the texts, without following a pointer and calling memcmp
        // for every comparison (measured: 2 % of a run's CPU at 3 M rows).
        let mut all: Vec<(u64, Box<str>, u32)> = Vec::new();
        for (bucket, seen) in self.buckets.into_iter().enumerate() {
            all.extend(
                seen.into_iter()
                    .map(|(id, local)| (prefix_key(&id), id, local * n as u32 + bucket as u32)),
            );
        }
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let width = all
            .iter()
            .map(|(_, _, c)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut rank = vec![NONE; width];
        for (r, (_, _, code)) in all.iter().enumerate() {
            rank[*code as usize] = r as u32;
        }
        let ids: StringChunked = all.iter().map(|(_, id, _)| Some(id.as_ref())).collect();
        drop(all);
        let numbers: UInt32Chunked = self
            .codes
            .iter()
            .map(|&c| (c != NONE).then(|| rank[c as usize]))
            .collect();
        (
            Persons {
                ids: ids.with_name(PERSON_ID.into()),
            },
            numbers.with_name(PERSON.into()),
        )
    }
}

/// The first 8 bytes of `id` as a big-endian integer, zero-padded: ordering these orders
/// the texts, except that texts equal in their first 8 bytes (or up to a zero byte) tie.
fn prefix_key(id: &str) -> u64 {
    let mut w = [0u8; 8];
    let b = id.as_bytes();
    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    u64::from_be_bytes(w)
}

fn bucket_of(id: &str, buckets: usize) -> usize {
    (edge_hash(id.as_bytes()) >> 32) as usize % buckets
}

/// Each distinct pseudonym of the run, once, in order: number `k` is `ids[k]`.
#[derive(Clone)]
pub struct Persons {
    ids: StringChunked,
}

impl Persons {
    /// Distinct persons.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no row had a pseudonym.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// `df` with its [`PERSON`] column replaced, in place, by `person_id` (the
    /// pseudonyms); a frame without [`PERSON`] is returned as it is.
    pub fn restore(&self, mut df: DataFrame) -> PolarsResult<DataFrame> {
        let Some(at) = df.get_column_index(PERSON) else {
            return Ok(df);
        };
        let numbers = df.column(PERSON)?.u32()?.clone();
        let ids = self.ids.take(&numbers)?.with_name(PERSON_ID.into());
        df.replace_column(at, ids.into_series().into_column())?;
        Ok(df)
    }
}

/// A set of person numbers: one flag per number, so membership is an index, not a hash
/// or a join.
#[derive(Default)]
pub struct PersonSet {
    flags: Vec<bool>,
}

impl PersonSet {
    /// Adds every non-null number of `persons`.
    pub fn extend(&mut self, persons: &UInt32Chunked) {
        for p in persons.iter().flatten() {
            let p = p as usize;
            if p >= self.flags.len() {
                self.flags.resize(p + 1, false);
            }
            self.flags[p] = true;
        }
    }

    /// The set of the non-null numbers of every column.
    pub fn of(columns: &[&UInt32Chunked]) -> Self {
        let mut set = PersonSet::default();
        for c in columns {
            set.extend(c);
        }
        set
    }

    /// Whether `p` is in the set.
    pub fn contains(&self, p: u32) -> bool {
        self.flags.get(p as usize).copied().unwrap_or(false)
    }

    /// For each row of `persons`, whether its person is in the set (null: false).
    pub fn flag(&self, persons: &UInt32Chunked, name: &str) -> BooleanChunked {
        persons
            .iter()
            .map(|p| Some(p.is_some_and(|p| self.contains(p))))
            .collect::<BooleanChunked>()
            .with_name(name.into())
    }

    /// The numbers in the set, ascending, as a one-column frame ([`PERSON`]).
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let numbers: Vec<u32> = (0..self.flags.len() as u32)
            .filter(|p| self.flags[*p as usize])
            .collect();
        DataFrame::new(numbers.len(), vec![Column::new(PERSON.into(), numbers)])
    }
}

/// Adds [`PERSON`] to each frame, numbering distinct `person_id`s across all of them, and
/// returns the table that turns numbers back into pseudonyms.
pub fn number_persons(frames: &mut [&mut DataFrame]) -> PolarsResult<Persons> {
    let mut numbering = Numbering::new(crate::parallel::cores());
    for df in frames.iter() {
        numbering.push(df.column(PERSON_ID)?.str()?)?;
    }
    let (persons, numbers) = numbering.finish();
    let mut offset = 0;
    for df in frames.iter_mut() {
        let rows = df.height();
        df.with_column(
            numbers
                .slice(offset as i64, rows)
                .into_series()
                .into_column(),
        )?;
        offset += rows;
    }
    Ok(persons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_pseudonym_gets_the_same_number_in_every_frame_and_null_stays_null() {
        let mut a = df!("person_id" => [Some("P1"), None, Some("P2"), Some("P1")]).unwrap();
        let mut b = df!("person_id" => [Some("P2"), Some("P3"), None]).unwrap();
        number_persons(&mut [&mut a, &mut b]).unwrap();
        let n = |df: &DataFrame| -> Vec<Option<u32>> {
            df.column(PERSON).unwrap().u32().unwrap().iter().collect()
        };
        let (na, nb) = (n(&a), n(&b));
        assert_eq!((na[1], nb[2]), (None, None));
        assert_eq!(na[0], na[3]);
        assert_eq!(na[2], nb[0]);
        let distinct: std::collections::BTreeSet<u32> =
            [na[0], na[2], nb[1]].into_iter().flatten().collect();
        assert_eq!(distinct.len(), 3, "{na:?} {nb:?}");
    }

    #[test]
    fn many_pseudonyms_are_numbered_exactly_once_each() {
        let ids: Vec<String> = (0..5000).map(|i| format!("{:064X}", i * 7919)).collect();
        let mut a = df!("person_id" => ids.clone()).unwrap();
        let mut b = df!("person_id" => ids.iter().rev().cloned().collect::<Vec<_>>()).unwrap();
        number_persons(&mut [&mut a, &mut b]).unwrap();
        let n = |df: &DataFrame| -> Vec<u32> {
            df.column(PERSON)
                .unwrap()
                .u32()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let (na, nb) = (n(&a), n(&b));
        let mut rev = nb.clone();
        rev.reverse();
        assert_eq!(na, rev, "the same pseudonym, the same number");
        let distinct: std::collections::BTreeSet<u32> = na.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            ids.len(),
            "different pseudonyms, different numbers"
        );
    }

    #[test]
    fn numbers_are_ranks_so_they_order_as_the_pseudonyms_do() {
        let mut a = df!(PERSON_ID => [Some("c"), None, Some("a"), Some("c")]).unwrap();
        let mut b = df!(PERSON_ID => [Some("b"), Some("a")]).unwrap();
        let persons = number_persons(&mut [&mut a, &mut b]).unwrap();
        let n = |df: &DataFrame| -> Vec<Option<u32>> {
            df.column(PERSON).unwrap().u32().unwrap().iter().collect()
        };
        assert_eq!(n(&a), [Some(2), None, Some(0), Some(2)]);
        assert_eq!(n(&b), [Some(1), Some(0)]);
        assert_eq!(persons.len(), 3);
    }

    #[test]
    fn ranks_follow_text_order_when_texts_share_or_lack_an_8_byte_prefix() {
        // Short texts, texts equal in their first 8 bytes, a zero byte, multi-byte UTF-8.
        let texts = [
            "",
            "A",
            "A\0",
            "A\0\0",
            "AB",
            "ABCDEFGH",
            "ABCDEFGH0",
            "ABCDEFGHZ",
            "ABCDEFGG~",
            "B",
            "\u{e9}",
            "ABCDEFGH\u{e9}",
            "0123456789ABCDEF0123",
        ];
        let ca: StringChunked = texts.iter().map(|t| Some(*t)).collect();
        let mut numbering = Numbering::new(3);
        numbering.push(&ca).unwrap();
        let (_, numbers) = numbering.finish();
        let mut sorted = texts.to_vec();
        sorted.sort();
        let expected: Vec<u32> = texts
            .iter()
            .map(|t| sorted.iter().position(|s| s == t).unwrap() as u32)
            .collect();
        assert_eq!(numbers.into_no_null_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn numbering_does_not_depend_on_threads_or_how_rows_are_split_into_parts() {
        let ids: Vec<Option<String>> = (0..3000)
            .map(|i: u64| {
                (!i.is_multiple_of(7)).then(|| format!("{:064x}", (i * 2_654_435_761) % 1013))
            })
            .collect();
        let ca: StringChunked = ids.iter().map(|s| s.as_deref()).collect();
        let number = |threads: usize, cut: usize| {
            let mut numbering = Numbering::new(threads);
            numbering.push(&ca.slice(0, cut)).unwrap();
            numbering
                .push(&ca.slice(cut as i64, ca.len() - cut))
                .unwrap();
            assert_eq!(numbering.rows(), ca.len());
            numbering.finish().1
        };
        let one = number(1, 0);
        for (threads, cut) in [(2, 1000), (3, 1), (8, 2999)] {
            assert!(one.equal_missing(&number(threads, cut)).all());
        }
    }

    /// Rows read from a dictionary page share their pseudonym's bytes, and runs of one
    /// person are numbered from the previous row: the numbers must be those of the same
    /// text held row by row, with nulls inside runs and runs across chunks.
    #[test]
    fn runs_read_from_a_dictionary_are_numbered_as_the_same_text_held_row_by_row() {
        let ids: Vec<Option<String>> = (0..4000u64)
            .map(|i| (i % 13 != 5).then(|| format!("{:064X}", (i / 6) % 97)))
            .collect();
        let mut df = df!(PERSON_ID => ids.clone()).unwrap();
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .with_row_group_size(Some(1500))
            .finish(&mut df)
            .unwrap();
        let read = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .unwrap();
        let read = read.column(PERSON_ID).unwrap().str().unwrap().clone();
        assert!(read.chunks().len() > 1, "several chunks");
        let held: StringChunked = ids.iter().map(|s| s.as_deref()).collect();
        let number = |ca: &StringChunked| {
            let mut numbering = Numbering::new(2);
            numbering.push(ca).unwrap();
            numbering.finish()
        };
        let ((p1, a), (p2, b)) = (number(&read), number(&held));
        assert!(a.equal_missing(&b).all());
        assert_eq!((p1.len(), p2.len()), (97, 97));
        assert_eq!(a.null_count(), ids.iter().filter(|i| i.is_none()).count());
    }

    #[test]
    fn restore_puts_each_pseudonym_back_in_the_numbers_place() {
        let mut df = df!("a" => [1i64, 2, 3], PERSON_ID => [Some("y"), None, Some("x")], "z" => [0i64, 0, 0]).unwrap();
        let persons = number_persons(&mut [&mut df]).unwrap();
        let numbered = df.drop(PERSON_ID).unwrap();
        let numbered = numbered.select(["a", PERSON, "z"]).unwrap();
        let back = persons.restore(numbered).unwrap();
        let names: Vec<&str> = back.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["a", PERSON_ID, "z"]);
        let ids: Vec<Option<&str>> = back
            .column(PERSON_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("y"), None, Some("x")]);
        let aggregate = df!("n" => [1i64]).unwrap();
        assert!(
            persons
                .restore(aggregate.clone())
                .unwrap()
                .equals(&aggregate)
        );
    }

    #[test]
    fn a_person_set_flags_members_and_lists_them_in_order() {
        let a = UInt32Chunked::from_iter_options("a".into(), [Some(5), None, Some(2)].into_iter());
        let b = UInt32Chunked::from_slice("b".into(), &[2, 9]);
        let set = PersonSet::of(&[&a, &b]);
        assert!(set.contains(9) && set.contains(5) && !set.contains(3) && !set.contains(100));
        let probe =
            UInt32Chunked::from_iter_options("p".into(), [Some(2), Some(4), None].into_iter());
        let flags: Vec<Option<bool>> = set.flag(&probe, "linked").iter().collect();
        assert_eq!(flags, [Some(true), Some(false), Some(false)]);
        let listed: Vec<Option<u32>> = set
            .to_frame()
            .unwrap()
            .column(PERSON)
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(listed, [Some(2), Some(5), Some(9)]);
    }
}
