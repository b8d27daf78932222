//! Records that repeat: rows of an entity with the same record key (`[entity]
//! record_key`, e.g. a spell's provider and spell number) in two input files — a
//! resubmitted extract left beside the original, a transfer's partial copy — or twice in
//! one file. Every copy is kept (which is right cannot be told from the rows), so each is
//! counted once per copy in every measure: the run says so in a warning naming the files
//! (without counts: warnings reach the report, which shows counts only under the
//! disclosure rule), and the manifest gives the rows per pair of files.
//!
//! A repeat is charged to the file of the copy before it (three copies in a, b and c:
//! b repeats a, c repeats b). Keys are held as 64-bit hashes with the file of their last
//! copy, in a map of about 16-34 bytes a row, one entity at a time; two different keys
//! sharing a hash (about one chance in a million at 10 M rows) would be reported as one
//! repeated record.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use polars::prelude::*;

use crate::link::by_person::text_iter;
use crate::schema::Entity;

/// The seed of the key hash (fixed: the same keys give the same hashes in every run).
const KEY_SEED: u64 = 0x6a6f_696e_6564_7570;

/// Rows whose record key was seen before, by the file of the copy before and the file
/// repeating it.
pub struct RepeatedRecords {
    entity: String,
    key: Vec<String>,
    seen: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    files: Vec<String>,
    file_index: HashMap<String, u32>,
    repeats: BTreeMap<(u32, u32), u64>,
}

/// Rows of one file repeating the records of another (or of itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Repeats {
    /// The entity.
    pub entity: String,
    /// The fields of its record key.
    pub key: Vec<String>,
    /// The file holding the copy before.
    pub earlier_file: String,
    /// The file repeating it.
    pub file: String,
    /// The rows repeat earlier rows of their own file.
    pub within_file: bool,
    /// Rows of `file` repeating a record of `earlier_file`.
    pub rows: u64,
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

    /// Takes the rows of `frame` (holding the key fields) read from the input file
    /// `file` (its path: two files of one name in two folders are two files), shown as
    /// `shown`. Rows with a null key field name no record and are passed over.
    pub fn add(&mut self, file: &str, shown: &str, frame: &DataFrame) -> PolarsResult<()> {
        let next = self.files.len() as u32;
        let index = *self.file_index.entry(file.to_string()).or_insert(next);
        if index == next {
            self.files.push(shown.to_string());
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
            if let Some(before) = self.seen.insert(h.finish(), index) {
                *self.repeats.entry((before, index)).or_default() += 1;
            }
        }
        Ok(())
    }

    /// The rows repeating records, per pair of files.
    pub fn repeats(&self) -> Vec<Repeats> {
        self.repeats
            .iter()
            .map(|(&(earlier, file), &rows)| Repeats {
                entity: self.entity.clone(),
                key: self.key.clone(),
                earlier_file: self.files[earlier as usize].clone(),
                file: self.files[file as usize].clone(),
                within_file: earlier == file,
                rows,
            })
            .collect()
    }
}

impl Repeats {
    /// The run's warning: the files, not the count (warnings reach the report).
    pub fn warning(&self) -> String {
        let key = self.key.join(" and ");
        if self.within_file {
            format!(
                "{}: rows of {} repeat the {key} of an earlier row of the same file: all are kept, so each such record is counted more than once (rows: see the manifest's repeated_records)",
                self.entity, self.file
            )
        } else {
            format!(
                "{}: rows of {} repeat records (by {key}) of {}: every copy is kept and counted; if one file replaces the other, remove the one not wanted (a pulled file: its copy in landing/, which the next run reports as removed; rows: see the manifest's repeated_records)",
                self.entity, self.file, self.earlier_file
            )
        }
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

    fn pairs(r: &RepeatedRecords) -> Vec<(String, String, u64)> {
        r.repeats()
            .into_iter()
            .map(|x| (x.earlier_file, x.file, x.rows))
            .collect()
    }

    #[test]
    fn repeats_are_counted_by_the_file_of_the_copy_before_and_the_file_repeating() {
        let mut r = RepeatedRecords::new(&entity(&["provider_code", "spell_id"])).unwrap();
        let (a, b) = (Some("RXX"), Some("RYY"));
        r.add(
            "/in/apc_03.csv",
            "apc_03.csv",
            &frame(&[a, a, b], &[Some("1"), Some("2"), Some("1")]),
        )
        .unwrap();
        // Same spell number at another provider is another spell; a null key is none.
        r.add(
            "/in/apc_03-resubmitted.csv",
            "apc_03-resubmitted.csv",
            &frame(
                &[a, b, a, None],
                &[Some("1"), Some("3"), Some("2"), Some("9")],
            ),
        )
        .unwrap();
        // A second part of the first file (a range read on its own), and a third copy.
        r.add(
            "/in/apc_03.csv",
            "apc_03.csv",
            &frame(&[b, None], &[Some("1"), Some("1")]),
        )
        .unwrap();
        r.add(
            "/in/apc_03-again.csv",
            "apc_03-again.csv",
            &frame(&[a], &[Some("1")]),
        )
        .unwrap();
        assert_eq!(
            pairs(&r),
            [
                ("apc_03.csv".into(), "apc_03.csv".into(), 1),
                ("apc_03.csv".into(), "apc_03-resubmitted.csv".into(), 2),
                (
                    "apc_03-resubmitted.csv".into(),
                    "apc_03-again.csv".into(),
                    1
                ),
            ]
        );
        assert_eq!(
            r.repeats().iter().map(Repeats::warning).collect::<Vec<_>>(),
            [
                "hospital_spell: rows of apc_03.csv repeat the provider_code and spell_id of an earlier row of the same file: all are kept, so each such record is counted more than once (rows: see the manifest's repeated_records)",
                "hospital_spell: rows of apc_03-resubmitted.csv repeat records (by provider_code and spell_id) of apc_03.csv: every copy is kept and counted; if one file replaces the other, remove the one not wanted (a pulled file: its copy in landing/, which the next run reports as removed; rows: see the manifest's repeated_records)",
                "hospital_spell: rows of apc_03-again.csv repeat records (by provider_code and spell_id) of apc_03-resubmitted.csv: every copy is kept and counted; if one file replaces the other, remove the one not wanted (a pulled file: its copy in landing/, which the next run reports as removed; rows: see the manifest's repeated_records)",
            ]
        );
    }

    /// Two files shown alike (one name in two folders, or two names withheld for an NHS
    /// number) are still two files.
    #[test]
    fn files_are_told_apart_by_path_not_by_the_name_shown() {
        let mut r = RepeatedRecords::new(&entity(&["provider_code", "spell_id"])).unwrap();
        r.add(
            "/a/spells.csv",
            "spells.csv",
            &frame(&[Some("RXX")], &[Some("1")]),
        )
        .unwrap();
        r.add(
            "/b/spells.csv",
            "spells.csv",
            &frame(&[Some("RXX")], &[Some("1")]),
        )
        .unwrap();
        assert_eq!(pairs(&r).len(), 1);
        assert!(
            r.repeats()[0]
                .warning()
                .contains("rows of spells.csv repeat records")
        );
    }

    #[test]
    fn keys_are_compared_field_by_field_not_as_joined_text() {
        let mut r = RepeatedRecords::new(&entity(&["provider_code", "spell_id"])).unwrap();
        r.add("a.csv", "a.csv", &frame(&[Some("RX")], &[Some("X1")]))
            .unwrap();
        r.add("b.csv", "b.csv", &frame(&[Some("RXX")], &[Some("1")]))
            .unwrap();
        assert!(r.repeats().is_empty());
    }

    #[test]
    fn an_entity_without_a_record_key_is_not_checked() {
        assert!(RepeatedRecords::new(&entity(&[])).is_none());
    }
}
