//! The size and SHA-256 of each file of an ingest cache entry, recorded in its
//! `report.json` when the entry is made and checked when it is reused.
//!
//! Reading only the Parquet footers and comparing row counts missed bytes damaged in a
//! data page (every later run failed decoding them, naming no entry) and two entries of
//! equal counts whose row files had been swapped (the other file's rows published,
//! silently). A file is trusted only when its bytes are the bytes written: one
//! sequential read of each reused file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One file of a cache entry as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// The size and SHA-256 of a file, read once from start to end.
fn record_of(path: &Path) -> std::io::Result<FileRecord> {
    let (bytes, sha256) = crate::pull::local::sha256_to_end(&mut File::open(path)?)?;
    Ok(FileRecord { bytes, sha256 })
}

/// The records of the entry's data files (`*.parquet` in `dir`), by file name.
pub fn record(dir: &Path) -> Result<BTreeMap<String, FileRecord>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("listing", dir, e))? {
        let path = entry.map_err(|e| Error::io("listing", dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".parquet") {
            let rec = record_of(&path).map_err(|e| Error::io("hashing", &path, e))?;
            out.insert(name.to_string(), rec);
        }
    }
    Ok(out)
}

/// Checks the data files of the entry in `dir` against `recorded`: the same files, each
/// of its recorded size and SHA-256. Otherwise, what is wrong, naming the file. An entry
/// with no record (made by an older version) is not trusted.
pub fn check(
    dir: &Path,
    recorded: &BTreeMap<String, FileRecord>,
) -> std::result::Result<(), String> {
    if recorded.is_empty() {
        return Err("no record of its files' sizes and hashes".to_string());
    }
    let found = record_names(dir)?;
    if let Some(extra) = found.iter().find(|n| !recorded.contains_key(*n)) {
        return Err(format!("{extra}: not a file it was written with"));
    }
    // Sizes first: a truncated or swapped file of another size costs no read.
    for (name, rec) in recorded {
        let path = dir.join(name);
        let len = std::fs::metadata(&path)
            .map_err(|e| format!("{name}: {e}"))?
            .len();
        if len != rec.bytes {
            return Err(format!("{name}: {len} bytes, written as {}", rec.bytes));
        }
    }
    for (name, rec) in recorded {
        let now = record_of(&dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        if now.sha256 != rec.sha256 {
            return Err(format!("{name}: its SHA-256 is not the one written"));
        }
    }
    Ok(())
}

/// The names of the data files in `dir`.
fn record_names(dir: &Path) -> std::result::Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| n.ends_with(".parquet"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_in_place_or_swapped_fails_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("rows-000.parquet"), b"abcdef").unwrap();
        std::fs::write(d.join("quarantine.parquet"), b"qq").unwrap();
        std::fs::write(d.join("report.json"), b"{}").unwrap();
        let rec = record(d).unwrap();
        assert_eq!(rec.len(), 2, "report.json is not a data file");
        assert_eq!(check(d, &rec), Ok(()));

        std::fs::write(d.join("rows-000.parquet"), b"abXdef").unwrap();
        let why = check(d, &rec).unwrap_err();
        assert!(why.starts_with("rows-000.parquet: its SHA-256"), "{why}");

        std::fs::write(d.join("rows-000.parquet"), b"abc").unwrap();
        let why = check(d, &rec).unwrap_err();
        assert_eq!(why, "rows-000.parquet: 3 bytes, written as 6");

        std::fs::write(d.join("rows-000.parquet"), b"abcdef").unwrap();
        std::fs::write(d.join("rows-001.parquet"), b"x").unwrap();
        let why = check(d, &rec).unwrap_err();
        assert!(why.starts_with("rows-001.parquet: not a file"), "{why}");
        std::fs::remove_file(d.join("rows-001.parquet")).unwrap();

        std::fs::remove_file(d.join("quarantine.parquet")).unwrap();
        assert!(
            check(d, &rec)
                .unwrap_err()
                .starts_with("quarantine.parquet: ")
        );
        assert_eq!(
            check(d, &BTreeMap::new()).unwrap_err(),
            "no record of its files' sizes and hashes"
        );
    }
}
