//! Dense person numbers for linkage.
//!
//! Pseudonyms are 64-character strings; joining and grouping millions of rows on them
//! hashes and compares 64 bytes per row. Before linkage every distinct `person_id` of
//! spells, attendances and social-care events gets a number (`_person`, UInt32, null
//! where `person_id` is null), the same number for the same pseudonym in every frame.
//! Joins on it are exact (it is a lookup table, not a hash), and it never leaves the run:
//! datasets are written without it.
//!
//! Numbering runs on one thread per core: each thread owns the pseudonyms of one bucket
//! (by a hash of the text) and numbers them `k × threads + bucket`, so no number is
//! shared and no lock is taken.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use polars::prelude::*;

/// The column holding the person number.
pub const PERSON: &str = "_person";

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

/// Adds [`PERSON`] to each frame, numbering distinct `person_id`s across all of them.
pub fn number_persons(frames: &mut [&mut DataFrame]) -> PolarsResult<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let numbers: Vec<Vec<Option<u32>>> = {
        let ids: Vec<&StringChunked> = frames
            .iter()
            .map(|df| df.column("person_id").and_then(|c| c.str()))
            .collect::<PolarsResult<_>>()?;
        let ids = &ids;
        // Each thread fills its bucket's rows and leaves the others at `u32::MAX`.
        let parts: Vec<Vec<Vec<u32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|bucket| {
                    scope.spawn(move || {
                        let mut seen: HashMap<&str, u32, EdgeBytes> = HashMap::default();
                        ids.iter()
                            .map(|ca| {
                                ca.iter()
                                    .map(|id| match id {
                                        Some(id)
                                            if (edge_hash(id.as_bytes()) >> 32) as usize
                                                % threads
                                                == bucket =>
                                        {
                                            let next = (seen.len() * threads + bucket) as u32;
                                            *seen.entry(id).or_insert(next)
                                        }
                                        _ => u32::MAX,
                                    })
                                    .collect()
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if parts.iter().any(|p| p.len() != ids.len()) {
            polars_bail!(ComputeError: "a person-numbering thread failed");
        }
        (0..ids.len())
            .map(|f| {
                (0..ids[f].len())
                    .map(|row| parts.iter().map(|p| p[f][row]).find(|&n| n != u32::MAX))
                    .collect()
            })
            .collect()
    };
    for (df, n) in frames.iter_mut().zip(numbers) {
        let ca: UInt32Chunked = n.into_iter().collect();
        df.with_column(ca.into_series().with_name(PERSON.into()).into_column())?;
    }
    Ok(())
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
}
