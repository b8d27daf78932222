//! Dense person numbers for linkage.
//!
//! Pseudonyms are 64-character strings; joining and grouping millions of rows on them
//! hashes and compares 64 bytes per row. Before linkage every distinct `person_id` of
//! spells, attendances and social-care events gets a number (`_person`, UInt32, null
//! where `person_id` is null), the same number for the same pseudonym in every frame.
//! Joins on it are exact (it is a lookup table, not a hash), and it never leaves the run:
//! datasets are written without it.

use std::collections::HashMap;

use polars::prelude::*;

/// The column holding the person number.
pub const PERSON: &str = "_person";

/// Adds [`PERSON`] to each frame, numbering distinct `person_id`s across all of them.
pub fn number_persons(frames: &mut [&mut DataFrame]) -> PolarsResult<()> {
    let numbers: Vec<UInt32Chunked> = {
        let mut seen: HashMap<&str, u32, foldhash::fast::RandomState> = HashMap::default();
        let mut out = Vec::with_capacity(frames.len());
        for df in frames.iter() {
            let ids = df.column("person_id")?.str()?;
            let numbered: UInt32Chunked = ids
                .iter()
                .map(|id| {
                    id.map(|id| {
                        let next = seen.len() as u32;
                        *seen.entry(id).or_insert(next)
                    })
                })
                .collect();
            out.push(numbered);
        }
        out
    };
    for (df, n) in frames.iter_mut().zip(numbers) {
        df.with_column(n.into_series().with_name(PERSON.into()).into_column())?;
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
        assert_eq!(n(&a), [Some(0), None, Some(1), Some(0)]);
        assert_eq!(n(&b), [Some(1), Some(2), None]);
    }
}
