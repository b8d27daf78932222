//! The run's inputs: each ingested source's files listed and fingerprinted, every file
//! once (every unavailable source named in one error), and what a run here would lack
//! (for `validate`).

use std::path::{Path, PathBuf};

use super::{key_bytes, pseudonymiser};
use crate::config::Plan;
use crate::error::{Error, Result};
use crate::pull::InputFile;

/// What a run of `plan` would need from this machine and lacks: the key, the settings
/// fetched sources name, the files of local sources. `validate` reports these as
/// warnings: it checks configuration, which may be checked where the secrets and data
/// are not (a config repository's CI), but should not say "ok" without a word when a
/// run here would refuse. A key that is here but unusable, and a file two local
/// sources list, are errors, as in a run ([`one_source_per_file`]); each source's files
/// are listed once for both.
pub fn check_here(plan: &Plan) -> Result<Vec<String>> {
    let mut config = crate::config::fetch::missing_settings(plan);
    if plan.key.is_some() {
        match key_bytes(plan) {
            Err(Error::Config(e)) => config.0.extend(e.0),
            Err(e) => return Err(e),
            // A key that is here but unusable (too short, public, too regular) is not
            // something this machine lacks: it is wrong wherever the pipeline runs (exit
            // 2, as a run).
            Ok((key, kind)) => {
                pseudonymiser(plan, &key, kind)?;
            }
        }
    }
    let mut missing: Vec<String> = config
        .0
        .iter()
        .map(|e| format!("{e} (a run here would stop, exit 2)"))
        .collect();
    let mut listed = Vec::new();
    for s in plan.sources.iter().filter(|s| !s.landed) {
        match crate::pull::list_paths_with(&s.name, &s.path, &s.pattern, s.follow_links_outside) {
            Ok((paths, _)) => listed.push((s, paths)),
            Err(e) => missing.push(format!("{e} (a run here would stop, exit 4)")),
        }
    }
    // NHS England publications are read from their folders as they are.
    for s in &plan.publications {
        if let Err(e) = crate::pull::list_paths(&s.name, &s.path, &s.pattern) {
            missing.push(format!("{e} (a run here would stop, exit 4)"));
        }
    }
    one_source_per_file(plan, &mut listed)?;
    Ok(missing)
}

/// Every file is read once: a file two sources list (a copied `[sources.*]` block,
/// overlapping paths or patterns) is refused, as its rows would be ingested, published
/// and counted twice; a file one source lists twice (a symbolic link beside its target,
/// `apc_latest.csv`) is read once, under its own name rather than the link's, with a
/// warning.
fn one_source_per_file(
    plan: &Plan,
    listed: &mut [(&crate::config::SourcePlan, Vec<PathBuf>)],
) -> Result<()> {
    use std::collections::HashMap;
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let mut owner: HashMap<PathBuf, &str> = HashMap::new();
    let mut errors = crate::config::ConfigErrors::default();
    for (s, paths) in listed.iter_mut() {
        // Within the source: one path per file, the file's own name rather than a link's.
        let mut chosen: HashMap<PathBuf, usize> = HashMap::new();
        for (i, p) in paths.iter().enumerate() {
            let key = canonical(p);
            let keep = match chosen.get(&key) {
                None => i,
                Some(&j) => {
                    let (keep, drop) = if is_link(&paths[j]) && !is_link(p) {
                        (i, j)
                    } else {
                        (j, i)
                    };
                    tracing::warn!(
                        source = %s.name,
                        file = %crate::ingest::quarantine::shown_path(&paths[drop]),
                        "the same file as {} (a link): read once, as that", crate::ingest::quarantine::shown_path(&paths[keep])
                    );
                    keep
                }
            };
            chosen.insert(key, keep);
        }
        let mut kept: Vec<(usize, PathBuf)> = chosen.into_iter().map(|(k, i)| (i, k)).collect();
        kept.sort();
        *paths = kept.iter().map(|(i, _)| paths[*i].clone()).collect();
        // Across sources: a file is one source's.
        for ((_, key), p) in kept.into_iter().zip(paths.iter()) {
            match owner.get(&key) {
                Some(first) => errors.push(
                    &plan.file,
                    format!("sources.{}", s.name),
                    format!(
                        "reads {}, which sources.{first} reads too: its rows would be counted twice; give each source its own folder or a pattern only its files match",
                        crate::ingest::quarantine::shown_path(p)
                    ),
                ),
                None => {
                    owner.insert(key, s.name.as_str());
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(errors))
    }
}

/// Lists and fingerprints the input files of every ingested source. Every file is read
/// to hash it, on every run (that is how unchanged files are recognised), so the files
/// are hashed on one thread per core, largest first. Every source is listed before any
/// is refused: the sources unavailable are one error naming each
/// ([`Error::unavailable`]; it named the first only, so a second wrong path came to
/// light only on the next run).
pub fn list_inputs(
    plan: &Plan,
    out: &Path,
    dry_run: bool,
) -> Result<Vec<(String, Vec<InputFile>)>> {
    let mut listed = Vec::new();
    let mut unavailable = Error::gather_unavailable();
    for s in &plan.sources {
        let paths = if s.landed {
            // A dry run does not pull: a fetched source nothing has landed for yet has no
            // files, not a missing folder (a run would pull first). So too a folder a
            // failed first download left empty.
            match crate::pull::landing::current_files(out, &s.name, &s.pattern) {
                Err(Error::SourceUnavailable { .. }) if dry_run => Ok(Vec::new()),
                listed => listed,
            }
        } else {
            crate::pull::list_paths_with(&s.name, &s.path, &s.pattern, s.follow_links_outside)
                .map(|(paths, _)| paths)
        };
        // An error not the source's (the landing manifest unreadable) is returned.
        if let Some(paths) = unavailable.keep(paths)? {
            listed.push((s, paths));
        }
    }
    unavailable.check()?;
    one_source_per_file(plan, &mut listed)?;
    let jobs: Vec<(&str, &Path)> = listed
        .iter()
        .flat_map(|(s, paths)| paths.iter().map(|p| (s.name.as_str(), p.as_path())))
        .collect();
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(size(jobs[j].1)));
    let mut hashed =
        crate::parallel::map_in_order(&jobs, &order, crate::parallel::cores(), |(source, p)| {
            crate::pull::fingerprint_input(source, p)
        })
        .into_iter();
    let mut inputs = Vec::new();
    for (s, paths) in &listed {
        let mut files = Vec::with_capacity(paths.len());
        // A file that cannot be read: its source is unavailable, as is any other's.
        for file in hashed.by_ref().take(paths.len()) {
            files.extend(unavailable.keep(file)?);
        }
        tracing::info!(stage = "pull", source = %s.name, files = files.len(), "inputs found");
        inputs.push((s.name.clone(), files));
    }
    unavailable.check()?;
    Ok(inputs)
}

/// A warning (logged, and for the manifest) for each entry of a local folder source its
/// pattern matches but that is not read: a folder, a FIFO, a device, a symbolic link out
/// of the folder or to nothing ([`crate::pull::folder_entry`]). They were passed over
/// without a word. A link not followed (its target unreachable, outside the folder, or
/// not a file), in a source that has lost an input since the last run, refuses the run
/// (exit 4): the input may be behind it (a share unmounted, a link an upgrade no longer
/// follows), and taken for a removal it would drop a council's data from every dataset.
pub fn refused_entries(
    plan: &Plan,
    changes: &crate::app::state::Changes,
    dry_run: bool,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut unavailable = Error::gather_unavailable();
    for s in plan.sources.iter().filter(|s| !s.landed) {
        let Ok((_, refused)) =
            crate::pull::list_paths_with(&s.name, &s.path, &s.pattern, s.follow_links_outside)
        else {
            continue;
        };
        let lost = changes
            .removed
            .iter()
            .any(|r| r.starts_with(&format!("{}: ", s.name)));
        for r in &refused {
            let w = crate::pull::folder_entry::warning(&s.name, &r.shown, &r.why);
            if r.broken && lost && !dry_run {
                let e: Result<()> = Err(Error::SourceUnavailable {
                    source_name: s.name.clone(),
                    message: format!(
                        "{w}, and an input the last run read is gone: it may be behind the link, so it is not taken as removed; restore the link's target, or remove the link if the file is meant to go"
                    ),
                });
                unavailable.keep(e)?;
            } else {
                tracing::warn!(source = %s.name, entry = %r.shown, "{w}");
                warnings.push(w);
            }
        }
    }
    unavailable.check()?;
    Ok(warnings)
}
