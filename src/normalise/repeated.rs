//! Records that repeat: rows of an entity with the same record key (`[entity]
//! record_key`, e.g. a spell's provider and spell number) in two input files — a
//! resubmitted extract left beside the original, a transfer's partial copy — or twice in
//! one file. Both are kept (which is right cannot be told from the rows), so each is
//! counted twice in every measure: the run says so, naming the files, so the operator
//! can remove the file that is not wanted.
//!
//! Keys are held as 64-bit hashes with the first file that had them (12 bytes a row at
//! most, while only person numbers are otherwise held at that point of a run); two
//! different keys sharing a hash (about one chance in a million at 10 M rows) would be
//! reported as one repeated record.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use polars::prelude::*;

use crate::link::by_person::text_iter;
use crate::schema::Entity;

/// The seed of the key hash (fixed: the same keys give the same hashes in every run).
const KEY_SEED: u64 = 0x6a6f_696e_6564_7570;

/// Rows whose record key was seen before, by the file that had it first and the file
/// repeating it.
pub struct RepeatedRecords {
    entity: String,
    key: Vec<String>,
    seen: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    files: Vec<String>,
    file_index: HashMap<String, u32>,
    repeats: BTreeMap<(u32, u32), u64>,
}

impl RepeatedRecords {
    /// A check of `entity`'s records, or `None` when it declares no record key.
    pub fn new(entity: &Entity) -> Option<Self> {
        (!entity.record_key.is_empty()).then(|| RepeatedRecords {
            entity: entity.name.clone(),
            key: entity.record_key.clone(),
            seen: HashMap::default(),
            files: Vec::new(),
            file_index: HashMap::new(),
            repeats: BTreeMap::new(),
        })
    }

    /// The fields the check reads.
    pub fn key(&self) -> &[String] {
        &self.key
    }

    /// Takes the rows of `frame` (holding the key fields) read from input file `file`.
    /// Rows with a null key field name no record and are passed over.
    pub fn add(&mut self, file: &str, frame: &DataFrame) -> PolarsResult<()> {
        let next = self.files.len() as u32;
        let index = *self.file_index.entry(file.to_string()).or_insert(next);
        if index == next {
            self.files.push(file.to_string());
        }
        let mut columns = Vec::with_capacity(self.key.len());
        for k in &self.key {
            columns.push(text_iter(frame.column(k)?)?);
        }
        let state = foldhash::quality::FixedState::with_seed(KEY_SEED);
        for _ in 0..frame.height() {
            let mut h = state.build_hasher();
            let mut null = false;
            // Every key column moves on a row, whatever the others hold.
            for c in columns.iter_mut() {
                match c.next().flatten() {
                    Some(v) => {
                        h.write(v.as_bytes());
                        h.write_u8(0xff);
                    }
                    None => null = true,
                }
            }
            if null {
                continue;
            }
            match self.seen.entry(h.finish()) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    *self.repeats.entry((*first.get(), index)).or_default() += 1;
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(index);
                }
            }
        }
        Ok(())
    }

    /// One warning per pair of files (or file repeating itself) with repeated records.
    pub fn warnings(&self) -> Vec<String> {
        let key = self.key.join(" and ");
        self.repeats
            .iter()
            .map(|(&(first, then), n)| {
                let (first, then) = (&self.files[first as usize], &self.files[then as usize]);
                if first == then {
                    format!(
                        "{}: {n} row(s) of {then} repeat the {key} of an earlier row of the same file: all are kept, so each such record is counted more than once",
                        self.entity
                    )
                } else {
                    format!(
                        "{}: {n} record(s) (by {key}) are in both {first} and {then}: both rows are kept, so each is counted twice; if one file replaces the other, remove the one not wanted from the source",
                        self.entity
                    )
                }
            })
            .collect()
    }
}

/// Hashes a key that is already a hash: the map's own hashing would only cost time.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, ValueType};

    fn entity(key: &[&str]) -> Entity {
        let field = |name: &str| Field {
            name: name.into(),
            kind: ValueType::String,
            nullable: true,
            identifier: false,
            codes: None,
            pseudonym: None,
            description: String::new(),
        };
        Entity {
            name: "hospital_spell".into(),
            description: String::new(),
            fields: vec![field("provider_code"), field("spell_id")],
            record_key: key.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn frame(providers: &[Option<&str>], ids: &[Option<&str>]) -> DataFrame {
        df!("provider_code" => providers, "spell_id" => ids).unwrap()
    }

    #[test]
    fn repeats_are_counted_by_the_first_file_and_the_file_repeating() {
        let mut r = RepeatedRecords::new(&entity(&["provider_code", "spell_id"])).unwrap();
        let (a, b) = (Some("RXX"), Some("RYY"));
        r.add(
            "apc_03.csv",
            &frame(&[a, a, b], &[Some("1"), Some("2"), Some("1")]),
        )
        .unwrap();
        // Same spell number at another provider is another spell; a null key is none.
        r.add(
            "apc_03-resubmitted.csv",
            &frame(
                &[a, b, a, None],
                &[Some("1"), Some("3"), Some("2"), Some("9")],
            ),
        )
        .unwrap();
        r.add("apc_03.csv", &frame(&[b, None], &[Some("1"), Some("1")]))
            .unwrap();
        assert_eq!(
            r.warnings(),
            [
                "hospital_spell: 1 row(s) of apc_03.csv repeat the provider_code and spell_id of an earlier row of the same file: all are kept, so each such record is counted more than once",
                "hospital_spell: 2 record(s) (by provider_code and spell_id) are in both apc_03.csv and apc_03-resubmitted.csv: both rows are kept, so each is counted twice; if one file replaces the other, remove the one not wanted from the source",
            ]
        );
    }

    #[test]
    fn keys_are_compared_field_by_field_not_as_joined_text() {
        let mut r = RepeatedRecords::new(&entity(&["provider_code", "spell_id"])).unwrap();
        r.add("a.csv", &frame(&[Some("RX")], &[Some("X1")]))
            .unwrap();
        r.add("b.csv", &frame(&[Some("RXX")], &[Some("1")]))
            .unwrap();
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn an_entity_without_a_record_key_is_not_checked() {
        assert!(RepeatedRecords::new(&entity(&[])).is_none());
    }
}
