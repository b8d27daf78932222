//! Where ingest keeps each file's checked rows between runs: one folder per configuration
//! fingerprint, `<out>/.cache/ingest/<fingerprint>/<source>/<file key>/`.
//!
//! A cached file's rows carry pseudonyms made with the key and rules of the run that read
//! it, so they are reused only under the same fingerprint. Keyed by file alone, a trial
//! configuration (another key, say) that failed or was stopped left its rows in the cache,
//! and once the configuration was put back (the saved state's fingerprint matching
//! again) incremental runs published them: pseudonyms made with the wrong key.
//! Folders of fingerprints no saved state names (a trial that never completed, a
//! configuration since replaced) are removed; those of other pipelines sharing the
//! data directory stay, so each stays incremental.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Characters of the fingerprint that name its folder.
const NAME_CHARS: usize = 16;

/// The cache folder of every configuration.
pub fn root(out: &Path) -> PathBuf {
    out.join(".cache").join("ingest")
}

/// The folder name of a configuration fingerprint.
fn folder_name(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(NAME_CHARS)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The cache folder of the configuration `fingerprint` (which may not exist).
pub fn folder(out: &Path, fingerprint: &str) -> PathBuf {
    root(out).join(folder_name(fingerprint))
}

/// The cache folder for this run's `fingerprint`, made ready: emptied when `rebuild`
/// (a full refresh), and every other configuration's folder removed unless `keep` (the
/// fingerprints of the saved states in the data directory) names it.
pub fn prepare(
    out: &Path,
    fingerprint: &str,
    keep: &BTreeSet<String>,
    rebuild: bool,
) -> Result<PathBuf> {
    let root = root(out);
    let mine = folder_name(fingerprint);
    let kept: BTreeSet<String> = keep.iter().map(|f| folder_name(f)).collect();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = if name == mine {
                rebuild
            } else {
                !kept.contains(&name)
            };
            if stale {
                let path = entry.path();
                std::fs::remove_dir_all(&path).map_err(|e| Error::io("clearing", &path, e))?;
            }
        }
    }
    let dir = folder(out, fingerprint);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    // Closed before a row is written into it (a first run's, or a failed one's).
    crate::publish::staging::close_to_others(&out.join(".cache"));
    Ok(dir)
}

/// Removes from this configuration's cache folder `dir` the entries no current input
/// uses (`used`: source → entry names): a file replaced or removed, a source taken out of
/// the pipeline. Without it the cache grew by every superseded extract's rows, kept for
/// nothing. Half-written entries (`.tmp-…`) are left to `publish::staging::remove_stale`.
/// Called after a run saved its state, and by a run with nothing to do (entries of
/// inputs gone since a run that failed after reading them). Failures are logged, not
/// raised: the run has already published.
pub fn prune(dir: &Path, used: &std::collections::BTreeMap<String, BTreeSet<String>>) {
    let Ok(sources) = std::fs::read_dir(dir) else {
        return;
    };
    for source in sources.flatten() {
        let name = source.file_name().to_string_lossy().into_owned();
        let path = source.path();
        let stale: Vec<PathBuf> = match used.get(&name) {
            None => vec![path],
            Some(keep) => std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    !n.starts_with(".tmp-") && !keep.contains(&n)
                })
                .map(|e| e.path())
                .collect(),
        };
        for p in stale {
            if let Err(e) = std::fs::remove_dir_all(&p) {
                tracing::warn!(path = %p.display(), error = %e, "could not remove an unused ingest cache entry");
            }
        }
    }
}

/// Every source folder of every configuration's cache (where killed runs may have left
/// half-written entries).
pub fn source_folders(out: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root(out))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|config| std::fs::read_dir(config.path()).into_iter().flatten())
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_configurations_are_removed_unless_a_saved_state_names_them() {
        let out = tempfile::tempdir().unwrap();
        let a = prepare(out.path(), "AAAA1111", &BTreeSet::new(), false).unwrap();
        std::fs::create_dir_all(a.join("apc/x")).unwrap();
        let b = prepare(out.path(), "BBBB2222", &BTreeSet::new(), false).unwrap();
        std::fs::create_dir_all(b.join("apc/y")).unwrap();
        // A is named by no state: gone when B runs again.
        assert!(!a.exists());
        let keep: BTreeSet<String> = ["BBBB2222".to_string()].into();
        let a = prepare(out.path(), "AAAA1111", &keep, false).unwrap();
        assert!(b.join("apc/y").exists(), "another pipeline's cache stays");
        assert_eq!(a, root(out.path()).join("aaaa1111"));
        assert_eq!(source_folders(out.path()).len(), 1);
        // A full refresh empties its own folder only.
        std::fs::create_dir_all(a.join("cld")).unwrap();
        prepare(out.path(), "AAAA1111", &keep, true).unwrap();
        assert!(!a.join("cld").exists() && a.exists());
        assert!(b.join("apc/y").exists());
    }

    #[test]
    fn prune_keeps_the_entries_current_inputs_use_and_nothing_else() {
        let out = tempfile::tempdir().unwrap();
        let dir = prepare(out.path(), "AAAA1111", &BTreeSet::new(), false).unwrap();
        for e in [
            "apc/a__1",
            "apc/a__0",
            "apc/.tmp-x",
            "cld/c__1",
            "gone/g__1",
        ] {
            std::fs::create_dir_all(dir.join(e)).unwrap();
        }
        let used = [
            ("apc".to_string(), ["a__1".to_string()].into()),
            ("cld".to_string(), ["c__1".to_string()].into()),
        ]
        .into();
        prune(&dir, &used);
        let left: Vec<String> = ["apc/a__1", "apc/a__0", "apc/.tmp-x", "cld/c__1", "gone"]
            .into_iter()
            .filter(|e| dir.join(e).exists())
            .map(String::from)
            .collect();
        assert_eq!(left, ["apc/a__1", "apc/.tmp-x", "cld/c__1"]);
    }
}
