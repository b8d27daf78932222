//! Incremental state: which inputs the published outputs were built from.
//!
//! `<out>/state/<pipeline>.json` is written last, after every output is in place. It records a
//! fingerprint of everything that shapes the outputs (joinedup's version, the pipeline
//! file, every schema, mapping and label mapping file, and the pseudonymisation key's
//! fingerprint, when there is a key) and
//! the content hash of every input file. A run whose fingerprint and inputs equal the
//! state has nothing to do. A run that is killed before writing it leaves the previous
//! state, so the next run redoes the work and converges on the same outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Plan;
use crate::error::{Error, Result};
use crate::pull::InputFile;

/// The saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Fingerprint of configuration, key and joinedup version.
    pub fingerprint: String,
    /// Input files per source: SHA-256 → path.
    pub inputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The run that wrote this state.
    pub run_id: String,
}

/// How the current inputs differ from the state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// `source: path` of files not in the state.
    pub new: Vec<String>,
    /// `source: path` of files in the state but gone now.
    pub removed: Vec<String>,
    /// Files unchanged since the state.
    pub unchanged: usize,
    /// True when configuration, key, pseudonym width or version changed (or there is no state).
    pub configuration_changed: bool,
}

impl Changes {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.removed.is_empty() && !self.configuration_changed
    }
}

/// One state file per pipeline, so pipelines sharing a data directory (the person-level
/// pipeline and the NHS England publications, say) do not see each other as changes.
fn path(out: &Path, pipeline: &str) -> PathBuf {
    let safe: String = pipeline
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.join("state").join(format!("{safe}.json"))
}

/// Reads a pipeline's state, if any.
pub fn load(out: &Path, pipeline: &str) -> Option<State> {
    std::fs::read_to_string(path(out, pipeline))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Writes a pipeline's state atomically.
pub fn save(out: &Path, pipeline: &str, state: &State) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(state).map_err(|e| Error::Internal(format!("state: {e}")))?;
    crate::publish::staging::write_atomic(&path(out, pipeline), &json)
}

/// The state the current inputs would leave.
pub fn current(fingerprint: &str, run_id: &str, sources: &[(String, Vec<InputFile>)]) -> State {
    State {
        version: 1,
        fingerprint: fingerprint.to_string(),
        inputs: sources
            .iter()
            .map(|(name, files)| {
                (
                    name.clone(),
                    files
                        .iter()
                        .map(|f| (f.sha256.clone(), f.path.display().to_string()))
                        .collect(),
                )
            })
            .collect(),
        run_id: run_id.to_string(),
    }
}

/// Compares the current inputs with the saved state.
pub fn changes(previous: Option<&State>, now: &State) -> Changes {
    let empty = BTreeMap::new();
    let mut c = Changes {
        configuration_changed: previous.is_none_or(|p| p.fingerprint != now.fingerprint),
        ..Changes::default()
    };
    let sources: BTreeSet<&String> = now
        .inputs
        .keys()
        .chain(previous.map(|p| p.inputs.keys()).into_iter().flatten())
        .collect();
    for s in sources {
        let before = previous.and_then(|p| p.inputs.get(s)).unwrap_or(&empty);
        let after = now.inputs.get(s).unwrap_or(&empty);
        for (sha, path) in after {
            if before.contains_key(sha) {
                c.unchanged += 1;
            } else {
                c.new.push(format!("{s}: {path}"));
            }
        }
        for (sha, path) in before {
            if !after.contains_key(sha) {
                c.removed.push(format!("{s}: {path}"));
            }
        }
    }
    c.new.sort();
    c.removed.sort();
    c
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
}

/// Fingerprint of everything that shapes the outputs besides the input files.
/// `pseudonyms` is what decides the pseudonyms ([`Pseudonymiser::provenance`]), empty
/// when the pipeline makes none.
///
/// [`Pseudonymiser::provenance`]: crate::normalise::pseudonym::Pseudonymiser::provenance
pub fn fingerprint(plan: &Plan, pseudonyms: &str) -> Result<String> {
    let mut files = vec![plan.file.clone()];
    files_under(&plan.schemas_dir, &mut files);
    let mut mappings: Vec<PathBuf> = plan
        .sources
        .iter()
        .map(|s| s.mapping.file.clone())
        .chain(plan.publications.iter().map(|p| p.labels.file.clone()))
        .collect();
    mappings.sort();
    mappings.dedup();
    let mut schema_files = files.split_off(1);
    schema_files.sort();
    files.extend(schema_files);
    files.extend(mappings);
    let mut h = Sha256::new();
    h.update(concat!("joinedup ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    h.update(pseudonyms.as_bytes());
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::io("reading", &f, e))?;
        h.update(
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .as_bytes(),
        );
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, sha: &str) -> InputFile {
        InputFile {
            path: path.into(),
            bytes: 1,
            sha256: sha.into(),
        }
    }

    #[test]
    fn the_configuration_fingerprint_covers_how_pseudonyms_are_made() {
        // A data directory written under another pseudonym scheme or key must be rebuilt
        // (state and ingest cache), never mixed with new pseudonyms.
        let plan = crate::config::load_plan(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/sample.toml"),
            &[],
        )
        .unwrap();
        use crate::normalise::pseudonym::{Pseudonymiser, Width};
        let key = b"DEMO-key-0123456789";
        let short = Pseudonymiser::new(key, Width::Bits128).unwrap();
        let whole = Pseudonymiser::new(key, Width::Bits256).unwrap();
        let other_key = Pseudonymiser::new(b"DEMO-key-9876543210", Width::Bits128).unwrap();
        let now = fingerprint(&plan, &short.provenance()).unwrap();
        assert_eq!(now, fingerprint(&plan, &short.provenance()).unwrap());
        assert_ne!(now, fingerprint(&plan, &whole.provenance()).unwrap());
        assert_ne!(now, fingerprint(&plan, &other_key.provenance()).unwrap());
        assert!(short.provenance().starts_with("HMAC-SHA-256-128"));
    }

    #[test]
    fn changes_name_new_and_removed_files() {
        let before = current(
            "f",
            "r1",
            &[("cld".into(), vec![input("a.csv", "1"), input("b.csv", "2")])],
        );
        let same = current(
            "f",
            "r2",
            &[("cld".into(), vec![input("a.csv", "1"), input("b.csv", "2")])],
        );
        assert!(changes(Some(&before), &same).is_empty());
        let later = current(
            "f",
            "r3",
            &[("cld".into(), vec![input("a.csv", "1"), input("c.csv", "3")])],
        );
        let c = changes(Some(&before), &later);
        assert_eq!(
            (c.new, c.removed, c.unchanged, c.configuration_changed),
            (
                vec!["cld: c.csv".to_string()],
                vec!["cld: b.csv".to_string()],
                1,
                false
            )
        );
        let reconfigured = current("g", "r4", &[("cld".into(), vec![input("a.csv", "1")])]);
        assert!(changes(Some(&before), &reconfigured).configuration_changed);
        assert!(changes(None, &before).configuration_changed);
    }
}
