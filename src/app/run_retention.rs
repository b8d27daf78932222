//! `run --keep-runs N`: how many of a pipeline's run folders (`runs/<id>/`, one per run,
//! its manifest) a data directory keeps. A nightly job leaves one a night; without a
//! limit they pile up for ever.
//!
//! The newest `N` of the pipeline's runs are kept, and always the newest run of the
//! pipeline that wrote datasets (the report reads its manifest, and a string of
//! up-to-date or failed runs must not take it away), and the run the pipeline's saved
//! state names (after a crash between a run's manifest and its state, that is an older
//! run: without its manifest the next run would take the state for unrecorded and build
//! everything again). Other pipelines' runs, and folders
//! whose manifest cannot be read, are left alone. It is applied after every run,
//! failed ones too ([`prune_after`]): during an outage runs fail night after night.

use std::path::{Path, PathBuf};

use crate::publish::manifest::Manifest;

/// After run `id`, whatever its outcome: [`prune`] for the pipeline its manifest names,
/// under the data directory's lock (the run has released it by now; when another run
/// holds it, that run prunes when it ends). A run that left no manifest (one refused for
/// the lock, a configuration error) prunes nothing.
pub fn prune_after(out: &Path, id: &str, keep: usize) -> usize {
    let Ok(text) = std::fs::read_to_string(out.join("runs").join(id).join("manifest.json")) else {
        return 0;
    };
    let Ok(m) = serde_json::from_str::<Manifest>(&text) else {
        return 0;
    };
    match crate::app::lock::acquire(out) {
        Ok(_lock) => prune(out, &m.pipeline.name, keep),
        Err(_) => 0,
    }
}

/// Removes the pipeline's run folders beyond the newest `keep` (see the module doc);
/// returns how many were removed. Failures are logged, not raised: the run itself is
/// complete.
pub fn prune(out: &Path, pipeline: &str, keep: usize) -> usize {
    let runs = out.join("runs");
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return 0;
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    // Run ids start with their UTC start time: name order is time order.
    dirs.sort();
    let mine: Vec<(PathBuf, bool)> = dirs
        .into_iter()
        .filter_map(|d| {
            let text = std::fs::read_to_string(d.join("manifest.json")).ok()?;
            let m: Manifest = serde_json::from_str(&text).ok()?;
            (m.pipeline.name == pipeline).then_some((d, !m.outputs.is_empty()))
        })
        .collect();
    let last_that_wrote = mine.iter().rposition(|(_, wrote)| *wrote);
    let saved = crate::app::state::load(out, pipeline)
        .ok()
        .flatten()
        .map(|s| s.run_id);
    let is_saved = |dir: &Path| {
        saved
            .as_deref()
            .is_some_and(|id| dir.file_name().is_some_and(|n| n == id))
    };
    let first_kept = mine.len().saturating_sub(keep.max(1));
    let mut removed = 0;
    for (i, (dir, _)) in mine.iter().enumerate() {
        if i >= first_kept || Some(i) == last_that_wrote || is_saved(dir) {
            continue;
        }
        match std::fs::remove_dir_all(dir) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %dir.display(), error = %e, "could not remove an old run folder")
            }
        }
    }
    if removed > 0 {
        tracing::info!(
            pipeline,
            removed,
            keep,
            "old run folders removed (--keep-runs)"
        );
    }
    removed
}
